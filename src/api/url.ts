import { isIP } from 'node:net';
import { UsageError } from '../errors.js';
import { stripControls } from './redact.js';

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

/**
 * A base URL read back from a file another party could have written (a journal): an http(s)
 * URL is normalised as {@link normalizeBaseUrl} does (credentials, query and fragment
 * dropped; control bytes percent-encoded by the parser), without its checks, since it is not
 * about to be used. Anything else is not a URL: its text is returned stripped of controls
 * and cut short, so it can be compared and shown, never followed.
 */
export function readBackBaseUrl(text: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'http:' && url?.protocol !== 'https:') {
    const clean = stripControls(text).trim();
    return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
  }
  url.username = '';
  url.password = '';
  url.search = '';
  url.hash = '';
  url.pathname = url.pathname.replace(/\/+$/, '');
  return url.toString().replace(/\/+$/, '');
}

/** The host of an http(s) base URL, or undefined when the text is not one. */
export function baseUrlHost(text: string): string | undefined {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.host : undefined;
  } catch {
    return undefined;
  }
}
