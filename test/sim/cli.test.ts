import { existsSync } from 'node:fs';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliContext } from '../../src/cli/context.js';
import sim, { help } from '../../src/cli/commands/sim.js';
import { tempDir } from '../helpers/cli.js';
import { BODY, KEY, cacheDir, get, post, render } from './helpers.js';

function fakeContext(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (c: Buffer) => out.push(c.toString()));
  stderr.on('data', (c: Buffer) => err.push(c.toString()));
  const controller = new AbortController();
  const ctx: CliContext = {
    argv,
    stdout,
    stderr,
    stdin: Readable.from([]),
    env: { PATH: process.env.PATH, ...env },
    cwd: process.cwd(),
    signal: controller.signal,
  };
  const firstLine = new Promise<string>((resolve) => {
    const check = () => {
      const text = out.join('');
      if (text.includes('\n')) {
        stdout.off('data', check);
        resolve(text.split('\n')[0] ?? '');
      }
    };
    stdout.on('data', check);
  });
  return { ctx, out, err, abort: () => controller.abort(), firstLine };
}

describe('shotlist sim', () => {
  it('prints the listening line first, serves until aborted, then returns 0', async () => {
    const { ctx, abort, firstLine, out } = fakeContext(
      [
        '--port',
        '0',
        '--latency',
        '0',
        '--seed',
        '4',
        '--faults',
        '429=0',
        '--cache-dir',
        cacheDir,
      ],
      {
        SHOTLIST_API_KEY: KEY,
      },
    );
    const running = sim(ctx);
    const line = await firstLine;
    expect(line).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+$/);
    const base = line.replace('listening on ', '');
    const task = await render(base);
    expect(task.status).toBe('completed');
    expect((await post(base, BODY, { authorization: 'Bearer other' })).status).toBe(401);
    abort();
    expect(await running).toBe(0);
    expect(out.join('')).not.toContain(KEY);
    await expect(fetch(`${base}/__sim/ledger`)).rejects.toThrow();
  });

  it('prints one JSON line with --json', async () => {
    const { ctx, abort, firstLine, out } = fakeContext(
      ['--port', '0', '--latency', '0', '--json', '--cache-dir', cacheDir],
      { SHOTLIST_API_KEY: KEY },
    );
    const running = sim(ctx);
    const event = JSON.parse(await firstLine) as { event: string; url: string; ledger: string };
    expect(event).toMatchObject({ event: 'listening', auth: 'key' });
    expect(event.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const ledger = async () =>
      ((await (await fetch(event.ledger)).json()) as { totals: Record<string, number> }).totals;
    expect(await ledger()).toMatchObject({ submissions: 0, billed_seconds: 0 });
    expect((await render(event.url)).status).toBe('completed');
    // The ledger the line points at is the one this simulator bills into.
    expect(await ledger()).toMatchObject({ submissions: 1, billed_seconds: BODY.duration });
    abort();
    expect(await running).toBe(0);
    expect(out.join('').trim().split('\n').at(-1)).toBe('{"event":"stopped"}');
  });

  it('serves the tasks of an earlier run with --state-dir', async () => {
    const { dir, cleanup } = tempDir('shotlist-sim-cli-state-');
    try {
      const start = async () => {
        const fake = fakeContext(['--latency', '0', '--state-dir', 'state', '--json'], {
          SHOTLIST_API_KEY: KEY,
        });
        fake.ctx.cwd = dir;
        const running = sim(fake.ctx);
        const { url } = JSON.parse(await fake.firstLine) as { url: string };
        return { url, stop: () => (fake.abort(), running) };
      };
      const first = await start();
      const task = await render(first.url);
      expect(await first.stop()).toBe(0);
      const second = await start();
      const again = (await (await get(second.url, String(task.id))).json()) as typeof task;
      expect(again).toMatchObject({ id: task.id, status: 'completed' });
      expect(await second.stop()).toBe(0);
      expect(existsSync(path.join(dir, 'state', 'tasks.ndjson'))).toBe(true);
    } finally {
      cleanup();
    }
  });

  it('returns 2 with the problem and the fix on an unknown flag', async () => {
    const { ctx, err } = fakeContext(['--colour', 'red']);
    expect(await sim(ctx)).toBe(2);
    expect(err.join('')).toMatch(/--colour/);
    expect(err.join('')).toBe(
      'error: unknown flag --colour\n  fix: Usage: shotlist sim [options]; --help lists the options\n',
    );
  });

  it('suggests the flag it most likely meant, like every other command', async () => {
    const { ctx, err } = fakeContext(['--prot', '0']);
    expect(await sim(ctx)).toBe(2);
    expect(err.join('')).toBe('error: unknown flag --prot\n  fix: did you mean --port?\n');
  });

  it('returns 2 on a positional argument', async () => {
    const { ctx, err } = fakeContext(['8080']);
    expect(await sim(ctx)).toBe(2);
    expect(err.join('')).toMatch(/unexpected argument "8080"/);
  });

  it.each([
    [['--faults', '429=2'], /not a share from 0 to 1/],
    [['--latency', 'soon'], /latency "soon"/],
    [['--port', 'eighty'], /--port "eighty" is not a whole number/],
    [['--fail-rate', '1.5'], /fail rate 1.5/],
    [['--max-concurrent', '0'], /maxConcurrent 0/],
  ])('returns 2 on bad values: %j', async (argv, message) => {
    const { ctx, err } = fakeContext(argv);
    expect(await sim(ctx)).toBe(2);
    expect(err.join('')).toMatch(message);
    expect(err.join('')).toMatch(/fix: /);
  });

  it('prints its help', async () => {
    const { ctx, out } = fakeContext(['--help']);
    expect(await sim(ctx)).toBe(0);
    expect(out.join('')).toBe(`${help}\n`);
    expect(help).toMatch(/--max-concurrent/);
  });
});
