/**
 * The accounts file (`--accounts accounts.yaml`, `SHOTLIST_ACCOUNTS`): several API keys a run
 * spreads its shots over. It is the user's, never the manifest's (which is shared): each entry
 * names an account, its API base URL, the *name* of the environment variable that holds its
 * key, its concurrency ceiling and an optional rpm. Validation reports every problem at once,
 * at `file:line:col`, with the fix; a key is never read into a message, only its variable's name.
 */
import { LineCounter, parseDocument } from 'yaml';
import { normalizeBaseUrl } from '../api/url.js';
import { ManifestError, type Diagnostic, type ShotlistError } from '../errors.js';
import { SourceMap, type ManifestPath } from '../manifest/positions.js';
import { closest } from '../manifest/suggest.js';
import { yamlProblems } from '../manifest/yaml-errors.js';

/** One account of the pool, as the file gives it. */
export interface AccountSpec {
  /** How the run, the journal and the report name it: `[A-Za-z0-9._-]`, unique in the file. */
  name: string;
  /** The API base URL, normalised as the journal key holds it. */
  baseUrl: string;
  /** The environment variable holding the key (never the key). */
  keyEnv: string;
  /** The most tasks this account holds at once (its adaptive window's ceiling). */
  concurrency: number;
  /** Requests per minute the account allows (submissions and polls), when it has a limit. */
  rpm?: number;
}

/** A parsed accounts file: its accounts, and the one base URL they share. */
export interface AccountsFile {
  file: string;
  accounts: AccountSpec[];
  /** The base URL every account shares: the one the journal keys shots by. */
  baseUrl: string;
}

const FIELDS = ['name', 'base_url', 'key_env', 'concurrency', 'rpm'] as const;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const EXAMPLE = `accounts:
  - { name: main, base_url: https://cdn.12ai.org, key_env: SHOTLIST_KEY_MAIN, concurrency: 4 }`;

/** Every problem of an accounts file, at once (exit 2, nothing sent). */
function refuse(diagnostics: Diagnostic[]): ManifestError {
  const n = diagnostics.length;
  const file = diagnostics[0]?.file ?? 'the accounts file';
  return new ManifestError(diagnostics, `${n} problem${n === 1 ? '' : 's'} in ${file}`);
}

/** Collects every problem of one file, each at its position. */
class Problems {
  readonly list: Diagnostic[] = [];
  constructor(
    private readonly file: string,
    private readonly map: SourceMap | undefined,
  ) {}

  add(path: ManifestPath, message: string, fix: string, key = false): void {
    const at = this.map?.locate(path, { key }) ?? { line: 1, col: 1 };
    this.list.push({
      severity: 'error',
      file: this.file,
      line: at.line,
      col: at.col,
      path: `/${path.join('/')}`,
      message,
      fix,
    });
  }
}

/** Where a key variable is looked up: the environment, then a `.env` file's values. */
export type KeyLookup = (name: string) => string | undefined;

/**
 * Parses and validates an accounts file's text. `keyOf` (when given) checks that every
 * account's key variable is set; it is called with the variable's name only. Throws an
 * `ManifestError` with every problem.
 */
export function parseAccountsFile(text: string, file: string, keyOf?: KeyLookup): AccountsFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const map = new SourceMap(doc, lines);
  const problems = new Problems(file, map);
  const yaml = yamlProblems(doc, lines, text).filter((p) => p.severity === 'error');
  if (yaml.length > 0) {
    throw refuse(yaml.map(({ unreliable: _u, ...p }) => ({ ...p, file, path: '/' })));
  }
  const root: unknown = doc.toJS({ maxAliasCount: 10 });
  const entries = topLevel(root, problems);
  const accounts: AccountSpec[] = [];
  const firstOf = new Map<string, number>();
  entries.forEach((entry, i) => {
    const name = (entry as { name?: unknown } | null)?.name;
    const earlier = typeof name === 'string' ? firstOf.get(name) : undefined;
    if (earlier !== undefined) {
      const at = map.locate(['accounts', earlier, 'name']);
      problems.add(
        ['accounts', i, 'name'],
        `account name "${String(name)}" is given twice (first at line ${at.line})`,
        'give each account its own name: the journal records which account holds each task by it',
      );
    } else if (typeof name === 'string') firstOf.set(name, i);
    const spec = readEntry(entry, i, problems, keyOf);
    if (spec && earlier === undefined) accounts.push(spec);
  });
  const baseUrl = sharedBase(accounts, entries, problems);
  if (problems.list.length > 0) throw refuse(problems.list);
  return { file, accounts, baseUrl: baseUrl! };
}

/** The `accounts:` list of the file, or nothing after saying what is wrong. */
function topLevel(root: unknown, problems: Problems): unknown[] {
  if (root === null || typeof root !== 'object' || Array.isArray(root)) {
    problems.add([], 'an accounts file is a map with an `accounts:` list', `write:\n${EXAMPLE}`);
    return [];
  }
  for (const key of Object.keys(root)) {
    if (key !== 'accounts')
      problems.add([key], `unknown field "${key}"`, 'the file has one field: accounts', true);
  }
  const list = (root as { accounts?: unknown }).accounts;
  if (!Array.isArray(list) || list.length === 0) {
    problems.add(
      ['accounts'],
      '`accounts` must be a list of one account or more',
      `write:\n${EXAMPLE}`,
    );
    return [];
  }
  return list;
}

