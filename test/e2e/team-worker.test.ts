/**
 * Work distribution end to end: `shotlist enqueue` on one machine, `run --team --worker` on two
 * others (the built CLI, each in its own folder), one simulator, one redis-server. The
 * enqueuer sends nothing; the workers send each shot once and write no file; the enqueuer's
 * folder ends with every clip and the stitched final.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { parseJournal } from '../../src/render/journal.js';
import { spawnShotlist } from '../helpers/cli.js';
import { FFPROBE } from '../helpers/tools.js';
import { NO_REDIS, redisServerPath, useTeamRedis } from '../team/redis-server.js';
import { KEY, childEnv, readReport, submissionsByPrompt, writeManifest } from './run-helpers.js';

const binary = redisServerPath();
if (!binary) console.warn(NO_REDIS);

const SHOTS = 12;
const CAP = 4;

describe.skipIf(!binary)('enqueue + run --worker (one enqueuer, two workers)', () => {
  const { team, dir } = useTeamRedis('shotlist-team-worker-', binary!);
  let sim: Simulator;

  afterEach(async () => {
    await sim?.close();
  });

  /** A worker in a folder of its own (its working directory), for the API of `sim`. */
  function worker(db: number, ...more: string[]) {
    const cwd = dir('worker');
    const child = spawnShotlist(
      [
        ...['run', '--team', team(db), '--worker', '--base-url', sim.url],
        ...['--concurrency', `${CAP}`, ...more],
      ],
      { cwd, env: childEnv },
    );
    let seen = '';
    child.stdout!.on('data', (chunk: Buffer) => (seen += String(chunk)));
    /** Resolves once the worker has sent `n` shots (or has ended). */
    const submitted = async (count: number) => {
      while ((seen.match(/submitted, task/g) ?? []).length < count && child.exitCode === null)
        await new Promise((r) => setTimeout(r, 50));
    };
    return { cwd, child, submitted };
  }

  function enqueue(db: number, shots = SHOTS) {
    const d = dir('enqueuer');
    const manifest = writeManifest(d, shots);
    const out = path.join(d, 'out');
    const child = spawnShotlist(
      ['enqueue', manifest, '--team', team(db), '--base-url', sim.url, '--out', out, '--yes'],
      { env: childEnv },
    );
    return { out, child };
  }

  const clips = (out: string) =>
    readdirSync(path.join(out, 'clips')).filter((f) => f.endsWith('.mp4'));

  it('12 shots: each sent once, by the workers or a plain run --team; the enqueuer ends with every clip and the final', async () => {
    sim = await startSimulator({ apiKey: KEY, latency: 0, seed: 21, keyConcurrency: CAP });
    const workers = [worker(1), worker(1)];
    const enqueuer = enqueue(1);
    // Once the workers are sending, someone renders the same manifest with plain `run --team`:
    // the claim is shared, so it sends only what no worker has claimed yet.
    await Promise.race(workers.map((w) => w.submitted(1)));
    const plainDir = dir('plain');
    const plain = spawnShotlist(
      [
        ...['run', writeManifest(plainDir, SHOTS), '--team', team(1), '--base-url', sim.url],
        ...['--out', path.join(plainDir, 'out'), '--yes'],
      ],
      { env: childEnv },
    );
    const [r, p] = await Promise.all([enqueuer.child, plain]);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(p.exitCode, String(p.stderr)).toBe(0);
    expect(clips(path.join(plainDir, 'out'))).toHaveLength(SHOTS);
    for (const w of workers) w.child.kill('SIGTERM');
    const stopped = await Promise.all(workers.map((w) => w.child));

    const byPrompt = submissionsByPrompt(sim);
    expect(byPrompt.size).toBe(SHOTS);
    expect([...byPrompt.values()].every((count) => count === 1)).toBe(true);
    // Each worker stopped cleanly on SIGTERM.
    for (const s of stopped) {
      expect(s.exitCode, String(s.stderr)).toBe(0);
      expect(String(s.stdout)).toMatch(/worker stopped: \d+ done, 0 failed, 0 unknown/);
    }
    expect(clips(enqueuer.out)).toHaveLength(SHOTS);
    expect(readReport(enqueuer.out).totals.done).toBe(SHOTS);
    const files = journal(enqueuer.out).filter((e) => e.type === 'file');
    expect(files).toHaveLength(SHOTS);
    const probe = await execa(FFPROBE, [
      '-v',
      'error',
      '-show_entries',
      'format=duration',
      '-of',
      'csv=p=0',
      path.join(enqueuer.out, 'final.mp4'),
    ]);
    expect(Number(probe.stdout)).toBeGreaterThan(SHOTS * 4 - 1);
    // The workers wrote nothing: no clip, no journal, no folder.
    for (const w of workers) expect(readdirSync(w.cwd)).toEqual([]);
  });

  it('kill -9 of a worker mid-run: 0 duplicates, the other finishes its shots', async () => {
    sim = await startSimulator({ apiKey: KEY, latency: '1-2s', seed: 22, keyConcurrency: CAP });
    const victim = worker(2);
    const other = worker(2);
    const enqueuer = enqueue(2);
    // Mid-run: the victim has tasks in flight.
    await victim.submitted(2);
    victim.child.kill('SIGKILL');
    expect((await victim.child).signal).toBe('SIGKILL');
    const r = await enqueuer.child;
    other.child.kill('SIGTERM');
    await other.child;

    const report = readReport(enqueuer.out);
    // A kill between a POST and its task id would leave that one shot unknown: never resent.
    const unknown = report.totals.unknown ?? 0;
    expect(unknown).toBeLessThanOrEqual(1);
    expect(report.totals.done).toBe(SHOTS - unknown);
    expect(clips(enqueuer.out)).toHaveLength(SHOTS - unknown);
    if (unknown === 0) expect(r.exitCode, String(r.stderr)).toBe(0);
    const byPrompt = submissionsByPrompt(sim);
    expect([...byPrompt.values()].every((count) => count === 1)).toBe(true);
    expect(byPrompt.size).toBeGreaterThanOrEqual(SHOTS - 1);
    expect(existsSync(path.join(victim.cwd, 'clips'))).toBe(false);
  });

  it('--team-budget of a worker: a shot it cannot hold fails for the enqueuer too, unsent', async () => {
    sim = await startSimulator({ apiKey: KEY, latency: 0, seed: 23, keyConcurrency: CAP });
    // Two of the three four-second shots fit in 8 s.
    const w = worker(3, '--team-budget', '8');
    const enqueuer = enqueue(3, 3);
    const r = await enqueuer.child;
    w.child.kill('SIGTERM');
    expect((await w.child).exitCode).toBe(0);
    expect(r.exitCode).toBe(1);
    expect(sim.ledger().totals.submissions).toBe(2);
    const report = readReport(enqueuer.out);
    expect(report.totals.done).toBe(2);
    expect(report.totals.failed).toBe(1);
    expect(String(r.stdout)).toContain('team_budget');
  });
});

function journal(out: string) {
  return parseJournal(readFileSync(path.join(out, 'journal.ndjson'), 'utf8')).entries;
}
