/** The team's Redis URL: checked where the command line is read, before anything is sent. */
import { UsageError } from '../errors.js';

/** `redis://host:port/db` (or `rediss://`) as given, checked; a password must not be on argv. */
export function parseTeamUrl(text: string, fromFlag: boolean): URL {
  const fix = 'write it as redis://HOST:PORT/DB, e.g. redis://127.0.0.1:6379/0';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--team "${text}" is not a URL`, fix);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new UsageError(`--team "${describeTeamUrl(url)}" is not a redis:// URL`, fix);
  }
  if (!/^\/?\d*$/.test(url.pathname)) {
    throw new UsageError(
      `--team "${describeTeamUrl(url)}": the path must be a database number`,
      fix,
    );
  }
  if (fromFlag && url.password !== '') {
    throw new UsageError(
      '--team carries a password, which the process list and shell history would show',
      'put the URL with its password in SHOTLIST_TEAM instead',
    );
  }
  return url;
}

/** The URL without its credentials: the only form shotlist prints. */
export function describeTeamUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}
