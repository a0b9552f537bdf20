/**
 * A folder belongs to an API once that API may hold one of its tasks: a first run whose every
 * request was refused before reaching its API (a typo in --base-url) ties the folder to nothing,
 * and the next run for the right API takes it over (built bin, against the simulator).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { shotlist, tempDir } from '../helpers/cli.js';
import { KEY, childEnv, runArgs, writeManifest } from './run-helpers.js';

let tmp: ReturnType<typeof tempDir>;
let sims: Simulator[] = [];

beforeEach(() => {
  tmp = tempDir('shotlist-folder-tie-');
});
afterEach(async () => {
  for (const s of sims) await s.close();
  sims = [];
  tmp.cleanup();
});

async function simulator(): Promise<Simulator> {
  const s = await startSimulator({ apiKey: KEY, latency: 0 });
  sims.push(s);
  return s;
}

/** An address nothing listens on: every connection to it is refused. */
function refusedUrl(): Promise<string> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(`http://127.0.0.1:${port}`));
    });
  });
}

const recorded = (out: string) =>
  (JSON.parse(readFileSync(path.join(out, 'folder.json'), 'utf8')) as { base: string }).base;

describe('a folder is tied to an API only once that API may hold one of its tasks', () => {
  it('a first run to a refused address ties nothing: the right run takes the folder over, and status shows no renders elsewhere', async () => {
    const sim = await simulator();
    const typo = await refusedUrl();
    const manifest = writeManifest(tmp.dir, 2);
    const out = path.join(tmp.dir, 'out');
    const first = await shotlist(['run', manifest, '--base-url', typo, '--out', out, '--yes'], {
      env: childEnv,
      cwd: tmp.dir,
    });
    expect(first.exitCode, first.stderr).toBe(1);
    // The advice is to check the URL, not to run the typo again.
    expect(first.stderr).toContain('the API was never reached');
    expect(first.stderr).not.toContain('run again:');
    // Looking with the right API's flags: nothing is refused, no refused request counts as a render.
    const status = await shotlist(['status', manifest, '--base-url', sim.url, '--out', out], {
      env: childEnv,
      cwd: tmp.dir,
    });
    // Exit 1: not every shot is done (exit 2 would be a refusal).
    expect(status.exitCode, status.stderr).toBe(1);
    expect(status.stdout + status.stderr).not.toContain('another API');
    expect(status.stdout).toContain('s01');
    const right = await shotlist(runArgs(manifest, sim, out), { env: childEnv, cwd: tmp.dir });
    expect(right.exitCode, right.stderr).toBe(0);
    expect(sim.ledger().submissions).toHaveLength(2);
    const host = new URL(typo).host;
    const notes = right.stderr.split('\n').filter((l) => l.includes('now renders for'));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain(host);
    expect(notes[0]).toContain(new URL(sim.url).host);
    expect(right.stderr).not.toContain(KEY);
    expect(recorded(out)).toBe(sim.url.replace(/\/+$/, ''));
    // Now tied to the simulator's API: the typo is refused, nothing sent anywhere.
    const back = await shotlist(['run', manifest, '--base-url', typo, '--out', out, '--yes'], {
      env: childEnv,
      cwd: tmp.dir,
    });
    expect(back.exitCode).toBe(2);
    expect(back.stderr).toContain('nothing was sent');
  }, 120_000);
});

/** The manifest of `n` shots with a limit on the spend over every run. */
function withTotal(n: number, maxTotal: number): string {
  const file = writeManifest(tmp.dir, n);
  const text = readFileSync(file, 'utf8').replace(
    'budget: { max_cost: 100 }',
    `budget: { max_cost: 100, max_total_cost: ${maxTotal} }`,
  );
  writeFileSync(file, text);
  return file;
}

