/**
 * Team mode with a hostile party writing to the team's Redis (the built CLI, Debian's
 * redis-server, the simulator): facts planted for a shot and jobs planted on the queue are
 * hints checked against the API and the manifest, and what is read there is shown cleaned.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { parseJournal } from '../../src/render/journal.js';
import { spawnShotlist } from '../helpers/cli.js';
import { NO_REDIS, redisServerPath, useTeamRedis } from '../team/redis-server.js';
import { foreignServer, plannedShots, plantFact, plantJob } from '../team/plant.js';
import { KEY, childEnv, expectNoKey, writeManifest } from './run-helpers.js';

const binary = redisServerPath();
if (!binary) console.warn(NO_REDIS);

const ESC = '\x1b';

describe.skipIf(!binary)('team mode: planted facts and jobs are hints', () => {
  const { team, dir } = useTeamRedis('shotlist-team-untrusted-', binary!);
  let sim: Simulator;

  afterEach(async () => {
    await sim?.close();
  });

  /** A one-shot manifest to enqueue, and its shot's key for the simulator's API. */
  async function film() {
    const d = dir('enqueuer');
    const manifest = writeManifest(d, 1);
    const [planned] = await plannedShots(manifest, sim.url);
    return { manifest, out: path.join(d, 'out'), ...planned! };
  }

  function enqueue(manifest: string, out: string, db: number, env: Record<string, string>) {
    return spawnShotlist(
      ['enqueue', manifest, '--team', team(db), '--base-url', sim.url, '--out', out, '--yes'],
      { env, extendEnv: false },
    );
  }

  function worker(db: number, ...more: string[]) {
    const child = spawnShotlist(
      ['run', '--team', team(db), '--worker', '--base-url', sim.url, ...more],
      { cwd: dir('worker'), env: childEnv },
    );
    let seen = '';
    child.stdout!.on('data', (chunk: Buffer) => (seen += String(chunk)));
    const saw = async (text: string) => {
      while (!seen.includes(text) && child.exitCode === null)
        await new Promise((r) => setTimeout(r, 50));
    };
    return { child, saw };
  }

  const journal = (out: string) =>
    parseJournal(readFileSync(path.join(out, 'journal.ndjson'), 'utf8')).entries;
  const bare = { PATH: process.env.PATH!, CI: 'true', NO_COLOR: '1' };

  it('a completed fact naming a task the API does not know: nothing downloaded, nothing journaled', async () => {
    sim = await startSimulator({ apiKey: KEY, latency: 0, seed: 31 });
    const foreign = await foreignServer();
    try {
      const f = await film();
      await plantFact(team(1), f.key, {
        state: 'completed',
        gen: '1',
        owner: 'x',
        task_id: 'task_planted1',
        url: `${foreign.url}/clip.mp4`,
        seconds: '4',
      });
      const r = await enqueue(f.manifest, f.out, 1, { ...bare, SHOTLIST_API_KEY: KEY });
      expect(r.exitCode, String(r.stderr)).toBe(1);
      expect(String(r.stdout)).toContain('team_fact_refused');
      expect(foreign.requests()).toBe(0);
      expect(journal(f.out).filter((e) => e.key === f.key)).toEqual([]);
      expect(sim.ledger().totals.submissions).toBe(0);
    } finally {
      await foreign.close();
    }
  });

  it("a completed fact naming another shot's real task is refused: its clip is not this shot's", async () => {
    sim = await startSimulator({ apiKey: KEY, latency: 0, seed: 33 });
    const d = dir('enqueuer');
    const out = path.join(d, 'out');
    // s01 completes through the team first (its task, its clip), then the film gets s02.
    const manifest = writeManifest(d, 1);
    const [s01] = await plannedShots(manifest, sim.url);
    const posted = await fetch(`${sim.url}/v1/videos`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(s01!.shot.request),
    });
    const task = (await posted.json()) as { id: string };
    const real = { state: 'completed', gen: '1', owner: 'x', task_id: task.id, seconds: '4' };
    await plantFact(team(7), s01!.key, { ...real, url: `${sim.fileUrl}/${task.id}.mp4` });
    const first = await enqueue(manifest, out, 7, { ...bare, SHOTLIST_API_KEY: KEY });
    expect(first.exitCode, String(first.stderr)).toBe(0);

    writeManifest(d, 2);
    const [, s02] = await plannedShots(manifest, sim.url);
    await plantFact(team(7), s02!.key, { ...real, url: `${sim.fileUrl}/${task.id}.mp4` });
    const r = await enqueue(manifest, out, 7, { ...bare, SHOTLIST_API_KEY: KEY });
    expect(r.exitCode, String(r.stderr)).toBe(1);
    expect(String(r.stdout)).toContain("it is another shot's task");
    expect(journal(out).filter((e) => e.key === s02!.key)).toEqual([]);
    expect(sim.ledger().totals.submissions).toBe(1);
  });

  it("run --team: a fact naming another shot's task is refused, as by an enqueuer", async () => {
    sim = await startSimulator({ apiKey: KEY, latency: 0, seed: 34 });
    const d = dir('follower');
    const out = path.join(d, 'out');
    // s01 is sent and completed by this machine; then the film gets s02, and a fact for s02
    // names s01's task.
    const manifest = writeManifest(d, 1);
    const run = () =>
      spawnShotlist(
        ['run', manifest, '--team', team(8), '--base-url', sim.url, '--out', out, '--yes'],
        { env: childEnv },
      );
    const first = await run();
    expect(first.exitCode, String(first.stderr)).toBe(0);
    const [s01] = journal(out).filter((e) => e.type === 'task') as { task_id: string }[];
    writeManifest(d, 2);
    const [, s02] = await plannedShots(manifest, sim.url);
    await plantFact(team(8), s02!.key, {
      state: 'completed',
      gen: '1',
      owner: 'x',
      task_id: s01!.task_id,
      url: `${sim.fileUrl}/${s01!.task_id}.mp4`,
      seconds: '4',
    });
    const r = await run();
    expect(r.exitCode, String(r.stderr)).toBe(1);
    expect(`${String(r.stdout)}${String(r.stderr)}`).toContain("it is another shot's task");
    expect(journal(out).filter((e) => e.key === s02!.key)).toEqual([]);
    expect(sim.ledger().totals.submissions).toBe(1);
  });

  it("a completed fact with a foreign URL for a real task: only the API's URL is downloaded", async () => {
    sim = await startSimulator({ apiKey: KEY, latency: 0, seed: 32 });
    const foreign = await foreignServer();
    try {
      const f = await film();
      const posted = await fetch(`${sim.url}/v1/videos`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(f.shot.request),
      });
      const task = (await posted.json()) as { id: string };
      await plantFact(team(2), f.key, {
        state: 'completed',
        gen: '1',
        owner: 'x',
        task_id: task.id,
        url: `${foreign.url}/clip.mp4`,
        seconds: '1',
      });
      const r = await enqueue(f.manifest, f.out, 2, { ...bare, SHOTLIST_API_KEY: KEY });
      expect(r.exitCode, String(r.stderr)).toBe(0);
      expect(foreign.requests()).toBe(0);
      const completed = journal(f.out).filter((e) => e.type === 'completed');
      expect(completed).toHaveLength(1);
      expect(completed[0]).toMatchObject({ task_id: task.id, seconds: 4 });
      expect(String((completed[0] as { url: string }).url)).toContain(sim.fileUrl);
      // The plant added no task: the only submission is the one made above.
      expect(sim.ledger().totals.submissions).toBe(1);
      expectNoKey([String(r.stdout), String(r.stderr)], f.out);
    } finally {
      await foreign.close();
    }
  });

  it('without a key, enqueue starts, sends nothing and warns that it trusts the Redis facts', async () => {
    sim = await startSimulator({ apiKey: KEY, latency: 0, seed: 33 });
    const f = await film();
    await plantFact(team(3), f.key, {
      state: 'failed',
      gen: '1',
      owner: 'x',
      code: 'refused',
      message: 'bad',
    });
    const r = await enqueue(f.manifest, f.out, 3, bare);
    expect(r.exitCode, String(r.stderr)).toBe(1);
    expect(String(r.stderr)).toMatch(/warning: no API key: this enqueuer trusts the team's Redis/);
    expect(sim.stats().requests['POST /v1/videos'] ?? 0).toBe(0);
  });

  it('a failed fact whose message carries terminal escapes is shown without them', async () => {
    sim = await startSimulator({ apiKey: KEY, latency: 0, seed: 34 });
    const f = await film();
    await plantFact(team(4), f.key, {
      state: 'failed',
      gen: '1',
      owner: 'x',
      code: `evil${ESC}[2J`,
      message: `${ESC}]0;owned${ESC}\\${ESC}[31mred ${KEY}${ESC}[0m`,
    });
    const r = await enqueue(f.manifest, f.out, 4, { ...bare, SHOTLIST_API_KEY: KEY });
    expect(r.exitCode, String(r.stderr)).toBe(1);
    const shown = String(r.stdout) + String(r.stderr);
    expect(shown).toContain('red ***');
    expect(shown.includes(ESC)).toBe(false);
    expect(readFileSync(path.join(f.out, 'journal.ndjson'), 'utf8').includes(ESC)).toBe(false);
    expectNoKey([shown], f.out);
  });

  it("a job planted under a shot's key with another body: the worker sends nothing, the enqueuer says why", async () => {
    sim = await startSimulator({ apiKey: KEY, latency: 0, seed: 35 });
    const f = await film();
    const body = { ...f.shot.request, prompt: 'something else', duration: 15, size: '720p' };
    await plantJob(team(5), sim.url, {
      key: f.key,
      gen: 1,
      label: `s01${ESC}[2J`,
      base: sim.url,
      shot: { ...f.shot, request: body as typeof f.shot.request, seconds: 1 },
    });
    const w = worker(5, '--team-budget', '5');
    const r = await enqueue(f.manifest, f.out, 5, { ...bare, SHOTLIST_API_KEY: KEY });
    w.child.kill('SIGTERM');
    const stopped = await w.child;
    expect(r.exitCode, String(r.stderr)).toBe(1);
    expect(String(r.stdout)).toMatch(/job_refused: the queued job's body does not match its key/);
    expect(String(stopped.stdout)).toContain('job_refused');
    expect(String(stopped.stdout).includes(ESC)).toBe(false);
    expect(sim.ledger().totals.submissions).toBe(0);
  });

  it("a job over --team-budget by its body's duration, carrying seconds: 1, is refused by the budget", async () => {
    sim = await startSimulator({ apiKey: KEY, latency: 0, seed: 36 });
    const f = await film();
    const { journalKey } = await import('../../src/manifest/identity.js');
    const request = { ...f.shot.request, duration: 15, size: '720p' } as typeof f.shot.request;
    await plantJob(team(6), sim.url, {
      key: journalKey(request, 1, sim.url),
      gen: 1,
      label: 'planted',
      base: sim.url,
      shot: { ...f.shot, request, seconds: 1, cost: 0 },
    });
    const w = worker(6, '--team-budget', '5');
    await w.saw('failed: team_budget');
    w.child.kill('SIGTERM');
    const stopped = await w.child;
    expect(String(stopped.stdout)).toMatch(/the team budget of 5 s cannot hold this shot's 15 s/);
    expect(sim.ledger().totals.submissions).toBe(0);
  });
});
