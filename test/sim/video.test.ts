import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { VideoRequest } from '../../src/api/contract.js';
import { PIXEL_SIZES, RATIOS, SIZES } from '../../src/models.js';
import { findBundled, locateTool } from '../../src/media/locate.js';
import { ClipStore, clipSpec } from '../../src/sim/clips.js';
import type { SimulatorOptions } from '../../src/sim/index.js';
import { FFMPEG } from '../helpers/tools.js';
import { BODY, KEY, coldCache, get, post, probe, render, sim as startSim } from './helpers.js';

const work = mkdtempSync(path.join(tmpdir(), 'shotlist-sim-video-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
// The encoder's own tests: every clip is encoded here, none is taken from a cache a test or
// run filled before (a changed encoding would hide behind it).
const cold = coldCache();
const sim = (options: SimulatorOptions = {}) => startSim({ cacheDir: cold, ...options });

async function download(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  return { res, bytes: Buffer.from(await res.arrayBuffer()) };
}

describe('clips behind metadata.url', () => {
  it('asks for the pixel size of the table for every size and ratio', () => {
    for (const size of SIZES) {
      for (const ratio of RATIOS) {
        const body = { ...BODY, size, metadata: { ratio } } as VideoRequest;
        expect(clipSpec(body), `${size} ${ratio}`).toMatchObject(PIXEL_SIZES[size][ratio]);
      }
    }
  });

  // One ffmpeg starts per clip: the static build of the npm package starts in a fraction of a
  // distro build's CPU, so it encodes unless FFMPEG_PATH names another.
  it('encodes with FFMPEG_PATH when set, else the bundled static ffmpeg, else the PATH one', async () => {
    const chosen = (env: NodeJS.ProcessEnv) =>
      new ClipStore({ env, cacheDir: cold, onWarn: () => {} }).ensureEncoder();
    const { PATH } = process.env;
    expect((await chosen({ PATH, FFMPEG_PATH: FFMPEG })).ffmpeg.path).toBe(FFMPEG);
    const bundled = findBundled('ffmpeg');
    const fallback = bundled ?? locateTool('ffmpeg', { PATH }).path;
    expect((await chosen({ PATH })).ffmpeg.path).toBe(fallback);
  });

  // The encoder is given every size of the table; one-second clips (25 frames) are enough to
  // show the picture size, and a quarter of the frames of the API's shortest clip.
  it('encodes every pixel size of the table, 24 fps, 24*d+1 frames, no audio when off', async () => {
    const store = new ClipStore({ env: process.env, cacheDir: cold, onWarn: () => {} });
    const combos = SIZES.flatMap((size) => RATIOS.map((ratio) => [size, ratio] as const));
    try {
      const probes = await Promise.all(
        combos.map(async ([size, ratio]) => {
          const spec = {
            ...clipSpec({ ...BODY, size, metadata: { ratio } } as VideoRequest),
            seconds: 1,
            audio: false,
          };
          return { size, ratio, ...(await probe(await store.ensure(spec), { decode: false })) };
        }),
      );
      for (const { size, ratio, streams } of probes) {
        expect(streams, `${size} ${ratio}`).toHaveLength(1);
        expect(streams[0], `${size} ${ratio}`).toMatchObject({
          codec_type: 'video',
          codec_name: 'h264',
          pix_fmt: 'yuv420p',
          r_frame_rate: '24/1',
          nb_read_packets: String(24 + 1),
          ...PIXEL_SIZES[size][ratio],
        });
      }
      expect(store.stats.encoded).toBe(combos.length);
    } finally {
      await store.close();
    }
  });

  // A clip is a colour with a white square moving along the bottom (a cheap picture to encode,
  // a visible motion): the square is somewhere else a second later, the top stays one colour.
  it('moves a white square along the bottom of a colour clip, the rest one colour', async () => {
    const store = new ClipStore({ env: process.env, cacheDir: cold, onWarn: () => {} });
    try {
      const spec = { ...clipSpec({ ...BODY, size: '480p' } as VideoRequest), seconds: 2 };
      const file = await store.ensure(spec);
      // A 32x18 grey picture of the frame at `at` seconds: one byte a cell, rows top to bottom.
      const cells = (at: number) => {
        const args = ['-v', 'error', '-ss', String(at), '-i', file, '-frames:v', '1'];
        const out = ['-vf', 'scale=32:18:flags=area', '-f', 'rawvideo', '-pix_fmt', 'gray', '-'];
        const bytes = execFileSync(FFMPEG, [...args, ...out]);
        return Array.from({ length: 18 }, (_, row) => [...bytes.subarray(row * 32, row * 32 + 32)]);
      };
      const bright = (row: number[]) => row.map((v, i) => (v > 200 ? i : -1)).filter((i) => i >= 0);
      const [early, late] = [cells(0.25), cells(1.5)];
      const squareRow = (frame: number[][]) => frame.findIndex((row) => bright(row).length > 0);
      // The square is in the bottom third, in both frames, at another place in the later one.
      expect(squareRow(early)).toBeGreaterThanOrEqual(12);
      expect(squareRow(late)).toBe(squareRow(early));
      expect(bright(late[squareRow(late)]!)).not.toEqual(bright(early[squareRow(early)]!));
      // The top row is one colour, the same in both frames.
      expect(new Set(early[0]).size).toBeLessThanOrEqual(2);
      expect(late[0]).toEqual(early[0]);
    } finally {
      await store.close();
    }
  });

  it('serves the clip a body asks for: its size, 24 fps, 24*d+1 frames, no audio when off', async () => {
    const { url } = await sim();
    const task = await render(url, {
      ...BODY,
      size: '480p',
      metadata: { ratio: '9:16', generate_audio: false },
    });
    const { streams } = await probe((task.metadata as { url: string }).url, { decode: false });
    expect(streams).toHaveLength(1);
    expect(streams[0]).toMatchObject({
      codec_type: 'video',
      codec_name: 'h264',
      pix_fmt: 'yuv420p',
      r_frame_rate: '24/1',
      nb_read_packets: String(24 * 4 + 1),
      ...PIXEL_SIZES['480p']['9:16'],
    });
  });

  it('has mono AAC audio by default, the model default size, 24*d+1 frames for d=5', async () => {
    const { url } = await sim();
    const task = await render(url, {
      model: 'seedance-2-official2-fast',
      prompt: '一只橘猫在花园里追逐蝴蝶',
    });
    const { streams } = await probe((task.metadata as { url: string }).url);
    const video = streams.find((s) => s.codec_type === 'video');
    const audio = streams.find((s) => s.codec_type === 'audio');
    expect(video).toMatchObject({ width: 1280, height: 720, nb_read_frames: String(24 * 5 + 1) });
    expect(audio).toMatchObject({ codec_name: 'aac', channels: 1 });
  });

  it('encodes one clip per distinct spec, even for concurrent tasks', async () => {
    const simulator = await sim();
    const body = {
      ...BODY,
      size: '480p',
      prompt: 'cache me once',
      metadata: { ratio: '16:9', generate_audio: false },
    };
    const tasks = await Promise.all(Array.from({ length: 6 }, () => render(simulator.url, body)));
    await Promise.all(tasks.map((t) => download((t.metadata as { url: string }).url)));
    expect(simulator.stats().clips.encoded).toBe(1);
  });

  it('serves files from another origin and counts requests that carry the key there', async () => {
    const simulator = await sim();
    const task = await render(simulator.url);
    const video = (task.metadata as { url: string }).url;
    expect(new URL(video).origin).toBe(simulator.fileUrl);
    expect(new URL(video).origin).not.toBe(new URL(simulator.url).origin);
    await download(video);
    expect(simulator.stats().file_requests_with_authorization).toBe(0);
    await download(video, { authorization: `Bearer ${KEY}` });
    expect(simulator.stats().file_requests_with_authorization).toBe(1);
    expect(simulator.ledger().totals.file_requests_with_authorization).toBe(1);
  });

  it('has no file for unfinished, failed or unknown tasks', async () => {
    const simulator = await sim({ latency: { min: 30, max: 30 } });
    const { id } = (await (await post(simulator.url, BODY)).json()) as { id: string };
    expect((await get(simulator.url, id)).status).toBe(200);
    expect((await fetch(`${simulator.fileUrl}/videos/${id}.mp4`)).status).toBe(404);
    expect((await fetch(`${simulator.fileUrl}/videos/task_nothere.mp4`)).status).toBe(404);
    expect((await fetch(`${simulator.fileUrl}/elsewhere`)).status).toBe(404);
    const failing = await sim({ failRate: 1 });
    const failed = await render(failing.url);
    expect((await fetch(`${failing.fileUrl}/videos/${String(failed.id)}.mp4`)).status).toBe(404);
  });
});

describe('Range and HEAD on files', () => {
  it('answers 206 with Content-Range, suffix and open ranges, 416 past the end', async () => {
    const { url } = await sim();
    const video = ((await render(url)).metadata as { url: string }).url;
    const whole = await download(video);
    expect(whole.res.status).toBe(200);
    expect(whole.res.headers.get('accept-ranges')).toBe('bytes');
    expect(whole.res.headers.get('content-type')).toBe('video/mp4');
    const size = whole.bytes.length;
    expect(Number(whole.res.headers.get('content-length'))).toBe(size);

    const first = await download(video, { range: 'bytes=0-99' });
    expect(first.res.status).toBe(206);
    expect(first.res.headers.get('content-range')).toBe(`bytes 0-99/${size}`);
    expect(first.bytes.equals(whole.bytes.subarray(0, 100))).toBe(true);

    const rest = await download(video, { range: 'bytes=100-' });
    expect(rest.res.headers.get('content-range')).toBe(`bytes 100-${size - 1}/${size}`);
    expect(Buffer.concat([first.bytes, rest.bytes]).equals(whole.bytes)).toBe(true);

    const tail = await download(video, { range: 'bytes=-10' });
    expect(tail.bytes.equals(whole.bytes.subarray(size - 10))).toBe(true);

    const beyond = await download(video, { range: `bytes=${size}-` });
    expect(beyond.res.status).toBe(416);
    expect(beyond.res.headers.get('content-range')).toBe(`bytes */${size}`);

    const head = await fetch(video, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBe(size);
    expect((await head.arrayBuffer()).byteLength).toBe(0);

    const file = path.join(work, 'whole.mp4');
    writeFileSync(file, whole.bytes);
    expect((await probe(file)).streams.length).toBe(2);
  });
});
