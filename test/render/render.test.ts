import { mkdtemp, readdir, rm, writeFile, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiClient, type ApiClient } from '../../src/api/client.js';
import { verifyVideo } from '../../src/media/probe.js';
import type { Plan, PlannedShot } from '../../src/plan/types.js';
import type { RenderEvent } from '../../src/render/events.js';
import { JOURNAL_FILE, readJournal } from '../../src/render/journal.js';
import { render, type RenderDeps, type RenderOptions } from '../../src/render/render.js';
import { assessShots } from '../../src/render/state.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';

const KEY = 'sk-render-test-9876';
const fast = { firstMs: 20, minMs: 10, maxMs: 200, targetDelayMs: 50 };

function makePlan(n: number, extra: Partial<PlannedShot> = {}): Plan {
  const shots: PlannedShot[] = Array.from({ length: n }, (_, i) => ({
    id: `s${String(i + 1).padStart(2, '0')}`,
    variant: null,
    take: 1,
    mode: 'text_to_video',
    model: 'seedance-2-official',
    size: '480p',
    ratio: '16:9',
    seconds: 4,
    audio: true,
    prompt: `镜头 ${i + 1}`,
    unit_price: 1,
    cost: 4,
    currency: 'CNY',
    request: {
      model: 'seedance-2-official',
      prompt: `镜头 ${i + 1}`,
      duration: 4,
      size: '480p',
      metadata: { ratio: '16:9' },
    },
    source: { file: 'm.yaml', line: 1, col: 1 },
    ...extra,
  }));
  return {
    manifest: { file: 'm.yaml', name: 'm' },
    concurrency: 3,
    shots,
    totals: { shots: n, seconds: 4 * n, cost: 4 * n, currency: 'CNY', unpriced_seconds: 0 },
    budget: { max_cost: null, max_seconds: null, ok: true, reason: null },
    stitch: null,
    order: shots.map((s) => s.id),
    variants: [null],
    warnings: [],
  };
}

