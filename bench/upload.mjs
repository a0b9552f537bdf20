// Uploading local assets: 200 files of 1 MB each to an S3-compatible server on loopback
// (s3rver), 8 at a time, through the built modules in a child process: wall time and the
// child's peak RSS (files stream: RSS must stay well under the 200 MB uploaded), then the
// upload phase of a no-change re-run (journal hits) and of one with a fresh journal (HEADs).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const CHILD = `
const [manifest, out] = process.argv.slice(1);
const { loadManifest } = await import(${JSON.stringify(`${root}/dist/manifest/load.js`)});
const { localAssets } = await import(${JSON.stringify(`${root}/dist/assets/local.js`)});
const { openUploadTarget } = await import(${JSON.stringify(`${root}/dist/assets/open.js`)});
const { uploadToTarget } = await import(${JSON.stringify(`${root}/dist/pipeline/uploads.js`)});
const t0 = performance.now();
const loaded = await loadManifest(manifest, { missingUploads: 'error' });
const assets = await localAssets(loaded);
const target = await openUploadTarget(loaded.manifest.uploads, process.env);
// After the SDK is loaded: a fixed cost of any s3 upload, not of the upload phase.
const t1 = performance.now();
const summary = await uploadToTarget(assets, target, out, { useJournal: true });
const t2 = performance.now();
process.stdout.write(JSON.stringify({ ...summary, hashMs: t1 - t0, uploadMs: t2 - t1, wallMs: t2 - t0, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
`;

// Asynchronous: the S3 server runs in this process and must keep answering.
async function child(manifest, out, env) {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--input-type=module', '-e', CHILD, manifest, out],
    {
      env: { ...process.env, ...env },
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    },
  );
  return JSON.parse(stdout);
}

export async function benchUpload({ files = 200, mb = 1 } = {}) {
  const { default: S3rver } = await import('s3rver');
  const dir = mkdtempSync(path.join(tmpdir(), 'shotlist-bench-upload-'));
  const s3 = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: path.join(dir, 's3'),
    configureBuckets: [{ name: 'bench', configs: [] }],
  });
  const { port } = await s3.run();
  try {
    mkdirSync(path.join(dir, 'refs'));
    const shots = [];
    for (let i = 0; i < files; i++) {
      writeFileSync(path.join(dir, 'refs', `f${i}.png`), randomBytes(mb * 1024 * 1024));
      shots.push(
        `  - id: s${i}\n    prompt: shot ${i}\n    assets: { images: [./refs/f${i}.png] }`,
      );
    }
    const manifest = path.join(dir, 'film.yaml');
    writeFileSync(
      manifest,
      `version: 1\nname: bench\ndefaults: { model: seedance-2-official, duration: 4 }\nuploads:\n  provider: s3\n  bucket: bench\n  region: us-east-1\n  endpoint: http://127.0.0.1:${port}\n  path_style: true\n  public_url: https://cdn.example.com/{key}\nshots:\n${shots.join('\n')}\n`,
    );
    const env = {
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    const out = path.join(dir, 'out');
    const first = await child(manifest, out, env);
    if (first.uploaded !== files) throw new Error(`uploaded ${first.uploaded} of ${files}`);
    const again = await child(manifest, out, env);
    if (again.uploaded !== 0) throw new Error(`the re-run uploaded ${again.uploaded}`);
    const heads = await child(manifest, path.join(dir, 'out2'), env);
    if (heads.uploaded !== 0) throw new Error(`the fresh-journal run uploaded ${heads.uploaded}`);
    const total = `${files} × ${mb} MB`;
    return {
      upload_wall_ms: {
        value: first.uploadMs,
        unit: 'ms',
        note: `${total} to s3rver on loopback, 8 at a time (hashing and loading the SDK apart: ${Math.round(first.hashMs)} ms)`,
      },
      upload_peak_rss_mb: {
        value: first.maxRssMb,
        unit: 'MB',
        target: `well under ${files * mb} MB`,
        note: 'peak RSS of the uploading process',
      },
      upload_rerun_journal_ms: {
        value: again.uploadMs,
        unit: 'ms',
        note: 'no-change re-run: upload phase, journal hits only',
      },
      upload_rerun_head_ms: {
        value: heads.uploadMs,
        unit: 'ms',
        note: 'same files, fresh journal: upload phase, one HEAD per file',
      },
    };
  } finally {
    await s3.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const files = Number(process.argv[2] ?? 200);
  process.stdout.write(`${JSON.stringify(await benchUpload({ files }), null, 2)}\n`);
}
