import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { shotlist, tempDir } from '../helpers/cli.js';
import { KEY, childEnv, readReport, runArgs, writeManifest } from './run-helpers.js';

let tmp: ReturnType<typeof tempDir>;
let sim: Simulator | undefined;

beforeEach(() => {
  tmp = tempDir('shotlist-spend-');
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  tmp.cleanup();
});

it('spend is what completed tasks bill: failed tasks apart, in the summary, the report and `cost`', async () => {
  sim = await startSimulator({ apiKey: KEY, latency: 0, seed: 7, failRate: 0.4 });
  const manifest = writeManifest(tmp.dir, 10);
  const out = path.join(tmp.dir, 'out');
  const run = await shotlist(runArgs(manifest, sim, out), { env: childEnv, cwd: tmp.dir });
  const ledger = sim.ledger();
  const failedTasks = ledger.submissions.filter((s) => s.status === 'failed').length;
  // The seed makes some tasks fail: the old sum counted them as spent.
  expect(failedTasks).toBeGreaterThan(0);
  const billed = ledger.totals.billed_seconds;

  const report = readReport(out);
  expect(report.totals.spend?.billed).toEqual({ seconds: billed, cost: billed });
  expect(report.totals.spent_cost).toBe(billed);
  expect(report.totals.spend?.failed.seconds).toBe(failedTasks * 4);
  expect(report.totals.job_spend?.billed.seconds).toBe(billed);
  expect(run.stdout + run.stderr).toContain(`spent ${billed.toFixed(2)} CNY (${billed} s billed, `);
  expect(run.stdout + run.stderr).toContain(`${failedTasks * 4} s failed, not billed`);

  // A second run retries the failed shots; the job's ledger adds both runs up.
  await shotlist(runArgs(manifest, sim, out), { env: childEnv, cwd: tmp.dir });
  const all = sim.ledger();
  const allFailed = all.submissions.filter((s) => s.status === 'failed').length;
  const csv = await shotlist(['cost', manifest, '--out', out, '--csv'], { cwd: tmp.dir });
  expect(csv.exitCode, csv.stderr).toBe(0);
  const rows = csv.stdout.trim().split('\n');
  expect(rows[0]).toBe('variant,model,status,seconds,cost,currency');
  const total = all.totals.billed_seconds;
  // A failed task bills nothing: its row has a status and no cost to add up.
  expect(rows.slice(-2)).toEqual([
    `total,,billed,${total},${total},CNY`,
    `total,,failed,${allFailed * 4},,CNY`,
  ]);
  expect(rows.filter((r) => r.includes(',failed,')).every((r) => r.endsWith(',,CNY'))).toBe(true);
  const json = await shotlist(['cost', manifest, '--out', out, '--json'], { cwd: tmp.dir });
  expect(JSON.parse(json.stdout)).toMatchObject({
    billed: { seconds: total },
    failed: { seconds: allFailed * 4 },
    tasks: all.submissions.length,
  });
});
