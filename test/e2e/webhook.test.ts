import { createServer, connect, type AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/sim/index.js';
import { shotlist, spawnShotlist, tempDir } from '../helpers/cli.js';
import { idleFlood } from '../helpers/flood.js';
import { EVENT_DEADLINE_MS } from '../helpers/wait.js';
import {
  KEY,
  childEnv,
  expectNoKey,
  readReport,
  runArgs,
  submissionsByPrompt,
  writeManifest,
} from './run-helpers.js';

let tmp: ReturnType<typeof tempDir>;
const sims: Simulator[] = [];

async function simulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = await startSimulator({ apiKey: KEY, latency: '2-3', seed: 12, ...options });
  sims.push(sim);
  return sim;
}

const gets = (sim: Simulator) => sim.stats().requests['GET /v1/videos/:id'] ?? 0;

beforeEach(() => {
  tmp = tempDir('shotlist-webhook-e2e-');
});
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
  tmp.cleanup();
});

describe('run --listen (built bin against the simulator)', () => {
  it('a push replaces the polling: every shot done with about one GET each, fewer than without', async () => {
    const manifest = writeManifest(tmp.dir, 4);
    const polled = await simulator();
    const r1 = await shotlist(runArgs(manifest, polled, path.join(tmp.dir, 'polled')), {
      env: childEnv,
      cwd: tmp.dir,
    });
    expect(r1.exitCode, r1.stderr).toBe(0);

    const pushed = await simulator();
    const out = path.join(tmp.dir, 'pushed');
    const r2 = await shotlist(runArgs(manifest, pushed, out, '--listen', '0'), {
      env: childEnv,
      cwd: tmp.dir,
    });
    expect(r2.exitCode, r2.stderr).toBe(0);
    expect(readReport(out).totals.done).toBe(4);
    expect(pushed.stats().webhooks.delivered).toBe(4);
    // Each push is confirmed by one GET; the safety net (60 s) never fires on 2-3 s tasks.
    expect(gets(pushed)).toBe(4);
    expect(gets(pushed)).toBeLessThan(gets(polled));
    // Every body carried its own token on loopback, the key in none of them.
    const hooks = pushed.ledger().submissions.map((e) => e.body.metadata?.webhook_url ?? '');
    for (const hook of hooks) expect(hook).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/hook\/[\w-]{32}$/);
    expect(new Set(hooks).size).toBe(4);
    expectNoKey([r2.stdout, r2.stderr], out);
  });

  it('with 30 % of pushes lost every shot is still done, found by the safety polls', async () => {
    const manifest = writeManifest(tmp.dir, 8);
    const sim = await simulator({ webhookLoss: 0.3, webhookDup: 0.3, webhookDelayMs: 200 });
    const out = path.join(tmp.dir, 'out');
    const r = await shotlist(runArgs(manifest, sim, out, '--listen', '0', '--safety-poll', '2'), {
      env: childEnv,
      cwd: tmp.dir,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readReport(out).totals.done).toBe(8);
    const { lost = 0, delivered } = sim.stats().webhooks;
    // The seed loses some pushes and doubles some: both paths are exercised.
    expect(lost).toBeGreaterThan(0);
    expect(delivered).toBeGreaterThan(8 - lost);
    expect(sim.ledger().totals.submissions).toBe(8);
  });

  it('switching --listen on, off and to another port re-renders nothing and submits nothing twice', async () => {
    const manifest = writeManifest(tmp.dir, 4);
    const sim = await simulator();
    const out = path.join(tmp.dir, 'out');
    const run = (...more: string[]) =>
      shotlist(runArgs(manifest, sim, out, ...more), { env: childEnv, cwd: tmp.dir });
    const first = await run('--listen', '127.0.0.1:0');
    expect(first.exitCode, first.stderr).toBe(0);
    for (const more of [[], ['--listen', '0'], ['--listen', 'localhost:0']]) {
      const again = await run(...more);
      expect(again.exitCode, again.stderr).toBe(0);
      expect(readReport(out).totals.done).toBe(4);
    }
    expect(sim.ledger().totals.submissions).toBe(4);
    for (const n of submissionsByPrompt(sim).values()) expect(n).toBe(1);
  });

  it('tasks of an interrupted run with --listen are picked up by a run without it, none submitted twice', async () => {
    const manifest = writeManifest(tmp.dir, 3);
    // Every push lost: the first run can only wait, and is interrupted once all are submitted.
    const sim = await simulator({ latency: '3-4', webhookLoss: 1 });
    const out = path.join(tmp.dir, 'out');
    const child = spawnShotlist([...runArgs(manifest, sim, out, '--listen', '0'), '--json'], {
      env: childEnv,
      cwd: tmp.dir,
    });
    let submitted = 0;
    child.stdout!.on('data', (chunk: Buffer) => {
      const before = submitted;
      submitted += (chunk.toString().match(/"event":"submitted"/g) ?? []).length;
      // One Ctrl-C: a second one would stop at once, without the resume hint.
      if (before < 3 && submitted >= 3) child.kill('SIGINT');
    });
    const first = await child;
    expect(first.exitCode).toBe(130);
    // The receiver closed with the run: its hint names the flag so a resume keeps pushes on.
    expect(String(first.stderr), String(first.stderr)).toContain('--listen 0');
    const second = await shotlist(runArgs(manifest, sim, out), { env: childEnv, cwd: tmp.dir });
    expect(second.exitCode, second.stderr).toBe(0);
    expect(readReport(out).totals.done).toBe(3);
    expect(sim.ledger().totals.submissions).toBe(3);
  });

  it('refuses a bad --listen or a --public-url without --listen before sending anything', async () => {
    const manifest = writeManifest(tmp.dir, 1);
    const sim = await simulator();
    const out = path.join(tmp.dir, 'out');
    const bad = await shotlist(runArgs(manifest, sim, out, '--listen', 'nowhere'), {
      env: childEnv,
      cwd: tmp.dir,
    });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('--listen must be HOST:PORT or PORT');
    const orphan = await shotlist(
      runArgs(manifest, sim, out, '--public-url', 'https://hooks.example.test/x'),
      { env: childEnv, cwd: tmp.dir },
    );
    expect(orphan.exitCode).toBe(2);
    expect(orphan.stderr).toContain('--public-url needs --listen');
    const badEnv = await shotlist(runArgs(manifest, sim, out), {
      env: { ...childEnv, SHOTLIST_LISTEN: 'nowhere' },
      cwd: tmp.dir,
    });
    expect(badEnv.exitCode).toBe(2);
    expect(badEnv.stderr).toContain('SHOTLIST_LISTEN must be HOST:PORT or PORT');
    expect(sim.ledger().totals.submissions).toBe(0);
  });

  it('takes the receiver from SHOTLIST_LISTEN when no flag says otherwise', async () => {
    const manifest = writeManifest(tmp.dir, 2);
    const sim = await simulator();
    const out = path.join(tmp.dir, 'out');
    const r = await shotlist(runArgs(manifest, sim, out), {
      env: { ...childEnv, SHOTLIST_LISTEN: '0' },
      cwd: tmp.dir,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(sim.stats().webhooks.delivered).toBe(2);
    expect(gets(sim)).toBe(2);
  });

  it('idle sockets flooding the receiver are closed within 5 s and every push still gets in', async () => {
    const manifest = writeManifest(tmp.dir, 2);
    const sim = await simulator({ latency: '6-7' });
    const out = path.join(tmp.dir, 'out');
    const port = await freePort();
    const child = spawnShotlist(runArgs(manifest, sim, out, '--listen', `127.0.0.1:${port}`), {
      env: childEnv,
      cwd: tmp.dir,
    });
    let running = true;
    void child.finally(() => (running = false));
    await untilListening(port, () => running);
    // Waves of 256 silent or stalled sockets and 16 half-closed ones, until the run ends: the
    // pushes (6-7 s after the submissions) arrive while a wave holds the receiver.
    const lifetimes: number[] = [];
    let waves = 0;
    while (running) {
      const flood = await idleFlood('127.0.0.1', port, 256, 16);
      const wave = await flood.closed;
      flood.destroy();
      lifetimes.push(...wave.lifetimes);
      waves++;
    }
    const r = await child;
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(readReport(out).totals.done).toBe(2);
    // Each push was taken and confirmed by one GET: none waited for the 60 s safety poll.
    expect(sim.stats().webhooks).toEqual({ delivered: 2, failed: 0 });
    expect(gets(sim)).toBe(2);
    expect(waves).toBeGreaterThan(0);
    // 5 s and a margin for a busy machine; Node's default sweep let them live 25-30 s.
    expect(Math.max(...lifetimes)).toBeLessThan(9_000);
  });
});

/** A port free right now on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once `port` accepts a connection (retrying while `alive()`); rejects after minutes. */
async function untilListening(port: number, alive: () => boolean): Promise<void> {
  const deadline = Date.now() + EVENT_DEADLINE_MS;
  while (alive() && Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listened on 127.0.0.1:${port}`);
}
