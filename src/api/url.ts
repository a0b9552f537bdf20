import { isIP } from 'node:net';
import { UsageError } from '../errors.js';

/**
 * Whether a host (as `URL.hostname` gives it, IPv6 with or without brackets) is this
 * machine: a literal in 127.0.0.0/8, ::1, or `localhost`, which callers never resolve
 * through DNS. Any other name is refused: a resolver could answer anything for it.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return isIP(host) === 6 && host === '::1';
}

/**
 * Checks the API base URL: https anywhere, plain http only on loopback (the key would
 * otherwise cross the network in clear). Returns the URL without a trailing slash.
 */
export function checkBaseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(
      `the API base URL "${text}" is not a URL`,
      'give a full URL such as https://cdn.12ai.org',
    );
  }
  if (url.username || url.password) {
    throw new UsageError(
      'the API base URL must not carry credentials',
      'put the key in SHOTLIST_API_KEY instead',
    );
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new UsageError(
      `refusing plain http for ${url.host}: the API key would travel unencrypted`,
      `use https://${url.host}${url.pathname === '/' ? '' : url.pathname}, or a loopback address for a local simulator`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(
      `the API base URL must be http(s), not ${url.protocol}`,
      'give a URL such as https://cdn.12ai.org',
    );
  }
  url.pathname = url.pathname.replace(/\/+$/, '');
  url.search = '';
  url.hash = '';
  return url;
}

/**
 * The base URL as text, as it enters the journal key: scheme and host in lower case, no
 * default port (the URL parser drops `:443` on https, `:80` on http), no trailing slash, so
 * `HTTP://127.0.0.1:80/` and `http://127.0.0.1` are one API and one set of journal keys.
 */
export function normalizeBaseUrl(text: string): string {
  return checkBaseUrl(text).toString().replace(/\/+$/, '');
}
