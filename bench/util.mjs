import { performance } from 'node:perf_hooks';

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
