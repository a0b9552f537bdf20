import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  cachedProbe,
  readProbeCache,
  rememberProbe,
  writeProbeCache,
} from '../../src/assets/preflight-cache.js';
import { collectRefs } from '../../src/assets/preflight-refs.js';
import {
  httpProblem,
  mediaProblem,
  preflight,
  preflightTimeoutMs,
} from '../../src/assets/preflight.js';
import { startAssetHost, type AssetHost } from '../e2e/preflight-assets.js';

const shot = (id: string, request: object) => ({
  id,
  variant: null,
  take: 1,
  request: { model: 'm', prompt: 'p', ...request },
});

describe('which references are fetched', () => {
  test('http(s) images, videos and audios with their fields; asset:// ids pass', () => {
    const { refs, skipped } = collectRefs(
      [
        shot('a', {
          images: ['asset://asset-1', 'https://cdn.example/a.png'],
          metadata: {
            video_urls: ['http://127.0.0.1:1/v.mp4'],
            audio_urls: ['https://cdn.example/a.mp3'],
          },
        }),
      ],
      { loopbackOnly: false },
    );
    expect(skipped).toBe(0);
    expect(refs.map((r) => [r.field, r.role])).toEqual([
      ['images.1', 'image'],
      ['metadata.video_urls.0', 'video'],
      ['metadata.audio_urls.0', 'audio'],
    ]);
  });

  test('a simulated run fetches loopback hosts only', () => {
    const { refs, skipped } = collectRefs(
      [shot('a', { images: ['https://example.com/a.png', 'http://localhost:8/b.png'] })],
      { loopbackOnly: true },
    );
    expect(refs.map((r) => r.url)).toEqual(['http://localhost:8/b.png']);
    expect(skipped).toBe(1);
  });
});

describe('verdicts', () => {
  test('status, type by role, empty files', () => {
    expect(httpProblem('image', { status: 404 })).toBe('the host answered HTTP 404 (not found)');
    expect(httpProblem('image', { status: 403 })).toMatch(
      /HTTP 403 \(forbidden: the file is private\)/,
    );
    expect(httpProblem('image', { status: 200, contentType: 'text/html' })).toMatch(
      /serves it as text\/html; an image \(image\/\*\) is needed/,
    );
    expect(httpProblem('audio', { status: 200, contentType: 'video/mp4' })).toMatch(
      /an audio \(audio\/\*\)/,
    );
    expect(httpProblem('video', { status: 200, contentType: 'video/mp4', size: 0 })).toBe(
      'the file is empty',
    );
    expect(
      httpProblem('image', { status: 200, contentType: 'application/octet-stream' }),
    ).toBeUndefined();
    expect(
      httpProblem('image', { status: 200, contentType: 'image/webp', size: 10 }),
    ).toBeUndefined();
  });

  test('reference video length and streams', () => {
    expect(mediaProblem('video', { durationSec: 1.2, hasVideo: true, hasAudio: false })).toMatch(
      /lasts 1.2 s; .* at least 1.8 s/,
    );
    expect(
      mediaProblem('video', { durationSec: 1.8, hasVideo: true, hasAudio: false }),
    ).toBeUndefined();
    expect(mediaProblem('video', { durationSec: 5, hasVideo: false, hasAudio: true })).toMatch(
      /no video stream/,
    );
    expect(mediaProblem('audio', { durationSec: 5, hasVideo: true, hasAudio: false })).toMatch(
      /no audio stream/,
    );
  });

  test('the timeout comes from the option, else the environment; a bad value is refused', () => {
    expect(preflightTimeoutMs({ env: {} })).toBe(10_000);
    expect(preflightTimeoutMs({ env: { SHOTLIST_PREFLIGHT_TIMEOUT: '0.5' } })).toBe(500);
    expect(preflightTimeoutMs({ timeoutMs: 7, env: { SHOTLIST_PREFLIGHT_TIMEOUT: '3' } })).toBe(7);
    expect(() => preflightTimeoutMs({ env: { SHOTLIST_PREFLIGHT_TIMEOUT: 'soon' } })).toThrow(
      /SHOTLIST_PREFLIGHT_TIMEOUT/,
    );
  });
});

describe('the probe cache is untrusted input', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'shotlist-preflight-cache-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('round trip; reused only while the ETag or Last-Modified and size match', async () => {
    const cache = await readProbeCache(dir);
    const media = { durationSec: 3, hasVideo: true, hasAudio: false };
    rememberProbe(cache, 'http://h/v.mp4', { status: 200, etag: '"1"', size: 9 }, media);
    rememberProbe(cache, 'http://h/nv.mp4', { status: 200 }, media);
    await writeProbeCache(dir, cache);
    const back = await readProbeCache(dir);
    expect(back.size).toBe(1);
    expect(cachedProbe(back, 'http://h/v.mp4', { status: 200, etag: '"1"' })).toEqual(media);
    expect(cachedProbe(back, 'http://h/v.mp4', { status: 200, etag: '"2"' })).toBeUndefined();
  });

  test('garbage, wrong shapes and links are ignored', async () => {
    writeFileSync(
      path.join(dir, '.preflight.json'),
      '{"v":1,"probes":{"u":{"duration_sec":"x"},"w":{"duration_sec":2,"has_video":true,"has_audio":false}}}',
    );
    expect([...(await readProbeCache(dir)).keys()]).toEqual(['w']);
    writeFileSync(path.join(dir, '.preflight.json'), 'not json');
    expect((await readProbeCache(dir)).size).toBe(0);
    const other = path.join(dir, 'elsewhere.json');
    writeFileSync(
      other,
      '{"v":1,"probes":{"w":{"duration_sec":2,"has_video":true,"has_audio":false}}}',
    );
    rmSync(path.join(dir, '.preflight.json'));
    symlinkSync(other, path.join(dir, '.preflight.json'));
    expect((await readProbeCache(dir)).size).toBe(0);
  });
});

describe('asking hosts', () => {
  let host: AssetHost;
  beforeAll(async () => {
    host = await startAssetHost({
      '/hang.png': { hang: true },
      '/loop.png': { redirect: '/loop.png' },
      '/ok.png': { type: 'image/png', body: '\x89PNG....', noHead: true },
    });
  });
  afterAll(() => host.close());

  test('a host that never answers fails within the (small) timeout', async () => {
    const result = await preflight([shot('a', { images: [`${host.url}/hang.png`] })], {
      timeoutMs: 300,
      env: {},
    });
    expect(result.findings.map((f) => [f.field, f.problem])).toEqual([
      ['images.0', 'no answer within 0.3 s'],
    ]);
  });

  test('redirect loops end; a host refusing HEAD is asked with a one-byte GET', async () => {
    const result = await preflight(
      [shot('a', { images: [`${host.url}/loop.png`, `${host.url}/ok.png`] })],
      { env: {} },
    );
    expect(result.findings.map((f) => [f.field, f.problem])).toEqual([
      ['images.0', 'more than 5 redirects'],
    ]);
    const ok = host.requests
      .filter((r) => r.path === '/ok.png')
      .map((r) => [r.method, r.headers.range]);
    expect(ok).toEqual([
      ['HEAD', undefined],
      ['GET', 'bytes=0-0'],
    ]);
  });
});
