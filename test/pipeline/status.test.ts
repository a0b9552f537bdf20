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
