import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { locateTool } from '../../src/media/locate.js';
import { shotlist, tempDir } from '../helpers/cli.js';
import { renderedTakes } from '../helpers/rendered.js';
import { readReport } from './run-helpers.js';

const tmp = tempDir('shotlist-picks-e2e-');
afterAll(() => tmp.cleanup());

const manifest = path.join(tmp.dir, 'film.yaml');
const out = path.join(tmp.dir, 'out');

/** The decoded video frames' hashes of a file (ffmpeg framemd5), in order. */
async function frameHashes(file: string): Promise<string[]> {
  const r = await execa(
    locateTool('ffmpeg').path,
    ['-hide_banner', '-v', 'error', '-i', file, '-map', '0:v', '-f', 'framemd5', '-'],
    { reject: true },
  );
  return String(r.stdout)
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.split(',').at(-1)!.trim());
}

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const clip = (id: string, take: number) => path.join(out, 'clips', `${id}.take${take}.mp4`);

async function simulate(): Promise<void> {
  const r = await shotlist(
    ['run', manifest, '--simulate', '--sim-latency', '0.1-0.3', '--yes', '--out', out],
    { cwd: tmp.dir },
  );
  expect(r.exitCode, r.stderr + r.stdout).toBe(0);
}

async function stitch() {
  const r = await shotlist(['stitch', manifest, '--out', out], { cwd: tmp.dir });
  expect(r.exitCode, r.stderr + r.stdout).toBe(0);
  return r;
}

describe('picks: stitch uses the picked takes (built bin, simulator, real ffmpeg)', () => {
  // The takes film, rendered once for the files that start from it, copied here.
  beforeAll(() => renderedTakes(tmp.dir));

  it('simulated takes of one body are different clips', () => {
    for (const id of ['s01', 's02', 's03']) {
      const hashes = new Set([1, 2, 3].map((t) => sha(clip(id, t))));
      expect(hashes.size, id).toBe(3);
    }
  });

  it('pick s01=2 s02=3: the picks file records them and the final is made of those clips', async () => {
    const picked = await shotlist(['pick', manifest, '--out', out, 's01=2', 's02=3'], {
      cwd: tmp.dir,
    });
    expect(picked.exitCode, picked.stderr).toBe(0);
    const file = parse(readFileSync(path.join(tmp.dir, 'film.simulated.picks.yaml'), 'utf8')) as {
      revision: number;
      picks: { shot: string; take: number; body: string }[];
    };
    expect(file.revision).toBe(1);
    expect(file.picks.map((p) => [p.shot, p.take])).toEqual([
      ['s01', 2],
      ['s02', 3],
    ]);
    for (const p of file.picks) expect(p.body).toMatch(/^[0-9a-f]{16}$/);

    const r = await stitch();
    expect(r.stdout).toContain('s01: picked take 2');
    expect(r.stdout).toContain('s02: picked take 3');
    const expected = [
      ...(await frameHashes(clip('s01', 2))),
      ...(await frameHashes(clip('s02', 3))),
      ...(await frameHashes(clip('s03', 1))),
    ];
    expect(await frameHashes(path.join(out, 'final.mp4'))).toEqual(expected);
    const marked = readReport(out)
      .shots.filter((s) => s.picked)
      .map((s) => `${s.id}#${s.take}`);
    expect(marked).toEqual(['s01#2', 's02#3']);
    expect(readFileSync(path.join(out, 'report.html'), 'utf8')).toContain('badge picked');
  });

  it('refuses an unknown shot or take, and writes nothing', async () => {
    const before = readFileSync(path.join(tmp.dir, 'film.simulated.picks.yaml'), 'utf8');
    const r1 = await shotlist(['pick', manifest, '--out', out, 's09=1'], { cwd: tmp.dir });
    expect(r1.exitCode).toBe(2);
    expect(r1.stderr).toContain('no shot "s09"');
    const r2 = await shotlist(['pick', manifest, '--out', out, 's01=4'], { cwd: tmp.dir });
    expect(r2.exitCode).toBe(2);
    expect(r2.stderr).toContain('no take 4');
    expect(readFileSync(path.join(tmp.dir, 'film.simulated.picks.yaml'), 'utf8')).toBe(before);
  });

  it('a pick made before the prompt was edited is stale: plan and stitch say so, take 1 is used', async () => {
    const film = readFileSync(manifest, 'utf8');
    writeFileSync(
      manifest,
      film.replace(
        /s01, prompt: "[^"]*"/,
        's01, prompt: "first shot, edited: an orange cat on the roof"',
      ),
    );
    expect(readFileSync(manifest, 'utf8')).not.toBe(film);
    const plan = await shotlist(['plan', manifest, '--simulate'], { cwd: tmp.dir });
    expect(plan.stderr).toContain(
      "pick of s01 take 2 is stale (the take's request is not the one picked: the shot was edited",
    );
    expect(plan.stderr).not.toContain('s02 take 3 is stale');
    await simulate();
    const r = await stitch();
    expect(r.stdout).toContain('pick of s01 take 2 is stale');
    expect(r.stdout).toContain('s02: picked take 3');
    const expected = [
      ...(await frameHashes(clip('s01', 1))),
      ...(await frameHashes(clip('s02', 3))),
      ...(await frameHashes(clip('s03', 1))),
    ];
    expect(await frameHashes(path.join(out, 'final.mp4'))).toEqual(expected);
    // The run's own stitch step applies the picks and marks them as well.
    expect(
      readReport(out)
        .shots.filter((s) => s.picked)
        .map((s) => `${s.id}#${s.take}`),
    ).toEqual(['s02#3']);
  });
});
