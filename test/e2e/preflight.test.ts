import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { shotlist, tempDir } from '../helpers/cli.js';
import { KEY, childEnv, runArgs } from './run-helpers.js';
import {
  makeAudio,
  makePng,
  makeVideo,
  startAssetHost,
  type AssetHost,
} from './preflight-assets.js';

let tmp: ReturnType<typeof tempDir>;
let host: AssetHost;
let sim: Simulator;

beforeAll(async () => {
  tmp = tempDir('shotlist-preflight-');
  const f = (name: string) => path.join(tmp.dir, name);
  const png = makePng(f('good.png'), 'red');
  const video = (name: string, seconds: number) => ({
    type: 'video/mp4',
    file: makeVideo(f(name), seconds),
  });
  host = await startAssetHost({
    '/good.png': { type: 'image/png', file: png },
    '/get-only.png': { type: 'image/png', file: png, noHead: true },
    '/moved.png': { redirect: '/good.png' },
    '/private.png': { status: 403, type: 'application/xml', body: '<Error>AccessDenied</Error>' },
    '/page.png': { type: 'text/html; charset=utf-8', body: '<html><body>login</body></html>' },
    '/hang.png': { hang: true },
    '/good.mp4': video('good.mp4', 3),
    '/short.mp4': video('short.mp4', 1.2),
    '/six.mp4': video('six.mp4', 6),
    '/five-a.mp4': video('five-a.mp4', 5),
    '/five-b.mp4': video('five-b.mp4', 5),
    '/tone.m4a': { type: 'audio/mp4', file: makeAudio(f('tone.m4a'), 2) },
  });
  sim = await startSimulator({ apiKey: KEY, latency: 0, seed: 9 });
});

afterAll(async () => {
  await sim?.close();
  await host?.close();
  tmp?.cleanup();
});

/** A manifest of the given shots' `assets`, one shot each, written to a fresh folder. */
function manifest(name: string, shots: string[]): string {
  const file = path.join(tmp.dir, `${name}.yaml`);
  const body = shots
    .map(
      (assets, i) =>
        `  - id: s${i + 1}\n    prompt: ${assets.includes('videos') ? '使用 @video_file_1 控制节奏,' : ''}镜头 ${i + 1}\n    ${assets}`,
    )
    .join('\n');
  writeFileSync(
    file,
    `version: 1
name: ${name}
defaults: { model: seedance-2-official, duration: 4, ratio: '16:9', size: 480p }
pricing: { currency: CNY, per_second: { seedance-2-official: 1.0 } }
shots:
${body}
`,
  );
  return file;
}

const image = (p: string) => `assets: { images: ["${host.url}${p}"] }`;
const videos = (...ps: string[]) =>
  `mode: multi_ref\n    assets: { videos: [${ps.map((p) => `"${host.url}${p}"`).join(', ')}] }`;

