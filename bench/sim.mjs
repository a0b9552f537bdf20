// How many requests per second the simulator answers with latency 0, so it is never the
// bottleneck of the renderer's benchmarks. The load comes from a child process: a load
// generator sharing the simulator's event loop would measure half of each.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fetch } from 'undici';

const SECONDS = 5;
const MAX_REQUESTS = 60_000;
const CONNECTIONS = 32;
const GETS_PER_POST = 3;
const KEY = 'sk-bench';
const BODY = JSON.stringify({
  model: 'seedance-2-official',
  prompt: 'benchmark shot: a cat chasing a butterfly',
  duration: 4,
  metadata: { ratio: '16:9' },
});

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** The child: keeps CONNECTIONS requests in flight (one POST, then GETs of its task) until a bound. */
async function generateLoad(base) {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const url = new URL(base);
  const call = (method, pathname, body) =>
    new Promise((resolve) => {
      const started = performance.now();
      const req = request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          method,
          path: pathname,
          headers: {
            authorization: `Bearer ${KEY}`,
            ...(body
              ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
              : {}),
          },
        },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode,
              body: Buffer.concat(chunks),
              ms: performance.now() - started,
            }),
          );
        },
      );
      req.on('error', () =>
        resolve({ status: 0, body: Buffer.alloc(0), ms: performance.now() - started }),
      );
      req.end(body);
    });

  const latencies = { POST: [], GET: [] };
  let sent = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  const more = () => sent < MAX_REQUESTS && performance.now() < deadline;
  const worker = async () => {
    while (more()) {
      sent++;
      const submitted = await call('POST', '/v1/videos', BODY);
      latencies.POST.push(submitted.ms);
      if (submitted.status !== 200) {
        errors++;
        continue;
      }
      const { id } = JSON.parse(submitted.body.toString());
      for (let i = 0; i < GETS_PER_POST && more(); i++) {
        sent++;
        const polled = await call('GET', `/v1/videos/${id}`);
        latencies.GET.push(polled.ms);
        if (polled.status !== 200) errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  const all = [...latencies.POST, ...latencies.GET].sort((a, b) => a - b);
  return {
    requests: all.length,
    posts: latencies.POST.length,
    errors,
    seconds: elapsed,
    p50: percentile(all, 50),
    p99: percentile(all, 99),
  };
}

/** Runs the load generator in a child process against `base` and returns its report. */
function childLoad(base) {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--load', base], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let report;
    child.on('message', (message) => (report = message));
    child.on('error', reject);
    child.on('exit', (code) =>
      report ? resolve(report) : reject(new Error(`load generator exited with ${code}`)),
    );
  });
}

/** Requests per second the simulator sustains with latency 0, plus what a cold clip costs. */
export async function benchSim() {
  const { startSimulator } = await import('../dist/sim/index.js');
  const cacheDir = mkdtempSync(path.join(tmpdir(), 'shotlist-bench-sim-'));
  const sim = await startSimulator({ latency: 0, seed: 1, apiKey: KEY, cacheDir });
  try {
    // Warm up, and time one cold encode: the first download waits for the clip.
    const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
    const encodeStart = performance.now();
    const { id } = await (
      await fetch(`${sim.url}/v1/videos`, { method: 'POST', headers, body: BODY })
    ).json();
    const task = await (await fetch(`${sim.url}/v1/videos/${id}`, { headers })).json();
    await (await fetch(task.metadata.url)).arrayBuffer();
    const encodeMs = performance.now() - encodeStart;

    const load = await childLoad(sim.url);
    const ledger = sim.ledger();
    if (ledger.totals.submissions !== load.posts + 1) {
      throw new Error(
        `the ledger holds ${ledger.totals.submissions} submissions, the load sent ${load.posts + 1}`,
      );
    }
    const note = `${CONNECTIONS} connections, ${GETS_PER_POST} GETs per POST, ${load.requests} requests in ${load.seconds.toFixed(1)} s from a child process`;
    return {
      sim_requests_per_second: {
        value: load.requests / load.seconds,
        unit: 'req/s',
        target: '>= 1000',
        note,
      },
      sim_request_p50_ms: { value: load.p50, unit: 'ms', note: 'POST and GET, latency 0' },
      sim_request_p99_ms: { value: load.p99, unit: 'ms', note: 'POST and GET, latency 0' },
      sim_request_errors: { value: load.errors, unit: 'count', target: '0' },
      sim_cold_clip_ms: {
        value: encodeMs,
        unit: 'ms',
        note: 'submit, poll and download a 4 s 480p clip never made before (one ffmpeg encode)',
      },
    };
  } finally {
    await sim.close();
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

const direct = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
if (direct && process.argv[2] === '--load') {
  process.send(await generateLoad(process.argv[3]));
  process.disconnect();
} else if (direct) {
  const figures = await benchSim();
  for (const [name, { value, unit, note }] of Object.entries(figures)) {
    process.stdout.write(
      `${name}: ${Math.round(value * 10) / 10} ${unit}${note ? `  (${note})` : ''}\n`,
    );
  }
}