/** One entry, checked field by field; undefined when it has a problem (already added). */
function readEntry(
  entry: unknown,
  i: number,
  problems: Problems,
  keyOf: KeyLookup | undefined,
): AccountSpec | undefined {
  const at = (field?: string): ManifestPath => ['accounts', i, ...(field ? [field] : [])];
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
    problems.add(at(), `account ${i + 1} is not a map`, `write each account as:\n${EXAMPLE}`);
    return undefined;
  }
  const before = problems.list.length;
  const e = entry as Record<string, unknown>;
  for (const key of Object.keys(e)) {
    if ((FIELDS as readonly string[]).includes(key)) continue;
    const near = closest(key, FIELDS);
    problems.add(
      at(key),
      `unknown field "${key}" in account ${i + 1}`,
      near ? `did you mean ${near}?` : `the fields are ${FIELDS.join(', ')}`,
      true,
    );
  }
  const name = e.name;
  if (typeof name !== 'string' || !NAME.test(name)) {
    problems.add(
      at('name'),
      name === undefined
        ? `account ${i + 1} has no name`
        : `account name ${JSON.stringify(name)} is not a plain name`,
      'name it with letters, digits, ".", "_" or "-", e.g. name: main',
    );
  }
  const label = typeof name === 'string' ? `account ${name}` : `account ${i + 1}`;
  const baseUrl = readBase(e.base_url, label, at('base_url'), problems);
  const keyEnv = readKeyEnv(e.key_env, label, at('key_env'), problems, keyOf);
  const concurrency = e.concurrency;
  if (typeof concurrency !== 'number' || !Number.isInteger(concurrency) || concurrency < 1) {
    problems.add(
      at('concurrency'),
      `${label}: concurrency ${concurrency === undefined ? 'is missing' : `${JSON.stringify(concurrency)} is not a whole number of 1 or more`}`,
      'set the most tasks the account may hold at once, e.g. concurrency: 4',
    );
  }
  const rpm = e.rpm;
  if (rpm !== undefined && (typeof rpm !== 'number' || !(rpm > 0) || !Number.isFinite(rpm))) {
    problems.add(
      at('rpm'),
      `${label}: rpm ${JSON.stringify(rpm)} is not a number above 0`,
      'set the requests per minute the account allows, e.g. rpm: 60, or leave rpm out',
    );
  }
  if (problems.list.length > before) return undefined;
  return {
    name: name as string,
    baseUrl: baseUrl!,
    keyEnv: keyEnv!,
    concurrency: concurrency as number,
    ...(rpm !== undefined ? { rpm: rpm as number } : {}),
  };
}

function readBase(
  value: unknown,
  label: string,
  path: ManifestPath,
  problems: Problems,
): string | undefined {
  if (typeof value !== 'string') {
    problems.add(
      path,
      `${label}: base_url ${value === undefined ? 'is missing' : 'must be a URL'}`,
      'e.g. base_url: https://cdn.12ai.org',
    );
    return undefined;
  }
  try {
    return normalizeBaseUrl(value);
  } catch (err) {
    const e = err as ShotlistError;
    problems.add(path, `${label}: ${e.message}`, e.fix ?? 'e.g. base_url: https://cdn.12ai.org');
    return undefined;
  }
}

function readKeyEnv(
  value: unknown,
  label: string,
  path: ManifestPath,
  problems: Problems,
  keyOf: KeyLookup | undefined,
): string | undefined {
  if (typeof value !== 'string' || !ENV_NAME.test(value)) {
    problems.add(
      path,
      `${label}: key_env ${value === undefined ? 'is missing' : `${JSON.stringify(value)} is not an environment variable name`}`,
      'name the variable that holds the key (never the key itself), e.g. key_env: SHOTLIST_KEY_MAIN',
    );
    return undefined;
  }
  if (keyOf && !keyOf(value)) {
    problems.add(
      path,
      `${label}: its key variable ${value} is not set`,
      `export ${value}=<the key of ${label}> (or put it in .env here), or remove the account from the file`,
    );
    return undefined;
  }
  return value;
}

/**
 * The base URL every account shares. Shots are keyed in the journal by one base URL, so that
 * which account took a shot never changes its key: one file, one API.
 */
function sharedBase(
  accounts: readonly AccountSpec[],
  entries: readonly unknown[],
  problems: Problems,
): string | undefined {
  const first = accounts[0];
  if (!first) return undefined;
  for (const a of accounts) {
    if (a.baseUrl === first.baseUrl) continue;
    const i = entries.findIndex((e) => (e as { name?: unknown }).name === a.name);
    problems.add(
      ['accounts', i, 'base_url'],
      `account ${a.name} sends to ${a.baseUrl}, account ${first.name} to ${first.baseUrl}: the accounts of one file share one API`,
      'keep the accounts of another API in a file of their own (and an output folder of its own)',
    );
  }
  return first.baseUrl;
}
