/**
 * `plan` as a library call: picks are matched against the whole manifest and said for the
 * shots of the scope, so a shard that holds only some takes of a picked shot does not call
 * the pick stale, and a stale pick is said by the shard that holds its shot only.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bodyFingerprint } from '../../src/manifest/identity.js';
import { planJob } from '../../src/pipeline/job-plan.js';
import { tempDir } from '../helpers/cli.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir('shotlist-job-plan-');
});
afterEach(() => tmp.cleanup());

const MANIFEST = `version: 1
name: film
defaults: { model: seedance-2-official, duration: 4, ratio: '16:9', size: 480p }
pricing: { currency: CNY, per_second: { seedance-2-official: 1.0 } }
shots:
  - { id: s01, prompt: a black cat in the rain }
  - { id: s02, prompt: the cat shakes off the water }
  - { id: s03, prompt: a street at night, takes: 2 }
  - { id: s04, prompt: the moon over the roofs }
`;

describe('planJob and picks', () => {
  it('a shard holding part of a picked shot says no stale pick; a stale one is said once', async () => {
    const file = path.join(tmp.dir, 'film.yaml');
    writeFileSync(file, MANIFEST);
    const whole = await planJob(file, { cwd: tmp.dir });
    const take2 = whole.whole.shots.find((s) => s.id === 's03' && s.take === 2)!;
    writeFileSync(
      path.join(tmp.dir, 'film.picks.yaml'),
      [
        'version: 1',
        'revision: 1',
        'picks:',
        `  - { shot: s03, take: 2, body: ${bodyFingerprint(take2)} }`,
        // Made for another body: stale wherever s01 is planned.
        '  - { shot: s01, take: 1, body: "0000000000000000" }',
        '',
      ].join('\n'),
    );
    expect((await planJob(file, { cwd: tmp.dir })).stale.map((s) => s.label)).toEqual(['s01']);
    const shards = await Promise.all(
      [1, 2].map((index) => planJob(file, { cwd: tmp.dir, shard: { index, count: 2 } })),
    );
    const stale = shards.map((p) => p.stale.map((s) => `${s.label}: ${s.reason}`));
    // s03's pick is good in both shards (whichever holds take 1 or take 2 or neither).
    expect(stale.flat().filter((s) => s.startsWith('s03'))).toEqual([]);
    // s01's stale pick is said by the one shard that plans s01.
    const holders = shards.map((p) => p.result.shots.some((s) => s.id === 's01'));
    expect(stale.map((list) => list.some((s) => s.startsWith('s01')))).toEqual(holders);
  });
});
