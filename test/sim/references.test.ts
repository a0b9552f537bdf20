import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makePng, startAssetHost, type AssetHost } from '../e2e/preflight-assets.js';
import type { SimulatorOptions } from '../../src/sim/index.js';
import { BODY, KEY, coldCache, probe, render, sim as startSim } from './helpers.js';
import { FFMPEG } from '../helpers/tools.js';

let dir: string;
let host: AssetHost;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'shotlist-sim-refs-'));
  host = await startAssetHost({
    '/yellow.png': { type: 'image/png', file: makePng(path.join(dir, 'yellow.png'), 'yellow') },
    '/magenta.png': { type: 'image/png', file: makePng(path.join(dir, 'magenta.png'), 'magenta') },
    '/page.png': { type: 'text/html', body: '<html>sign in</html>' },
    '/hang.png': { hang: true },
  });
});

afterAll(async () => {
  await host.close();
  rmSync(dir, { recursive: true, force: true });
});

// These tests look into the clips: each is encoded here, none taken from a shared cache.
const cold = coldCache();
const sim = (options: SimulatorOptions = {}) => startSim({ cacheDir: cold, ...options });

/** The colour (r, g, b) of the first frame's top-left corner, decoded by ffmpeg. */
async function firstCorner(url: string): Promise<number[]> {
  const { stdout } = await execa(
    FFMPEG,
    [
      '-v',
      'error',
      '-i',
      url,
      '-frames:v',
      '1',
      '-vf',
      'crop=8:8:0:0,scale=1:1',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-',
    ],
    { encoding: 'buffer' },
  );
  return [...stdout];
}

const near = (got: number[], want: number[]) => got.every((v, i) => Math.abs(v - want[i]!) < 40);

describe('the simulator fetches loopback references', () => {
  test('an image-to-video clip starts from its image; another image, another clip', async () => {
    const s = await sim();
    const clip = async (image: string) => {
      const task = await render(s.url, { ...BODY, images: [`${host.url}${image}`] });
      expect(task.status).toBe('completed');
      return (task.metadata as { url: string }).url;
    };
    const yellowClip = await clip('/yellow.png');
    // Still the clip of the body: its pixel size, 24 fps, 24*d+1 frames.
    const video = (await probe(yellowClip, { decode: false })).streams.find(
      (st) => st.codec_type === 'video',
    );
    expect(video).toMatchObject({
      width: 864,
      height: 496,
      r_frame_rate: '24/1',
      nb_read_packets: '97',
    });
    const yellow = await firstCorner(yellowClip);
    const magenta = await firstCorner(await clip('/magenta.png'));
    expect(near(yellow, [255, 255, 0]), `yellow: ${yellow.join(',')}`).toBe(true);
    expect(near(magenta, [255, 0, 255]), `magenta: ${magenta.join(',')}`).toBe(true);
    // The request that sent it was the simulator's own: no key for the asset host.
    expect(host.requests.every((r) => r.headers.authorization === undefined)).toBe(true);
    expect(JSON.stringify(host.requests)).not.toContain(KEY);
  });

  test('first/last frame starts from the first image', async () => {
    const s = await sim();
    const task = await render(s.url, {
      ...BODY,
      images: [`${host.url}/magenta.png`, `${host.url}/yellow.png`],
    });
    expect(near(await firstCorner((task.metadata as { url: string }).url), [255, 0, 255])).toBe(
      true,
    );
  });

  test.each([
    [
      'missing',
      '/missing.png',
      /images\[0\]: the image at http:\/\/127\.0\.0\.1:\d+\/missing\.png could not be fetched \(HTTP 404\)/,
    ],
    ['not an image', '/page.png', /is not an image/],
    ['unreachable', 'http://127.0.0.1:9/closed.png', /could not be fetched \(.*ECONNREFUSED/],
  ])(
    'an image that is %s fails the task with the reference error shape',
    async (_, image, message) => {
      const s = await sim();
      const url = image.startsWith('http') ? image : `${host.url}${image}`;
      const task = await render(s.url, { ...BODY, images: [url] });
      expect(task).toMatchObject({ status: 'failed', progress: 100 });
      expect(Object.keys(task.error as object).sort()).toEqual(['code', 'message']);
      expect(task.error).toMatchObject({
        code: 'invalid_reference',
        message: expect.stringMatching(message),
      });
      expect(task.metadata).toBeUndefined();
    },
  );

  test('references on other hosts are accepted unchecked', async () => {
    const s = await sim();
    const task = await render(s.url, { ...BODY, images: ['https://example.com/cat.png'] });
    expect(task.status).toBe('completed');
  });
});
