import { request as httpRequest } from 'node:http';
import { request } from 'node:https';
import { isLoopbackHost } from '../api/url.js';

/**
 * The URL to connect to for a webhook on this machine, its host a literal loopback address
 * (127.0.0.0/8 or ::1; `localhost` becomes 127.0.0.1), or undefined for any other host. No
 * name is ever looked up: a resolver could answer anything for it.
 */
export function loopbackTarget(url: string): URL | undefined {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return undefined;
  }
  if (!isLoopbackHost(target.hostname)) return undefined;
  if (target.hostname === 'localhost') target.hostname = '127.0.0.1';
  return target;
}

/** Whether a URL's host is this machine: the only place the simulator will call back. */
export function isLoopbackUrl(url: string): boolean {
  return loopbackTarget(url) !== undefined;
}

/**
 * POSTs `payload` as JSON to an http or https URL on this machine. Certificate checks are off
 * because a local receiver can only have a self-signed certificate; that is why non-loopback
 * URLs are refused here rather than trusted.
 */
export function postWebhook(url: string, payload: unknown, signal: AbortSignal): Promise<number> {
  const target = loopbackTarget(url);
  if (!target) return Promise.reject(new Error(`${url} is not a loopback address`));
  const body = JSON.stringify(payload);
  const send = target.protocol === 'http:' ? httpRequest : request;
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      {
        method: 'POST',
        // The receiver still sees the host it was given (the connection goes to the literal).
        ...(new URL(url).hostname === 'localhost' ? { servername: 'localhost' } : {}),
        rejectUnauthorized: false,
        headers: {
          host: new URL(url).host,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
        timeout: 5000,
        signal,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('the webhook receiver did not answer in 5 s')));
    req.on('error', reject);
    req.end(body);
  });
}
