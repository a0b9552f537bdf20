import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOCK_FILE } from '../../src/pipeline/lock.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { shotlist, spawnShotlist, tempDir } from '../helpers/cli.js';
import { heldClock, until } from '../helpers/wait.js';
import { childEnv, readReport, runArgs, writeManifest } from './run-helpers.js';

let tmp: ReturnType<typeof tempDir>;
let sim: Simulator | undefined;

beforeEach(() => {
  tmp = tempDir('shotlist-lock-');
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  tmp.cleanup();
});

describe('one run at a time per output folder (built bin)', () => {
  it('a second run on a folder in use is refused and sends nothing; the lock goes with the first', async () => {
    // The simulator's clock stands still until the second run is refused: the first is
    // surely still running then, however slowly the second starts.
    const clock = heldClock();
    sim = await startSimulator({ latency: '2-3', seed: 8, clock: clock.now });
    const manifest = writeManifest(tmp.dir, 4);
    const out = path.join(tmp.dir, 'out');
    const first = spawnShotlist(runArgs(manifest, sim, out), { env: childEnv });
    await until(() => (sim?.stats().requests['POST /v1/videos'] ?? 0) > 0, 'a first POST');
    expect(existsSync(path.join(out, LOCK_FILE))).toBe(true);

    const second = await shotlist(runArgs(manifest, sim, out), { env: childEnv });
    clock.release();
    expect(second.exitCode).toBe(2);
    expect(second.stderr).toMatch(/another run is using .*out \(shotlist run \d+ on /);
    expect(second.stderr).toMatch(/fix: wait for that run to end/);

    const done = await first;
    expect(done.exitCode).toBe(0);
    expect(sim.stats().requests['POST /v1/videos']).toBe(4);
    expect(sim.ledger().totals.submissions).toBe(4);
    expect(existsSync(path.join(out, LOCK_FILE))).toBe(false);
  });

  it('Ctrl-C releases the lock', async () => {
    // No task ends while the clock is held: the Ctrl-C surely finds the run waiting.
    const clock = heldClock();
    sim = await startSimulator({ latency: '5', seed: 9, clock: clock.now });
    const manifest = writeManifest(tmp.dir, 2);
    const out = path.join(tmp.dir, 'out');
    const run = spawnShotlist(runArgs(manifest, sim, out), { env: childEnv });
    await until(() => (sim?.stats().requests['POST /v1/videos'] ?? 0) >= 2, 'both POSTs');
    run.kill('SIGINT');
    const r = await run;
    clock.release();
    expect(r.exitCode).toBe(130);
    expect(existsSync(path.join(out, LOCK_FILE))).toBe(false);
  });

  it('a lock left by a process that is gone is taken over, saying so', async () => {
    sim = await startSimulator({ latency: 0, seed: 10 });
    const manifest = writeManifest(tmp.dir, 2);
    const out = path.join(tmp.dir, 'out');
    const gone = await execa(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const pid = Number(gone.stdout);
    mkdirSync(out, { recursive: true });
    writeFileSync(
      path.join(out, LOCK_FILE),
      JSON.stringify({ pid, host: hostname(), since: Date.now() - 60_000 }),
    );
    const r = await shotlist(runArgs(manifest, sim, out), { env: childEnv });
    expect(r.exitCode).toBe(0);
    expect(`${r.stdout}${r.stderr}`).toMatch(
      new RegExp(`took over the lock of run ${pid} on .*no longer running`),
    );
    expect(readReport(out).totals.done).toBe(2);
    expect(existsSync(path.join(out, LOCK_FILE))).toBe(false);
  });
});
