/**
 * A run's account pool (`--accounts FILE`, `SHOTLIST_ACCOUNTS`): reads and checks the accounts
 * file before anything is sent, decides the base URL the journal keys shots by, and opens one
 * API client per account (each with its own key and request gate) for the render.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { createApiClient, type ApiClient } from '../api/client.js';
import { parseDotEnv } from '../api/key.js';
import { rememberSecret } from '../api/redact.js';
import { EXIT_CODES, ShotlistError, UsageError } from '../errors.js';
import { parseAccountsFile, type AccountsFile, type KeyLookup } from '../render/accounts-file.js';
import type { PoolMember } from '../render/accounts.js';
import { accountGate } from '../render/limiter.js';
import type { BaseChoice } from './base.js';

/** An accounts file larger than this is not one (a wrong path): refused before parsing. */
const MAX_ACCOUNTS_BYTES = 1024 * 1024;

/** The accounts file a run names: `accounts` (the flag), else `$SHOTLIST_ACCOUNTS`. */
export function accountsFileOf(
  accounts: string | undefined,
  env: NodeJS.ProcessEnv,
): string | undefined {
  return accounts ?? (env.SHOTLIST_ACCOUNTS?.trim() || undefined);
}

/**
 * Where each key variable is looked up: the environment, then `.env` in the working directory
 * (as for the single key). Only the variable's name ever reaches a message.
 */
async function keyLookup(env: NodeJS.ProcessEnv, cwd: string): Promise<KeyLookup> {
  const dotEnv = await readFile(path.join(cwd, '.env'), 'utf8').then(parseDotEnv, () => ({}));
  return (name) =>
    env[name]?.trim() || (dotEnv as Record<string, string>)[name]?.trim() || undefined;
}

/**
 * Reads and checks the accounts file (every problem at once, at `file:line:col`). With
 * `needKeys`, every account's key variable must be set. Sends nothing.
 */
export async function loadAccounts(
  file: string,
  options: { cwd: string; env: NodeJS.ProcessEnv; needKeys: boolean },
): Promise<AccountsFile> {
  const full = path.resolve(options.cwd, file);
  const text = await readFile(full, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new ShotlistError(`cannot read the accounts file ${file}: ${err.code ?? err.message}`, {
      code: 'accounts_unreadable',
      exitCode: EXIT_CODES.badInput,
      fix: 'give the path of an accounts YAML file',
    });
  });
  if (Buffer.byteLength(text) > MAX_ACCOUNTS_BYTES) {
    throw new UsageError(
      `the accounts file ${file} is over 1 MB`,
      'give the path of an accounts YAML file',
    );
  }
  const keys = options.needKeys ? await keyLookup(options.env, options.cwd) : undefined;
  return parseAccountsFile(text, path.relative(options.cwd, full) || full, keys);
}

/**
 * The base of a pool's run: the one base URL its accounts share. The journal keys shots by it
 * (not by the account), so which account takes a shot never changes its key, and a switch
 * between the single key and a pool on the same API re-renders nothing.
 */
export function poolBase(accounts: AccountsFile, source: string): BaseChoice {
  return {
    journalBase: accounts.baseUrl,
    apiBase: accounts.baseUrl,
    source: 'accounts',
    accountsFile: source,
  };
}

/**
 * Refuses the options a pool does not go with, before anything is sent: the accounts file
 * gives the base URL and the keys, so no simulator, other base URL or team of their own. The
 * command line refuses its flags first, in its own words (src/cli/config.ts); a library caller
 * gets the code `accounts_clash`.
 */
export function checkPoolFlags(options: {
  baseUrl?: string | undefined;
  simulate?: boolean | undefined;
  team?: URL | undefined;
}): void {
  const clash = options.simulate
    ? 'a simulated run'
    : options.baseUrl !== undefined
      ? 'a base URL of its own'
      : options.team !== undefined
        ? 'team mode'
        : undefined;
  if (!clash) return;
  throw new ShotlistError(`an accounts file cannot be used with ${clash}`, {
    code: 'accounts_clash',
    exitCode: EXIT_CODES.badInput,
    fix: `leave out ${clash === 'a simulated run' ? 'the simulator' : clash === 'team mode' ? 'the team' : 'the base URL'}, or the accounts file`,
  });
}

/** An open pool: one client per account, and how to close them. */
export interface OpenPool {
  members: PoolMember[];
  /** Every account's key: redacted from whatever the run shows or writes. */
  keys: string[];
  close(): Promise<void>;
}

/** Opens one API client per account of the pool, each with its key, its rpm and its window. */
export async function openPool(
  accounts: AccountsFile,
  options: { cwd: string; env: NodeJS.ProcessEnv; maxDownloadBytes?: number },
): Promise<OpenPool> {
  const keyOf = await keyLookup(options.env, options.cwd);
  const sleep = (ms: number, signal?: AbortSignal) =>
    delay(ms, undefined, signal ? { signal } : undefined);
  const keys: string[] = [];
  const clients: ApiClient[] = [];
  const members = accounts.accounts.map((a): PoolMember => {
    const key = keyOf(a.keyEnv);
    // Checked when the file was read; a variable unset since is a usage error, nothing sent.
    if (!key) {
      throw new UsageError(
        `account ${a.name}: its key variable ${a.keyEnv} is not set; nothing was sent`,
        `export ${a.keyEnv}=<the key of account ${a.name}>`,
      );
    }
    rememberSecret(key);
    keys.push(key);
    const client = createApiClient({
      baseUrl: a.baseUrl,
      apiKey: key,
      connections: Math.min(128, Math.max(8, a.concurrency * 2)),
      gate: accountGate(a.concurrency, a.rpm, sleep),
      ...(options.maxDownloadBytes !== undefined
        ? { maxDownloadBytes: options.maxDownloadBytes }
        : {}),
    });
    clients.push(client);
    return { name: a.name, baseUrl: a.baseUrl, client, concurrency: a.concurrency };
  });
  return {
    members,
    keys,
    close: async () => {
      await Promise.all(clients.map((c) => c.close()));
    },
  };
}
