import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyVideo } from '../../src/media/probe.js';
import { parseJournal } from '../../src/render/journal.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { shotlist, spawnShotlist, tempDir } from '../helpers/cli.js';
import { eventCount, untilOutput } from '../helpers/wait.js';
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
let sim: Simulator | undefined;
const outputs: string[] = [];

beforeEach(() => {
  tmp = tempDir('shotlist-run-faults-');
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  tmp.cleanup();
});
afterAll(() => {
  expect(outputs.join('\n')).not.toContain(KEY);
});

describe('shotlist run under crashes and faults (built bin)', () => {
  it('SIGKILL at several moments, then a run: every shot done, each submitted once, no .part left', async () => {
    sim = await startSimulator({ apiKey: KEY, latency: '0.5-1.5', seed: 21 });
    const manifest = writeManifest(tmp.dir, 12);
    const out = path.join(tmp.dir, 'out');
    // Kill moments spread over submission, polling and downloading, each at an event of the
    // run (not a time, which a loaded machine would shift); each run resumes the last.
    const moments: [event: string, count: number][] = [
      ['submitting', 1],
      ['submitted', 3],
      ['downloading', 1],
      ['done', 2],
    ];
    for (const [event, count] of moments) {
      const child = spawnShotlist(runArgs(manifest, sim, out, '--json'), { env: childEnv });
      await untilOutput(child, (seen) => eventCount(seen, event) >= count);
      child.kill('SIGKILL');
      const r = await child;
      outputs.push(String(r.stdout), String(r.stderr));
    }
    const last = await shotlist(runArgs(manifest, sim, out), { env: childEnv });
    outputs.push(last.stdout, last.stderr);

    const report = readReport(out);
    const journal = parseJournal(readFileSync(path.join(out, 'journal.ndjson'), 'utf8'));
    const counts = submissionsByPrompt(sim);
    for (const s of report.shots) {
      const n = counts.get(s.prompt) ?? 0;
      if (s.status === 'unknown') {
        // Only a kill between writing the intent and journaling the task id leaves a shot unknown.
        const key = s.key;
        const lines = journal.entries.filter((e) => e.key === key).map((e) => e.type);
        expect(lines.lastIndexOf('intent')).toBeGreaterThan(lines.lastIndexOf('task'));
        expect(n).toBeLessThanOrEqual(1);
        continue;
      }
      expect(s.status).toBe('done');
      expect(n).toBe(1);
    }
    expect(last.exitCode).toBe(report.totals.done === 12 ? 0 : 1);
    expect(filesUnder(out).filter((f) => f.endsWith('.part'))).toEqual([]);
    expect(journal.torn).toBe(false);

    // A kill during a POST is ambiguous by the contract; resubmitting those is the user's call.
    const unknown = new Set(
      report.shots.filter((s) => s.status === 'unknown').map((s) => s.prompt),
    );
    const again = await shotlist([...runArgs(manifest, sim, out), '--retry-unknown'], {
      env: childEnv,
    });
    outputs.push(again.stdout, again.stderr);
    expect(again.exitCode).toBe(0);
    expect(readReport(out).totals.done).toBe(12);
    // An unknown shot was sent at most once before the kill and once by --retry-unknown.
    for (const [prompt, n] of submissionsByPrompt(sim)) {
      if (unknown.has(prompt)) expect(n).toBeGreaterThanOrEqual(1);
      expect(n).toBeLessThanOrEqual(unknown.has(prompt) ? 2 : 1);
    }
    expectNoKey(outputs, out);
  });

  it('under 429/500/reset/truncate faults and failures: done or failed with the API reason; duplicates only for unknown', async () => {
    sim = await startSimulator({
      apiKey: KEY,
      latency: '0.2-0.6',
      seed: 5,
      failRate: 0.05,
      faults: '429=0.1,500=0.05,reset=0.03,truncate=0.05',
    });
    const manifest = writeManifest(tmp.dir, 12);
    const out = path.join(tmp.dir, 'out');
    const first = await shotlist([...runArgs(manifest, sim, out), '--json'], { env: childEnv });
    outputs.push(first.stdout, first.stderr);
    const { last } = parseEvents(first.stdout, first.exitCode);
    expect(last.event).toBe('summary');
    const report = readReport(out);
    expect(first.exitCode).toBe(report.shots.every((s) => s.status === 'done') ? 0 : 1);
    for (const s of report.shots) {
      expect(['done', 'failed', 'unknown']).toContain(s.status);
      if (s.status === 'done') {
        const file = path.join(out, s.file!);
        await verifyVideo(file, { expectDurationSec: 4, toleranceSec: 0.5 });
        expect(createHash('sha256').update(readFileSync(file)).digest('hex')).toBe(s.sha256);
      } else {
        expect(s.error?.message).toBeTruthy();
        expect(s.error?.code).toBeTruthy();
      }
      if (s.status === 'failed' && s.task_id)
        expect(s.error?.code).toMatch(/content_filter|download_failed|verify_failed/);
    }
    for (const n of submissionsByPrompt(sim).values()) expect(n).toBe(1);

    // A new run resubmits what failed, and with --retry-unknown what is unknown; nothing else.
    const unknown = new Set(report.shots.filter((s) => s.status !== 'done').map((s) => s.prompt));
    const again = await shotlist([...runArgs(manifest, sim, out), '--retry-unknown'], {
      env: childEnv,
    });
    outputs.push(again.stdout, again.stderr);
    for (const [prompt, n] of submissionsByPrompt(sim)) {
      if (n > 1) expect(unknown.has(prompt)).toBe(true);
    }
    expect(sim.ledger().totals.file_requests_with_authorization).toBe(0);
    expect(filesUnder(out).filter((f) => f.endsWith('.part'))).toEqual([]);
    expectNoKey(outputs, out);
  });
});
