/**
 * Team mode end to end: three shotlist processes (the built CLI, each with its own output
 * folder, as three machines would have) render one manifest against one simulator through one
 * redis-server.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { parseJournal } from '../../src/render/journal.js';
import { spawnShotlist, tempDir } from '../helpers/cli.js';
import {
  NO_REDIS,
  redisServerPath,
  startRedisServer,
  type RedisServer,
} from '../team/redis-server.js';
import {
  KEY,
  childEnv,
  readReport,
  runArgs,
  submissionsByPrompt,
  writeManifest,
} from './run-helpers.js';

const binary = redisServerPath();
if (!binary) console.warn(NO_REDIS);

const CAP = 4;
const SHOTS = 30;

describe.skipIf(!binary)('run --team (three machines, one simulator, one Redis)', () => {
  const tmp = tempDir('shotlist-team-e2e-');
  let redis: RedisServer;
  let sim: Simulator;

  beforeAll(async () => {
    redis = await startRedisServer(binary!);
  });
  afterAll(async () => {
    await redis?.stop();
    tmp.cleanup();
  });
  afterEach(async () => {
    await sim?.close();
  });

  let machines = 0;
  /** One machine: its own copy of the manifest and its own output folder, new for each test. */
  function machine(name: string): { manifest: string; out: string } {
    const dir = path.join(tmp.dir, `${name}-${++machines}`);
    const manifest = writeManifest(mkdir(dir), SHOTS);
    // 30 four-second shots cost 120 at the helper's price: above its budget of 100.
    writeFileSync(
      manifest,
      readFileSync(manifest, 'utf8').replace('max_cost: 100', 'max_cost: 1000'),
    );
    return { manifest, out: path.join(dir, 'out') };
  }

  function start(m: { manifest: string; out: string }, db: number, ...more: string[]) {
    const team = redis.url.replace(/\/0$/, `/${db}`);
    return spawnShotlist([...runArgs(m.manifest, sim, m.out, '--team', team, '--json', ...more)], {
      env: childEnv,
    });
  }

  const clipsOf = (out: string) =>
    existsSync(path.join(out, 'clips'))
      ? readdirSync(path.join(out, 'clips')).filter((f) => f.endsWith('.mp4'))
      : [];

  it('30 shots, 3 processes: 30 submissions in all, every process ends with all 30 clips, never over the key cap', async () => {
    sim = await startSimulator({ apiKey: KEY, latency: 0, seed: 16, keyConcurrency: CAP });
    const machines = ['a', 'b', 'c'].map(machine);
    const runs = await Promise.all(machines.map((m) => start(m, 1)));
    for (const [i, r] of runs.entries()) {
      expect(r.exitCode, `${machines[i]!.out}: ${String(r.stderr)}`).toBe(0);
      expect(clipsOf(machines[i]!.out)).toHaveLength(SHOTS);
      const report = readReport(machines[i]!.out);
      expect(report.totals.done).toBe(SHOTS);
    }
    const byPrompt = submissionsByPrompt(sim);
    expect(byPrompt.size).toBe(SHOTS);
    expect([...byPrompt.values()].every((n) => n === 1)).toBe(true);
    // Every POST was accepted: not one was answered 429 for going over the key's cap.
    expect(sim.stats().requests['POST /v1/videos']).toBe(SHOTS);
    // Each machine downloaded the one task's file: the same bytes everywhere.
    const hashes = machines.map((m) => fileHashes(m.out));
    expect(hashes[1]).toEqual(hashes[0]);
    expect(hashes[2]).toEqual(hashes[0]);
  });

  it('kill -9 of one process mid-run: 0 duplicates, the others finish every shot', async () => {
    sim = await startSimulator({ apiKey: KEY, latency: '1-2s', seed: 17, keyConcurrency: CAP });
    const [victim, ...others] = ['a', 'b', 'c'].map(machine);
    const killed = start(victim!, 2);
    const runs = others.map((m) => start(m, 2));
    // Mid-run: it has tasks in flight and claims waiting for a slot.
    while (count(victim!.out, 'task') < 5 && killed.exitCode === null) {
      await new Promise((r) => setTimeout(r, 50));
    }
    killed.kill('SIGKILL');
    expect((await killed).signal).toBe('SIGKILL');
    const ended = await Promise.all(runs);
    for (const [i, r] of ended.entries()) {
      const report = readReport(others[i]!.out);
      // A kill between a POST and its task id would leave that one shot unknown for everyone.
      expect(report.totals.unknown ?? 0).toBeLessThanOrEqual(1);
      expect(clipsOf(others[i]!.out)).toHaveLength(SHOTS - (report.totals.unknown ?? 0));
      if (!report.totals.unknown) expect(r.exitCode, String(r.stderr)).toBe(0);
    }
    expect(count(victim!.out, 'file')).toBeLessThan(SHOTS);
    const byPrompt = submissionsByPrompt(sim);
    expect([...byPrompt.values()].every((n) => n === 1)).toBe(true);
    expect(byPrompt.size).toBeGreaterThanOrEqual(SHOTS - 1);
  });

  it('--team-budget: the sum over every machine never crosses it; over it, nothing is sent', async () => {
    sim = await startSimulator({ apiKey: KEY, latency: 0, seed: 18, keyConcurrency: CAP });
    const machines = ['a', 'b', 'c'].map(machine);
    // Ten four-second shots fit in 40 s.
    const runs = await Promise.all(machines.map((m) => start(m, 3, '--team-budget', '40')));
    const ledger = sim.ledger();
    expect(ledger.totals.submissions).toBe(10);
    expect(ledger.submissions.reduce((n, e) => n + e.seconds, 0)).toBe(40);
    for (const [i, r] of runs.entries()) {
      expect(r.exitCode).toBe(1);
      const report = readReport(machines[i]!.out);
      expect(report.totals.done).toBe(10);
      expect(report.totals.failed).toBe(SHOTS - 10);
      expect(String(r.stdout)).toContain('team_budget');
    }
  });
});

/** Entries of one type in a journal so far (0 when it does not exist yet). */
function count(out: string, type: string): number {
  const file = path.join(out, 'journal.ndjson');
  if (!existsSync(file)) return 0;
  return parseJournal(readFileSync(file, 'utf8')).entries.filter((e) => e.type === type).length;
}

function mkdir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The sha256 of each shot's verified file, by shot id, from the journal. */
function fileHashes(out: string): Record<string, string> {
  const { entries } = parseJournal(readFileSync(path.join(out, 'journal.ndjson'), 'utf8'));
  const ids = new Map<string, string>();
  const hashes: Record<string, string> = {};
  for (const e of entries) {
    if (e.type === 'intent') ids.set(e.key, e.shot.id);
    if (e.type === 'file') hashes[ids.get(e.key)!] = e.sha256;
  }
  return hashes;
}
