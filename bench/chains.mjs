/**
 * Chains (needs `npm run build`): 40 shots in 10 chains of 4, each shot starting on the last
 * frame of the one before, at the manifest's concurrency (4), against the simulator with tasks
 * of 60-120 s scaled down 15x (the poll schedule scaled with them). The run is `shotlist run
 * --simulate` without its stitch and report: `prepareRun`, then the render with the run's own
 * dependency graph, so every link is the real thing: the upstream clip is downloaded and
 * verified, its last frame cut with ffmpeg, uploaded to the simulator's asset origin, and the
 * dependent submitted with its URL. Those steps take real time, 15x more of a task than they
 * would at full scale: the figure is pessimistic.
 *
 * Figure: the makespan (the render's start to the last clip verified) over its lower bound,
 * the larger of the longest chain's summed task time and the total task time / concurrency,
 * both from the simulator's own record of each task's duration (target <= 1.10). Also the
 * link gap: from an upstream task's end to its dependent's POST (detection, download, verify,
 * frame cut, upload, and any wait for a slot).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createApiClient } from '../dist/api/client.js';
import { verifyVideo } from '../dist/media/probe.js';
import { chainGraph } from '../dist/pipeline/chain.js';
import { prepareRun } from '../dist/pipeline/prepare.js';
import { DEFAULT_POLL_TUNING, scaleTuning } from '../dist/render/poll.js';
import { render } from '../dist/render/render.js';
import { startSimulator } from '../dist/sim/index.js';
import { median, percentile } from './util.mjs';

const KEY = 'bench-key-chains-0123';
const CHAINS = 10;
const LINKS = 4;
const CONCURRENCY = 4;
const SCALE = 1 / 15;
const LATENCY = `${60 * SCALE}-${120 * SCALE}`;

const idOf = (c, l) => `c${String(c + 1).padStart(2, '0')}-${l + 1}`;

function manifest() {
  const shots = [];
  for (let c = 0; c < CHAINS; c++) {
    for (let l = 0; l < LINKS; l++) {
      const from =
        l > 0 ? `\n    assets: { images: [{ from: ${idOf(c, l - 1)}, frame: last }] }` : '';
      shots.push(`  - id: ${idOf(c, l)}\n    prompt: 链 ${c + 1} 第 ${l + 1} 镜${from}`);
    }
  }
  return [
    'version: 1',
    'name: chains',
    "defaults: { model: seedance-2-official, duration: 4, ratio: '16:9', size: 480p, audio: false }",
    `concurrency: ${CONCURRENCY}`,
    'shots:',
    ...shots,
    '',
  ].join('\n');
}

/** The simulator's record of each task (its duration among them), from its state folder. */
async function simTasks(stateDir) {
  const text = await readFile(path.join(stateDir, 'tasks.ndjson'), 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

/** Renders the prepared run as `run --simulate` does, with the poll schedule scaled. */
async function renderPrepared(run, sim) {
  const client = createApiClient({ baseUrl: sim.url, apiKey: KEY });
  try {
    const graph = chainGraph(
      run.assessed,
      run.plan.shots,
      { ...run.chain, simulated: true, uploads: undefined },
      client,
    );
    const started = performance.now();
    const result = await render(
      run.plan,
      run.assessed,
      {
        outDir: run.outDir,
        concurrency: run.plan.concurrency,
        journalBase: run.base.journalBase,
        poll: scaleTuning(DEFAULT_POLL_TUNING, SCALE),
      },
      {
        client,
        graph,
        verify: (file, shot) =>
          verifyVideo(file, { expectDurationSec: shot.seconds, toleranceSec: 0.5 }),
      },
    );
    return { result, makespan: performance.now() - started };
  } finally {
    await client.close();
  }
}

/** One run of the chains: the makespan, its lower bound and the link gaps, in ms. */
async function renderChains() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'shotlist-bench-chains-'));
  const stateDir = path.join(dir, 'sim');
  const sim = await startSimulator({ apiKey: KEY, latency: LATENCY, seed: 7, stateDir });
  try {
    const file = path.join(dir, 'chains.yaml');
    await writeFile(file, manifest());
    const run = await prepareRun(file, { out: path.join(dir, 'out'), simulate: true });
    const { result, makespan } = await renderPrepared(run, sim);
    const tasks = await simTasks(stateDir);
    const byPrompt = new Map(tasks.map((t) => [t.body.prompt, t]));
    const task = (c, l) => byPrompt.get(`链 ${c + 1} 第 ${l + 1} 镜`);
    const chainSums = [];
    const gaps = [];
    for (let c = 0; c < CHAINS; c++) {
      let sum = 0;
      for (let l = 0; l < LINKS; l++) {
        const t = task(c, l);
        if (!t) continue;
        sum += t.latency_ms;
        const up = l > 0 ? task(c, l - 1) : undefined;
        if (up) gaps.push(t.received_at - (up.received_at + up.latency_ms));
      }
      chainSums.push(sum);
    }
    const total = tasks.reduce((n, t) => n + t.latency_ms, 0);
    const bound = Math.max(Math.max(...chainSums), total / CONCURRENCY);
    const bodies = new Set(tasks.map((t) => t.body_sha256));
    return {
      done: result.shots.filter((s) => s.status === 'done').length,
      duplicates: tasks.length - bodies.size,
      makespan,
      bound,
      chainBound: Math.max(...chainSums),
      workBound: total / CONCURRENCY,
      gaps,
    };
  } finally {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function benchChains() {
  const r = await renderChains();
  const note = `${CHAINS} chains of ${LINKS}, concurrency ${CONCURRENCY}, tasks ${LATENCY} s (60-120 s scaled 1/15)`;
  return {
    'chains.shots_done': { value: r.done, unit: 'shots', target: `${CHAINS * LINKS}` },
    'chains.duplicates': { value: r.duplicates, unit: 'POSTs', target: '0' },
    'chains.makespan_ratio': {
      value: Number((r.makespan / r.bound).toFixed(3)),
      unit: 'ratio',
      target: '<= 1.10',
      note: `makespan over max(longest chain, work / concurrency); ${note}`,
    },
    'chains.makespan': { value: Math.round(r.makespan), unit: 'ms', note },
    'chains.lower_bound': {
      value: Math.round(r.bound),
      unit: 'ms',
      note: `longest chain ${Math.round(r.chainBound)} ms, work / concurrency ${Math.round(r.workBound)} ms`,
    },
    'chains.link_gap_p50': {
      value: Math.round(median(r.gaps)),
      unit: 'ms',
      note: 'upstream task end to dependent POST: detection, download, verify, frame, upload, queue',
    },
    'chains.link_gap_p95': { value: Math.round(percentile(r.gaps, 95)), unit: 'ms' },
  };
}
