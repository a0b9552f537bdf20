import { describe, expect, it } from 'vitest';
import { afterUpstream, type ShotGraph } from '../../src/render/graph.js';
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
