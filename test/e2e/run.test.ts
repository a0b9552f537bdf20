import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyVideo } from '../../src/media/probe.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { shotlist, spawnShotlist, tempDir } from '../helpers/cli.js';
import { eventCount, heldClock, untilOutput } from '../helpers/wait.js';
import {
  KEY,
  childEnv,
  expectNoKey,
  filesUnder,
  readReport,
  runArgs,
  submissionsByPrompt,
  writeManifest,
} from './run-helpers.js';
import { parseEvents } from './events-schema.js';

let tmp: ReturnType<typeof tempDir>;
let sim: Simulator;
const outputs: string[] = [];

beforeEach(async () => {
  tmp = tempDir('shotlist-run-e2e-');
  sim = await startSimulator({ apiKey: KEY, latency: '0.2-0.8', seed: 11 });
});
afterEach(async () => {
  await sim.close();
  tmp.cleanup();
});
afterAll(() => {
  expect(outputs.join('\n')).not.toContain(KEY);
});

describe('shotlist run (built bin against the simulator)', () => {
  it('renders 12 shots completely; a second run submits nothing', async () => {
    const manifest = writeManifest(tmp.dir, 12);
    const out = path.join(tmp.dir, 'out');
    const first = await shotlist(runArgs(manifest, sim, out), { env: childEnv, cwd: tmp.dir });
    outputs.push(first.stdout, first.stderr);
    expect(first.stderr).toBe('');
    expect(first.exitCode).toBe(0);
    const report = readReport(out);
    expect(report.totals.done).toBe(12);
    expect(report.totals.spent_cost).toBe(48);
    for (const s of report.shots) {
      expect(s.status).toBe('done');
      expect(s.task_id).toMatch(/^task_/);
      expect(s.sha256).toMatch(/^[0-9a-f]{64}$/);
      const info = await verifyVideo(path.join(out, s.file!), {
        expectDurationSec: 4,
        toleranceSec: 0.5,
      });
      expect(info.video?.height).toBe(496);
    }
    expect(sim.ledger().totals.submissions).toBe(12);
    expect(sim.ledger().totals.file_requests_with_authorization).toBe(0);

    const requestsBefore = JSON.stringify(sim.stats().requests);
    const second = await shotlist(runArgs(manifest, sim, out), { env: childEnv, cwd: tmp.dir });
    outputs.push(second.stdout, second.stderr);
    expect(second.exitCode).toBe(0);
    expect(second.stdout).toContain('12 cached');
    // A no-op re-run is fast because it asks the API nothing at all (not a timing: load varies).
    expect(JSON.stringify(sim.stats().requests)).toBe(requestsBefore);
    expect(sim.ledger().totals.submissions).toBe(12);

    const status = await shotlist(
      ['status', manifest, '--out', out, '--base-url', sim.url, '--json'],
      {
        env: childEnv,
      },
    );
    expect(status.exitCode).toBe(0);
    const doc = JSON.parse(status.stdout) as { counts: Record<string, number> };
    expect(doc.counts.cached).toBe(12);
    expectNoKey(outputs, out);
  });

  it('refuses over budget with exit 3 and sends nothing', async () => {
    const manifest = writeManifest(tmp.dir, 3);
    const r = await shotlist(runArgs(manifest, sim, path.join(tmp.dir, 'out'), '--max-cost', '5'), {
      env: childEnv,
    });
    outputs.push(r.stdout, r.stderr);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/over budget.*nothing was sent/);
    expect(sim.ledger().totals.submissions).toBe(0);
  });

  it('--dry-run prints the bodies and sends nothing', async () => {
    const manifest = writeManifest(tmp.dir, 2);
    const r = await shotlist(
      runArgs(manifest, sim, path.join(tmp.dir, 'out'), '--dry-run', '--json'),
      {
        env: childEnv,
      },
    );
    expect(r.exitCode).toBe(0);
    const lines = parseEvents(r.stdout, r.exitCode).events.filter((e) => e.event === 'request');
    expect(lines).toHaveLength(2);
    expect((lines[0]!.body as { prompt: string }).prompt).toContain('橘猫');
    expect(sim.ledger().totals.submissions).toBe(0);
  });

  it('refuses to spend without a terminal and without --yes', async () => {
    const manifest = writeManifest(tmp.dir, 2);
    const args = runArgs(manifest, sim, path.join(tmp.dir, 'out')).filter((a) => a !== '--yes');
    const r = await shotlist(args, { env: childEnv });
    outputs.push(r.stdout, r.stderr);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--yes');
    expect(sim.ledger().totals.submissions).toBe(0);
  });

  it('needs a key for a real API and never reads one from the manifest', async () => {
    const manifest = writeManifest(tmp.dir, 1);
    const r = await shotlist(runArgs(manifest, sim, path.join(tmp.dir, 'out')), {
      env: { SHOTLIST_API_KEY: '', API_KEY: '' },
      cwd: tmp.dir,
    });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('SHOTLIST_API_KEY');
    expect(sim.ledger().totals.submissions).toBe(0);
  });

  it('Ctrl-C stops submitting, keeps tasks, exits 130; the next run resumes without paying twice', async () => {
    await sim.close();
    // The simulator's clock stands still until the run has stopped: tasks are surely in flight.
    const clock = heldClock();
    sim = await startSimulator({ apiKey: KEY, latency: '1.5-2.5', seed: 12, clock: clock.now });
    const manifest = writeManifest(tmp.dir, 8);
    const out = path.join(tmp.dir, 'out');
    const child = spawnShotlist([...runArgs(manifest, sim, out), '--json'], { env: childEnv });
    await untilOutput(child, (seen) => eventCount(seen, 'submitted') >= 2);
    child.kill('SIGINT');
    const first = await child;
    clock.release();
    outputs.push(String(first.stdout), String(first.stderr));
    expect(first.exitCode).toBe(130);
    expect(parseEvents(String(first.stdout), first.exitCode).last.status).toBe('interrupted');
    expect(String(first.stderr)).toMatch(/resume: shotlist run/);
    const before = sim.ledger().totals.submissions;
    expect(before).toBeGreaterThanOrEqual(2);
    expect(before).toBeLessThan(8);

    const second = await shotlist(runArgs(manifest, sim, out), { env: childEnv });
    outputs.push(second.stdout, second.stderr);
    expect(second.exitCode).toBe(0);
    expect(second.stdout).toMatch(/in flight from an earlier run/);
    expect(readReport(out).totals.done).toBe(8);
    expect([...submissionsByPrompt(sim).values()].every((n) => n === 1)).toBe(true);
    expect(sim.ledger().totals.submissions).toBe(8);
    expect(filesUnder(out).some((f) => f.endsWith('.part'))).toBe(false);
    expect(existsSync(path.join(out, 'journal.ndjson'))).toBe(true);
    expect(readFileSync(path.join(out, 'journal.ndjson'), 'utf8')).not.toContain(KEY);
  });
});
