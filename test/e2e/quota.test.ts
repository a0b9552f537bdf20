import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { shotlist, tempDir } from '../helpers/cli.js';
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
let sim: Simulator | undefined;

beforeEach(() => {
  tmp = tempDir('shotlist-quota-');
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  tmp.cleanup();
});

describe('a refused account stops new submissions cleanly (built bin)', () => {
  it('quota for 2 tasks: 3 POSTs, the 2 paid tasks fetched, exit 4; more quota finishes the rest once', async () => {
    const stateDir = path.join(tmp.dir, 'sim-state');
    // Each shot bills 4 s: 8 s of quota pays for two tasks.
    sim = await startSimulator({ quota: { [KEY]: 8 }, latency: '0.3-0.6', seed: 4, stateDir });
    const manifest = writeManifest(tmp.dir, 12);
    const out = path.join(tmp.dir, 'out');
    const first = await shotlist(runArgs(manifest, sim, out, '--concurrency', '2'), {
      env: childEnv,
    });

    expect(first.exitCode).toBe(4);
    expect(sim.stats().requests['POST /v1/videos']).toBe(3);
    expect(sim.ledger().totals.submissions).toBe(2);
    expect(first.stderr).toMatch(/quota is spent: 403 quota exhausted/);
    expect(first.stderr).toMatch(/fix: add quota to the account/);
    const report = readReport(out);
    const done = report.shots.filter((s) => s.status === 'done');
    expect(done).toHaveLength(2);
    // The two tasks paid for are the two done, fetched in this very run.
    const paid = new Set(sim.ledger().submissions.map((e) => e.body.prompt));
    expect(new Set(done.map((s) => s.prompt))).toEqual(paid);
    // The same port: the journal keys a shot by its API base URL.
    const port = Number(new URL(sim.url).port);
    await sim.close();
    sim = await startSimulator({
      quota: { [KEY]: 100 },
      latency: '0.3-0.6',
      seed: 5,
      stateDir,
      port,
    });
    const again = await shotlist(runArgs(manifest, sim, out, '--concurrency', '2'), {
      env: childEnv,
    });
    expect(again.exitCode).toBe(0);
    expect(readReport(out).totals.done).toBe(12);
    const counts = submissionsByPrompt(sim);
    expect(counts.size).toBe(12);
    expect(sim.stats().requests['POST /v1/videos']).toBe(10);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expectNoKey([first.stdout, first.stderr, again.stdout, again.stderr], out);
  });

  it('a key the API refuses: exit 4 naming the key, nothing created', async () => {
    sim = await startSimulator({ apiKey: 'sk-another-key-0001', latency: 0 });
    const manifest = writeManifest(tmp.dir, 3);
    const out = path.join(tmp.dir, 'out');
    const r = await shotlist(runArgs(manifest, sim, out), { env: childEnv });
    expect(r.exitCode).toBe(4);
    expect(r.stderr).toMatch(/the API refused the key: 401/);
    expect(r.stderr).toMatch(/fix: check the key in SHOTLIST_API_KEY/);
    expect(sim.ledger().totals.submissions).toBe(0);
  });
});
