/**
 * Render benchmarks (needs `npm run build`):
 *  1. throughput: 1,000 shots at concurrency 64 through the built CLI (`--json`) against the
 *     simulator with latency 0: wall time, CPU ms per shot, HTTP requests per shot, peak RSS
 *     of the CLI process (reported by the child itself through process.resourceUsage()).
 *  2. polling: a realistic spread of task durations (60-120 s) scaled down 40x, rendered by
 *     the core against a tiny in-process API that knows each task's true end: requests per
 *     shot and completion-to-detection delay (p50/p95) of the adaptive schedule next to fixed
 *     5-second polling (scaled the same way), and makespan over its lower bound.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { createApiClient } from '../dist/api/client.js';
import { DEFAULT_POLL_TUNING, scaleTuning } from '../dist/render/poll.js';
import { render } from '../dist/render/render.js';
import { assessShots } from '../dist/render/state.js';
import { startSimulator } from '../dist/sim/index.js';
import { runMeasured, syntheticPlan } from './util.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(root, 'bin', 'shotlist.js');
const KEY = 'bench-key-0123456789';

function quantile(values, q) {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

function manifest(shots, takes) {
  const lines = Array.from(
    { length: shots },
    (_, i) =>
      `  - id: b${String(i + 1).padStart(3, '0')}\n    prompt: 基准镜头 ${i + 1}\n    takes: ${takes}`,
  );
  return `version: 1
name: bench
defaults: { model: seedance-2-official, duration: 4, ratio: '16:9', size: 480p }
pricing: { currency: CNY, per_second: { seedance-2-official: 1.0 } }
shots:
${lines.join('\n')}
`;
}

/** 1,000 shots at concurrency 64 against `sim --latency 0`, through the built CLI. */
async function throughput() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'shotlist-bench-'));
  const sim = await startSimulator({ apiKey: KEY, latency: 0, seed: 1 });
  try {
    const file = path.join(dir, 'bench.yaml');
    await writeFile(file, manifest(100, 10));
    // Warm the simulator's clip cache so the figures measure the renderer, not ffmpeg.
    const warm = createApiClient({ baseUrl: sim.url, apiKey: KEY });
    for (let i = 0; i < 100; i += 8) {
      await Promise.all(
        Array.from({ length: Math.min(8, 100 - i) }, async (_, j) => {
          const body = {
            model: 'seedance-2-official',
            prompt: `基准镜头 ${i + j + 1}`,
            duration: 4,
            size: '480p',
            metadata: { ratio: '16:9' },
          };
          const r = await warm.submit(body, { idempotencyKey: `warm-${i + j}` });
          if (r.kind !== 'created') return;
          const t = await warm.getTask(r.task.id);
          if (t.metadata?.url)
            await warm.download(t.metadata.url, path.join(dir, `warm-${i + j}.mp4`));
        }),
      );
    }
    await warm.close();
    const before = sim.stats().requests;
    const { child, wallMs, usage } = await runMeasured(
      BIN,
      [
        'run',
        file,
        '--base-url',
        sim.url,
        '--out',
        path.join(dir, 'out'),
        '--yes',
        '--json',
        '--concurrency',
        '64',
      ],
      { ...process.env, SHOTLIST_API_KEY: KEY, CI: '1' },
    );
    const lines = String(child.stdout).trim().split('\n');
    const summary = JSON.parse(lines.at(-1) ?? '{}');
    const after = sim.stats().requests;
    const simRequests = Object.entries(after).reduce((n, [k, v]) => n + v - (before[k] ?? 0), 0);
    const shots = 1000;
    const done = summary.totals?.done ?? 0;
    const clientRequests = summary.requests
      ? summary.requests.requests.submit +
        summary.requests.requests.poll +
        summary.requests.requests.download
      : NaN;
    return {
      'throughput.shots_done': { value: done, unit: 'shots' },
      'throughput.wall_time': { value: Math.round(wallMs), unit: 'ms' },
      'throughput.cpu_per_shot': {
        value: usage
          ? Number(((usage.userCPUTime + usage.systemCPUTime) / 1000 / shots).toFixed(2))
          : NaN,
        unit: 'ms',
      },
      'throughput.http_requests_per_shot': {
        value: Number((clientRequests / shots).toFixed(2)),
        unit: 'requests',
      },
      'throughput.sim_requests_per_shot': {
        value: Number((simRequests / shots).toFixed(2)),
        unit: 'requests',
      },
      'throughput.peak_rss': { value: usage ? Math.round(usage.maxRSS / 1024) : NaN, unit: 'MB' },
    };
  } finally {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** A tiny Seedance-shaped API whose tasks end at known times; it measures detection delays. */
async function fakeApi(latency) {
  const tasks = new Map();
  let next = 0;
  let gets = 0;
  const server = createServer((req, res) => {
    const send = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'POST') {
      req.resume();
      req.on('end', () => {
        const id = `task_${++next}`;
        const now = performance.now();
        const duration = latency.min + Math.random() * (latency.max - latency.min);
        tasks.set(id, { id, start: now, end: now + duration, duration, seenAt: undefined });
        send(200, { id, object: 'video', status: 'queued', progress: 0 });
      });
      return;
    }
    const m = /^\/v1\/videos\/(.+)$/.exec(req.url ?? '');
    if (m) {
      gets++;
      const t = tasks.get(decodeURIComponent(m[1]));
      if (!t) return send(404, { error: { message: 'no task' } });
      const now = performance.now();
      if (now < t.end) return send(200, { id: t.id, status: 'in_progress', progress: 30 });
      t.seenAt ??= now;
      return send(200, {
        id: t.id,
        status: 'completed',
        progress: 100,
        metadata: { url: `http://127.0.0.1:${port}/files/${t.id}.mp4` },
      });
    }
    res.writeHead(200, { 'content-length': '4' });
    res.end('mp4!');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  return {
    url: `http://127.0.0.1:${port}`,
    tasks,
    gets: () => gets,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(r);
      }),
  };
}

