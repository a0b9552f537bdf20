import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa, type Options } from 'execa';

/** The built bin, as users run it. */
export const BIN = path.resolve(import.meta.dirname, '../../bin/shotlist.js');
export const EXAMPLES = path.resolve(import.meta.dirname, '../../examples');

/** Runs the built CLI as a child process; never throws on a non-zero exit. */
export function shotlist(args: string[], options: Options = {}) {
  return execa(process.execPath, [BIN, ...args], {
    reject: false,
    stdin: 'ignore',
    env: { CI: 'true', NO_COLOR: '1', ...options.env },
    extendEnv: true,
    timeout: 120_000,
    ...options,
  });
}

/** A fresh temporary folder, and a function that removes it. */
export function tempDir(prefix = 'shotlist-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
