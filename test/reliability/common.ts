import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pLimit from 'p-limit';
import { verifyVideo } from '../../src/media/probe.js';
import type { RunReport } from '../../src/report/types.js';
import { afterAll, beforeAll } from 'vitest';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/sim/index.js';
import { spawnShotlist, tempDir } from '../helpers/cli.js';
import { filesUnder } from '../e2e/run-helpers.js';

export const KEY = 'sk-reliability-5d1e8b7c93a0f4';
export const env = { SHOTLIST_API_KEY: KEY, CI: 'true' };

/**
 * A manifest of `n` four-second 480p shots. The prompts share a long ASCII start, so the
 * simulator encodes a handful of distinct clips rather than one per shot.
 */
export function writeManifest(dir: string, n: number, name = 'soak'): string {
  const file = path.join(dir, `${name}.yaml`);
  const shots = Array.from(
    { length: n },
    (_, i) =>
      `  - id: r${String(i + 1).padStart(3, '0')}\n    prompt: "Reliability run over a calm lake at dawn, soft light, shot ${i + 1}"`,
  ).join('\n');
  writeFileSync(
    file,
    `version: 1
name: ${name}
defaults: { model: seedance-2-official, duration: 4, ratio: "16:9", size: 480p, audio: false }
pricing: { currency: CNY, per_second: { seedance-2-official: 1.0 } }
shots:
${shots}
`,
  );
  return file;
}

export function readReport(out: string): RunReport {
  return JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) as RunReport;
}

/** Submissions of a prompt beyond its first: each one a shot paid for twice. */
export function duplicateSubmissions(sim: Simulator): number {
  const seen = new Map<string, number>();
  for (const s of sim.ledger().submissions)
    seen.set(s.body.prompt, (seen.get(s.body.prompt) ?? 0) + 1);
  let extra = 0;
  for (const count of seen.values()) extra += count - 1;
  return extra;
}

/** Files of done shots that ffprobe does not accept as a 4-second video. */
export async function filesFailingProbe(out: string, report: RunReport): Promise<number> {
  const limit = pLimit(2);
  const results = await Promise.all(
    report.shots
      .filter((s) => s.status === 'done')
      .map((s) =>
        limit(async () => {
          try {
            await verifyVideo(path.join(out, s.file!), { expectDurationSec: 4, toleranceSec: 0.5 });
            return 0;
          } catch {
            return 1;
          }
        }),
      ),
  );
  return results.reduce((a: number, b) => a + b, 0);
}

/** Billed seconds of the ledger's completed tasks that the report counts as done. */
export function billedForDone(
  sim: Simulator,
  report: RunReport,
): { billed: number; previewed: number } {
  const done = new Map(
    report.shots.filter((s) => s.status === 'done').map((s) => [s.task_id, s.seconds]),
  );
  let billed = 0;
  for (const s of sim.ledger().submissions)
    if (s.status === 'completed' && done.has(s.id)) billed += s.seconds;
  const previewed = [...done.values()].reduce((a, b) => a + b, 0);
  return { billed, previewed };
}

/** Occurrences of the key in outputs and in every file under `dir`. */
export function keyLeaks(outputs: string[], dir: string): number {
  let leaks = outputs.filter((o) => o.includes(KEY)).length;
  for (const file of filesUnder(dir)) if (readFileSync(file).includes(KEY)) leaks++;
  return leaks;
}

export function partFiles(dir: string): number {
  return filesUnder(dir).filter((f) => f.endsWith('.part')).length;
}

/** Journal lines that do not parse as JSON (a torn last line is repaired by the next run). */
export function badJournalLines(out: string): number {
  const text = readFileSync(path.join(out, 'journal.ndjson'), 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .filter((l) => {
      try {
        JSON.parse(l);
        return false;
      } catch {
        return true;
      }
    }).length;
}

export interface Bench {
  tmp: ReturnType<typeof tempDir>;
  sim: Simulator;
}

/**
 * A temporary folder and a simulator accepting {@link KEY} for the tests of one file, made
 * before them and removed after them. Read its fields inside tests, not at import time.
 */
export function useSimulator(prefix: string, options: Omit<SimulatorOptions, 'apiKey'>): Bench {
  const bench = {} as Bench;
  beforeAll(async () => {
    bench.tmp = tempDir(prefix);
    bench.sim = await startSimulator({ apiKey: KEY, ...options });
  });
  afterAll(async () => {
    await bench.sim.close();
    bench.tmp.cleanup();
  });
  return bench;
}

/** A small seeded generator, so the kill moments are the same on every run. */
export function mulberry32(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface KilledRuns {
  /** Everything the runs printed (checked for the key). */
  outputs: string[];
  /** Runs killed before they ended by themselves. */
  kills: number;
  /** Times a killed run left a journal line that does not parse. */
  tornJournalSeen: number;
}

/**
 * Starts `shotlist run` `count` times in a row, each killed with SIGKILL once the wait
 * `killAfter` gave for it resolves (unless the run ended first), checking the journal after
 * every run. `killAfter` is called before each start, so it can note the state it began in.
 */
export async function killRuns(
  count: number,
  args: string[],
  where: { cwd: string; out: string },
  killAfter: () => (child: ReturnType<typeof spawnShotlist>) => Promise<void>,
): Promise<KilledRuns> {
  const result: KilledRuns = { outputs: [], kills: 0, tornJournalSeen: 0 };
  for (let i = 0; i < count; i++) {
    const wait = killAfter();
    const child = spawnShotlist(args, { env, cwd: where.cwd });
    await wait(child);
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      result.kills++;
    }
    const r = await child;
    result.outputs.push(String(r.stdout ?? ''), String(r.stderr ?? ''));
    if (existsSync(path.join(where.out, 'journal.ndjson')) && badJournalLines(where.out) > 0) {
      result.tornJournalSeen++;
    }
  }
  return result;
}
