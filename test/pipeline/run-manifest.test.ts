import { copyFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runManifest, stitchRendered, type PreparedRun } from '../../src/index.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { tempDir } from '../helpers/cli.js';
import { KEY, readReport, writeManifest } from '../e2e/run-helpers.js';

let tmp: ReturnType<typeof tempDir>;
let sim: Simulator;
const env = { SHOTLIST_API_KEY: KEY, PATH: process.env.PATH };

beforeEach(async () => {
  tmp = tempDir('shotlist-pipeline-');
  sim = await startSimulator({ apiKey: KEY, latency: '0.1-0.3', seed: 5 });
});
afterEach(async () => {
  await sim.close();
  tmp.cleanup();
});

describe('runManifest (the programmatic twin of shotlist run)', () => {
  it('renders, stitches and reports a manifest against the simulator, paths against cwd', async () => {
    writeManifest(tmp.dir, 2);
    const prepared: PreparedRun[] = [];
    const result = await runManifest(
      'film.yaml',
      { cwd: tmp.dir, env, baseUrl: sim.url, yes: true },
      { onPrepared: (p) => void prepared.push(p) },
    );
    expect(result.status).toBe('done');
    expect(result.exitCode).toBe(0);
    expect(prepared[0]!.summary.submits).toBe(2);
    const out = path.join(tmp.dir, 'renders', 'film');
    expect(result.prepared.outDir).toBe(out);
    expect(readReport(out).totals.done).toBe(2);
    expect(result.stitch?.outputs.map((o) => o.file)).toEqual(['final.mp4']);
    expect(existsSync(path.join(out, 'final.mp4'))).toBe(true);
    expect(sim.ledger().totals.submissions).toBe(2);

    // Again: everything cached, nothing sent.
    const again = await runManifest('film.yaml', { cwd: tmp.dir, env, baseUrl: sim.url });
    expect(again.prepared.summary.counts.cached).toBe(2);
    expect(again.exitCode).toBe(0);
    expect(sim.ledger().totals.submissions).toBe(2);
  });

  it('without yes and without a confirm callback it refuses before sending', async () => {
    writeManifest(tmp.dir, 1);
    await expect(runManifest('film.yaml', { cwd: tmp.dir, env, baseUrl: sim.url })).rejects.toThrow(
      /without confirmation/,
    );
    expect(sim.ledger().totals.submissions).toBe(0);
  });
});

describe('stitchRendered finds clips through the journal', () => {
  it('leaves a variant alone when a clip on disk is not the one downloaded', async () => {
    writeManifest(tmp.dir, 2);
    const result = await runManifest('film.yaml', {
      cwd: tmp.dir,
      env,
      baseUrl: sim.url,
      yes: true,
    });
    const out = result.prepared.outDir;
    const [a, b] = result.report!.shots.map((s) => path.join(out, s.file!));
    // s02's file replaced by another clip: it exists, but its checksum is not the journal's.
    copyFileSync(a!, b!);
    const logs: string[] = [];
    const stitched = await stitchRendered(result.prepared.fullPlan, {
      outDir: out,
      base: result.prepared.base.journalBase,
      env,
      log: (l) => logs.push(l),
    });
    expect(stitched.found).toBe(1);
    expect(stitched.outputs).toEqual([]);
    expect(logs.join('\n')).toMatch(/no clip yet \(s02\)/);
  });
});