/**
 * Adaptive polling against fixed 5-second polling, on a spread of task durations (seconds)
 * scaled down 40x. Figures are keyed `<prefix>.<strategy>.*`.
 */
async function polling(spread = { min: 60, max: 120 }, prefix = 'polling') {
  const scale = 1 / 40;
  const latency = { min: spread.min * 1000 * scale, max: spread.max * 1000 * scale };
  const n = 192;
  const concurrency = 16;
  const strategies = {
    adaptive: { poll: scaleTuning(DEFAULT_POLL_TUNING, scale), random: Math.random },
    fixed5s: {
      poll: {
        firstMs: 5000 * scale,
        minMs: 5000 * scale,
        maxMs: 5000 * scale,
        targetDelayMs: 5000 * scale,
        minSamples: Infinity,
      },
      random: () => 0.5,
    },
  };
  const out = {};
  for (const [name, s] of Object.entries(strategies)) {
    const api = await fakeApi(latency);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'shotlist-bench-poll-'));
    const client = createApiClient({
      baseUrl: api.url,
      apiKey: KEY,
      backoff: { baseMs: 5, maxMs: 50 },
    });
    const started = performance.now();
    const plan = syntheticPlan(n, { prompt: (i) => `p${i}` });
    // A fresh folder: every shot is new.
    const assessed = await assessShots(plan, {
      outDir: dir,
      baseUrl: client.baseUrl,
      journal: new Map(),
    });
    const result = await render(
      plan,
      assessed,
      { outDir: dir, concurrency, poll: s.poll },
      { client, random: s.random },
    );
    const makespan = performance.now() - started;
    await client.close();
    await api.close();
    await rm(dir, { recursive: true, force: true });
    const tasks = [...api.tasks.values()];
    const delays = tasks
      .filter((t) => t.seenAt !== undefined)
      .map((t) => (t.seenAt - t.end) / scale);
    const longest = Math.max(...tasks.map((t) => t.duration));
    const bound = Math.max(longest, tasks.reduce((a, t) => a + t.duration, 0) / concurrency);
    const done = result.shots.filter((r) => r.status === 'done').length;
    out[`${prefix}.${name}.shots_done`] = { value: done, unit: 'shots' };
    out[`${prefix}.${name}.polls_per_shot`] = {
      value: Number((api.gets() / n).toFixed(2)),
      unit: 'requests',
    };
    out[`${prefix}.${name}.detection_p50`] = {
      value: Number((quantile(delays, 0.5) / 1000).toFixed(2)),
      unit: 's (unscaled)',
    };
    out[`${prefix}.${name}.detection_p95`] = {
      value: Number((quantile(delays, 0.95) / 1000).toFixed(2)),
      unit: 's (unscaled)',
    };
    out[`${prefix}.${name}.makespan_over_bound`] = {
      value: Number((makespan / bound).toFixed(3)),
      unit: 'ratio',
    };
  }
  out[`${prefix}.request_reduction`] = {
    value: Number(
      (
        out[`${prefix}.fixed5s.polls_per_shot`].value /
        out[`${prefix}.adaptive.polls_per_shot`].value
      ).toFixed(2),
    ),
    unit: 'x fewer',
    note: `task durations uniform in ${spread.min}-${spread.max} s`,
  };
  return out;
}

/** Runs both benchmarks; returns `{ key: { value, unit } }`. */
export async function benchRender() {
  return {
    ...(await polling()),
    // Durations as consistent as one model at one length tends to give: here the quiet time
    // before the first task can be done is most of each task's life.
    ...(await polling({ min: 100, max: 120 }, 'polling_tight')),
    ...(await throughput()),
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const results = await benchRender();
  for (const [key, { value, unit }] of Object.entries(results))
    console.log(`${key.padEnd(40)} ${value} ${unit}`);
}