let dir: string;
let sim: Simulator | undefined;
let client: ApiClient | undefined;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'shotlist-render-'));
});
afterEach(async () => {
  await client?.close();
  await sim?.close();
  client = undefined;
  sim = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function setup(simOptions: Parameters<typeof startSimulator>[0] = {}) {
  sim = await startSimulator({ apiKey: KEY, latency: '0.05-0.2', seed: 7, ...simOptions });
  client = createApiClient({ baseUrl: sim.url, apiKey: KEY, backoff: { baseMs: 5, maxMs: 50 } });
  const events: RenderEvent[] = [];
  const deps: RenderDeps = {
    client,
    onEvent: (e) => events.push(e),
    verify: async (file, shot) =>
      void (await verifyVideo(file, { expectDurationSec: shot.seconds, toleranceSec: 0.5 })),
  };
  return { sim, client, events, deps };
}

/** Assesses the plan against the output folder's journal, as a run does, then renders it. */
async function renderPlan(plan: Plan, options: RenderOptions, deps: RenderDeps) {
  const journal = await readJournal(path.join(options.outDir, JOURNAL_FILE));
  const assessed = await assessShots(plan, {
    outDir: options.outDir,
    baseUrl: deps.client.baseUrl,
    journal: journal.shots,
  });
  return render(plan, assessed, options, deps);
}

describe('render against the simulator', () => {
  it('renders every shot, then a second run sends nothing', async () => {
    const { sim, deps, events } = await setup();
    const plan = makePlan(5);
    const first = await renderPlan(plan, { outDir: dir, poll: fast }, deps);
    expect(first.shots.map((s) => s.status)).toEqual(Array(5).fill('done'));
    expect(first.spent).toEqual({
      cost: 20,
      seconds: 20,
      submissions: 5,
      failed: { seconds: 0, cost: null },
      atRisk: { seconds: 0, cost: null },
    });
    expect(sim.ledger().totals.submissions).toBe(5);
    expect(sim.ledger().totals.file_requests_with_authorization).toBe(0);
    const clips = await readdir(path.join(dir, 'clips'));
    expect(clips.sort()).toEqual(['.store', 's01.mp4', 's02.mp4', 's03.mp4', 's04.mp4', 's05.mp4']);
    // Every named clip is its stored file (one link, or a copy where links are refused).
    expect((await readdir(path.join(dir, 'clips/.store'))).length).toBeGreaterThan(0);
    expect(events.some((e) => e.type === 'submitted')).toBe(true);
    expect(events.filter((e) => e.type === 'done')).toHaveLength(5);

    const second = await renderPlan(plan, { outDir: dir, poll: fast }, deps);
    expect(second.shots.every((s) => s.status === 'done' && s.cached)).toBe(true);
    expect(second.spent.submissions).toBe(0);
    expect(sim.ledger().totals.submissions).toBe(5);
    const journal = await readFile(path.join(dir, 'journal.ndjson'), 'utf8');
    expect(journal).not.toContain(KEY);
  });

  it('editing one prompt re-renders that shot alone; a changed file is downloaded again for free', async () => {
    const { sim, deps } = await setup();
    const plan = makePlan(3);
    await renderPlan(plan, { outDir: dir, poll: fast }, deps);
    const edited = makePlan(3);
    edited.shots[1] = {
      ...edited.shots[1]!,
      request: { ...edited.shots[1]!.request, prompt: '新的提示词' },
    };
    await writeFile(path.join(dir, 'clips', 's03.mp4'), 'not a video');
    const r = await renderPlan(edited, { outDir: dir, poll: fast }, deps);
    expect(r.shots.map((s) => s.state)).toEqual(['cached', 'new', 'download']);
    expect(r.shots.every((s) => s.status === 'done')).toBe(true);
    expect(sim.ledger().totals.submissions).toBe(4);
  });

  it('a resumed download asks the API for a fresh link before fetching', async () => {
    const { sim, deps } = await setup();
    const plan = makePlan(2);
    await renderPlan(plan, { outDir: dir, poll: fast }, deps);
    // The journal's links name a server that is gone, and the files must be fetched again.
    const file = path.join(dir, 'journal.ndjson');
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    const stale = lines
      .map((l) => JSON.parse(l) as { type: string; url?: string })
      .filter((e) => e.type !== 'file')
      .map((e) => (e.type === 'completed' ? { ...e, url: 'http://127.0.0.1:9/gone.mp4' } : e));
    await writeFile(file, `${stale.map((e) => JSON.stringify(e)).join('\n')}\n`);
    await rm(path.join(dir, 'clips'), { recursive: true });
    const fetched: string[] = [];
    const client = new Proxy(deps.client, {
      get: (target, name, receiver) =>
        name === 'download'
          ? (url: string, ...rest: unknown[]) => {
              fetched.push(url);
              return (target.download as (...a: unknown[]) => unknown).call(target, url, ...rest);
            }
          : (Reflect.get(target, name, receiver) as unknown),
    });
    const second = await renderPlan(plan, { outDir: dir, poll: fast }, { ...deps, client });
    expect(second.shots.map((s) => s.status)).toEqual(['done', 'done']);
    expect(fetched).toHaveLength(2);
    expect(fetched.filter((u) => u.includes('127.0.0.1:9/'))).toEqual([]);
    expect(sim.ledger().totals.submissions).toBe(2);
  });

  it('picks up a journaled task instead of resubmitting it', async () => {
    const { sim, deps } = await setup({ latency: '0.3' });
    const plan = makePlan(2);
    const controller = new AbortController();
    const run = renderPlan(
      plan,
      // One at a time: the abort lands after the first POST, never while a second is being sent
      // (a POST cut while sending is rightly `unknown`, which this test is not about).
      { outDir: dir, poll: fast, signal: controller.signal, concurrency: 1 },
      {
        ...deps,
        onEvent: (e) => {
          if (e.type === 'submitted' && !controller.signal.aborted) controller.abort();
        },
      },
    );
    const first = await run;
    expect(first.interrupted).toBe(true);
    expect(first.shots.some((s) => s.status === 'pending')).toBe(true);
    const before = sim.ledger().totals.submissions;
    const second = await renderPlan(plan, { outDir: dir, poll: fast }, deps);
    expect(second.shots.every((s) => s.status === 'done')).toBe(true);
    const ids = sim.ledger().submissions.map((s) => s.body.prompt);
    expect(new Set(ids).size).toBe(ids.length);
    expect(sim.ledger().totals.submissions).toBe(2);
    expect(before).toBeGreaterThanOrEqual(1);
  });

  it('records a failed task with the API reason and goes on', async () => {
    const { deps } = await setup({ failRate: 1 });
    const r = await renderPlan(makePlan(2), { outDir: dir, poll: fast }, deps);
    expect(r.shots.every((s) => s.status === 'failed')).toBe(true);
    expect(r.shots[0]!.error?.code).toBe('content_filter');
    expect(r.shots[0]!.taskId).toMatch(/./);
    const j = await readJournal(path.join(dir, 'journal.ndjson'));
    expect([...j.shots.values()].every((s) => s.phase === 'failed')).toBe(true);
  });

  it('a refused key stops the whole run', async () => {
    sim = await startSimulator({ apiKey: KEY, latency: 0 });
    client = createApiClient({
      baseUrl: sim.url,
      apiKey: 'wrong-key-123',
      backoff: { baseMs: 5, maxMs: 50 },
    });
    const r = await renderPlan(
      makePlan(6),
      { outDir: dir, poll: fast, concurrency: 1 },
      { client },
    );
    expect(r.fatal?.code).toBe('unauthorized');
    expect(r.shots.filter((s) => s.status === 'skipped').length).toBeGreaterThanOrEqual(4);
    expect(sim.ledger().totals.submissions).toBe(0);
  });

  it('keeps a task pending after its deadline', async () => {
    const { deps } = await setup({ latency: 5 });
    const r = await renderPlan(makePlan(1), { outDir: dir, poll: fast, deadlineMs: 150 }, deps);
    expect(r.shots[0]!.status).toBe('pending');
    expect(r.shots[0]!.error?.code).toBe('deadline');
  });

  it('survives faults: done or failed with a reason, duplicates only for unknown', async () => {
    const { sim, deps } = await setup({
      faults: '429=0.1,500=0.05,reset=0.03,truncate=0.05',
      failRate: 0.05,
      seed: 3,
    });
    const plan = makePlan(12);
    const r = await renderPlan(plan, { outDir: dir, poll: fast, concurrency: 4 }, deps);
    for (const s of r.shots) {
      expect(['done', 'failed', 'unknown']).toContain(s.status);
      if (s.status !== 'done') expect(s.error?.message).toBeTruthy();
    }
    const counts = new Map<string, number>();
    for (const e of sim.ledger().submissions)
      counts.set(e.body.prompt, (counts.get(e.body.prompt) ?? 0) + 1);
    for (const [, n] of counts) expect(n).toBe(1);
    expect(await readdir(path.join(dir, 'clips'))).not.toContainEqual(
      expect.stringMatching(/\.part$/),
    );
  });
});
