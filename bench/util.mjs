import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';

/** Wall time of a synchronous function, in milliseconds. */
export function timeIt(fn) {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

export async function timeItAsync(fn) {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/**
 * A plan of `n` text-to-video shots, built without a manifest: what the render benches feed
 * `render()`. `prompt(i)` names shot i (its id too unless `id` is given).
 */
export function syntheticPlan(n, { prompt, id = prompt, seconds = 5, duration } = {}) {
  const shots = Array.from({ length: n }, (_, i) => ({
    id: id(i),
    variant: null,
    take: 1,
    mode: 'text_to_video',
    model: 'seedance-2-official',
    size: '480p',
    ratio: '16:9',
    seconds,
    audio: true,
    prompt: prompt(i),
    unit_price: null,
    cost: null,
    currency: null,
    request: {
      model: 'seedance-2-official',
      prompt: prompt(i),
      ...(duration !== undefined ? { duration } : {}),
    },
    source: { file: 'bench', line: 1, col: 1 },
  }));
  return {
    manifest: { file: 'bench', name: 'bench' },
    concurrency: null,
    shots,
    totals: {
      shots: n,
      seconds: seconds * n,
      cost: null,
      currency: null,
      unpriced_seconds: seconds * n,
    },
    budget: { max_cost: null, max_seconds: null, ok: true, reason: null },
    stitch: null,
    order: shots.map((s) => s.id),
    variants: [null],
    warnings: [],
  };
}

// Prints the child's own resource usage as it exits: its CPU time, not the bench's.
const USAGE_PRELOAD = `data:text/javascript,process.on('exit',()=>process.stderr.write('__USAGE__'+JSON.stringify(process.resourceUsage())+'\\n'))`;

/**
 * Runs `node <bin> ...args` to its end (a failing exit included) and returns the child with its
 * wall time and `process.resourceUsage()` (undefined when it died before printing it).
 */
export async function runMeasured(bin, args, env) {
  const started = performance.now();
  const child = await promisify(execFile)(
    process.execPath,
    [`--import=${USAGE_PRELOAD}`, bin, ...args],
    { env, maxBuffer: 256 * 1024 * 1024 },
  ).catch((e) => e);
  const wallMs = performance.now() - started;
  const line = String(child.stderr)
    .split('\n')
    .find((l) => l.startsWith('__USAGE__'));
  const usage = line ? JSON.parse(line.slice('__USAGE__'.length)) : undefined;
  return { child, wallMs, usage };
}
