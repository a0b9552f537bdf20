/**
 * Enqueue can finish after a worker died between a POST and its task id (the built CLI, one
 * redis-server, the simulator behind an API that never answers the first POST): the shot is
 * `unknown` (the task may exist), and the enqueuer either has it sent once more
 * (`enqueue --retry-unknown`, the unknown attempt still counted as may-have-been-billed) or,
 * run again, collects what another machine of the team finished meanwhile, then stitches. An
 * enqueuer still waiting (`--wait-unknown`) collects such a shot without being run again.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { shotlist, spawnShotlist } from '../helpers/cli.js';
import { eventCount, untilOutput } from '../helpers/wait.js';
import { hangingApi, type HangingApi } from '../team/hang.js';
import { plannedShots, plantFact } from '../team/plant.js';
import { NO_REDIS, redisServerPath, useTeamRedis } from '../team/redis-server.js';
import { KEY, childEnv, readReport, submissionsByPrompt, writeManifest } from './run-helpers.js';

const binary = redisServerPath();
if (!binary) console.warn(NO_REDIS);

describe.skipIf(!binary)('enqueue after a worker died between a POST and its task id', () => {
  const { team, dir } = useTeamRedis('shotlist-team-unknown-', binary!);
  let sim: Simulator;
  let api: HangingApi;
  const workers: ReturnType<typeof spawnShotlist>[] = [];

  afterEach(async () => {
    for (const w of workers.splice(0)) {
      w.kill('SIGTERM');
      await w;
    }
    await api?.close();
    await sim?.close();
  });

  function worker(db: number) {
    const child = spawnShotlist(
      ['run', '--team', team(db), '--worker', '--base-url', api.url, '--concurrency', '1'],
      { cwd: dir('worker'), env: childEnv },
    );
    workers.push(child);
    return child;
  }

  /**
   * A two-shot manifest enqueued while worker A's first POST hangs: A is killed (SIGKILL) once
   * the API has made the task, worker B takes the rest. The enqueuer's first pass ends with one
   * shot done and one unknown (exit 1, nothing stitched).
   */
  async function firstPass(db: number, seed: number) {
    sim = await startSimulator({ apiKey: KEY, latency: 0, seed });
    api = await hangingApi(sim);
    const d = dir('enqueuer');
    const manifest = writeManifest(d, 2);
    const out = path.join(d, 'out');
    const first = spawnShotlist(
      ['enqueue', manifest, '--team', team(db), '--base-url', api.url, '--out', out, '--yes'],
      { env: childEnv },
    );
    const a = worker(db);
    await api.held;
    a.kill('SIGKILL');
    expect((await a).signal).toBe('SIGKILL');
    worker(db);
    const r = await first;
    expect(r.exitCode, String(r.stderr)).toBe(1);
    const report = readReport(out);
    expect(report.totals.done).toBe(1);
    expect(report.totals.unknown).toBe(1);
    expect(existsSync(path.join(out, 'final.mp4'))).toBe(false);
    const unknown = report.shots.find((s) => s.status === 'unknown')!;
    expect(String(r.stdout)).toMatch(/--retry-unknown/);
    expect(String(r.stderr)).toMatch(/enqueue waits: shotlist enqueue .* --wait-unknown MINUTES/);
    return { manifest, out, unknownId: unknown.id };
  }

  const prompt = (id: string) => `橘猫的第 ${Number(id.slice(1))} 个镜头,电影感`;

  it('enqueue --retry-unknown: the workers send the unknown shot once more; it finishes and stitches, the unknown attempt counted as may have been billed', async () => {
    const { manifest, out, unknownId } = await firstPass(1, 41);
    expect(submissionsByPrompt(sim).get(prompt(unknownId))).toBe(1);

    const r = await shotlist(
      [
        ...['enqueue', manifest, '--team', team(1), '--base-url', api.url],
        ...['--out', out, '--yes', '--retry-unknown'],
      ],
      { env: childEnv },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(existsSync(path.join(out, 'final.mp4'))).toBe(true);
    expect(readReport(out).totals.done).toBe(2);
    // Sent exactly once more: the hung POST's task, and the retry.
    const byPrompt = submissionsByPrompt(sim);
    expect(byPrompt.get(prompt(unknownId))).toBe(2);
    expect([...byPrompt.values()].reduce((x, y) => x + y, 0)).toBe(3);

    const cost = await shotlist(['cost', manifest, '--out', out, '--json'], { env: childEnv });
    const ledger = JSON.parse(cost.stdout) as {
      billed: { seconds: number };
      at_risk: { seconds: number };
      tasks: number;
    };
    expect(ledger.tasks).toBe(3);
    expect(ledger.billed.seconds).toBe(8);
    expect(ledger.at_risk.seconds).toBe(4);
  });

  it('a shot another machine finished after the first pass is collected by enqueue run again, and the final stitched', async () => {
    const { manifest, out, unknownId } = await firstPass(2, 42);
    // Another machine with its own folder renders the manifest with plain `run --team`: it
    // meets the unknown shot, then sends it again when told to.
    const other = dir('other');
    const otherOut = path.join(other, 'out');
    const otherRun = (...more: string[]) =>
      shotlist(
        [
          ...['run', writeManifest(other, 2), '--team', team(2), '--base-url', api.url],
          ...['--out', otherOut, '--yes', ...more],
        ],
        { env: childEnv },
      );
    expect((await otherRun()).exitCode).toBe(1);
    const retried = await otherRun('--retry-unknown');
    expect(retried.exitCode, retried.stderr).toBe(0);
    expect(submissionsByPrompt(sim).get(prompt(unknownId))).toBe(2);

    // The enqueuer, run again as it was: it sends nothing, collects, checks, stitches.
    const submissions = sim.ledger().totals.submissions;
    const r = await shotlist(
      ['enqueue', manifest, '--team', team(2), '--base-url', api.url, '--out', out, '--yes'],
      { env: childEnv },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(sim.ledger().totals.submissions).toBe(submissions);
    expect(readReport(out).totals.done).toBe(2);
    expect(existsSync(path.join(out, 'final.mp4'))).toBe(true);
  });
  it('enqueue --wait-unknown: still waiting, it collects the unknown shot another machine sends again, then stitches (exit 0)', async () => {
    sim = await startSimulator({ apiKey: KEY, latency: 0, seed: 43 });
    api = await hangingApi(sim);
    const d = dir('enqueuer');
    const manifest = writeManifest(d, 2);
    const out = path.join(d, 'out');
    const waiting = spawnShotlist(
      [
        ...['enqueue', manifest, '--team', team(3), '--base-url', api.url, '--out', out],
        ...['--yes', '--json', '--wait-unknown', '10'],
      ],
      { env: childEnv },
    );
    const found = untilOutput(
      waiting,
      (seen) => eventCount(seen, 'unknown') >= 1 && eventCount(seen, 'done') >= 1,
    );
    const a = worker(3);
    await api.held;
    a.kill('SIGKILL');
    await a;
    worker(3);
    // The enqueuer has found the shot unknown and has the other one: it is still waiting.
    const seen = await found;
    expect(eventCount(seen, 'unknown'), String(waiting.stderr ?? '')).toBe(1);
    expect(waiting.exitCode).toBeNull();

    // Another machine with its own folder meets the unknown shot, then sends it again.
    const other = dir('other');
    const otherRun = (...more: string[]) =>
      shotlist(
        [
          ...['run', writeManifest(other, 2), '--team', team(3), '--base-url', api.url],
          ...['--out', path.join(other, 'out'), '--yes', ...more],
        ],
        { env: childEnv },
      );
    expect((await otherRun()).exitCode).toBe(1);
    const retried = await otherRun('--retry-unknown');
    expect(retried.exitCode, retried.stderr).toBe(0);

    const r = await waiting;
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const report = readReport(out);
    expect(report.totals.done).toBe(2);
    expect(report.totals.unknown).toBe(0);
    expect(existsSync(path.join(out, 'final.mp4'))).toBe(true);
    // Sent twice (the hung POST's task and the retry), once each by the team; none by the enqueuer.
    const byPrompt = submissionsByPrompt(sim);
    expect([...byPrompt.values()].sort()).toEqual([1, 2]);
    const cost = await shotlist(['cost', manifest, '--out', out, '--json'], { env: childEnv });
    const ledger = JSON.parse(cost.stdout) as {
      billed: { seconds: number };
      at_risk: { seconds: number };
    };
    expect(ledger.billed.seconds).toBe(8);
    expect(ledger.at_risk.seconds).toBe(4);
  });
  it('enqueue --wait-unknown: the watch ends after the minutes given; the shot stays unknown, journaled and shown once, nothing sent', async () => {
    sim = await startSimulator({ apiKey: KEY, latency: 0, seed: 44 });
    api = await hangingApi(sim);
    const d = dir('enqueuer');
    const manifest = writeManifest(d, 1);
    const out = path.join(d, 'out');
    const [s01] = await plannedShots(manifest, api.url);
    await plantFact(team(4), s01!.key, { state: 'unknown', gen: '1', owner: 'gone' });
    const r = await shotlist(
      [
        ...['enqueue', manifest, '--team', team(4), '--base-url', api.url, '--out', out],
        ...['--yes', '--json', '--wait-unknown', '0.02'],
      ],
      { env: childEnv },
    );
    expect(r.exitCode, r.stderr).toBe(1);
    expect(eventCount(r.stdout, 'unknown')).toBe(1);
    expect(readReport(out).totals.unknown).toBe(1);
    const entries = readFileSync(path.join(out, 'journal.ndjson'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { type: string; key: string });
    expect(entries.filter((e) => e.type === 'unknown' && e.key === s01!.key)).toHaveLength(1);
    expect(sim.ledger().totals.submissions).toBe(0);
  });
});
