import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BudgetError } from '../../src/errors.js';
import { executeRun } from '../../src/pipeline/execute.js';
import { prepareRun } from '../../src/pipeline/prepare.js';
import { runManifest } from '../../src/pipeline/run.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { shotlist, tempDir } from '../helpers/cli.js';
import { KEY, childEnv, runArgs } from './run-helpers.js';

let tmp: ReturnType<typeof tempDir>;
let sim: Simulator | undefined;

beforeEach(() => {
  tmp = tempDir('shotlist-budget-');
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  tmp.cleanup();
});

/**
 * Four variants of two 4-second shots at 0.56 per second: 4.48 a variant. `max_total_cost`
 * 9 is just above two variants (8.96): the third must be refused.
 */
function writeCampaign(dir: string, budget: string): string {
  const file = path.join(dir, 'campaign.yaml');
  writeFileSync(
    file,
    `version: 1
name: campaign
defaults: { model: seedance-2-official, duration: 4, size: 480p }
pricing: { currency: CNY, per_second: { seedance-2-official: 0.56 } }
budget: ${budget}
variants:
  - { name: wide, ratio: '16:9' }
  - { name: square, ratio: '1:1' }
  - { name: tall, ratio: '9:16' }
  - { name: classic, ratio: '4:3' }
shots:
  - id: s1
    prompt: a cat in a garden
  - id: s2
    prompt: the cat turns to the camera
`,
  );
  return file;
}

describe('budgets across runs', () => {
  it('the third --variant run over max_total_cost exits 3 with the three figures and sends nothing', async () => {
    sim = await startSimulator({ apiKey: KEY, latency: 0, seed: 11 });
    // Each run alone (4.48) is well within max_cost: only the total over runs refuses.
    const manifest = writeCampaign(tmp.dir, '{ max_cost: 5, max_total_cost: 9 }');
    const out = path.join(tmp.dir, 'out');
    for (const variant of ['wide', 'square']) {
      const r = await shotlist(runArgs(manifest, sim, out, '--variant', variant), {
        env: childEnv,
        cwd: tmp.dir,
      });
      expect(r.exitCode, r.stderr).toBe(0);
    }
    const sent = sim.ledger().submissions.length;
    expect(sent).toBe(4);

    const third = await shotlist(runArgs(manifest, sim, out, '--variant', 'tall'), {
      env: childEnv,
      cwd: tmp.dir,
    });
    expect(third.exitCode).toBe(3);
    expect(third.stderr).toContain(
      '8.96 CNY billed so far + 0.00 CNY at risk + 4.48 CNY this run = 13.44 CNY exceeds budget.max_total_cost 9.00 CNY',
    );
    expect(third.stderr).toContain('nothing was sent');
    expect(sim.ledger().submissions.length).toBe(sent);
  });

  it('under --simulate the simulated journal counts: the rehearsal is refused where the real run would be', async () => {
    const manifest = writeCampaign(tmp.dir, '{ max_total_seconds: 17 }');
    const out = path.join(tmp.dir, 'out');
    const run = (variant: string) =>
      shotlist(
        ['run', manifest, '--simulate', '--sim-latency', '0', '--out', out, '--variant', variant],
        { cwd: tmp.dir },
      );
    expect((await run('wide')).exitCode).toBe(0);
    expect((await run('square')).exitCode).toBe(0);
    const third = await run('tall');
    expect(third.exitCode).toBe(3);
    expect(third.stderr).toContain(
      '16 s billed so far + 0 s at risk + 8 s this run = 24 s exceed budget.max_total_seconds 17',
    );
  });
});

describe('the library refuses an over-budget run', () => {
  it('runManifest and executeRun throw a BudgetError, send nothing, unless overBudget is allow', async () => {
    const manifest = writeCampaign(tmp.dir, '{ max_cost: 1 }');
    const out = path.join(tmp.dir, 'out');
    const options = { cwd: tmp.dir, out, simulate: true, simLatency: '0', yes: true };
    await expect(runManifest(manifest, options)).rejects.toBeInstanceOf(BudgetError);

    const prepared = await prepareRun(manifest, options);
    expect(prepared.budget.ok).toBe(false);
    const refused = executeRun(prepared, undefined, options);
    await expect(refused).rejects.toBeInstanceOf(BudgetError);
    await expect(refused).rejects.toThrow(/over budget: cost 17\.92 CNY exceeds budget\.max_cost/);
    expect(existsSync(path.join(out, 'journal.ndjson'))).toBe(false);

    const allowed = await executeRun(prepared, undefined, { ...options, overBudget: 'allow' });
    expect(allowed.exitCode).toBe(0);
    expect(allowed.render?.spent.seconds).toBe(32);
  });
});
