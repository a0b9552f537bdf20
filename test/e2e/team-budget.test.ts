/**
 * Team budgets are per account (the built CLI, one redis-server, two simulators standing for
 * two gateways with two keys): one client spending its `--team-budget` does not refuse
 * another; `team status` shows what each has used and reserved; `team reset-budget` names the
 * budget, asks (refused without a terminal unless --yes) and forgets what was used; the
 * single counter of an older shotlist is shown, not counted, and cleared only when told.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { shotlist } from '../helpers/cli.js';
import { NO_REDIS, redisServerPath, useTeamRedis } from '../team/redis-server.js';
import { KEY, childEnv, expectNoKey, readReport, writeManifest } from './run-helpers.js';

const binary = redisServerPath();
if (!binary) console.warn(NO_REDIS);

const KEY2 = 'sk-e2e-second-gateway-51c0d2';

interface Status {
  budgets: {
    scope: string;
    base: string | null;
    campaign: string | null;
    used: number;
    reserved: number;
    limit: number | null;
  }[];
  legacySeconds: number | null;
}

describe.skipIf(!binary)('team budgets per account', () => {
  const { team, dir } = useTeamRedis('shotlist-team-budget-', binary!);
  const sims: Simulator[] = [];

  afterEach(async () => {
    for (const s of sims.splice(0)) await s.close();
  });

  let films = 0;
  /** Two four-second shots of their own (another body than any other call's). */
  function film(d: string): string {
    const file = writeManifest(d, 2);
    writeFileSync(file, readFileSync(file, 'utf8').replaceAll('电影感', `电影感 ${++films}`));
    return file;
  }

  /** A two-shot (8 s) run with `--team-budget 8` against `sim` with `key`. */
  async function render(db: number, sim: Simulator, key: string, ...more: string[]) {
    const d = dir('client');
    const out = path.join(d, 'out');
    const r = await shotlist(
      [
        ...['run', film(d), '--team', team(db), '--base-url', sim.url],
        ...['--out', out, '--yes', '--team-budget', '8', ...more],
      ],
      { env: { ...childEnv, SHOTLIST_API_KEY: key } },
    );
    return { ...r, out, dir: d };
  }

  const status = async (db: number) => {
    const r = await shotlist(['team', 'status', '--team', team(db), '--json'], { env: childEnv });
    expect(r.exitCode, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Status;
  };

  it('two clients with other keys and gateways under one Redis each have their own budget; status shows used and reserved; reset names the budget, asks, forgets', async () => {
    const a = await startSimulator({ apiKey: KEY, latency: 0, seed: 51 });
    const b = await startSimulator({ apiKey: KEY2, latency: 0, seed: 52 });
    sims.push(a, b);
    const first = await render(1, a, KEY);
    expect(first.exitCode, first.stderr).toBe(0);
    // The second client's 8 s are its own: not refused by the first client's spend.
    const second = await render(1, b, KEY2);
    expect(second.exitCode, second.stdout + second.stderr).toBe(0);
    expect(readReport(second.out).totals.done).toBe(2);
    expect(b.ledger().totals.submissions).toBe(2);
    // Over its own budget, the first client is still refused, nothing sent.
    const again = await render(1, a, KEY);
    expect(again.exitCode).toBe(1);
    expect(again.stdout).toContain('team_budget');
    expect(a.ledger().totals.submissions).toBe(2);

    const st = await status(1);
    expect(st.budgets).toHaveLength(2);
    const of = (sim: Simulator) => st.budgets.find((x) => x.base === sim.url)!;
    expect(of(a)).toMatchObject({ used: 8, reserved: 0, limit: 8, campaign: null });
    expect(of(b)).toMatchObject({ used: 8, reserved: 0, limit: 8 });
    const human = await shotlist(['team', 'status', '--team', team(1)], { env: childEnv });
    expect(human.stdout).toContain(`on ${a.url}: 8 s used, 0 s reserved of 8 s`);
    expect(human.stdout).toMatch(/task slots in use: none/);
    // The keys themselves never reach Redis, nor the output.
    const raw = new Redis(team(1));
    try {
      for (const k of await raw.keys('*')) {
        const dump = JSON.stringify(await raw.dump(k));
        expect(dump.includes(KEY) || dump.includes(KEY2), k).toBe(false);
      }
    } finally {
      raw.disconnect();
    }
    expectNoKey([human.stdout, first.stdout, first.stderr], first.dir);

    // No terminal and no --yes: refused, naming what it would reset; nothing reset.
    const resetArgs = ['team', 'reset-budget', '--team', team(1), '--base-url', a.url];
    const asked = await shotlist(resetArgs, { env: childEnv });
    expect(asked.exitCode).toBe(2);
    expect(asked.stderr).toContain(`refusing to reset the team budget of account`);
    expect(asked.stderr).toContain(`on ${a.url}: 8 s used`);
    expect((await status(1)).budgets.find((x) => x.base === a.url)!.used).toBe(8);
    const done = await shotlist([...resetArgs, '--yes'], { env: childEnv });
    expect(done.exitCode, done.stderr).toBe(0);
    expect(done.stdout).toMatch(/reset: account \w+ on http:\/\/127\.0\.0\.1:\d+: 8 s used/);
    expect(done.stdout).toContain('8 s used forgotten');
    const after = await status(1);
    expect(after.budgets.find((x) => x.base === a.url)).toMatchObject({ used: 0, reserved: 0 });
    // The other account's budget is untouched.
    expect(after.budgets.find((x) => x.base === b.url)).toMatchObject({ used: 8 });
    // Reset, the first client may spend its budget again.
    const renewed = await render(1, a, KEY);
    expect(renewed.exitCode, renewed.stderr).toBe(0);
    expect(a.ledger().totals.submissions).toBe(4);
  });

  it('--team-campaign: a budget of its own within the account; the counter of an older shotlist is shown, not counted, cleared on request', async () => {
    const a = await startSimulator({ apiKey: KEY, latency: 0, seed: 53 });
    sims.push(a);
    const raw = new Redis(team(2));
    try {
      await raw.set('shotlist:budget:seconds', '30');
      const spring = await render(2, a, KEY, '--team-campaign', 'spring');
      expect(spring.exitCode, spring.stderr).toBe(0);
      // Not lost silently: a run with a budget says what became of the old counter.
      expect(spring.stderr).toContain(
        'still holds the single team-wide budget counter of an older shotlist (30 s)',
      );
      const autumn = await render(2, a, KEY, '--team-campaign', 'autumn');
      expect(autumn.exitCode, autumn.stderr).toBe(0);
      const st = await status(2);
      expect(st.budgets.map((x) => [x.campaign, x.used]).sort()).toEqual([
        ['autumn', 8],
        ['spring', 8],
      ]);
      expect(st.legacySeconds).toBe(30);
      const human = await shotlist(['team', 'status', '--team', team(2)], { env: childEnv });
      expect(human.stdout).toMatch(
        /legacy team-wide counter of an older shotlist: 30 s; no longer counted/,
      );
      expect(human.stdout).toContain('campaign "spring"');
      // Only the named campaign is reset.
      const r = await shotlist(
        [
          'team',
          'reset-budget',
          '--team',
          team(2),
          '--base-url',
          a.url,
          '--campaign',
          'spring',
          '--yes',
        ],
        { env: childEnv },
      );
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).toContain('campaign "spring"');
      const after = await status(2);
      expect(after.budgets.map((x) => [x.campaign, x.used]).sort()).toEqual([
        ['autumn', 8],
        ['spring', 0],
      ]);
      expect(await raw.get('shotlist:budget:seconds')).toBe('30');
      const legacy = await shotlist(
        ['team', 'reset-budget', '--team', team(2), '--legacy', '--yes'],
        {
          env: childEnv,
        },
      );
      expect(legacy.exitCode, legacy.stderr).toBe(0);
      expect(legacy.stdout).toContain('legacy team-wide counter (30 s cleared)');
      expect(await raw.exists('shotlist:budget:seconds')).toBe(0);
      expect((await status(2)).legacySeconds).toBeNull();
    } finally {
      raw.disconnect();
    }
  });
});
