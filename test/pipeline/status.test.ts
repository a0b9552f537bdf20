import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { manifestStatus, runManifest } from '../../src/index.js';
import { cli, tempDir } from '../helpers/cli.js';
import { writeManifest } from '../e2e/run-helpers.js';

let tmp: ReturnType<typeof tempDir>;
const env = { PATH: process.env.PATH };

beforeEach(() => {
  tmp = tempDir('shotlist-pipeline-status-');
});
afterEach(() => tmp.cleanup());

describe('manifestStatus after a simulated run', () => {
  it('says the renders are simulated instead of calling every shot new', async () => {
    writeManifest(tmp.dir, 2);
    const run = await runManifest('film.yaml', {
      cwd: tmp.dir,
      env,
      simulate: true,
      simLatency: '0',
      yes: true,
    });
    expect(run.exitCode).toBe(0);

    const real = await manifestStatus('film.yaml', { cwd: tmp.dir, env });
    expect(real.summary.counts.new).toBe(2);
    expect(real.simulatedElsewhere).toBe(true);

    const simulated = await manifestStatus('film.yaml', { cwd: tmp.dir, env, simulate: true });
    expect(simulated.summary.counts.cached).toBe(2);
    expect(simulated.simulatedElsewhere).toBe(false);
  });

  it('does not claim simulated renders for a folder that has none', async () => {
    writeManifest(tmp.dir, 1);
    const fresh = await manifestStatus('film.yaml', { cwd: tmp.dir, env });
    expect(fresh.simulatedElsewhere).toBe(false);
  });
});

describe('shotlist status on a folder of simulated renders', () => {
  it('points at --simulate', async () => {
    writeManifest(tmp.dir, 1);
    await runManifest('film.yaml', {
      cwd: tmp.dir,
      env,
      simulate: true,
      simLatency: '0',
      yes: true,
    });
    const r = await cli(['status', 'film.yaml'], { cwd: tmp.dir });
    expect(r.stdout).toContain('made by `run --simulate`');
    expect(r.stdout).toContain('shotlist status --simulate film.yaml');
  });
});

describe('status and run give one budget verdict', () => {
  it('counts the spend of earlier runs against budget.max_total_cost, as run does', async () => {
    const manifest = (second: string) =>
      writeFileSync(
        path.join(tmp.dir, 'film.yaml'),
        `version: 1
name: film
defaults: { model: seedance-2-official, duration: 4, ratio: '16:9', size: 480p }
pricing: { currency: CNY, per_second: { seedance-2-official: 1.0 } }
budget: { max_cost: 100, max_total_cost: 10 }
shots:
  - { id: s01, prompt: a lighthouse at dusk }
  - { id: s02, prompt: ${second} }
`,
      );
    manifest('waves on the rocks');
    const first = await runManifest('film.yaml', {
      cwd: tmp.dir,
      env,
      simulate: true,
      simLatency: '0',
      yes: true,
    });
    expect(first.exitCode).toBe(0);

    // 8 CNY billed so far; an edited s02 adds 4: 12 over the job's 10, though the run's own
    // 4 is well within max_cost.
    manifest('gulls over the harbour');
    const status = await manifestStatus('film.yaml', { cwd: tmp.dir, env, simulate: true });
    expect(status.budget.ok).toBe(false);
    expect(status.budget.reason).toContain('exceeds budget.max_total_cost');
    const shown = await cli(['status', '--simulate', 'film.yaml'], { cwd: tmp.dir });
    expect(shown.exitCode).toBe(3);
    expect(shown.stdout).toContain('over budget:');

    const run = await cli(['run', '--simulate', '--yes', 'film.yaml'], { cwd: tmp.dir });
    expect(run.exitCode).toBe(3);
  });

  it('says a job already over its total limit when nothing is left to send, and refuses nothing', async () => {
    const manifest = (max: number) =>
      writeFileSync(
        path.join(tmp.dir, 'film.yaml'),
        `version: 1
name: film
defaults: { model: seedance-2-official, duration: 4, ratio: '16:9', size: 480p }
pricing: { currency: CNY, per_second: { seedance-2-official: 1.0 } }
budget: { max_cost: 100, max_total_cost: ${max} }
shots:
  - { id: s01, prompt: a lighthouse at dusk }
  - { id: s02, prompt: waves on the rocks }
`,
      );
    manifest(10);
    const first = await cli(['run', '--simulate', '--yes', 'film.yaml'], { cwd: tmp.dir });
    expect(first.exitCode).toBe(0);
    // 8 CNY billed; the limit lowered to 5 afterwards: the job is over, with nothing new to send.
    manifest(5);
    const plan = await cli(['plan', '--simulate', 'film.yaml'], { cwd: tmp.dir });
    expect(plan.exitCode).toBe(0);
    expect(plan.stdout).toMatch(
      /budget over every run: max_total_cost .*5.*: already EXCEEDED \(nothing new to send, so nothing is refused\): 8 s .* billed so far/,
    );
    const json = await cli(['plan', '--simulate', '--json', 'film.yaml'], { cwd: tmp.dir });
    const budget = (JSON.parse(json.stdout) as { budget: { ok: boolean; over_total?: string } })
      .budget;
    expect(budget.ok).toBe(true);
    expect(budget.over_total).toContain('exceeds budget.max_total_cost');
    const status = await cli(['status', '--simulate', 'film.yaml'], { cwd: tmp.dir });
    expect(status.exitCode).toBe(0);
    expect(status.stdout).toContain('over the budget of every run:');
    const again = await cli(['run', '--simulate', '--yes', 'film.yaml'], { cwd: tmp.dir });
    expect(again.exitCode).toBe(0);
  });
});
