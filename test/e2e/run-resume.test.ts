import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { probe } from '../../src/media/probe.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { shotlist, spawnShotlist, tempDir } from '../helpers/cli.js';
import { eventCount, heldClock, untilOutput } from '../helpers/wait.js';
import {
  KEY,
  childEnv,
  expectNoKey,
  readReport,
  runArgs,
  submissionsByPrompt,
  writeManifest,
} from './run-helpers.js';
import { parseEvents } from './events-schema.js';

let tmp: ReturnType<typeof tempDir>;
const sims: Simulator[] = [];

async function simulator(latency: string, clock?: () => number): Promise<Simulator> {
  const sim = await startSimulator({ apiKey: KEY, latency, seed: 21, ...(clock && { clock }) });
  sims.push(sim);
  return sim;
}

beforeEach(() => {
  tmp = tempDir('shotlist-resume-e2e-');
});
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
  tmp.cleanup();
});

/** Starts a run with `--json`, interrupts it once two tasks are submitted, returns its stderr. */
async function interruptedRun(args: string[], env: Record<string, string>): Promise<string> {
  const child = spawnShotlist([...args, '--json'], { env, cwd: tmp.dir });
  await untilOutput(child, (seen) => eventCount(seen, 'submitted') >= 2);
  // One Ctrl-C: a second one would stop at once, without the resume hint.
  child.kill('SIGINT');
  const r = await child;
  expect(r.exitCode).toBe(130);
  return String(r.stderr);
}

