import { baseUrlHost, normalizeBaseUrl } from '../api/url.js';
import { DEFAULT_BASE_URL } from '../models.js';

/** The journal key base of simulated runs: fixed, as the simulator's port changes each time. */
export const SIMULATOR_BASE = 'simulator://shotlist';

/** Where a run sends its requests, and how that was decided. */
export interface BaseChoice {
  /** The base URL that enters the journal key ({@link SIMULATOR_BASE} when simulated). */
  journalBase: string;
  /** The API to talk to; undefined when simulated (the simulator's address is chosen later). */
  apiBase: string | undefined;
  /**
   * `flag`: given on the command line (or as an option); `env`: `SHOTLIST_BASE_URL`;
   * `accounts`: the base URL the accounts of an accounts file share.
   */
  source: 'simulate' | 'flag' | 'env' | 'default' | 'accounts';
  /** With `accounts`: the accounts file, as given (a resume hint repeats it). */
  accountsFile?: string;
}

/** Resolves the API base: `--simulate`, else the flag, else `$SHOTLIST_BASE_URL`, else the default. */
export function chooseBase(options: {
  simulate?: boolean | undefined;
  baseUrl?: string | undefined;
  env: NodeJS.ProcessEnv;
}): BaseChoice {
  if (options.simulate) {
    return { journalBase: SIMULATOR_BASE, apiBase: undefined, source: 'simulate' };
  }
  const envBase = options.env.SHOTLIST_BASE_URL || undefined;
  const source = options.baseUrl !== undefined ? 'flag' : envBase ? 'env' : 'default';
  const text = options.baseUrl ?? envBase ?? DEFAULT_BASE_URL;
  const base = normalizeBaseUrl(text);
  return { journalBase: base, apiBase: base, source };
}

/** A base as the journal key holds it; a base that is not an API URL (the simulator's) as is. */
function keyBase(text: string): string {
  try {
    return normalizeBaseUrl(text);
  } catch {
    return text.replace(/\/+$/, '');
  }
}

/**
 * Whether two base URLs are the same API as the journal key sees it: scheme and host case,
 * a default port and trailing slashes do not matter (a journal written by an older version
 * may hold a base as it was typed).
 */
export function sameBase(a: string, b: string): boolean {
  return keyBase(a) === keyBase(b);
}

/**
 * A base URL read from the output folder, as a message shows it: the host of an http(s) URL,
 * never the whole value, which advice must not offer as one to pass (it would send the key
 * wherever whoever wrote the folder chose).
 */
export function describeBase(base: string): string {
  if (base === SIMULATOR_BASE) return 'the simulator';
  const host = baseUrlHost(base);
  return host === undefined ? 'an address that is not an http(s) URL' : `another API (${host})`;
}