describe('without an API flag, every command looks at the folder’s API', () => {
  it('after a rebase, status sees the done shots and plan gives the total-budget verdict of run --dry-run', async () => {
    const a = await simulator();
    const b = await simulator();
    const manifest = withTotal(2, 10);
    const out = path.join(tmp.dir, 'out');
    expect((await shotlist(runArgs(manifest, a, out), { env: childEnv })).exitCode).toBe(0);
    const moved = await shotlist(['rebase', manifest, '--out', out, '--to-base-url', b.url], {
      env: childEnv,
    });
    expect(moved.exitCode, moved.stderr).toBe(0);
    // No API flag: the folder's (now b's, its done shots carried) is the one looked at.
    const status = await shotlist(['status', manifest, '--out', out, '--json'], {
      env: childEnv,
      cwd: tmp.dir,
    });
    expect(status.exitCode, status.stderr).toBe(0);
    const shots = (JSON.parse(status.stdout) as { shots: { state: string }[] }).shots;
    expect(shots.map((s) => s.state)).toEqual(['cached', 'cached']);
    // A third shot: 8 billed + 4 new = 12 over a total of 10.
    withTotal(3, 10);
    const dry = await shotlist(['run', manifest, '--base-url', b.url, '--out', out, '--dry-run'], {
      env: childEnv,
      cwd: tmp.dir,
    });
    expect(dry.exitCode, dry.stderr).toBe(3);
    const plan = await shotlist(['plan', manifest, '--out', out], { env: childEnv, cwd: tmp.dir });
    expect(plan.exitCode, plan.stdout + plan.stderr).toBe(3);
    const named = await shotlist(['plan', manifest, '--out', out, '--base-url', b.url], {
      env: childEnv,
      cwd: tmp.dir,
    });
    expect(named.exitCode).toBe(3);
    expect(a.ledger().submissions).toHaveLength(2);
    expect(b.ledger().submissions).toHaveLength(0);
  }, 120_000);
});

describe('cost keeps to one API and says when nothing was billed', () => {
  it('cost --simulate refuses a real folder; a rehearsal’s cost and report say its seconds were simulated', async () => {
    const sim = await simulator();
    const manifest = writeManifest(tmp.dir, 2);
    const out = path.join(tmp.dir, 'out');
    expect((await shotlist(runArgs(manifest, sim, out), { env: childEnv })).exitCode).toBe(0);
    const mixed = await shotlist(['cost', manifest, '--simulate', '--out', out], {
      env: childEnv,
      cwd: tmp.dir,
    });
    expect(mixed.exitCode).toBe(2);
    expect(mixed.stderr).toContain(`renders for ${new URL(sim.url).host}, not the simulator`);
    expect(mixed.stdout).toBe('');
    const rehearsal = await shotlist(
      ['run', manifest, '--simulate', '--sim-latency', '0', '--yes'],
      { env: { CI: 'true' }, cwd: tmp.dir },
    );
    expect(rehearsal.exitCode, rehearsal.stderr).toBe(0);
    const text = await shotlist(['cost', manifest, '--simulate'], { cwd: tmp.dir });
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).toContain('simulated: nothing billed');
    expect(text.stdout).not.toMatch(/\bbilled \d/);
    expect(text.stdout).not.toMatch(/^\s+billed\s/m);
    const json = await shotlist(['cost', manifest, '--simulate', '--json'], { cwd: tmp.dir });
    const doc = JSON.parse(json.stdout) as { simulated: boolean; billed: { seconds: number } };
    expect(doc.simulated).toBe(true);
    expect(doc.billed.seconds).toBe(8);
    const html = readFileSync(
      path.join(tmp.dir, 'renders', 'film.simulated', 'report.html'),
      'utf8',
    );
    expect(html).toContain('simulated (nothing billed), all runs');
    expect(html).not.toContain('billed, all runs');
    // The real folder's cost is billed money, and says so.
    const real = await shotlist(['cost', manifest, '--out', out, '--json'], { cwd: tmp.dir });
    expect((JSON.parse(real.stdout) as { simulated: boolean }).simulated).toBe(false);
    const realText = await shotlist(['cost', manifest, '--out', out], { cwd: tmp.dir });
    expect(realText.stdout).toMatch(/^\s+billed\s+8 s/m);
  }, 120_000);
});
