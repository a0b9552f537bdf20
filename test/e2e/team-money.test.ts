/**
 * Team mode and money (the built CLI, redis-server, the simulator): what a machine journals
 * for a shot another machine sent carries the model, seconds and price, so `cost`, the report,
 * the events and the step summary count it as `status` does.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { parseJournal } from '../../src/render/journal.js';
import { shotlist, spawnShotlist } from '../helpers/cli.js';
import { NO_REDIS, redisServerPath, useTeamRedis } from '../team/redis-server.js';
import { plannedShots, plantFact } from '../team/plant.js';
import { parseEvents } from './events-schema.js';
import { KEY, childEnv, readReport, runArgs, writeManifest } from './run-helpers.js';

const binary = redisServerPath();
if (!binary) console.warn(NO_REDIS);

describe.skipIf(!binary)('team mode: followers book model, seconds and price', () => {
  const { team, dir } = useTeamRedis('shotlist-team-money-', binary!);
  let sim: Simulator;

  afterEach(async () => {
    await sim?.close();
  });

  const intents = (out: string) =>
    parseJournal(readFileSync(path.join(out, 'journal.ndjson'), 'utf8')).entries.filter(
      (e) => e.type === 'intent',
    );

  it('a shot a dead teammate left unknown is 4.00 at risk in cost, the report, the events and the step summary, as in status', async () => {
    sim = await startSimulator({ apiKey: KEY, latency: 0, seed: 41 });
    const d = dir('machine');
    const manifest = writeManifest(d, 2);
    const out = path.join(d, 'out');
    const [dead] = await plannedShots(manifest, sim.url);
    // A machine wrote its intent, then died before its task id: no lease left.
    await plantFact(team(1), dead!.key, {
      state: 'intent',
      gen: '1',
      idem: 'shotlist-0123456789abcdef0123456789abcdef01234567',
      owner: 'dead-machine',
    });
    const summaryFile = path.join(d, 'summary.md');
    const run = await shotlist(runArgs(manifest, sim, out, '--team', team(1), '--json'), {
      env: { ...childEnv, GITHUB_STEP_SUMMARY: summaryFile },
      cwd: d,
    });
    expect(run.exitCode, run.stderr).toBe(1);
    expect(sim.ledger().totals.submissions).toBe(1);

    const atRisk = { seconds: 4, cost: 4 };
    expect(readReport(out).totals.spend?.at_risk).toEqual(atRisk);
    expect(readReport(out).totals.job_spend?.at_risk).toEqual(atRisk);
    expect(readFileSync(summaryFile, 'utf8')).toContain(
      '| at risk, may be billed | 4 s (4.00 CNY) |',
    );
    const status = await shotlist(['status', manifest, '--base-url', sim.url, '--out', out], {
      cwd: d,
    });
    expect(status.stdout).toContain('at risk 4.00 CNY');
    const cost = await shotlist(['cost', manifest, '--out', out, '--csv'], { cwd: d });
    expect(cost.stdout).not.toContain('unknown model');
    expect(cost.stdout).toContain('total,,unknown,4,4,CNY');
    expect(cost.stdout).toContain(`total,,billed,${sim.ledger().totals.billed_seconds},4,CNY`);
    for (const e of intents(out))
      expect(e).toMatchObject({ model: 'seedance-2-official', seconds: 4, unit_price: 1 });
    expect(parseEvents(run.stdout, 1).last.spend).toMatchObject({ at_risk: atRisk });
  });

  it('an enqueuer journals what the workers sent with model, seconds and price: cost matches the API', async () => {
    sim = await startSimulator({ apiKey: KEY, latency: 0, seed: 42 });
    const d = dir('enqueuer');
    const manifest = writeManifest(d, 3);
    const out = path.join(d, 'out');
    const worker = spawnShotlist(['run', '--team', team(2), '--worker', '--base-url', sim.url], {
      cwd: dir('worker'),
      env: childEnv,
    });
    try {
      const r = await shotlist(
        ['enqueue', manifest, '--team', team(2), '--base-url', sim.url, '--out', out, '--yes'],
        { env: childEnv, cwd: d },
      );
      expect(r.exitCode, r.stderr).toBe(0);
    } finally {
      worker.kill('SIGINT');
      await worker;
    }
    const billed = sim.ledger().totals.billed_seconds;
    expect(billed).toBe(12);
    const cost = await shotlist(['cost', manifest, '--out', out, '--csv'], { cwd: d });
    expect(cost.stdout).not.toContain('unknown model');
    expect(cost.stdout).toContain(`,seedance-2-official,billed,${billed},${billed},CNY`);
    expect(intents(out)).toHaveLength(3);
    for (const e of intents(out))
      expect(e).toMatchObject({ model: 'seedance-2-official', seconds: 4, unit_price: 1 });
  });
});
