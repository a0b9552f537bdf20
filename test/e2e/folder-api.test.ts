/**
 * An output folder belongs to one API (a simulated run is an API of its own): a rehearsal, a
 * typo in --base-url or another gateway never touches another API's clips, finals or money
 * (built bin, against the simulator).
 */
import { cpSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { shotlist, tempDir } from '../helpers/cli.js';
import { KEY, childEnv, readReport, runArgs, writeManifest } from './run-helpers.js';

const FIXTURE = path.resolve(import.meta.dirname, '../fixtures/simulated-local-folder');

let tmp: ReturnType<typeof tempDir>;
let sims: Simulator[] = [];
let server: Server | undefined;

beforeEach(() => {
  tmp = tempDir('shotlist-folder-api-');
});
afterEach(async () => {
  for (const s of sims) await s.close();
  sims = [];
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
  tmp.cleanup();
});

async function simulator(): Promise<Simulator> {
  const s = await startSimulator({ apiKey: KEY, latency: 0 });
  sims.push(s);
  return s;
}

const posts = (s: Simulator) => s.stats().requests['POST /v1/videos'] ?? 0;

/** A file's bytes and identity: a file rewritten or replaced shows up as a difference. */
function identity(file: string): string {
  const info = statSync(file);
  return `${info.size}:${info.mtimeMs}:${info.ino}:${readFileSync(file).toString('base64')}`;
}

async function costBilled(manifest: string, ...more: string[]): Promise<number> {
  const r = await shotlist(['cost', manifest, '--json', ...more], { cwd: tmp.dir });
  expect(r.exitCode, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { billed: { seconds: number } }).billed.seconds;
}

describe('one output folder, one API', () => {
  it('a rehearsal (run --simulate) has its own default folder: the real final is untouched and cost bills what the API billed', async () => {
    const sim = await simulator();
    const manifest = writeManifest(tmp.dir, 2);
    const real = await shotlist(['run', manifest, '--base-url', sim.url, '--yes'], {
      env: childEnv,
      cwd: tmp.dir,
    });
    expect(real.exitCode, real.stderr).toBe(0);
    const final = path.join(tmp.dir, 'renders', 'film', 'final.mp4');
    const before = identity(final);
    const rehearsal = await shotlist(
      ['run', manifest, '--simulate', '--sim-latency', '0', '--yes'],
      {
        env: { CI: 'true' },
        cwd: tmp.dir,
      },
    );
    expect(rehearsal.exitCode, rehearsal.stderr).toBe(0);
    expect(existsSync(path.join(tmp.dir, 'renders', 'film.simulated', 'final.mp4'))).toBe(true);
    expect(identity(final)).toBe(before);
    expect(existsSync(path.join(tmp.dir, 'renders', 'film', 'final.stale.mp4'))).toBe(false);
    expect(await costBilled(manifest)).toBe(sim.ledger().totals.billed_seconds);
    expect(sim.ledger().totals.billed_seconds).toBe(8);
    // The rehearsal's own cost is its folder's, never the real one's.
    expect(await costBilled(manifest, '--simulate')).toBe(8);
    const recorded = JSON.parse(
      readFileSync(path.join(tmp.dir, 'renders', 'film', 'folder.json'), 'utf8'),
    ) as { base: string };
    expect(recorded.base).toBe(sim.url.replace(/\/+$/, ''));
  }, 120_000);

  it('a folder forced with --out refuses the other API before any request, naming both and the ways out', async () => {
    const sim = await simulator();
    const manifest = writeManifest(tmp.dir, 2);
    const out = path.join(tmp.dir, 'out');
    const rehearsal = await shotlist(
      ['run', manifest, '--simulate', '--sim-latency', '0', '--yes', '--out', out],
      { env: { CI: 'true' }, cwd: tmp.dir },
    );
    expect(rehearsal.exitCode, rehearsal.stderr).toBe(0);
    const journal = readFileSync(path.join(out, 'journal.ndjson'), 'utf8');
    const final = identity(path.join(out, 'final.mp4'));
    const real = await shotlist(runArgs(manifest, sim, out), { env: childEnv, cwd: tmp.dir });
    expect(real.exitCode, real.stderr).toBe(2);
    expect(posts(sim)).toBe(0);
    expect(sim.ledger().submissions).toHaveLength(0);
    const host = new URL(sim.url).host;
    expect(real.stderr).toContain('the simulator');
    expect(real.stderr).toContain(host);
    expect(real.stderr).toContain('--simulate');
    expect(real.stderr).toContain('--out');
    expect(real.stderr).toContain('nothing was sent');
    expect(real.stderr).not.toContain(KEY);
    expect(readFileSync(path.join(out, 'journal.ndjson'), 'utf8')).toBe(journal);
    expect(identity(path.join(out, 'final.mp4'))).toBe(final);
    // And the other way round: a real folder refuses a rehearsal.
    const realOut = path.join(tmp.dir, 'real');
    expect((await shotlist(runArgs(manifest, sim, realOut), { env: childEnv })).exitCode).toBe(0);
    const back = await shotlist(
      ['run', manifest, '--simulate', '--sim-latency', '0', '--yes', '--out', realOut],
      { env: { CI: 'true' }, cwd: tmp.dir },
    );
    expect(back.exitCode).toBe(2);
    expect(back.stderr).toContain(`renders for ${host}, not the simulator`);
  }, 120_000);

  it('a typo in --base-url on a done folder: exit 2 for run, status and stitch; nothing sent, final and report untouched', async () => {
    const sim = await simulator();
    const manifest = writeManifest(tmp.dir, 2);
    const out = path.join(tmp.dir, 'out');
    expect((await shotlist(runArgs(manifest, sim, out), { env: childEnv })).exitCode).toBe(0);
    const sent = posts(sim);
    const final = identity(path.join(out, 'final.mp4'));
    const report = identity(path.join(out, 'report.json'));
    const html = identity(path.join(out, 'report.html'));
    const typo = `${sim.url}/v2`;
    for (const args of [
      ['run', manifest, '--base-url', typo, '--out', out, '--yes'],
      ['status', manifest, '--base-url', typo, '--out', out],
      ['stitch', manifest, '--base-url', typo, '--out', out],
    ]) {
      const r = await shotlist(args, { env: childEnv, cwd: tmp.dir });
      expect(r.exitCode, `${args[0]}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain('nothing was sent');
      expect(r.stderr).toContain('path /v2');
      expect(r.stderr).not.toContain(typo);
    }
    expect(posts(sim)).toBe(sent);
    expect(identity(path.join(out, 'final.mp4'))).toBe(final);
    expect(identity(path.join(out, 'report.json'))).toBe(report);
    expect(identity(path.join(out, 'report.html'))).toBe(html);
    expect(existsSync(path.join(out, 'final.stale.mp4'))).toBe(false);
  }, 120_000);

  it('shotlist rebase moves a folder to another gateway: done shots stay done, new shots go to the new API', async () => {
    const a = await simulator();
    const b = await simulator();
    const manifest = writeManifest(tmp.dir, 2);
    const out = path.join(tmp.dir, 'out');
    expect((await shotlist(runArgs(manifest, a, out), { env: childEnv })).exitCode).toBe(0);
    const refused = await shotlist(runArgs(manifest, b, out), { env: childEnv });
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('shotlist rebase');
    const moved = await shotlist(['rebase', manifest, '--out', out, '--to-base-url', b.url], {
      env: childEnv,
      cwd: tmp.dir,
    });
    expect(moved.exitCode, moved.stderr).toBe(0);
    expect(moved.stdout).toContain('2 done shots kept');
    writeManifest(tmp.dir, 3);
    const run = await shotlist(runArgs(manifest, b, out), { env: childEnv });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(posts(a)).toBe(2);
    expect(posts(b)).toBe(1);
    expect(b.ledger().submissions.map((s) => s.body.prompt)).toEqual(['橘猫的第 3 个镜头,电影感']);
    expect(readReport(out).totals.done).toBe(3);
    // Both APIs' bills, each once: the carried shots bill nothing at the new one.
    expect(await costBilled(manifest, '--out', out)).toBe(
      a.ledger().totals.billed_seconds + b.ledger().totals.billed_seconds,
    );
    // The old API is now the other one.
    const old = await shotlist(runArgs(manifest, a, out), { env: childEnv });
    expect(old.exitCode).toBe(2);
  }, 120_000);

  it('a folder of an earlier release (no record) is read from its journal: still done, nothing sent, another API refused', async () => {
    const sim = await simulator();
    const manifest = writeManifest(tmp.dir, 2);
    const out = path.join(tmp.dir, 'out');
    expect((await shotlist(runArgs(manifest, sim, out), { env: childEnv })).exitCode).toBe(0);
    rmSync(path.join(out, 'folder.json'));
    const sent = posts(sim);
    const status = await shotlist(
      ['status', manifest, '--base-url', sim.url, '--out', out, '--json'],
      { env: childEnv },
    );
    expect(status.exitCode, status.stderr).toBe(0);
    expect(status.stdout).toContain('"cached"');
    const sims = await shotlist(
      ['run', manifest, '--simulate', '--sim-latency', '0', '--yes', '--out', out],
      { env: { CI: 'true' } },
    );
    expect(sims.exitCode).toBe(2);
    expect(sims.stderr).toContain('(its journal)');
    const again = await shotlist(runArgs(manifest, sim, out), { env: childEnv });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(posts(sim)).toBe(sent);
  }, 120_000);

  it('a folder an earlier release shared between a rehearsal and a real run belongs to the real API', async () => {
    const sim = await simulator();
    const manifest = writeManifest(tmp.dir, 2);
    const out = path.join(tmp.dir, 'out');
    const rehearsal = path.join(tmp.dir, 'rehearsal');
    expect((await shotlist(runArgs(manifest, sim, out), { env: childEnv })).exitCode).toBe(0);
    const simulated = await shotlist(
      ['run', manifest, '--simulate', '--sim-latency', '0', '--yes', '--out', rehearsal],
      { env: { CI: 'true' } },
    );
    expect(simulated.exitCode, simulated.stderr).toBe(0);
    // As an earlier release left it: the rehearsal's lines after the real ones, no record.
    rmSync(path.join(out, 'folder.json'));
    const journal = path.join(out, 'journal.ndjson');
    writeFileSync(
      journal,
      readFileSync(journal, 'utf8') + readFileSync(path.join(rehearsal, 'journal.ndjson'), 'utf8'),
    );
    const sent = posts(sim);
    const again = await shotlist(runArgs(manifest, sim, out), { env: childEnv });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(posts(sim)).toBe(sent);
    expect(readReport(out).totals.done).toBe(2);
  }, 120_000);

  it("the README's demo folder of an earlier release (simulated, in renders/<name>) is still found by --simulate commands, and refused by a real run", async () => {
    const sim = await simulator();
    cpSync(FIXTURE, tmp.dir, { recursive: true });
    const manifest = path.join(tmp.dir, 'film.yaml');
    const journal = path.join(tmp.dir, 'renders', 'film', 'journal.ndjson');
    const before = readFileSync(journal, 'utf8');
    const status = await shotlist(['status', manifest, '--simulate', '--json'], {
      env: { CI: 'true' },
    });
    expect(status.exitCode, status.stderr).toBe(0);
    expect(status.stdout).toContain('"cached"');
    expect(status.stderr).toContain('simulated renders of an earlier release');
    const run = await shotlist(['run', manifest, '--simulate', '--sim-latency', '0', '--yes'], {
      env: { CI: 'true' },
    });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(readFileSync(journal, 'utf8').slice(before.length)).not.toContain('"type":"intent"');
    expect(existsSync(path.join(tmp.dir, 'renders', 'film.simulated'))).toBe(false);
    const real = await shotlist(
      [
        'run',
        manifest,
        '--base-url',
        sim.url,
        '--yes',
        '--out',
        path.join(tmp.dir, 'renders', 'film'),
      ],
      { env: childEnv },
    );
    expect(real.exitCode).toBe(2);
    expect(posts(sim)).toBe(0);
  }, 120_000);

  it('merge refuses shard folders of different APIs', async () => {
    const sim = await simulator();
    const manifest = writeManifest(tmp.dir, 2);
    const one = path.join(tmp.dir, 'one');
    const two = path.join(tmp.dir, 'two');
    const a = await shotlist(runArgs(manifest, sim, one, '--shard', '1/2'), { env: childEnv });
    expect(a.exitCode, a.stderr).toBe(0);
    const b = await shotlist(
      [
        'run',
        manifest,
        '--simulate',
        '--sim-latency',
        '0',
        '--yes',
        '--shard',
        '2/2',
        '--out',
        two,
      ],
      { env: { CI: 'true' } },
    );
    expect(b.exitCode, b.stderr).toBe(0);
    const merged = path.join(tmp.dir, 'merged');
    const r = await shotlist(['merge', merged, one, two], { env: childEnv });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('different APIs');
    expect(existsSync(path.join(merged, 'journal.ndjson'))).toBe(false);
  }, 120_000);
});

describe('finals are moved aside only when what they must contain changed', () => {
  it('a run whose POSTs all fail with 404 leaves the final and the report as they were', async () => {
    const sim = await simulator();
    const manifest = writeManifest(tmp.dir, 2);
    const out = path.join(tmp.dir, 'out');
    expect((await shotlist(runArgs(manifest, sim, out), { env: childEnv })).exitCode).toBe(0);
    // A gateway that answers every request 404 (a wrong path behind it, say).
    server = createServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":{"code":"not_found","message":"no such route"}}');
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const gateway = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const moved = await shotlist(['rebase', manifest, '--out', out, '--to-base-url', gateway], {
      env: childEnv,
    });
    expect(moved.exitCode, moved.stderr).toBe(0);
    const final = identity(path.join(out, 'final.mp4'));
    const done = readReport(out).totals.done;
    expect(done).toBe(2);
    const forced = await shotlist(
      ['run', manifest, '--base-url', gateway, '--out', out, '--yes', '--force', 'all'],
      { env: childEnv },
    );
    expect(forced.exitCode).not.toBe(0);
    expect(existsSync(path.join(out, 'final.stale.mp4'))).toBe(false);
    expect(identity(path.join(out, 'final.mp4'))).toBe(final);
    expect(readReport(out).totals.done).toBe(done);
    expect(readFileSync(path.join(out, 'report.html'), 'utf8')).toContain('final.mp4');
  }, 120_000);
});
