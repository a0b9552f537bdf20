import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { probe } from '../../src/media/probe.js';
import { reviewState } from '../../src/review/state.js';
import { shotlist, spawnShotlist, tempDir } from '../helpers/cli.js';

const tmp = tempDir('shotlist-preview-e2e-');
afterAll(() => tmp.cleanup());

describe('stitch --preview through the built CLI', () => {
  it('drafts the whole cut at 360 px and 15 fps in seconds, leaves the final and the report alone, and the review page offers it', async () => {
    const file = path.join(tmp.dir, 'film.yaml');
    writeFileSync(
      file,
      `version: 1
name: film
defaults: { duration: 4, ratio: "16:9", size: 720p }
shots:
  - { id: a, prompt: "the first shot of the draft" }
  - { id: b, prompt: "the second shot of the draft" }
stitch:
  transition: { type: fade, duration: 0.5 }
`,
    );
    const out = path.join(tmp.dir, 'out');
    const run = await shotlist(
      ['run', file, '--simulate', '--sim-latency', '0.1-0.2', '--yes', '--out', out],
      { cwd: tmp.dir },
    );
    expect(run.exitCode, run.stderr + run.stdout).toBe(0);
    const final = path.join(out, 'final.mp4');
    const finalMtime = statSync(final).mtimeMs;
    const report = readFileSync(path.join(out, 'report.json'), 'utf8');
    expect(
      (await reviewState({ manifestFile: file, outDir: out, allowOutside: false })).previews,
    ).toEqual([]);

    const started = Date.now();
    const r = await shotlist(['stitch', file, '--simulate', '--out', out, '--preview'], {
      cwd: tmp.dir,
    });
    const seconds = (Date.now() - started) / 1000;
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toContain('stitched final.preview.mp4');
    // Two 4 s clips on a loaded machine: a draft, not a wait.
    expect(seconds).toBeLessThan(20);

    const draft = await probe(path.join(out, 'final.preview.mp4'));
    const cut = await probe(final);
    expect(draft.video).toMatchObject({ width: 640, height: 360, fps: 15 });
    // The whole cut, transition included: as long as the final.
    expect(Math.abs(draft.durationSec - cut.durationSec)).toBeLessThan(0.15);
    expect(statSync(final).mtimeMs).toBe(finalMtime);
    expect(readFileSync(path.join(out, 'report.json'), 'utf8')).toBe(report);
    const state = await reviewState({ manifestFile: file, outDir: out, allowOutside: false });
    expect(state.previews).toEqual([{ variant: null, file: 'final.preview.mp4' }]);

    // The review server plays it, and still serves nothing it was not given.
    const review = spawnShotlist(['review', file, '--out', out, '--simulate'], { cwd: tmp.dir });
    try {
      const url = await new Promise<URL>((resolve, reject) => {
        let text = '';
        review.stdout!.on('data', (chunk: Buffer) => {
          text += chunk.toString();
          const m = /review at (http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+) /.exec(text);
          if (m) resolve(new URL(m[1]!));
        });
        void review.then((r) => reject(new Error(`review exited: ${String(r.stderr)}`)));
      });
      const token = url.searchParams.get('token')!;
      const get = (p: string) => fetch(`${url.origin}/${p}?token=${token}`);
      const played = await get('files/final.preview.mp4');
      expect(played.status).toBe(200);
      expect(Number(played.headers.get('content-length'))).toBe(
        statSync(path.join(out, 'final.preview.mp4')).size,
      );
      await played.arrayBuffer();
      expect((await get('files/final.mp4')).status).toBe(404);
      const state = (await (await get('api/state')).json()) as { previews: unknown };
      expect(state.previews).toEqual([{ variant: null, file: 'final.preview.mp4' }]);
      expect(await (await get('')).text()).toContain('id="cut"');
    } finally {
      review.kill('SIGTERM');
      await review.catch(() => undefined);
    }
  });
});
