/**
 * Without --team nothing of team mode is loaded: `--help` and `run --help` import neither
 * ioredis nor src/team's Redis code. The same trace shows both loaded under --team, so the
 * trace itself is proven to see them.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, expect, it } from 'vitest';
import { BIN, tempDir } from '../helpers/cli.js';

const tmp = tempDir('shotlist-team-lazy-');
afterAll(() => tmp.cleanup());

const HOOK = path.resolve(import.meta.dirname, 'fixtures/trace-imports.mjs');

/** Runs the built CLI with the import trace; returns the exit code and the modules it loaded. */
async function traced(name: string, args: string[]) {
  const trace = path.join(tmp.dir, `${name}.trace`);
  writeFileSync(trace, '');
  const r = await execa(process.execPath, ['--import', HOOK, BIN, ...args], {
    reject: false,
    cwd: tmp.dir,
    env: { TRACE_IMPORTS: trace, SHOTLIST_API_KEY: 'sk-lazy-test', CI: 'true', NO_COLOR: '1' },
    timeout: 60_000,
  });
  return { exitCode: r.exitCode, stderr: String(r.stderr), modules: readFileSync(trace, 'utf8') };
}

const redisCode = (modules: string) =>
  modules
    .split('\n')
    .filter((url) => /\/ioredis\/|\/dist\/team\/(open|redis|board)\.js$/.test(url));

it('--help and run --help load no Redis code', async () => {
  for (const args of [['--help'], ['run', '--help']]) {
    const r = await traced(args.join('-'), args);
    expect(r.exitCode).toBe(0);
    expect(r.modules).toContain('/dist/cli/main.js');
    expect(redisCode(r.modules)).toEqual([]);
  }
});

it('run --team loads it, and an unreachable Redis stops the run before anything is sent', async () => {
  const manifest = path.join(tmp.dir, 'film.yaml');
  writeFileSync(
    manifest,
    `version: 1\nname: film\nshots:\n  - id: s01\n    prompt: 橘猫在花园里\n`,
  );
  const r = await traced('team', [
    'run',
    manifest,
    '--yes',
    // Nothing listens on port 9 of loopback: the API is never reached either.
    '--base-url',
    'http://127.0.0.1:9',
    '--team',
    'redis://127.0.0.1:9/0',
  ]);
  expect(r.stderr).toContain("could not reach the team's Redis at redis://127.0.0.1:9/0");
  expect(r.exitCode).toBe(2);
  expect(redisCode(r.modules).some((url) => url.includes('/ioredis/'))).toBe(true);
});
