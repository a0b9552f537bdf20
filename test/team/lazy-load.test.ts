/**
 * Without --team nothing of team mode is loaded: `--help`, `run --help` and `enqueue --help`
 * import neither ioredis, bullmq nor src/team's Redis and queue code. The same trace shows both loaded under --team, so the
 * trace itself is proven to see them.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, expect, it } from 'vitest';
import { sourcesOf } from '../helpers/bundle.js';
import { BIN, CHILD_DEADLINE_MS, tempDir } from '../helpers/cli.js';
import { redisServerPath, startRedisServer } from './redis-server.js';

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
    timeout: CHILD_DEADLINE_MS,
  });
  return { exitCode: r.exitCode, stderr: String(r.stderr), modules: modulesIn(trace) };
}

/** The modules a trace names, a line each; a chunk of the bundled CLI by its sources. */
const modulesIn = (trace: string) =>
  readFileSync(trace, 'utf8').split('\n').filter(Boolean).flatMap(sourcesOf).join('\n');

const redisCode = (modules: string) =>
  modules
    .split('\n')
    .filter((url) =>
      /\/(ioredis|bullmq)\/|\/src\/team\/(open|redis|board|queue|enqueuer|worker)\.ts$/.test(url),
    );

it('--help, run --help and enqueue --help load no Redis code', async () => {
  for (const args of [['--help'], ['run', '--help'], ['enqueue', '--help']]) {
    const r = await traced(args.join('-'), args);
    expect(r.exitCode).toBe(0);
    expect(r.modules).toContain('/src/cli/main.ts');
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

it.skipIf(!redisServerPath())(
  'run --team --worker loads bullmq, and stops cleanly on SIGTERM',
  async () => {
    const redis = await startRedisServer(redisServerPath()!);
    const trace = path.join(tmp.dir, 'worker.trace');
    writeFileSync(trace, '');
    try {
      const child = execa(
        process.execPath,
        [
          '--import',
          HOOK,
          BIN,
          'run',
          '--team',
          redis.url,
          '--worker',
          '--base-url',
          'http://127.0.0.1:9',
        ],
        {
          reject: false,
          cwd: tmp.dir,
          env: {
            TRACE_IMPORTS: trace,
            SHOTLIST_API_KEY: 'sk-lazy-test',
            CI: 'true',
            NO_COLOR: '1',
          },
          timeout: CHILD_DEADLINE_MS,
        },
      );
      // The worker says it is taking shots once its queue is open.
      let seen = '';
      child.stdout!.on('data', (chunk: Buffer) => (seen += String(chunk)));
      while (!seen.includes('worker: taking') && child.exitCode === null)
        await new Promise((r) => setTimeout(r, 50));
      child.kill('SIGTERM');
      const r = await child;
      expect(r.exitCode, String(r.stderr)).toBe(0);
      expect(String(r.stdout)).toContain('worker stopped: 0 done, 0 failed, 0 unknown');
      expect(redisCode(modulesIn(trace)).some((url) => url.includes('/bullmq/'))).toBe(true);
    } finally {
      await redis.stop();
    }
  },
);
