import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { servePngFolder, type PngFolderServer } from '../helpers/chains.js';
import { shotlist, tempDir } from '../helpers/cli.js';
import { makeImage } from '../helpers/tools.js';
import { KEY, childEnv, readReport, runArgs } from './run-helpers.js';

let tmp: ReturnType<typeof tempDir>;
let sim: Simulator | undefined;
let storage: PngFolderServer | undefined;

beforeEach(() => {
  tmp = tempDir('shotlist-frame-cast-');
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  await storage?.close();
  storage = undefined;
  tmp.cleanup();
});

/**
 * s01 shows the cast member; s02 and s03 start from s01's last frame and mention it, s02 with
 * the frame entry written `frames.s02`, s03 `frames.s03`. Uploads go to `bucket`.
 */
function writeFilm(
  dir: string,
  frames: { s02: string; s03: string },
  storage?: { bucket: string; origin: string },
): string {
  const file = path.join(dir, 'film.yaml');
  const uploads = storage
    ? `uploads:
  provider: command
  command: [cp, "{file}", ${JSON.stringify(`${storage.bucket}/{key}`)}]
  public_url: ${storage.origin}/{key}
`
    : '';
  writeFileSync(
    file,
    `version: 1
name: frame-cast
defaults: { model: seedance-2-official, duration: 4, ratio: '16:9', size: 480p }
concurrency: 2
${uploads}cast:
  mimi: { images: [./cat.png], description: 橘色短毛猫 }
shots:
  - id: s01
    prompt: '@mimi 趴在窗台上'
  - id: s02
    prompt: '@mimi 跳下窗台'
    assets: { images: [${frames.s02}] }
  - id: s03
    prompt: '@image_file_1 里的 @mimi 回头'
    assets: { images: [${frames.s03}] }
`,
  );
  makeImage(path.join(dir, 'cat.png'), 'orange');
  return file;
}

describe('a chained frame beside a cast mention, through the built bin', () => {
  it('unsaid: validate warns at the entry and plan notes it; said: neither, and the modes follow', async () => {
    const unsaid = writeFilm(tmp.dir, {
      s02: '{ from: s01, frame: last }',
      s03: '{ from: s01, frame: last, as: reference }',
    });
    const validate = await shotlist(['validate', unsaid]);
    expect(validate.exitCode, validate.stderr).toBe(0);
    expect(validate.stdout + validate.stderr).toContain(
      `${unsaid}:12:24: warning: shot s02 starts on s01's last frame and mentions @mimi from the cast: it renders multi_ref`,
    );
    expect(validate.stdout + validate.stderr).toContain(
      'fix: write as: first_frame on the frame entry to start on the frame',
    );
    expect(validate.stdout + validate.stderr).not.toContain('shot s03');
    const plan = await shotlist(['plan', unsaid]);
    expect(plan.exitCode, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/^s02 +multi_ref .*s01's last frame$/m);
    expect(plan.stdout).toContain(
      "note: s02 renders multi_ref: s01's last frame is only a reference image beside @mimi's, so the cut will not join; choose with as: first_frame or as: reference on the frame entry",
    );
    expect(plan.stdout).not.toContain('note: s03');

    const said = writeFilm(tmp.dir, {
      s02: '{ from: s01, frame: last, as: first_frame }',
      s03: '{ from: s01, frame: last, as: reference }',
    });
    const clean = await shotlist(['validate', said]);
    expect(clean.exitCode, clean.stderr).toBe(0);
    expect(clean.stdout + clean.stderr).not.toContain('warning');
    const chosen = await shotlist(['plan', said]);
    expect(chosen.stdout).toMatch(/^s02 +image_to_video /m);
    expect(chosen.stdout).toMatch(/^s03 +multi_ref /m);
    expect(chosen.stdout).not.toContain('note:');

    const out = path.join(tmp.dir, 'out');
    const run = await shotlist([
      'run',
      '--simulate',
      '--sim-latency',
      '0.1-0.2',
      '--yes',
      '--out',
      out,
      said,
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    const shots = readReport(out).shots.map((s) => [s.id, s.status, s.mode, s.prompt]);
    expect(shots).toEqual([
      ['s01', 'done', 'multi_ref', '橘色短毛猫 @image_file_1 趴在窗台上'],
      ['s02', 'done', 'image_to_video', '橘色短毛猫 跳下窗台'],
      ['s03', 'done', 'multi_ref', '@image_file_1 里的 橘色短毛猫 @image_file_2 回头'],
    ]);
  });

  it('the bodies the API receives: as: first_frame sends the frame alone, as: reference the frame then the cast', async () => {
    const bucket = path.join(tmp.dir, 'bucket');
    mkdirSync(bucket);
    const origin = (storage = await servePngFolder(bucket)).url;
    const film = writeFilm(
      tmp.dir,
      {
        s02: '{ from: s01, frame: last, as: first_frame }',
        s03: '{ from: s01, frame: last, as: reference }',
      },
      { bucket, origin },
    );
    sim = await startSimulator({ apiKey: KEY, latency: '0.1-0.2', seed: 7 });
    const run = await shotlist(runArgs(film, sim, path.join(tmp.dir, 'out'), '--allow-command'), {
      env: childEnv,
    });
    expect(run.exitCode, run.stderr).toBe(0);
    const sent = new Map(sim.ledger().submissions.map((e) => [e.body.prompt, e.body]));
    const s01 = sent.get('橘色短毛猫 @image_file_1 趴在窗台上')!;
    const s02 = sent.get('橘色短毛猫 跳下窗台')!;
    const s03 = sent.get('@image_file_1 里的 橘色短毛猫 @image_file_2 回头')!;
    const cat = s01.images![0]!;
    expect(cat.startsWith(`${origin}/`)).toBe(true);
    // s02 starts on the frame: one image, the frame, and no action (image_to_video inferred).
    expect(s02.images).toHaveLength(1);
    expect(s02.images![0]).not.toBe(cat);
    expect(s02.images![0]!.startsWith(`${origin}/`)).toBe(true);
    expect(s02.metadata?.action).toBeUndefined();
    // s03 is multi_ref: the same frame as @image_file_1, then the cast's image.
    expect(s03.images).toEqual([s02.images![0], cat]);
    expect(s03.metadata?.action).toBe('multi_ref');
  });
});
