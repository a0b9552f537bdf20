/**
 * Push benchmark (needs `npm run build`): the polling benchmark's spread of task durations
 * (60-120 s, scaled down 40x, see render.mjs) rendered by the core against a tiny in-process
 * API that calls each task's `metadata.webhook_url` when it ends, received by `run --listen`'s
 * receiver. GET requests per shot and completion-to-detection delay (p50/p95) with every push
 * delivered, with 30 % of pushes lost (the safety polls find those tasks), and with fixed
 * 5-second polling and no pushes for comparison.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { createApiClient } from '../dist/api/client.js';
import { DEFAULT_POLL_TUNING, scaleTuning } from '../dist/render/poll.js';
import { parseListen, startReceiver } from '../dist/render/receiver.js';
import { render } from '../dist/render/render.js';
import { assessShots } from '../dist/render/state.js';
import { syntheticPlan } from './util.mjs';

const KEY = 'bench-key-0123456789';
const SCALE = 1 / 40;

function quantile(values, q) {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/** POSTs a task object to a loopback webhook URL; a failed call is a lost push. */
function push(url, body) {
  const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json' } });
  req.on('response', (res) => res.resume());
  req.on('error', () => undefined);
  req.end(JSON.stringify(body));
}

/** A Seedance-shaped API whose tasks end at known times and push their end (or lose it). */
async function pushingApi(latency, loss) {
  const tasks = new Map();
  const timers = new Set();
  let next = 0;
  let gets = 0;
  let lost = 0;
  const server = createServer((req, res) => {
    const send = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'POST') {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const hook = JSON.parse(Buffer.concat(chunks).toString('utf8')).metadata?.webhook_url;
        const id = `task_${++next}`;
        const now = performance.now();
        const duration = latency.min + Math.random() * (latency.max - latency.min);
        tasks.set(id, { id, end: now + duration, duration, seenAt: undefined });
        if (hook && Math.random() >= loss) {
          const timer = setTimeout(() => {
            timers.delete(timer);
            push(hook, { id, object: 'video', status: 'completed', progress: 100 });
          }, duration);
          timers.add(timer);
        } else if (hook) lost++;
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
    lost: () => lost,
    close: () =>
      new Promise((r) => {
        for (const timer of timers) clearTimeout(timer);
        server.closeAllConnections();
        server.close(r);
      }),
  };
}

/** One strategy on a fresh folder: its figures keyed `webhook.<name>.*`. */
async function measure(name, { loss, pushes, poll, random }, latency, n, concurrency) {
  const api = await pushingApi(latency, loss);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'shotlist-bench-hook-'));
  const client = createApiClient({
    baseUrl: api.url,
    apiKey: KEY,
    backoff: { baseMs: 5, maxMs: 50 },
  });
  const receiver = pushes ? await startReceiver(parseListen('0'), undefined, api.url) : undefined;
  try {
    const plan = syntheticPlan(n, { prompt: (i) => `w${i}` });
    const assessed = await assessShots(plan, {
      outDir: dir,
      baseUrl: client.baseUrl,
      journal: new Map(),
    });
    const result = await render(
      plan,
      assessed,
      { outDir: dir, concurrency, poll },
      { client, random, ...(receiver ? { pushes: receiver.board } : {}) },
    );
    const delays = [...api.tasks.values()]
      .filter((t) => t.seenAt !== undefined)
      .map((t) => (t.seenAt - t.end) / SCALE);
    const figure = (value, unit, note) => ({ value, unit, ...(note ? { note } : {}) });
    return {
      [`webhook.${name}.shots_done`]: figure(
        result.shots.filter((r) => r.status === 'done').length,
        `of ${n} shots`,
      ),
      [`webhook.${name}.gets_per_shot`]: figure(
        Number((api.gets() / n).toFixed(2)),
        'requests',
        name === 'pushed' ? 'target <= 1.5' : undefined,
      ),
      [`webhook.${name}.detection_p50`]: figure(
        Number((quantile(delays, 0.5) / 1000).toFixed(2)),
        's (unscaled)',
      ),
      [`webhook.${name}.detection_p95`]: figure(
        Number((quantile(delays, 0.95) / 1000).toFixed(2)),
        's (unscaled)',
        name === 'pushed' ? 'target <= 1 s' : undefined,
      ),
      ...(loss > 0 ? { [`webhook.${name}.pushes_lost`]: figure(api.lost(), 'pushes') } : {}),
    };
  } finally {
    await receiver?.close();
    await client.close();
    await api.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Pushes (all delivered, 30 % lost) against fixed 5-second polling on the 60-120 s spread. */
export async function benchWebhook() {
  const latency = { min: 60_000 * SCALE, max: 120_000 * SCALE };
  const n = 96;
  const concurrency = 16;
  const adaptive = scaleTuning(DEFAULT_POLL_TUNING, SCALE);
  const fixed = 5000 * SCALE;
  const strategies = {
    pushed: { loss: 0, pushes: true, poll: adaptive, random: Math.random },
    pushed_loss30: { loss: 0.3, pushes: true, poll: adaptive, random: Math.random },
    fixed5s: {
      loss: 0,
      pushes: false,
      poll: {
        firstMs: fixed,
        minMs: fixed,
        maxMs: fixed,
        targetDelayMs: fixed,
        minSamples: Infinity,
      },
      random: () => 0.5,
    },
  };
  const out = {};
  for (const [name, s] of Object.entries(strategies))
    Object.assign(out, await measure(name, s, latency, n, concurrency));
  out['webhook.request_reduction'] = {
    value: Number(
      (
        out['webhook.fixed5s.gets_per_shot'].value / out['webhook.pushed.gets_per_shot'].value
      ).toFixed(2),
    ),
    unit: 'x fewer',
    note: 'pushes vs fixed 5 s polling, task durations uniform in 60-120 s',
  };
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const results = await benchWebhook();
  for (const [key, { value, unit, note }] of Object.entries(results))
    console.log(`${key.padEnd(36)} ${value} ${unit}${note ? ` (${note})` : ''}`);
}
