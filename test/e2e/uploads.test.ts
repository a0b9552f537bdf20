import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { shotlist, tempDir } from '../helpers/cli.js';
import { KEY, childEnv, runArgs } from './run-helpers.js';
import { makeImage } from '../helpers/tools.js';

let tmp: ReturnType<typeof tempDir>;
let sim: Simulator | undefined;
let server: Server | undefined;

beforeEach(() => {
  tmp = tempDir('shotlist-uploads-');
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
  tmp.cleanup();
});

function sha(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** A static file server over `dir` on loopback, recording each request's headers. */
async function serve(dir: string, headers: string[]): Promise<string> {
  server = createServer((req, res) => {
    headers.push(JSON.stringify(req.headers));
    const file = path.join(dir, path.basename(decodeURIComponent(req.url ?? '/')));
    if (!existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'image/png' });
    res.end(req.method === 'HEAD' ? undefined : readFileSync(file));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function writeFilm(dir: string, uploads: string, images: string[]): string {
  const file = path.join(dir, 'film.yaml');
  writeFileSync(
    file,
    `version: 1
name: film
defaults: { model: seedance-2-official, duration: 4, ratio: '16:9', size: 480p }
${uploads}shots:
${images.map((img, i) => `  - id: s0${i + 1}\n    prompt: 镜头 ${i + 1}\n    assets: { images: [${JSON.stringify(img)}] }`).join('\n')}
`,
  );
  return file;
}

// A name a shell would split, expand and run: the command gets it as one argument.
const NASTY = `my cat; $(touch PWNED) 'x' & "y".png`;

describe('local assets (built bin)', () => {
  it('the command provider runs cp without a shell on odd file names; the served URL is what the API gets', async () => {
    const refs = path.join(tmp.dir, 'refs');
    const bucket = path.join(tmp.dir, 'bucket folder');
    mkdirSync(refs);
    mkdirSync(bucket);
    makeImage(path.join(refs, NASTY), 'red');
    const seen: string[] = [];
    const origin = await serve(bucket, seen);
    const manifest = writeFilm(
      tmp.dir,
      `uploads:\n  provider: command\n  command: [cp, "{file}", ${JSON.stringify(`${bucket}/{key}`)}]\n  public_url: ${origin}/{key}\n`,
      [`./refs/${NASTY}`],
    );
    const key = `${sha(path.join(refs, NASTY))}.png`;

    const up = await shotlist(['upload', manifest, '--allow-command'], {
      env: childEnv,
      cwd: tmp.dir,
    });
    expect(up.exitCode, up.stderr).toBe(0);
    expect(up.stdout).toContain('uploaded 1, already there 0');
    expect(readdirSync(bucket)).toEqual([key]);
    expect(readFileSync(path.join(bucket, key)).equals(readFileSync(path.join(refs, NASTY)))).toBe(
      true,
    );
    expect(existsSync(path.join(tmp.dir, 'PWNED'))).toBe(false);

    sim = await startSimulator({ apiKey: KEY, latency: '0.1-0.2', seed: 3 });
    const out = path.join(tmp.dir, 'out');
    const run = await shotlist(runArgs(manifest, sim, out, '--allow-command'), { env: childEnv });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout + run.stderr).toContain('uploaded 0, already there 1');
    expect(sim.ledger().submissions.map((s) => s.body.images)).toEqual([[`${origin}/${key}`]]);
    expect(seen.length).toBeGreaterThan(0);
    for (const h of seen) expect(h).not.toContain(KEY);
  });

  it('the upload command never sees the API key in its environment', async () => {
    const refs = path.join(tmp.dir, 'refs');
    mkdirSync(refs);
    makeImage(path.join(refs, 'a.png'), 'blue');
    const dump = path.join(tmp.dir, 'dump');
    mkdirSync(dump);
    const script =
      "const fs = require('fs'); fs.copyFileSync(process.argv[1], process.argv[2]); fs.writeFileSync(process.argv[2] + '.env', JSON.stringify(process.env))";
    const manifest = writeFilm(
      tmp.dir,
      `uploads:\n  provider: command\n  command: [${JSON.stringify(process.execPath)}, -e, ${JSON.stringify(script)}, "{file}", ${JSON.stringify(`${dump}/{key}`)}]\n  public_url: http://127.0.0.1:9/{key}\n`,
      ['./refs/a.png'],
    );
    const r = await shotlist(['upload', manifest, '--allow-command'], {
      env: { ...childEnv, API_KEY: KEY, STORAGE_TOKEN: 'kept' },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const env = JSON.parse(
      readFileSync(path.join(dump, `${sha(path.join(refs, 'a.png'))}.png.env`), 'utf8'),
    ) as Record<string, string>;
    expect(env.STORAGE_TOKEN).toBe('kept');
    expect(JSON.stringify(env)).not.toContain(KEY);
    // The journal remembers it: a second upload sends nothing.
    const again = await shotlist(['upload', manifest], {
      env: { ...childEnv, SHOTLIST_ALLOW_COMMAND: '1' },
    });
    expect(again.stdout).toContain('uploaded 0, already there 1');
  });

  it('validate reports a missing file and one outside the folder at file:line:col; a real run without uploads refuses', async () => {
    const project = path.join(tmp.dir, 'project');
    mkdirSync(project);
    makeImage(path.join(tmp.dir, 'outside.png'), 'red');
    makeImage(path.join(project, 'here.png'), 'red');
    const manifest = writeFilm(project, '', ['./missing.png', '../outside.png']);
    const v = await shotlist(['validate', manifest]);
    expect(v.exitCode).toBe(2);
    expect(v.stderr).toMatch(
      /film\.yaml:7:\d+: error: image file "\.\/missing\.png" does not exist/,
    );
    expect(v.stderr).toMatch(
      /film\.yaml:10:\d+: error: image file "\.\.\/outside\.png" is outside/,
    );
    expect(v.stderr).toContain('--allow-outside');

    writeFilm(project, '', ['./here.png', '../outside.png']);
    const allowed = await shotlist(['validate', '--allow-outside', manifest]);
    expect(allowed.exitCode, allowed.stderr).toBe(0);
    expect(allowed.stderr).toBe('');

    sim = await startSimulator({ apiKey: KEY });
    const run = await shotlist(
      runArgs(manifest, sim, path.join(tmp.dir, 'out'), '--allow-outside'),
      { env: childEnv },
    );
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/film\.yaml:7:\d+: error: "\.\/here\.png" is a local file/);
    expect(run.stderr).toContain('fix: add uploads:');
    expect(sim.ledger().submissions).toHaveLength(0);
  });

  it('under --simulate the simulator serves the uploads; a re-run uploads and submits nothing; plan names the new URL of an edited file', async () => {
    const refs = path.join(tmp.dir, 'refs');
    mkdirSync(refs);
    makeImage(path.join(refs, 'a.png'), 'red');
    makeImage(path.join(refs, 'b.png'), 'green');
    const manifest = writeFilm(tmp.dir, '', ['./refs/a.png', './refs/b.png']);
    const out = path.join(tmp.dir, 'out');
    const args = ['run', '--simulate', '--yes', '--sim-latency', '0.1-0.2', '--out', out, manifest];
    const first = await shotlist(args);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.stdout + first.stderr).toContain('uploaded 2, already there 0');
    const stored = readdirSync(path.join(out, '.simulator', 'assets')).filter(
      (f) => !f.endsWith('.type'),
    );
    expect(stored.sort()).toEqual(
      [`${sha(path.join(refs, 'a.png'))}.png`, `${sha(path.join(refs, 'b.png'))}.png`].sort(),
    );
    const again = await shotlist(args);
    expect(again.exitCode).toBe(0);
    expect(again.stdout + again.stderr).toMatch(/2 cached/);
    expect(again.stdout + again.stderr).not.toContain('uploaded');

    makeImage(path.join(refs, 'b.png'), 'yellow');
    const plan = await shotlist(['plan', '--simulate', manifest]);
    expect(plan.stdout).toContain(
      `./refs/b.png -> http://simulator.invalid/assets/${sha(path.join(refs, 'b.png'))}.png`,
    );
    const edited = await shotlist(args);
    expect(edited.stdout + edited.stderr).toContain('uploaded 1, already there 1');
    expect(edited.stdout + edited.stderr).toMatch(/1 new .*1 cached/);
  });

  it("the simulator's asset origin takes PUT and serves it back with its type, no key needed", async () => {
    sim = await startSimulator({ apiKey: KEY });
    const url = `${sim.url}/assets/abc123.png`;
    expect((await fetch(url, { method: 'HEAD' })).status).toBe(404);
    const put = await fetch(url, {
      method: 'PUT',
      headers: { 'content-type': 'image/png' },
      body: 'png bytes',
    });
    expect(put.status).toBe(201);
    const got = await fetch(url);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('image/png');
    expect(await got.text()).toBe('png bytes');
    expect((await fetch(`${sim.url}/assets/..%2Fetc`)).status).toBe(404);
  });
});
