import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseJournal } from '../../src/render/journal.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { shotlist, tempDir } from '../helpers/cli.js';
import { childEnv, readReport, runArgs, writeManifest } from './run-helpers.js';

let tmp: ReturnType<typeof tempDir>;
let sim: Simulator | undefined;

beforeEach(() => {
  tmp = tempDir('shotlist-billed-');
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  tmp.cleanup();
});

describe('what the API says it billed (built bin)', () => {
  it('journals reported seconds and usage; report and status flag a difference from the preview', async () => {
    sim = await startSimulator({ latency: 0, seed: 12, billExtraSeconds: 1 });
    const manifest = writeManifest(tmp.dir, 2);
    const out = path.join(tmp.dir, 'out');
    const r = await shotlist(runArgs(manifest, sim, out), { env: childEnv });
    expect(r.exitCode).toBe(0);

    const journal = parseJournal(readFileSync(path.join(out, 'journal.ndjson'), 'utf8'));
    const completed = journal.entries.filter((e) => e.type === 'completed');
    expect(completed).toHaveLength(2);
    for (const e of completed) {
      expect(e).toMatchObject({ seconds: 5, reported_seconds: 5, usage: { video_seconds: 5 } });
    }
    const report = readReport(out);
    expect(report.totals.billed_check).toMatchObject({
      shots: 2,
      previewed_seconds: 8,
      reported_seconds: 10,
    });
    expect(report.totals.billed_check?.differences).toEqual([
      { shot: 's01', previewed: 4, reported: 5 },
      { shot: 's02', previewed: 4, reported: 5 },
    ]);
    expect(report.shots.map((s) => s.reported_seconds)).toEqual([5, 5]);
    expect(report.warnings?.join('\n')).toMatch(/other seconds than previewed for 2 shots/);
    const html = readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toMatch(/reported by the API<b>10 s for 2 shots \(previewed 8 s\), 2 differ/);

    const status = await shotlist(['status', manifest, '--out', out, '--base-url', sim.url]);
    expect(status.stdout).toMatch(
      /billed as the API reports it: 10 s for 2 shots \(previewed 8 s\)/,
    );
    expect(status.stdout).toMatch(/warning: .*s01 \(4 s previewed, 5 s reported\)/);
    const json = await shotlist([
      'status',
      manifest,
      '--out',
      out,
      '--base-url',
      sim.url,
      '--json',
    ]);
    const doc = JSON.parse(json.stdout) as { billed_check: { differences: unknown[] } };
    expect(doc.billed_check.differences).toHaveLength(2);
  });

  it('no warning when the API bills what was previewed', async () => {
    sim = await startSimulator({ latency: 0, seed: 13 });
    const manifest = writeManifest(tmp.dir, 2);
    const out = path.join(tmp.dir, 'out');
    const r = await shotlist(runArgs(manifest, sim, out), { env: childEnv });
    expect(r.exitCode).toBe(0);
    const report = readReport(out);
    expect(report.totals.billed_check).toMatchObject({ shots: 2, reported_seconds: 8 });
    expect(report.totals.billed_check?.differences).toEqual([]);
    expect(report.warnings ?? []).toEqual([]);
  });
});
