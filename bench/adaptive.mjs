/**
 * Adaptive concurrency (needs `npm run build`): 60 shots rendered by the core against the
 * simulator, task durations of 60-120 s scaled down 60x.
 *  - capped: the key takes 3 tasks at once (429 with Retry-After beyond), the run asks for 12;
 *  - baseline: no cap, the run asks for 3, so it never meets a 429.
 * Figures: the capped makespan over the baseline's (target <= 1.15), 429s per shot (target
 * <= 0.3), and that every shot was submitted exactly once. Side by side in one process, since
 * the machine is shared and noisy; the simulator's clip cache is warmed first.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createApiClient } from '../dist/api/client.js';
import { DEFAULT_POLL_TUNING, scaleTuning } from '../dist/render/poll.js';
import { render } from '../dist/render/render.js';
import { assessShots } from '../dist/render/state.js';
import { startSimulator } from '../dist/sim/index.js';
import { syntheticPlan } from './util.mjs';

const KEY = 'bench-key-adaptive-0123';
const SHOTS = 60;
const SCALE = 1 / 60;
const LATENCY = `${60 * SCALE}-${120 * SCALE}`;

/** Renders `n` shots at `concurrency` against a simulator capping the key at `cap` tasks. */
async function renderAgainst({ n, concurrency, cap, seed }) {
  const sim = await startSimulator({
    apiKey: KEY,
    latency: LATENCY,
    seed,
    ...(cap ? { keyConcurrency: cap } : {}),
  });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'shotlist-bench-adaptive-'));
  const client = createApiClient({ baseUrl: sim.url, apiKey: KEY });
  try {
    const p = syntheticPlan(n, {
      id: (i) => `a${String(i + 1).padStart(2, '0')}`,
      prompt: (i) => `自适应 ${i + 1}`,
      seconds: 4,
      duration: 4,
    });
    const assessed = await assessShots(p, {
      outDir: dir,
      baseUrl: client.baseUrl,
      journal: new Map(),
    });
    const cuts = [];
    const started = performance.now();
    const result = await render(
      p,
      assessed,
      { outDir: dir, concurrency, poll: scaleTuning(DEFAULT_POLL_TUNING, SCALE) },
      { client, onEvent: (e) => e.type === 'limit' && cuts.push(e.concurrency) },
    );
    const makespan = performance.now() - started;
    const posts = sim.stats().requests['POST /v1/videos'] ?? 0;
    const submissions = sim.ledger().submissions;
    const prompts = new Set(submissions.map((s) => s.body.prompt));
    return {
      makespan,
      done: result.shots.filter((s) => s.status === 'done').length,
      limited: posts - submissions.length,
      duplicates: submissions.length - prompts.size,
      lowest: cuts.length ? Math.min(...cuts) : concurrency,
    };
  } finally {
    await client.close();
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function benchAdaptive() {
  // Encodes the simulator's clips once, outside the measured runs.
  await renderAgainst({ n: SHOTS, concurrency: 16, cap: 0, seed: 1 });
  const baseline = await renderAgainst({ n: SHOTS, concurrency: 3, cap: 0, seed: 2 });
  const capped = await renderAgainst({ n: SHOTS, concurrency: 12, cap: 3, seed: 2 });
  const note = `${SHOTS} shots, tasks ${LATENCY} s (60-120 s scaled 1/60)`;
  return {
    'adaptive.shots_done': { value: capped.done, unit: 'shots', target: `${SHOTS}` },
    'adaptive.duplicates': {
      value: capped.duplicates + baseline.duplicates,
      unit: 'POSTs',
      target: '0',
    },
    'adaptive.makespan_ratio': {
      value: Number((capped.makespan / baseline.makespan).toFixed(3)),
      unit: 'ratio',
      target: '<= 1.15',
      note: `cap 3 / concurrency 12 vs concurrency 3 without 429s; ${note}`,
    },
    'adaptive.makespan_capped': { value: Math.round(capped.makespan), unit: 'ms', note },
    'adaptive.makespan_baseline': { value: Math.round(baseline.makespan), unit: 'ms', note },
    'adaptive.429_per_shot': {
      value: Number((capped.limited / SHOTS).toFixed(3)),
      unit: '429s',
      target: '<= 0.3',
    },
    'adaptive.lowest_window': { value: capped.lowest, unit: 'tasks', note: 'of a ceiling of 12' },
  };
}
