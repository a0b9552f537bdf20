import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { shotlist, spawnShotlist, tempDir } from '../helpers/cli.js';
import { eventCount, heldClock, untilOutput } from '../helpers/wait.js';
import { parseEvents } from './events-schema.js';
import { KEY, childEnv, runArgs, writeManifest } from './run-helpers.js';

let tmp: ReturnType<typeof tempDir>;
let sim: Simulator;

beforeEach(async () => {
  tmp = tempDir('shotlist-events-e2e-');
  sim = await startSimulator({ apiKey: KEY, latency: 0, seed: 3 });
});
afterEach(async () => {
  await sim.close();
  tmp.cleanup();
});

/** Runs the built CLI with --json and checks its stream. */
async function jsonRun(args: string[], env: Record<string, string> = childEnv) {
  const r = await shotlist([...args, '--json'], { env, cwd: tmp.dir });
  return { ...r, ...parseEvents(r.stdout, r.exitCode) };
}

const VARIANTS =
  "variants:\n  - { name: wide, ratio: '16:9' }\n  - { name: tall, ratio: '9:16' }\n";

describe('the --json event stream (built bin, every line checked against docs/events.schema.json)', () => {
  it('a render: plan, shot events by id/variant/take, stitch and a summary with money and outputs', async () => {
    const manifest = writeManifest(tmp.dir, 2, VARIANTS);
    const out = path.join(tmp.dir, 'out');
    const summaryFile = path.join(tmp.dir, 'step-summary.md');
    writeFileSync(summaryFile, '# earlier step\n');
    const first = await jsonRun(runArgs(manifest, sim, out), {
      ...childEnv,
      GITHUB_STEP_SUMMARY: summaryFile,
    });
    expect(first.exitCode).toBe(0);
    expect(first.events[0]).toMatchObject({ event: 'plan', submits: 4, new_seconds: 16 });
    const submitted = first.events.filter((e) => e.event === 'submitted');
    expect(submitted).toHaveLength(4);
    expect(submitted[0]).toMatchObject({ id: 's01', take: 1 });
    expect(submitted.map((e) => e.variant).sort()).toEqual(['tall', 'tall', 'wide', 'wide']);
    expect(typeof submitted[0]!.task_id).toBe('string');
    const stitched = first.events.filter((e) => e.event === 'stitch');
    expect(stitched.map((e) => `${String(e.variant)}:${String(e.status)}`).sort()).toEqual([
      'tall:done',
      'wide:done',
    ]);
    expect(first.last).toMatchObject({
      event: 'summary',
      status: 'done',
      exit_code: 0,
      totals: { shots: 4, done: 4, failed: 0 },
      spend: { currency: 'CNY', billed: { seconds: 16, cost: 16 }, at_risk: { seconds: 0 } },
    });
    const outputs = first.last.outputs as { file: string }[];
    expect(outputs.map((o) => path.basename(o.file)).sort()).toEqual([
      'final.tall.mp4',
      'final.wide.mp4',
    ]);
    const md = readFileSync(summaryFile, 'utf8');
    expect(md.startsWith('# earlier step\n')).toBe(true);
    expect(md).toContain('### shotlist: film');
    expect(md).toContain('| billed | 16 s (16.00 CNY) |');
    expect(md).toContain('final.wide.mp4');

    const again = await jsonRun(runArgs(manifest, sim, out));
    expect(again.events.filter((e) => e.event === 'cached')).toHaveLength(4);
    expect(again.last).toMatchObject({ status: 'done', spend: { billed: { seconds: 0 } } });
  });

  it('failed shots: failed events with the error, the summary lists them and exits 1', async () => {
    await sim.close();
    sim = await startSimulator({ apiKey: KEY, latency: 0, failRate: 1, seed: 3 });
    const manifest = writeManifest(tmp.dir, 2);
    const r = await jsonRun(runArgs(manifest, sim, path.join(tmp.dir, 'out')));
    expect(r.exitCode).toBe(1);
    const failed = r.events.filter((e) => e.event === 'failed');
    expect(failed).toHaveLength(2);
    expect(failed[0]).toMatchObject({ error: { code: 'content_filter' } });
    expect(r.last).toMatchObject({ status: 'failed', totals: { failed: 2 } });
    expect(r.last.failures).toHaveLength(2);
    expect(r.events.some((e) => e.event === 'stitch' && e.status === 'skipped')).toBe(true);
  });

  it('a dry run: plan, one request per body, a summary; nothing sent', async () => {
    const manifest = writeManifest(tmp.dir, 3);
    const r = await jsonRun(runArgs(manifest, sim, path.join(tmp.dir, 'out'), '--dry-run'));
    expect(r.exitCode).toBe(0);
    expect(r.events.map((e) => e.event)).toEqual([
      'plan',
      'request',
      'request',
      'request',
      'summary',
    ]);
    expect(r.events[1]).toMatchObject({ id: 's01', variant: null, take: 1 });
    expect(r.last).toMatchObject({ status: 'dry-run', exit_code: 0 });
    expect(sim.ledger().totals.submissions).toBe(0);
  });

  it('early exits end with an error event: bad manifest, over budget, no confirmation, usage', async () => {
    const bad = path.join(tmp.dir, 'bad.yaml');
    writeFileSync(
      bad,
      'version: 1\nname: bad\nshots:\n  - id: s01\n    prompt: x\n    duration: 99\n',
    );
    const manifestError = await jsonRun(runArgs(bad, sim, path.join(tmp.dir, 'o1')));
    expect(manifestError.last).toMatchObject({
      event: 'error',
      exit_code: 2,
      code: 'manifest_invalid',
    });
    expect((manifestError.last.diagnostics as { line: number }[])[0]?.line).toBe(6);

    const manifest = writeManifest(tmp.dir, 3);
    const budget = await jsonRun(
      runArgs(manifest, sim, path.join(tmp.dir, 'o2'), '--max-cost', '5'),
    );
    expect(budget.events.map((e) => e.event)).toEqual(['plan', 'error']);
    expect(budget.last).toMatchObject({ exit_code: 3 });

    const noYes = await jsonRun([
      'run',
      manifest,
      '--base-url',
      sim.url,
      '--out',
      path.join(tmp.dir, 'o3'),
    ]);
    expect(noYes.last).toMatchObject({ event: 'error', exit_code: 2, code: 'usage' });
    expect(String(noYes.last.message)).toContain('without confirmation');

    const usage = await jsonRun(['run', manifest, '--colour']);
    expect(usage.last).toMatchObject({
      event: 'error',
      exit_code: 2,
      fix: expect.stringContaining('--') as unknown,
    });

    const unknownCommand = await jsonRun(['rn', manifest]);
    expect(unknownCommand.last).toMatchObject({ event: 'error', exit_code: 2, code: 'usage' });

    writeFileSync(path.join(tmp.dir, 'afile'), 'not a folder');
    const unwritable = await jsonRun([
      ...runArgs(manifest, sim, path.join(tmp.dir, 'afile', 'sub')),
    ]);
    expect(unwritable.last).toMatchObject({ event: 'error', exit_code: 70, code: 'ENOTDIR' });

    const negative = await jsonRun(['run', manifest, '--max-cost', '-1']);
    expect(negative.last).toMatchObject({ event: 'error', exit_code: 2 });
    expect(sim.ledger().totals.submissions).toBe(0);
  });

  it('Ctrl-C: shots left pending or skipped, a summary with exit 130 last', async () => {
    await sim.close();
    // The simulator's clock stands still: no task ends before the Ctrl-C, however slow the run.
    const clock = heldClock();
    sim = await startSimulator({ apiKey: KEY, latency: '2-3', seed: 12, clock: clock.now });
    const manifest = writeManifest(tmp.dir, 8);
    const child = spawnShotlist([...runArgs(manifest, sim, path.join(tmp.dir, 'out')), '--json'], {
      env: childEnv,
    });
    await untilOutput(child, (seen) => eventCount(seen, 'submitted') >= 1);
    child.kill('SIGINT');
    const r = await child;
    clock.release();
    const { events, last } = parseEvents(String(r.stdout), r.exitCode);
    expect(r.exitCode).toBe(130);
    expect(last).toMatchObject({ event: 'summary', status: 'interrupted', interrupted: true });
    expect(events.some((e) => e.event === 'pending' || e.event === 'skipped')).toBe(true);
  });
});
