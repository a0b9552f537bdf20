import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseJournal } from '../../src/render/journal.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { shotlist, spawnShotlist, tempDir } from '../helpers/cli.js';
import { heldClock, untilOutput } from '../helpers/wait.js';
import { parseEvents, type StreamEvent } from './events-schema.js';
import {
  childEnv,
  expectNoKey,
  readReport,
  runArgs,
  submissionsByPrompt,
  writeManifest,
} from './run-helpers.js';

/** Whether a `limit` event in the NDJSON text has brought the window down to `cap` or below. */
function atCap(text: string, cap: number): boolean {
  return text
    .split('\n')
    .some(
      (line) =>
        /"event":"limit"/.test(line) && Number(/"concurrency":(\d+)/.exec(line)?.[1]) <= cap,
    );
}

let tmp: ReturnType<typeof tempDir>;
let sim: Simulator | undefined;

beforeEach(() => {
  tmp = tempDir('shotlist-adaptive-');
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  tmp.cleanup();
});

describe('adaptive concurrency per account (built bin)', () => {
  it('a key capped at 3 tasks, concurrency 12, 60 shots: all done once, few 429s', async () => {
    // The simulator's clock stands still until the window has come down to the cap: the 3
    // tasks it accepted stay in flight however slow the machine, so the cap is surely met
    // (on a loaded machine, tasks used to finish before enough 429s came back).
    const clock = heldClock();
    sim = await startSimulator({
      keyConcurrency: 3,
      latency: '0.2-0.4',
      seed: 11,
      clock: clock.now,
    });
    const manifest = writeManifest(tmp.dir, 60);
    writeFileSync(
      manifest,
      readFileSync(manifest, 'utf8')
        .replace('concurrency: 4', 'concurrency: 12')
        .replace('max_cost: 100', 'max_cost: 300'),
    );
    const out = path.join(tmp.dir, 'out');
    const child = spawnShotlist(runArgs(manifest, sim, out, '--json'), { env: childEnv });
    await untilOutput(child, (text) => atCap(text, 3));
    clock.release();
    const done = await child;
    const r = { exitCode: done.exitCode, stdout: String(done.stdout), stderr: String(done.stderr) };

    expect(r.exitCode, r.stderr).toBe(0);
    expect(readReport(out).totals.done).toBe(60);
    const counts = submissionsByPrompt(sim);
    expect(counts.size).toBe(60);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    const posts = sim.stats().requests['POST /v1/videos']!;
    const limited = posts - 60;
    expect(limited / 60).toBeLessThanOrEqual(0.3);

    const { events } = parseEvents(r.stdout, 0);
    const cuts = events.filter((e) => e.event === 'limit' && e.reason === 'rate_limited');
    // The cap was met and the window came down from the ceiling to it.
    expect(cuts.length).toBeGreaterThan(0);
    expect(cuts[0]).toMatchObject({ ceiling: 12 });
    expect(Math.min(...cuts.map((e) => e.concurrency as number))).toBeLessThanOrEqual(3);
    expect(events.filter((e) => e.event === 'limited')).toHaveLength(limited);

    // Every 429 is journaled as creating nothing, and the shot's next intent keeps its key.
    const { entries } = parseJournal(readFileSync(path.join(out, 'journal.ndjson'), 'utf8'));
    const rateLimited = entries.filter((e) => e.type === 'failed' && e.code === 'rate_limited');
    expect(rateLimited).toHaveLength(limited);
    expect(rateLimited.every((e) => e.type === 'failed' && e.task_id === undefined)).toBe(true);
    const idems = new Map<string, Set<string>>();
    for (const e of entries)
      if (e.type === 'intent') idems.set(e.key, (idems.get(e.key) ?? new Set()).add(e.idem));
    expect([...idems.values()].every((s) => s.size === 1)).toBe(true);
    expectNoKey([r.stdout, r.stderr], out);
    // Rendering, stitching and the report of 60 clips on a shared 2-core machine.
  });

  it('rpm: 60 paces every request to the API, submissions and polls, one a second', async () => {
    sim = await startSimulator({ latency: 0, seed: 3 });
    const manifest = writeManifest(tmp.dir, 4, 'rpm: 60\n');
    const out = path.join(tmp.dir, 'out');
    const r = await shotlist(runArgs(manifest, sim, out, '--json'), { env: childEnv });

    expect(r.exitCode, r.stderr).toBe(0);
    const { events } = parseEvents(r.stdout, 0);
    const at = (e: StreamEvent) => Date.parse(String(e.time));
    const first = at(events.find((e) => e.event === 'submitting')!);
    const last = Math.max(...events.filter((e) => e.event === 'done').map(at));
    const requests = sim.stats().requests;
    const api = requests['POST /v1/videos']! + requests['GET /v1/videos/:id']!;
    expect(api).toBeGreaterThanOrEqual(8);
    // The first request goes at once, each later one a second after the one before it.
    expect(last - first).toBeGreaterThanOrEqual((api - 1) * 1000 - 100);
  });
});
