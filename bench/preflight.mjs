// Preflight of a good set of references on loopback, through the built CLI (`shotlist check
// --json`, whose `ms` is the preflight alone): 8 images (one served GET-only, one behind a
// redirect), two reference videos and an audio (probed with ffprobe over HTTP). Cold is a
// fresh output folder; cached is a second check that finds the probes in .preflight.json.
import { execFile } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { median } from './util.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const run = promisify(execFile);
const RUNS = 5;

async function ffmpeg(args) {
  await run(process.env.FFMPEG_PATH ?? 'ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    ...args,
  ]);
}

async function makeFiles(dir) {
  const f = (name) => path.join(dir, name);
  await ffmpeg(['-f', 'lavfi', '-i', 'color=c=red:s=640x360', '-frames:v', '1', f('a.png')]);
  for (const [name, seconds] of [
    ['three.mp4', 3],
    ['six.mp4', 6],
  ]) {
    await ffmpeg([
      '-f',
      'lavfi',
      '-i',
      `testsrc=s=640x360:r=24:d=${seconds}`,
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-pix_fmt',
      'yuv420p',
      f(name),
    ]);
  }
  await ffmpeg(['-f', 'lavfi', '-i', 'sine=d=2', '-c:a', 'aac', f('tone.m4a')]);
  return {
    '/a.png': { type: 'image/png', file: f('a.png') },
    '/three.mp4': { type: 'video/mp4', file: f('three.mp4') },
    '/six.mp4': { type: 'video/mp4', file: f('six.mp4') },
    '/tone.m4a': { type: 'audio/mp4', file: f('tone.m4a') },
  };
}

/** A static host with ranges (ffprobe reads the videos by range), ETags, a GET-only path and a redirect. */
function startHost(files) {
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/moved.png') {
      res.writeHead(302, { location: '/a.png' }).end();
      return;
    }
    const getOnly = url.pathname === '/get-only.png';
    const entry = files[getOnly ? '/a.png' : url.pathname.replace(/^\/img\d+/, '')];
    if (!entry || (getOnly && req.method === 'HEAD')) {
      res.writeHead(getOnly ? 405 : 404).end();
      return;
    }
    const size = statSync(entry.file).size;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    const end = range && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
    res.writeHead(range ? 206 : 200, {
      'content-type': entry.type,
      'content-length': end - start + 1,
      'accept-ranges': 'bytes',
      etag: `"${size}"`,
      ...(range ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
    });
    if (req.method === 'HEAD') res.end();
    else createReadStream(entry.file, { start, end }).pipe(res);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${server.address().port}` }),
    ),
  );
}

async function check(manifest, out) {
  const { stdout } = await run(
    process.execPath,
    [path.join(root, 'bin/shotlist.js'), 'check', manifest, '--json', '--out', out],
    { encoding: 'utf8', env: { ...process.env, CI: 'true' } },
  );
  const doc = JSON.parse(stdout);
  if (!doc.ok) throw new Error(`preflight refused the good set: ${stdout}`);
  return doc;
}

export async function benchPreflight() {
  const dir = mkdtempSync(path.join(tmpdir(), 'shotlist-bench-preflight-'));
  const { server, url } = await startHost(await makeFiles(dir));
  try {
    const images = [
      ...Array.from({ length: 6 }, (_, i) => `${url}/img${i}/a.png`),
      `${url}/get-only.png`,
      `${url}/moved.png`,
    ];
    const manifest = path.join(dir, 'good.yaml');
    writeFileSync(
      manifest,
      `version: 1
name: good
defaults: { model: seedance-2-official, duration: 4, ratio: '16:9', size: 480p }
shots:
${images.map((u, i) => `  - { id: i${i}, prompt: 从这张图开始, assets: { images: ["${u}"] } }`).join('\n')}
  - id: refs
    prompt: 按 @video_file_1 和 @video_file_2 的节奏, @audio_file_1 作为配乐
    mode: multi_ref
    assets: { videos: ["${url}/three.mp4", "${url}/six.mp4"], audios: ["${url}/tone.m4a"] }
`,
    );
    const cold = [];
    const cached = [];
    for (let i = 0; i < RUNS; i++) {
      const out = path.join(dir, `out${i}`);
      const first = await check(manifest, out);
      if (first.probed !== 3) throw new Error(`expected 3 probes, got ${first.probed}`);
      cold.push(first.ms);
      cached.push((await check(manifest, out)).ms);
    }
    const refs = `${images.length + 3} references (8 images, 2 videos, 1 audio; 3 probed)`;
    return {
      preflight_good_set_ms: {
        value: median(cold),
        unit: 'ms',
        target: 'well under 1000',
        note: `${refs} on loopback, fresh output folder; median of ${RUNS}`,
      },
      preflight_good_set_cached_ms: {
        value: median(cached),
        unit: 'ms',
        note: 'the same check again: HEADs only, probes from .preflight.json',
      },
    };
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