describe('resuming a run (built bin against the simulator)', () => {
  it('the resume hint repeats every flag that decides what is sent and where; another API is refused under --yes', async () => {
    // simA's clock stands still until the Ctrl-C: no task ends before it, however slow the run.
    const clock = heldClock();
    const simA = await simulator('1.5-2.5', clock.now);
    const simB = await simulator('0.2-0.5');
    const manifest = writeManifest(tmp.dir, 5);
    const out = path.join(tmp.dir, 'out');
    const flags = [
      '--only',
      's01,s02,s03',
      '--duration',
      '5',
      '--ratio',
      '1:1',
      '--concurrency',
      '2',
    ];
    const stderr = await interruptedRun(runArgs(manifest, simA, out, ...flags), childEnv);
    clock.release();
    const hint = /resume: (shotlist run .*) \(nothing is paid twice\)/.exec(stderr)?.[1];
    expect(hint).toBeDefined();
    for (const word of [`--base-url ${simA.url}`, '--only s01,s02,s03', '--duration 5'])
      expect(hint).toContain(word);
    expect(hint).toContain('--ratio 1:1');
    expect(hint).toContain(`--out ${out}`);
    const journal = readFileSync(path.join(out, 'journal.ndjson'), 'utf8');
    const intents = journal
      .split('\n')
      .filter((l) => l.includes('"type":"intent"'))
      .map((l) => JSON.parse(l) as { base?: string });
    expect(intents.length).toBeGreaterThanOrEqual(2);
    expect(intents.every((e) => e.base === simA.url)).toBe(true);

    // The same run aimed at another API by the environment: under --yes it refuses, nothing sent.
    const args = runArgs(manifest, simA, out, ...flags).filter(
      (a, i, all) => a !== '--base-url' && all[i - 1] !== '--base-url',
    );
    const other = await shotlist(args, {
      env: { ...childEnv, SHOTLIST_BASE_URL: simB.url },
      cwd: tmp.dir,
    });
    expect(other.exitCode).toBe(2);
    expect(other.stderr).toContain(
      `renders for ${new URL(simA.url).host}, not ${new URL(simB.url).host}`,
    );
    expect(other.stderr).toMatch(/nothing was sent/);
    expect(simB.ledger().totals.submissions).toBe(0);

    // Copying the hint picks the tasks up where they are: every prompt submitted once.
    const words = hint!.split(' ').map((w) => w.replace(/^'(.*)'$/, '$1'));
    const resumed = await shotlist(words.slice(1), { env: childEnv, cwd: tmp.dir });
    expect(resumed.exitCode).toBe(0);
    const report = readReport(out);
    expect(report.shots.filter((s) => s.status === 'done').map((s) => s.id)).toEqual([
      's01',
      's02',
      's03',
    ]);
    expect(simA.ledger().totals.submissions).toBe(3);
    expect([...submissionsByPrompt(simA).values()].every((n) => n === 1)).toBe(true);
    expect(simB.ledger().totals.submissions).toBe(0);
    expectNoKey([stderr, other.stdout, other.stderr, resumed.stdout, resumed.stderr], out);
  });

  it('after a failed run, the command to run again keeps the base URL and the shots', async () => {
    const sim = await startSimulator({ apiKey: KEY, latency: '0.1-0.2', seed: 3, failRate: 1 });
    sims.push(sim);
    const manifest = writeManifest(tmp.dir, 2);
    const out = path.join(tmp.dir, 'out');
    const r = await shotlist(runArgs(manifest, sim, out, '--only', 's02'), {
      env: childEnv,
      cwd: tmp.dir,
    });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(
      `run again: shotlist run ${manifest} --base-url ${sim.url} --out ${out} --only s02 --yes`,
    );
  });

  it('--only never shrinks the final or the report; --dry-run shows only what it would send', async () => {
    const sim = await simulator('0.2-0.5');
    const manifest = writeManifest(tmp.dir, 3);
    const out = path.join(tmp.dir, 'out');
    const final = path.join(out, 'final.mp4');
    const full = await shotlist(runArgs(manifest, sim, out), { env: childEnv, cwd: tmp.dir });
    expect(full.exitCode).toBe(0);
    expect((await probe(final)).durationSec).toBeCloseTo(12, 0);

    const dry = await shotlist(runArgs(manifest, sim, out, '--dry-run'), {
      env: childEnv,
      cwd: tmp.dir,
    });
    expect(dry.exitCode).toBe(0);
    expect(dry.stdout).not.toContain('POST');
    expect(dry.stdout).not.toMatch(/stitch/i);
    expect(dry.stdout).toMatch(/0 requests.*3 cached.*nothing sent/);

    // A partial run of a complete manifest restitches the whole film, and reports every shot.
    const again = await shotlist(runArgs(manifest, sim, out, '--only', 's02', '--force', 's02'), {
      env: childEnv,
      cwd: tmp.dir,
    });
    expect(again.exitCode).toBe(0);
    expect(sim.ledger().totals.submissions).toBe(4);
    expect((await probe(final)).durationSec).toBeCloseTo(12, 0);
    expect(readReport(out).shots.map((s) => `${s.id}:${s.status}`)).toEqual([
      's01:done',
      's02:done',
      's03:done',
    ]);

    // s03 edited and not rendered yet: a run of s01 does not stitch a short film over the whole
    // one; the earlier final is kept, moved aside as stale (it no longer matches the manifest).
    writeFileSync(
      manifest,
      readFileSync(manifest, 'utf8').replace('第 3 个镜头', '第 3 个镜头,夜景'),
    );
    const before = statSync(final).mtimeMs;
    const partial = await shotlist(runArgs(manifest, sim, out, '--only', 's01'), {
      env: childEnv,
      cwd: tmp.dir,
    });
    expect(partial.exitCode).toBe(0);
    expect(partial.stdout).toMatch(/not stitched: 1 shot has no clip yet \(s03\)/);
    const stale = path.join(out, 'final.stale.mp4');
    expect(existsSync(final)).toBe(false);
    expect(statSync(stale).mtimeMs).toBe(before);
    expect((await probe(stale)).durationSec).toBeCloseTo(12, 0);
    const report = readReport(out);
    expect(report.shots.map((s) => s.id)).toEqual(['s01', 's02', 's03']);
    expect(report.outputs).toEqual([]);
    expect((report.warnings ?? []).join('\n')).toContain('final.stale.mp4');

    const dryJson = await shotlist(runArgs(manifest, sim, out, '--dry-run', '--json'), {
      env: childEnv,
      cwd: tmp.dir,
    });
    const bodies = parseEvents(dryJson.stdout, dryJson.exitCode).events.filter(
      (e) => e.event === 'request',
    );
    expect(bodies.map((b) => b.id)).toEqual(['s03']);
    expect(sim.ledger().totals.submissions).toBe(4);
  });

  it('run --simulate without a terminal and without --yes renders, as the README says', async () => {
    const manifest = writeManifest(tmp.dir, 1);
    const out = path.join(tmp.dir, 'out');
    const r = await shotlist(['run', manifest, '--simulate', '--sim-latency', '0', '--out', out], {
      env: { SHOTLIST_API_KEY: '', API_KEY: '' },
      cwd: tmp.dir,
    });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('[simulated: nothing is spent]');
    expect(readReport(out).totals.done).toBe(1);
    const readme = readFileSync(path.resolve(import.meta.dirname, '../../README.md'), 'utf8');
    expect(readme).toMatch(
      /without a terminal and without `--yes` it refuses[^.]*; `--simulate` spends nothing and never asks/,
    );
  });
});
