import { request } from 'node:https';
import { isIP } from 'node:net';

/** Whether a URL's host is this machine: the only place the simulator will call back. */
export function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return false;
  }
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1';
  return false;
}

/**
 * POSTs `payload` as JSON to an https URL on this machine. Certificate checks are off because
 * a local receiver can only have a self-signed certificate; that is why non-loopback URLs are
 * refused here rather than trusted.
 */
export function postWebhook(url: string, payload: unknown, signal: AbortSignal): Promise<number> {
  if (!isLoopbackUrl(url)) return Promise.reject(new Error(`${url} is not a loopback address`));
  const body = JSON.stringify(payload);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        rejectUnauthorized: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
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