const BAD: [string, () => string, RegExp][] = [
  ['a 404 image', () => image('/missing.png'), /HTTP 404 \(not found\)/],
  ['a private (403) image', () => image('/private.png'), /HTTP 403 \(forbidden/],
  [
    'an HTML page as an image',
    () => image('/page.png'),
    /serves it as text\/html; an image \(image\/\*\) is needed/,
  ],
  [
    'a 1.2 s reference video',
    () => videos('/short.mp4'),
    /lasts 1\.2 s; each reference video must last at least 1\.8 s/,
  ],
  [
    'three videos totalling 16 s',
    () => videos('/six.mp4', '/five-a.mp4', '/five-b.mp4'),
    /videos last 16\.0 s together; at most 15 s/,
  ],
  ['a URL that never answers', () => image('/hang.png'), /no answer within 1 s/],
];

// A host that answers gets a minute (a loaded machine may be slow to answer); only the checks
// that include the URL that never answers give up after 1 s.
const env = { ...childEnv, SHOTLIST_PREFLIGHT_TIMEOUT: '60' };
const hangEnv = { ...childEnv, SHOTLIST_PREFLIGHT_TIMEOUT: '1' };

describe('check', () => {
  test('reports every bad reference at once, per shot and field, exit 2', async () => {
    const file = manifest(
      'all-bad',
      BAD.map(([, assets]) => assets()),
    );
    const r = await shotlist(['check', file, '--timeout', '1', '--json'], { env });
    expect(r.exitCode).toBe(2);
    const doc = JSON.parse(r.stdout) as {
      ok: boolean;
      findings: {
        shot: string;
        field: string;
        url: string | null;
        problem: string;
        status?: number;
      }[];
    };
    expect(doc.ok).toBe(false);
    BAD.forEach(([, , pattern], i) => {
      const found = doc.findings.filter((f) => f.shot === `s${i + 1}`);
      expect(
        found.some((f) => pattern.test(f.problem)),
        `s${i + 1}: ${JSON.stringify(found)}`,
      ).toBe(true);
    });
    expect(doc.findings.find((f) => f.shot === 's1')).toMatchObject({
      field: 'images.0',
      status: 404,
    });
    expect(doc.findings.find((f) => f.shot === 's2')).toMatchObject({ status: 403 });
    // A good video among bad ones is not a finding; the total rule names the shot's videos.
    expect(doc.findings.filter((f) => f.shot === 's5')).toEqual([
      expect.objectContaining({ field: 'metadata.video_urls', url: null }),
    ]);
  });

  test('passes a good set: an image, one served GET-only, a redirect, videos and an audio', async () => {
    const file = manifest('good', [
      image('/good.png'),
      image('/get-only.png'),
      image('/moved.png'),
      `mode: multi_ref\n    assets: { videos: ["${host.url}/good.mp4", "${host.url}/six.mp4"], audios: ["${host.url}/tone.m4a"] }`,
    ]);
    const out = path.join(tmp.dir, 'out-good');
    const first = await shotlist(['check', file, '--json', '--out', out], { env });
    expect(first.stderr).toBe('');
    expect(first.exitCode).toBe(0);
    const doc = JSON.parse(first.stdout) as {
      ok: boolean;
      refs: number;
      probed: number;
      ms: number;
    };
    expect(doc).toMatchObject({ ok: true, refs: 6, probed: 3 });
    console.log(`preflight of a good set (6 references, 3 probed) on loopback: ${doc.ms} ms`);
    // The second check asks the host again but reads no video twice (ETag unchanged).
    const again = JSON.parse(
      (await shotlist(['check', file, '--json', '--out', out], { env })).stdout,
    ) as { probed: number; probe_cache_hits: number; ms: number };
    expect(again).toMatchObject({ probed: 0, probe_cache_hits: 3 });
    console.log(`again, from the cache: ${again.ms} ms`);
  });

  test('under --simulate, hosts other than loopback are not fetched', async () => {
    const file = manifest('offline', [`assets: { images: ["https://example.com/cat.png"] }`]);
    const r = await shotlist(['check', file, '--simulate'], { env });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/1 on other hosts not fetched/);
  });

  test('under --simulate, what ffprobe found is kept in the simulated folder, never the real one', async () => {
    const file = manifest('rehearsal', [videos('/good.mp4')]);
    const r = await shotlist(['check', file, '--simulate', '--json'], { env });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, probed: 1 });
    const renders = path.join(tmp.dir, 'renders');
    expect(existsSync(path.join(renders, 'rehearsal.simulated', '.preflight.json'))).toBe(true);
    expect(existsSync(path.join(renders, 'rehearsal'))).toBe(false);
  });
});

describe('run', () => {
  test.each(BAD)('refuses %s with exit 2 and submits nothing', async (name, assets, pattern) => {
    const before = sim.ledger().submissions.length;
    const file = manifest(`bad-${BAD.findIndex(([n]) => n === name)}`, [
      image('/good.png'),
      assets(),
    ]);
    const r = await shotlist(
      runArgs(file, sim, path.join(tmp.dir, `out-${name.replace(/\W+/g, '-')}`)),
      { env: pattern.source.includes('no answer') ? hangEnv : env },
    );
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/preflight found 1 problem with the references; nothing was sent/);
    expect(r.stderr).toMatch(pattern);
    expect(sim.ledger().submissions.length).toBe(before);
  });

  test('a good set renders; the API key never reaches the asset host', async () => {
    const before = sim.ledger().submissions.length;
    const seen = host.requests.length;
    const file = manifest('good-run', [image('/good.png'), videos('/good.mp4')]);
    const r = await shotlist(runArgs(file, sim, path.join(tmp.dir, 'out-good-run')), { env });
    expect(r.stderr).not.toMatch(/preflight/);
    expect(r.exitCode).toBe(0);
    expect(sim.ledger().submissions.length).toBe(before + 2);
    const asked = host.requests.slice(seen);
    expect(asked.length).toBeGreaterThan(0);
    for (const { headers } of asked) {
      expect(headers.authorization).toBeUndefined();
      expect(JSON.stringify(headers)).not.toContain(KEY);
    }
  });

  test('--no-preflight sends a bad reference (the simulator then fails the task)', async () => {
    const before = sim.ledger().submissions.length;
    const file = manifest('skipped', [image('/missing.png')]);
    const r = await shotlist(
      [...runArgs(file, sim, path.join(tmp.dir, 'out-skipped')), '--no-preflight'],
      { env },
    );
    expect(r.stdout).toMatch(/s1 failed/);
    expect(sim.ledger().submissions.length).toBe(before + 1);
    expect(r.exitCode).toBe(1);
  });
});
