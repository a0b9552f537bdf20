import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LedgerEntry } from '../../src/sim/ledger.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { EXAMPLES, shotlist, tempDir } from '../helpers/cli.js';
import { childEnv, readReport, runArgs } from './run-helpers.js';

/** These manifests upload through a command: the user allows it. */
const commandEnv = { ...childEnv, SHOTLIST_ALLOW_COMMAND: '1' };
import { KEY } from './run-helpers.js';
import { FFMPEG, FFPROBE, makeImage } from '../helpers/tools.js';
import { servePngFolder, type PngFolderServer } from '../helpers/chains.js';

let tmp: ReturnType<typeof tempDir>;
let sim: Simulator | undefined;
let storage: PngFolderServer | undefined;

beforeEach(() => {
  tmp = tempDir('shotlist-continuity-');
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  await storage?.close();
  storage = undefined;
  tmp.cleanup();
});

/**
 * A chain s01 -> s02 -> s03 (each starts on the last frame of the one before) and an
 * independent s04; s01 starts from `first` on the storage server. Uploads go to `bucket`.
 */
function writeChain(dir: string, bucket: string, origin: string, first: string): string {
  const file = path.join(dir, 'chain.yaml');
  writeFileSync(
    file,
    `version: 1
name: chain
defaults: { model: seedance-2-official, duration: 4, ratio: '16:9', size: 480p }
concurrency: 4
uploads:
  provider: command
  command: [cp, "{file}", ${JSON.stringify(`${bucket}/{key}`)}]
  public_url: ${origin}/{key}
shots:
  - id: s01
    prompt: 猫趴在窗台上
    assets: { images: ["${origin}/${first}"] }
  - id: s02
    prompt: 猫跳下窗台
    assets: { images: [{ from: s01, frame: last }] }
  - id: s03
    prompt: 猫在地板上打盹
    assets: { images: [{ from: s02, frame: last }] }
  - id: s04
    prompt: 窗外下着雨
`,
  );
  return file;
}

