import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { execa, type Options, type ResultPromise } from 'execa';

/** The built bin, as users run it. */
export const BIN = path.resolve(import.meta.dirname, '../../bin/shotlist.js');
export const EXAMPLES = path.resolve(import.meta.dirname, '../../examples');

export interface CliResult {
  exitCode: number | undefined;
  signal: string | undefined;
  stdout: string;
  stderr: string;
}

/**
 * How long a child CLI may run before it is killed: a backstop against a hang, never a
 * measure of speed. Minutes, so that a run on a loaded two-core machine finishes; below the
 * test deadline (vitest.config.ts), so that a hung child is killed and its output shown.
 */
export const CHILD_DEADLINE_MS = 480_000;

/** Starts the built CLI as a child process (for tests that signal it). */
export function spawnShotlist(args: string[], options: Options = {}): ResultPromise {
  return execa(process.execPath, [BIN, ...args], {
    reject: false,
    stdin: 'ignore',
    env: { CI: 'true', NO_COLOR: '1', ...options.env },
    extendEnv: true,
    timeout: CHILD_DEADLINE_MS,
    ...options,
  });
}

/** Runs the built CLI as a child process; never throws on a non-zero exit. */
export async function shotlist(args: string[], options: Options = {}): Promise<CliResult> {
  const r = await spawnShotlist(args, options);
  return {
    exitCode: r.exitCode,
    signal: r.signal,
    stdout: String(r.stdout ?? ''),
    stderr: String(r.stderr ?? ''),
  };
}

/** A fresh temporary folder, and a function that removes it. */
export function tempDir(prefix = 'shotlist-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Runs a command in-process through `main(argv, ctx)` with a fake context: no terminal, no
 * stdin, the given working directory and environment. Same result shape as {@link shotlist}.
 */
export async function cli(
  argv: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  const { main } = await import('../../src/cli/main.js');
  const out: string[] = [];
  const err: string[] = [];
  const sink = (chunks: string[]) =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk.toString());
        done();
      },
    });
  const exitCode = await main(argv, {
    cwd: options.cwd ?? process.cwd(),
    env: { NO_COLOR: '1', PATH: process.env.PATH, ...options.env },
    stdout: sink(out),
    stderr: sink(err),
    stdin: Readable.from([]),
  });
  return { exitCode, signal: undefined, stdout: out.join(''), stderr: err.join('') };
}
