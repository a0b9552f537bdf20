import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { shotlist, tempDir } from '../helpers/cli.js';
import { KEY, childEnv, filesUnder, runArgs } from './run-helpers.js';
import { FFMPEG, makeImage } from '../helpers/tools.js';

// The SDK's Node-version notice, here as in the CLI.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const SECRET = 'storage-secret-e2e-9d2f1b7c';
const BUCKET = 'media';

let tmp: ReturnType<typeof tempDir>;
let sim: Simulator | undefined;
let s3: S3rver | undefined;
let proxy: Server | undefined;
/** Every header the storage received, as text. */
let seenHeaders: string[];

beforeEach(() => {
  tmp = tempDir('shotlist-uploads-s3-');
  seenHeaders = [];
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  await s3?.close();
  s3 = undefined;
  await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
  proxy = undefined;
  tmp.cleanup();
});

/** s3rver on loopback behind a recording proxy: returns the proxy's endpoint. */
async function startStorage(dir: string): Promise<string> {
  s3 = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dir,
    allowMismatchedSignatures: true,
    configureBuckets: [{ name: BUCKET, configs: [] }],
  });
  const { port } = (await s3.run()) as AddressInfo;
  proxy = createServer((req, res) => {
    seenHeaders.push(JSON.stringify(req.headers));
    const upstream = request(
      { host: '127.0.0.1', port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
}

function sha(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function writeFilm(dir: string, endpoint: string): string {
  const file = path.join(dir, 'film.yaml');
  writeFileSync(
    file,
    `version: 1
name: film
defaults: { model: seedance-2-official, duration: 4, ratio: '16:9', size: 480p }
uploads:
  provider: s3
  bucket: ${BUCKET}
  region: us-east-1
  endpoint: ${endpoint}
  path_style: true
  prefix: refs/
  public_url: https://cdn.example.com/{key}
shots:
  - id: s01
    prompt: 猫从窗台跳下
    assets: { images: [./refs/a.png] }
  - id: s02
    prompt: 从白天到黄昏
    assets: { images: [./refs/b.png, ./refs/c.png] }
  - id: s03
    prompt: 参考 @image_file_1 的猫, @video_file_1 的动作
    mode: multi_ref
    assets: { images: [./refs/a.png, ./refs/c.png], videos: [./refs/move.mp4] }
  - id: s04
    prompt: 夜空
`,
  );
  return file;
}

async function bucketObjects(endpoint: string) {
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: SECRET },
  });
  try {
    const list = await client.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    const objects = new Map<string, { bytes: Buffer; type: string | undefined }>();
    for (const { Key } of list.Contents ?? []) {
      const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
      objects.set(Key!, {
        bytes: Buffer.from(await got.Body!.transformToByteArray()),
        type: got.ContentType,
      });
    }
    return objects;
  } finally {
    client.destroy();
  }
}

describe('local assets uploaded to S3-compatible storage (built bin)', () => {
  it('uploads each file once under its hash key; a re-run uploads and submits nothing; an edited image re-renders only its shots', async () => {
    const endpoint = await startStorage(path.join(tmp.dir, 's3'));
    sim = await startSimulator({ apiKey: KEY, latency: '0.1-0.3', seed: 9 });
    const refs = path.join(tmp.dir, 'refs');
    mkdirSync(refs);
    makeImage(path.join(refs, 'a.png'), 'red');
    makeImage(path.join(refs, 'b.png'), 'green');
    makeImage(path.join(refs, 'c.png'), 'blue');
    execFileSync(FFMPEG, [
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'testsrc=s=64x36:d=2',
      '-pix_fmt',
      'yuv420p',
      path.join(refs, 'move.mp4'),
    ]);
    const manifest = writeFilm(tmp.dir, endpoint);
    const out = path.join(tmp.dir, 'out');
    const env = {
      ...childEnv,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: SECRET,
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    const outputs: string[] = [];

    const plan = await shotlist(['plan', manifest], { env });
    outputs.push(plan.stdout, plan.stderr);
    expect(plan.exitCode).toBe(0);
    const aUrl = `https://cdn.example.com/refs/${sha(path.join(refs, 'a.png'))}.png`;
    expect(plan.stdout).toContain(`./refs/a.png -> ${aUrl}`);
    expect(seenHeaders).toEqual([]);

    const first = await shotlist(runArgs(manifest, sim, out), { env });
    outputs.push(first.stdout, first.stderr);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.stdout + first.stderr).toContain('uploaded 4, already there 0');
    expect(first.stderr).not.toContain('NodeVersionSupportWarning');
    const objects = await bucketObjects(endpoint);
    expect([...objects.keys()].sort()).toEqual(
      [
        ['a.png', 'image/png'],
        ['b.png', 'image/png'],
        ['c.png', 'image/png'],
        ['move.mp4', 'video/mp4'],
      ]
        .map(([name]) => `refs/${sha(path.join(refs, name!))}${path.extname(name!)}`)
        .sort(),
    );
    for (const [name, type] of [
      ['a.png', 'image/png'],
      ['move.mp4', 'video/mp4'],
    ] as const) {
      const object = objects.get(`refs/${sha(path.join(refs, name))}${path.extname(name)}`)!;
      expect(object.bytes.equals(readFileSync(path.join(refs, name)))).toBe(true);
      expect(object.type).toBe(type);
    }
    const sent = sim.ledger().submissions;
    expect(sent).toHaveLength(4);
    expect(sent.find((s) => s.body.prompt === '猫从窗台跳下')?.body.images).toEqual([aUrl]);

    const again = await shotlist(runArgs(manifest, sim, out), { env });
    outputs.push(again.stdout, again.stderr);
    expect(again.exitCode).toBe(0);
    expect(sim.ledger().submissions).toHaveLength(4);
    expect((await bucketObjects(endpoint)).size).toBe(4);

    makeImage(path.join(refs, 'c.png'), 'yellow');
    const edited = await shotlist(runArgs(manifest, sim, out), { env });
    outputs.push(edited.stdout, edited.stderr);
    expect(edited.exitCode, edited.stderr).toBe(0);
    expect(edited.stdout + edited.stderr).toContain('uploaded 1, already there 3');
    const resent = sim
      .ledger()
      .submissions.slice(4)
      .map((s) => s.body.prompt);
    expect(resent.sort()).toEqual(
      ['从白天到黄昏', '参考 @image_file_1 的猫, @video_file_1 的动作'].sort(),
    );
    expect((await bucketObjects(endpoint)).size).toBe(5);

    // The API key never reaches the storage; the storage secret is in no output or file.
    expect(seenHeaders.length).toBeGreaterThan(0);
    for (const h of seenHeaders) expect(h).not.toContain(KEY);
    for (const text of outputs) expect(text).not.toContain(SECRET);
    for (const file of filesUnder(out))
      expect(readFileSync(file).includes(SECRET), file).toBe(false);
  });
});
