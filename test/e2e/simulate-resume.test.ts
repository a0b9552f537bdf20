import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { probe } from '../../src/media/probe.js';
import { readLedger, type Ledger } from '../../src/sim/index.js';
import { shotlist, spawnShotlist, tempDir } from '../helpers/cli.js';
import { filesUnder, readReport, writeManifest } from './run-helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir('shotlist-simulate-resume-');
});
afterEach(() => tmp.cleanup());

/** How many times each prompt was submitted, from the ledger the simulator keeps on disk. */
function countsByPrompt(ledger: Ledger): number[] {
  const counts = new Map<string, number>();
  for (const e of ledger.submissions)
    counts.set(e.body.prompt, (counts.get(e.body.prompt) ?? 0) + 1);
  return [...counts.values()];
}

describe('run --simulate, interrupted and resumed (built bin)', () => {
  it('resumes the tasks of the interrupted run: no shot submitted twice, a final that plays', async () => {
    const manifest = writeManifest(tmp.dir, 4);
    const out = path.join(tmp.dir, 'out');
    const stateDir = path.join(out, '.simulator');
    const args = ['run', manifest, '--simulate', '--yes', '--out', out, '--concurrency', '2'];

    // Slow enough that the tasks are still running when Ctrl-C comes.
    const child = spawnShotlist([...args, '--sim-latency', '3-4', '--json'], { cwd: tmp.dir });
    let interrupted = false;
    child.stdout!.on('data', (chunk: Buffer) => {
      if (!interrupted && chunk.toString().includes('"event":"submitted"')) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    const first = await child;
    expect(first.exitCode, String(first.stderr)).toBe(130);
    expect(String(first.stderr)).toMatch(/resume: shotlist run/);
    const before = await readLedger(stateDir);
    expect(before.totals.submissions).toBeGreaterThanOrEqual(1);
    expect(before.totals.submissions).toBeLessThan(4);

    // status reads the simulated journal: the interrupted tasks are in flight, nothing sent.
    const status = ['status', manifest, '--out', out, '--simulate'];
    const midway = await shotlist(status, { cwd: tmp.dir });
    expect(midway.exitCode).toBe(1);
    expect(midway.stdout).toContain(`${before.totals.submissions} in flight`);
    expect((await readLedger(stateDir)).totals.submissions).toBe(before.totals.submissions);

    // A new process, a new simulator on a new API port: the journaled tasks are still there.
    const second = await shotlist([...args, '--sim-latency', '0.2-0.5'], { cwd: tmp.dir });
    expect(second.exitCode, second.stderr + second.stdout).toBe(0);
    expect(second.stdout).toMatch(/in flight from an earlier run/);
    // Simulated: the summary says nothing was spent and claims no billed seconds.
    expect(second.stdout).toMatch(/simulated: nothing spent/);
    expect(second.stdout).not.toMatch(/s billed/);
    expect(second.stdout + second.stderr).not.toMatch(/not_found|ECONNREFUSED/);
    const after = await readLedger(stateDir);
    expect(after.totals.submissions).toBe(4);
    expect(countsByPrompt(after)).toEqual([1, 1, 1, 1]);
    // The tasks of the first run are the ones the second finished, not new ones.
    const ids = after.submissions.map((s) => s.id);
    expect(ids.slice(0, before.totals.submissions)).toEqual(before.submissions.map((s) => s.id));

    expect(readReport(out).totals.done).toBe(4);
    const finalFile = path.join(out, 'final.mp4');
    expect(existsSync(finalFile)).toBe(true);
    const final = await probe(finalFile);
    expect(final.video?.codec).toBe('h264');
    expect(final.durationSec).toBeGreaterThan(4 * 4 - 0.5);
    expect(final.durationSec).toBeLessThan(4 * 4 + 0.5);
    expect(filesUnder(out).some((f) => f.endsWith('.part'))).toBe(false);

    const done = await shotlist(status, { cwd: tmp.dir });
    expect(done.exitCode, done.stdout).toBe(0);
    expect(done.stdout).toMatch(/^4 done, 0 in flight/m);

    // Once more: everything is cached, nothing is sent.
    const third = await shotlist(args, { cwd: tmp.dir });
    expect(third.exitCode, third.stderr).toBe(0);
    expect((await readLedger(stateDir)).totals.submissions).toBe(4);
  });

  it('brings back the clip of a reverted prompt from the earlier task, without a new submission', async () => {
    const manifest = writeManifest(tmp.dir, 2);
    const out = path.join(tmp.dir, 'out');
    const args = ['run', manifest, '--simulate', '--yes', '--out', out, '--sim-latency', '0.2-0.4'];
    const original = readFileSync(manifest, 'utf8');
    const clip = path.join(out, 'clips', 's01.mp4');

    expect((await shotlist(args, { cwd: tmp.dir })).exitCode).toBe(0);
    const first = createHash('sha256').update(readFileSync(clip)).digest('hex');
    writeFileSync(manifest, original.replace('橘猫的第 1 个镜头', '黑猫的第 1 个镜头'));
    expect((await shotlist(args, { cwd: tmp.dir })).exitCode).toBe(0);
    writeFileSync(manifest, original);
    const reverted = await shotlist(args, { cwd: tmp.dir });
    expect(reverted.exitCode, reverted.stderr + reverted.stdout).toBe(0);
    expect(reverted.stdout + reverted.stderr).not.toMatch(/ECONNREFUSED|not_found/);
    expect(createHash('sha256').update(readFileSync(clip)).digest('hex')).toBe(first);
    const ledger = await readLedger(path.join(out, '.simulator'));
    expect(ledger.totals.submissions).toBe(3);
    expect(countsByPrompt(ledger)).toEqual([1, 1, 1]);
  });
});
