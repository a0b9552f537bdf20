import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import type { RunReport } from '../../src/report/types.js';
import type { Simulator } from '../../src/sim/index.js';

export const KEY = 'sk-e2e-7f3a9c21d4b8e6';

/** A manifest of `n` four-second 480p shots priced at 1 CNY per second. */
export function writeManifest(dir: string, n: number, extra = ''): string {
  const file = path.join(dir, 'film.yaml');
  const shots = Array.from(
    { length: n },
    (_, i) =>
      `  - id: s${String(i + 1).padStart(2, '0')}\n    prompt: 橘猫的第 ${i + 1} 个镜头,电影感`,
  ).join('\n');
  writeFileSync(
    file,
    `version: 1
name: film
defaults: { model: seedance-2-official, duration: 4, ratio: '16:9', size: 480p }
pricing: { currency: CNY, per_second: { seedance-2-official: 1.0 } }
budget: { max_cost: 100 }
concurrency: 4
${extra}shots:
${shots}
`,
  );
  return file;
}

/** Every file under a folder, recursively. */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

/** Asserts the key appears in no output and no file byte. */
export function expectNoKey(outputs: string[], dir: string): void {
  for (const text of outputs) expect(text.includes(KEY)).toBe(false);
  for (const file of filesUnder(dir)) {
    if (statSync(file).size > 50_000_000) continue;
    expect(readFileSync(file).includes(KEY), file).toBe(false);
  }
}

export function readReport(out: string): RunReport {
  return JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) as RunReport;
}

/** Submissions per prompt in the simulator's ledger. */
export function submissionsByPrompt(sim: Simulator): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of sim.ledger().submissions)
    counts.set(e.body.prompt, (counts.get(e.body.prompt) ?? 0) + 1);
  return counts;
}

/** The common arguments of a run against `sim`, writing to `out`. */
export function runArgs(
  manifest: string,
  sim: Simulator,
  out: string,
  ...more: string[]
): string[] {
  return ['run', manifest, '--base-url', sim.url, '--out', out, '--yes', ...more];
}

export const childEnv = { SHOTLIST_API_KEY: KEY, CI: 'true' };
