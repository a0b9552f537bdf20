import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { rememberSecret } from './redact.js';

/** Where the key was found; shown to the user instead of the key itself. */
export type KeySource = 'SHOTLIST_API_KEY' | 'API_KEY' | '.env SHOTLIST_API_KEY' | '.env API_KEY';

const NAMES = ['SHOTLIST_API_KEY', 'API_KEY'] as const;

/** Parses the `KEY=value` lines of a `.env` file (comments, `export`, quotes). */
export function parseDotEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match?.[1]) continue;
    let value = match[2] ?? '';
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.length >= 2 && value.endsWith(quote)) {
      value = value.slice(1, -1);
    } else {
      value = value.replace(/\s+#.*$/, '');
    }
    out[match[1]] = value;
  }
  return out;
}

/**
 * Finds the API key: `SHOTLIST_API_KEY`, else `API_KEY` (as in the reference's examples),
 * else the same names in `.env` in the working directory. Never from the manifest.
 */
export async function resolveApiKey(
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<{ key: string; source: KeySource } | undefined> {
  const found = await findApiKey(env, cwd);
  if (found) rememberSecret(found.key);
  return found;
}

async function findApiKey(
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<{ key: string; source: KeySource } | undefined> {
  for (const name of NAMES) {
    const value = env[name]?.trim();
    if (value) return { key: value, source: name };
  }
  let text: string;
  try {
    text = await readFile(path.join(cwd, '.env'), 'utf8');
  } catch {
    return undefined;
  }
  const parsed = parseDotEnv(text);
  for (const name of NAMES) {
    const value = parsed[name]?.trim();
    if (value) return { key: value, source: `.env ${name}` };
  }
  return undefined;
}