/** Every decoded frame of a file as packed RGB, and the size of one frame. */
function rgbFrames(file: string): { bytes: Buffer; frame: number } {
  const [w, h] = execFileSync(
    FFPROBE,
    [
      '-v',
      'error',
      '-select_streams',
      'v:0',
      '-show_entries',
      'stream=width,height',
      '-of',
      'csv=p=0',
      file,
    ],
    { encoding: 'utf8' },
  )
    .trim()
    .split(',')
    .map(Number);
  const bytes = execFileSync(
    FFMPEG,
    ['-loglevel', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
    { maxBuffer: 1 << 28 },
  );
  return { bytes, frame: w! * h! * 3 };
}

function byPrompt(entries: readonly LedgerEntry[], prompt: string): LedgerEntry[] {
  return entries.filter((e) => e.body.prompt === prompt);
}

/** When the run saw each shot's task complete, from its journal (ms). */
function completedAt(out: string, id: string): number {
  const lines = readFileSync(path.join(out, 'journal.ndjson'), 'utf8').trim().split('\n');
  const entries = lines.map(
    (l) => JSON.parse(l) as { type: string; key: string; at: number; shot?: { id: string } },
  );
  const key = entries.find((e) => e.type === 'intent' && e.shot?.id === id)!.key;
  return entries.find((e) => e.type === 'completed' && e.key === key)!.at;
}

describe('continuity: chained frames through the built bin', () => {
  it('s02 is sent after s01 completed, on a PNG of s01 last decoded frame; s03 after s02', async () => {
    const bucket = path.join(tmp.dir, 'bucket');
    mkdirSync(bucket);
    makeImage(path.join(bucket, 'start.png'), 'orange');
    const origin = (storage = await servePngFolder(bucket)).url;
    const manifest = writeChain(tmp.dir, bucket, origin, 'start.png');
    sim = await startSimulator({ apiKey: KEY, latency: '0.2-0.4', seed: 5 });
    const out = path.join(tmp.dir, 'out');

    const run = await shotlist(runArgs(manifest, sim, out), { env: commandEnv });
    expect(run.exitCode, run.stderr).toBe(0);
    const ledger = sim.ledger().submissions;
    expect(ledger).toHaveLength(4);
    const [s02] = byPrompt(ledger, '猫跳下窗台');
    const [s03] = byPrompt(ledger, '猫在地板上打盹');
    expect(Date.parse(s02!.received_at)).toBeGreaterThanOrEqual(completedAt(out, 's01'));
    expect(Date.parse(s03!.received_at)).toBeGreaterThanOrEqual(completedAt(out, 's02'));

    const report = readReport(out);
    expect(report.shots.find((s) => s.id === 's02')!.depends_on).toEqual([
      { from: 's01', frame: 'last', image: 0 },
    ]);
    expect(readFileSync(path.join(out, 'report.html'), 'utf8')).toMatch(
      /starts on<\/dt><dd>s01(&#39;|&#x27;|')s last frame/,
    );

    const url = s02!.body.images![0]!;
    expect(url.startsWith(`${origin}/`)).toBe(true);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    const png = path.join(tmp.dir, 'frame.png');
    writeFileSync(png, Buffer.from(await res.arrayBuffer()));
    expect(readFileSync(png).subarray(1, 4).toString('latin1')).toBe('PNG');
    const clip = rgbFrames(path.join(out, 'clips', 's01.mp4'));
    const frame = rgbFrames(png);
    expect(frame.frame).toBe(clip.frame);
    expect(frame.bytes.equals(clip.bytes.subarray(clip.bytes.length - clip.frame))).toBe(true);
    // Not the first frame: the test would pass on a wrong cut if the clip did not move.
    expect(frame.bytes.equals(clip.bytes.subarray(0, clip.frame))).toBe(false);

    const again = await shotlist(runArgs(manifest, sim, out), { env: commandEnv });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(sim.ledger().submissions).toHaveLength(4);

    // A new s01 clip gives s02 a new frame, so a new body and key: the chain renders again.
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('猫趴在窗台上', '猫坐在窗台上'));
    const edited = await shotlist(runArgs(manifest, sim, out), { env: commandEnv });
    expect(edited.exitCode, edited.stderr).toBe(0);
    const added = sim.ledger().submissions.slice(4);
    expect(added.map((e) => e.body.prompt)).toEqual([
      '猫坐在窗台上',
      '猫跳下窗台',
      '猫在地板上打盹',
    ]);
    expect(added[1]!.body.images).not.toEqual(s02!.body.images);
  });

  it('a failed upstream blocks its dependents (nothing sent for them, exit 1); once fixed, the next run renders it and its dependents only', async () => {
    const bucket = path.join(tmp.dir, 'bucket');
    mkdirSync(bucket);
    const origin = (storage = await servePngFolder(bucket)).url;
    // s01's reference is not there yet: its task fails.
    const manifest = writeChain(tmp.dir, bucket, origin, 'late.png');
    sim = await startSimulator({ apiKey: KEY, latency: '0.2-0.4', seed: 6 });
    const out = path.join(tmp.dir, 'out');

    const run = await shotlist(runArgs(manifest, sim, out, '--no-preflight'), { env: commandEnv });
    expect(run.exitCode, run.stderr).toBe(1);
    const first = sim.ledger().submissions;
    expect(first.map((e) => e.body.prompt).sort()).toEqual(['猫趴在窗台上', '窗外下着雨'].sort());
    const report = readReport(out);
    const status = Object.fromEntries(report.shots.map((s) => [s.id, s.status]));
    expect(status).toEqual({ s01: 'failed', s02: 'skipped', s03: 'skipped', s04: 'done' });
    const s02 = report.shots.find((s) => s.id === 's02')!;
    expect(s02.error?.code).toBe('blocked');
    expect(s02.error?.message).toMatch(/^blocked: s01 is failed/);
    expect(report.shots.find((s) => s.id === 's03')!.error?.message).toMatch(
      /^blocked: s02 is skipped/,
    );
    expect(run.stdout + run.stderr).toContain('blocked: s01 is failed');

    makeImage(path.join(bucket, 'late.png'), 'green');
    const fixed = await shotlist(runArgs(manifest, sim, out), { env: commandEnv });
    expect(fixed.exitCode, fixed.stderr).toBe(0);
    const added = sim
      .ledger()
      .submissions.slice(first.length)
      .map((e) => e.body.prompt);
    expect(added.sort()).toEqual(['猫趴在窗台上', '猫跳下窗台', '猫在地板上打盹'].sort());
    expect(readReport(out).shots.every((s) => s.status === 'done')).toBe(true);
  });

  it('--only s03 names the upstream shots it also plans, each with its cost, and their total (plan and run)', async () => {
    const example = path.join(EXAMPLES, 'continuity.yaml');
    const said =
      '--only s03-nap also plans s01-window (4 s, 4.00 CNY), s02-jump (4 s, 4.00 CNY); together 8 s, 8.00 CNY';
    const plan = await shotlist(['plan', '--only', 's03-nap', example]);
    expect(plan.exitCode, plan.stderr).toBe(0);
    expect(plan.stdout + plan.stderr).toContain(said);
    const out = path.join(tmp.dir, 'out');
    const run = await shotlist([
      'run',
      '--simulate',
      '--dry-run',
      '--only',
      's03-nap',
      '--out',
      out,
      example,
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout + run.stderr).toContain(said);
  });

  it('examples/continuity.yaml plans its cast and chain, and renders under run --simulate', async () => {
    const plan = await shotlist(['plan', '--json', path.join(EXAMPLES, 'continuity.yaml')]);
    expect(plan.exitCode, plan.stderr).toBe(0);
    const shots = (
      JSON.parse(plan.stdout) as {
        shots: {
          id: string;
          request: { prompt: string; images?: string[]; metadata?: Record<string, unknown> };
          depends_on?: unknown;
        }[];
      }
    ).shots;
    expect(shots[0]!.request.prompt).toBe(
      '橘色短毛猫,绿眼睛 @image_file_1 趴在窗台上看雨,柔和的自然光',
    );
    expect(shots[0]!.request.metadata?.action).toBe('multi_ref');
    expect(shots[1]!.depends_on).toEqual([{ from: 's01-window', frame: 'last', image: 0 }]);
    // s02 mentions @mimi and starts on the frame (as: first_frame): mimi in words, one image.
    expect(shots[1]!.request).toMatchObject({
      prompt: '橘色短毛猫,绿眼睛 从窗台跳到木地板上,慢动作',
      images: ['shotlist-frame://s01-window/last'],
    });
    expect(shots[1]!.request.metadata?.action).toBeUndefined();
    const text = await shotlist(['plan', path.join(EXAMPLES, 'continuity.yaml')]);
    expect(text.stdout).toContain("s01-window's last frame");
    expect(text.stdout).toMatch(/^s02-jump +image_to_video /m);
    expect(text.stdout + text.stderr).not.toContain('warning');

    const out = path.join(tmp.dir, 'out');
    const run = await shotlist([
      'run',
      '--simulate',
      '--sim-latency',
      '0.1-0.2',
      '--yes',
      '--out',
      out,
      path.join(EXAMPLES, 'continuity.yaml'),
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    const report = readReport(out);
    expect(report.shots.map((s) => s.status)).toEqual(['done', 'done', 'done']);
    expect(report.cast).toEqual([
      {
        name: 'mimi',
        description: '橘色短毛猫,绿眼睛',
        images: ['./refs/cat-window.png'],
        shots: ['s01-window', 's02-jump'],
      },
    ]);
    const html = readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('<section id="cast"><h2>Cast</h2>');
    expect(html).toContain('<div>in: s01-window, s02-jump</div></dd>');

    // `shotlist stitch` finds each shot by the body it was rendered from: local file, cast, frames.
    const stitch = await shotlist(['stitch', '--out', out, path.join(EXAMPLES, 'continuity.yaml')]);
    expect(stitch.exitCode, stitch.stderr).toBe(0);
    expect(stitch.stdout + stitch.stderr).toContain('final.mp4');
    expect(stitch.stdout + stitch.stderr).not.toContain('moved aside');
  });
});
