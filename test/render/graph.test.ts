import { describe, expect, it } from 'vitest';
import {
  afterUpstream,
  chainLengths,
  rankedLimit,
  type ShotGraph,
} from '../../src/render/graph.js';
import { startResult, type ShotResult } from '../../src/render/result.js';
import type { AssessedShot } from '../../src/render/state.js';
import { assessed, fakeClient, fakeContext } from './fakes.js';

/** s01 (upstream) and s02 (waits for its frame). */
function pair(): { up: AssessedShot; down: AssessedShot } {
  const up = assessed();
  const down = { ...assessed(), label: 's02', key: 'b'.repeat(64) };
  down.shot = { ...down.shot, id: 's02' };
  return { up, down };
}

function graphOf(up: AssessedShot, ready: ShotGraph['ready']): ShotGraph {
  return { upstream: (a) => (a.label === 's02' ? [up] : undefined), ready };
}

describe('afterUpstream: a shot starts once the shots it takes frames from are done', () => {
  it('a failed upstream blocks the shot: not started, skipped with the reason', async () => {
    const { up, down } = pair();
    const fake = fakeContext(fakeClient());
    const failed: ShotResult = {
      ...startResult(up, 'failed'),
      error: { code: 'content_filter', message: 'flagged' },
    };
    const started: AssessedShot[] = [];
    const result = await afterUpstream(
      fake.ctx,
      down,
      graphOf(up, () => Promise.reject(new Error('not called'))),
      () => Promise.resolve(failed),
      (a) => {
        started.push(a);
        return Promise.resolve(startResult(a, 'done'));
      },
    );
    expect(started).toEqual([]);
    expect(result.status).toBe('skipped');
    expect(result.error).toEqual({ code: 'blocked', message: 'blocked: s01 is failed: flagged' });
    expect(fake.events.map((e) => e.type === 'skipped' && e.reason)).toEqual(['blocked']);
  });

  it('a done upstream: the shot is made ready from its results, then started as ready', async () => {
    const { up, down } = pair();
    const fake = fakeContext(fakeClient());
    const done = {
      ...startResult(up, 'done'),
      file: { path: 'clips/s01.mp4', bytes: 1, sha256: 'c' },
    };
    const ready = { ...down, key: 'd'.repeat(64) };
    const seen: ShotResult[][] = [];
    const result = await afterUpstream(
      fake.ctx,
      down,
      graphOf(up, (_a, results) => {
        seen.push([...results]);
        return Promise.resolve(ready);
      }),
      () => Promise.resolve(done),
      (a) => Promise.resolve(startResult(a, 'done')),
    );
    expect(seen).toEqual([[done]]);
    expect(result.key).toBe('d'.repeat(64));
  });

  it('a frame that cannot be cut fails the shot, and it is not started', async () => {
    const { up, down } = pair();
    const fake = fakeContext(fakeClient());
    let starts = 0;
    const result = await afterUpstream(
      fake.ctx,
      down,
      graphOf(up, () => Promise.reject(new Error('ffmpeg wrote no image'))),
      () => Promise.resolve(startResult(up, 'done')),
      (a) => {
        starts++;
        return Promise.resolve(startResult(a, 'done'));
      },
    );
    expect(starts).toBe(0);
    expect(result.status).toBe('failed');
    expect(result.error).toEqual({ code: 'frame_failed', message: 'ffmpeg wrote no image' });
  });

  it('a shot that waits for nothing starts at once', async () => {
    const { up } = pair();
    const fake = fakeContext(fakeClient());
    const result = await afterUpstream(
      fake.ctx,
      up,
      graphOf(up, () => Promise.reject(new Error('not called'))),
      () => Promise.reject(new Error('not called')),
      (a) => Promise.resolve(startResult(a, 'done')),
    );
    expect(result.status).toBe('done');
  });
});

/** Shots named by label; `ups` maps a label to the labels it takes frames from. */
function shotsOf(labels: string[], ups: Record<string, string[]>) {
  const shots = labels.map((label) => ({ ...assessed(), label }));
  const byLabel = new Map(shots.map((a) => [a.label, a]));
  const graph: ShotGraph = {
    upstream: (a) => ups[a.label]?.map((l) => byLabel.get(l)!),
    ready: (a) => Promise.resolve(a),
  };
  return { shots, graph };
}

describe('chainLengths: how many links each shot starts', () => {
  it('a chain of three counts 3, 2, 1; an independent shot 1; a fork takes its longer branch', () => {
    const { shots, graph } = shotsOf(['a1', 'a2', 'a3', 'b1', 'f1', 'f2', 'f3', 'f4'], {
      a2: ['a1'],
      a3: ['a2'],
      f2: ['f1'],
      f3: ['f1'],
      f4: ['f3'],
    });
    const lengths = chainLengths(shots, graph);
    expect(shots.map((a) => lengths.get(a))).toEqual([3, 2, 1, 1, 3, 1, 2, 1]);
  });

  it('without a graph every shot counts 1', () => {
    const { shots } = shotsOf(['a', 'b'], {});
    expect([...chainLengths(shots, undefined).values()]).toEqual([1, 1]);
  });

  it('a chain of 12,000 links does not overflow the stack', () => {
    const labels = Array.from({ length: 12_000 }, (_, i) => `s${i}`);
    const ups = Object.fromEntries(labels.slice(1).map((l, i) => [l, [labels[i]!]]));
    const { shots, graph } = shotsOf(labels, ups);
    expect(chainLengths(shots, graph).get(shots[0]!)).toBe(12_000);
  });
});

describe('rankedLimit: the waiting shot with the longest chain gets the next slot', () => {
  /** A job that runs until `release`, recording when it started. */
  function job(name: string, started: string[]) {
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    return {
      run: () => {
        started.push(name);
        return done.then(() => name);
      },
      release: () => release(),
    };
  }

  it('a dependent queued last overtakes shots with shorter chains; equal ranks keep their order', async () => {
    const limit = rankedLimit(1);
    const started: string[] = [];
    const jobs = Object.fromEntries(
      ['root', 'x1', 'x2', 'dep', 'y3'].map((n) => [n, job(n, started)]),
    );
    const results = [
      limit(jobs.root!.run, 4),
      limit(jobs.x1!.run, 1),
      limit(jobs.x2!.run, 1),
      limit(jobs.dep!.run, 3),
      limit(jobs.y3!.run, 3),
    ];
    for (const name of ['root', 'dep', 'y3', 'x1', 'x2']) {
      await Promise.resolve();
      await new Promise((r) => setImmediate(r));
      expect(started.at(-1)).toBe(name);
      jobs[name]!.release();
    }
    expect(await Promise.all(results)).toEqual(['root', 'x1', 'x2', 'dep', 'y3']);
    expect(started).toEqual(['root', 'dep', 'y3', 'x1', 'x2']);
  });

  it('runs up to its concurrency at once and frees a slot when a job throws', async () => {
    const limit = rankedLimit(2);
    let running = 0;
    let peak = 0;
    const work = (fail: boolean) => async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setImmediate(r));
      running--;
      if (fail) throw new Error('no');
      return 'ok';
    };
    const settled = await Promise.allSettled(
      [true, false, false, true, false].map((fail, i) => limit(work(fail), i % 3)),
    );
    expect(peak).toBe(2);
    expect(settled.map((s) => s.status)).toEqual([
      'rejected',
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
  });
});
