import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { shotlist, tempDir } from '../helpers/cli.js';
import { KEY, childEnv, runArgs } from './run-helpers.js';

let tmp: ReturnType<typeof tempDir>;
let sim: Simulator;

beforeEach(async () => {
  tmp = tempDir('shotlist-shard-budget-');
  sim = await startSimulator({ apiKey: KEY, latency: 0, seed: 5 });
});
afterEach(async () => {
  await sim.close();
  tmp.cleanup();
});

/** Six 4-second shots at 1 CNY a second: 24 CNY, each shard's part well under 16. */
function writeCampaign(budget: string): string {
  const file = path.join(tmp.dir, 'campaign.yaml');
  const shots = Array.from(
    { length: 6 },
    (_, i) => `  - id: s${i + 1}\n    prompt: the lighthouse keeper, scene ${i + 1}`,
  ).join('\n');
  writeFileSync(
    file,
    `version: 1
name: campaign
defaults: { model: seedance-2-official, duration: 4, ratio: '16:9', size: 480p }
pricing: { currency: CNY, per_second: { seedance-2-official: 1.0 } }
budget: ${budget}
shots:
${shots}
`,
  );
  return file;
}

const run = (args: string[], env: Record<string, string> = {}) =>
  shotlist(args, { env: { ...childEnv, ...env }, cwd: tmp.dir });
const shardDirs = () => [1, 2, 3].map((i) => path.join(tmp.dir, `shards/${i}`));

describe('a budget holds for the whole manifest when it is sharded', () => {
  for (const budget of ['{ max_total_cost: 16 }', '{ max_cost: 16 }']) {
    it(`3 shards of a 24 CNY manifest over ${budget} are each refused, nothing sent`, async () => {
      const manifest = writeCampaign(budget);
      const limit = budget.includes('total') ? 'max_total_cost' : 'max_cost';
      for (const [i, dir] of shardDirs().entries()) {
        const r = await run(runArgs(manifest, sim, dir, '--shard', `${i + 1}/3`));
        expect(r.exitCode, r.stderr + r.stdout).toBe(3);
        expect(r.stderr).toMatch(new RegExp(`24\\.00 CNY exceeds budget\\.${limit} 16\\.00 CNY`));
        expect(r.stderr).toContain('other shards');
        expect(r.stderr).toContain('nothing was sent');
      }
      expect(sim.ledger().submissions).toHaveLength(0);
      // plan --shard gives the same verdict as the runs.
      const p = await run(['plan', manifest, '--shard', '1/3']);
      if (limit === 'max_cost') expect(p.exitCode, p.stdout).toBe(3);
    });
  }

  it('a manifest that fits: 3 shards + merge --manifest print the totals of the ledger', async () => {
    const manifest = writeCampaign('{ max_total_cost: 30 }');
    for (const [i, dir] of shardDirs().entries()) {
      const r = await run(runArgs(manifest, sim, dir, '--shard', `${i + 1}/3`));
      expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    }
    const ledger = sim.ledger();
    expect(ledger.submissions).toHaveLength(6);
    expect(ledger.totals.billed_seconds).toBe(24);

    const summary = path.join(tmp.dir, 'step-summary.md');
    writeFileSync(summary, '');
    const merged = path.join(tmp.dir, 'film');
    const m = await run(['merge', merged, ...shardDirs(), '--manifest', manifest], {
      GITHUB_STEP_SUMMARY: summary,
    });
    expect(m.exitCode, m.stderr).toBe(0);
    expect(m.stdout).toContain(
      `spend over the merged folders: ${ledger.totals.billed_seconds} s (24.00 CNY) billed, 0 s (0.00 CNY) may have been billed, 0 s (0.00 CNY) failed (not billed); 6 tasks`,
    );
    expect(m.stdout).toContain("every one of the manifest's 6 shots has a finished task");
    const md = readFileSync(summary, 'utf8');
    expect(md).toContain('6 of 6 shots finished');
    expect(md).toContain('| billed | 24 s (24.00 CNY) |');

    // The merge job's run sends nothing; its step summary shows the campaign, not "0 s".
    const r = await run(['run', manifest, '--base-url', sim.url, '--out', merged], {
      GITHUB_STEP_SUMMARY: summary,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(sim.ledger().submissions).toHaveLength(6);
    expect(readFileSync(summary, 'utf8')).toContain('| billed | 0 s | 24 s (24.00 CNY) |');
  });

  it('merge over the total budget writes the folder, says so loudly and exits 3', async () => {
    const manifest = writeCampaign('{ max_total_cost: 30 }');
    for (const [i, dir] of shardDirs().entries()) {
      const r = await run(runArgs(manifest, sim, dir, '--shard', `${i + 1}/3`));
      expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    }
    // The budget was cut after the shards ran: the merged folder is over it.
    writeCampaign('{ max_total_cost: 20 }');
    const m = await run([
      'merge',
      path.join(tmp.dir, 'film'),
      ...shardDirs(),
      '--manifest',
      manifest,
    ]);
    expect(m.exitCode, m.stderr).toBe(3);
    expect(m.stderr).toContain(
      'OVER BUDGET: 24.00 CNY billed so far + 0.00 CNY at risk + 0.00 CNY this run = 24.00 CNY exceeds budget.max_total_cost 20.00 CNY',
    );
    expect(readFileSync(path.join(tmp.dir, 'film', 'journal.ndjson'), 'utf8')).toContain(
      '"completed"',
    );
  });
});
