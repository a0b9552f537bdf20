import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { accountOf, startSimulator, type Simulator } from '../../src/sim/index.js';
import { shotlist, tempDir } from '../helpers/cli.js';
import { parseEvents } from './events-schema.js';
import { KEY, childEnv, readReport, runArgs } from './run-helpers.js';

let tmp: ReturnType<typeof tempDir>;
let sim: Simulator | undefined;

beforeEach(() => {
  tmp = tempDir('shotlist-ledger-');
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  tmp.cleanup();
});

/** A manifest of `n` four-second shots at `price` CNY per second, with `budget`. */
function manifestOf(n: number, price: number, budget: string): string {
  const file = path.join(tmp.dir, 'film.yaml');
  const shots = Array.from(
    { length: n },
    (_, i) => `  - id: s0${i + 1}\n    prompt: 镜头 ${i + 1}`,
  );
  writeFileSync(
    file,
    `version: 1
name: film
defaults: { model: seedance-2-official, duration: 4, ratio: '16:9', size: 480p }
pricing: { currency: CNY, per_second: { seedance-2-official: ${price} } }
budget: ${budget}
shots:
${shots.join('\n')}
`,
  );
  return file;
}

type CostDoc = Record<string, unknown> & {
  tasks: number;
  billed: { seconds: number; cost: number | null };
  failed: { seconds: number; cost: number | null };
  at_risk: { seconds: number; cost: number | null };
  today_priced: number;
  accounts: { account: string | null; tasks: number; billed: { seconds: number } }[];
};

async function costJson(manifest: string, out: string): Promise<CostDoc> {
  const r = await shotlist(['cost', manifest, '--out', out, '--json'], { cwd: tmp.dir });
  expect(r.exitCode, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as CostDoc;
}

const posts = (s: Simulator) => s.stats().requests['POST /v1/videos'] ?? 0;

describe('every attempt that may have created a task stays "may have been billed"', () => {
  it('a --retry-unknown resubmission never erases the attempt it retries: cost, report, events, step summary and the total budget count both', async () => {
    // Every POST answers 500; the simulator creates (and bills) the task for about half of them.
    sim = await startSimulator({ apiKey: KEY, latency: 0, faults: '500=1', seed: 5 });
    const manifest = manifestOf(1, 1, '{ max_cost: 100, max_total_cost: 10 }');
    const out = path.join(tmp.dir, 'out');
    const summaryFile = path.join(tmp.dir, 'step-summary.md');
    const env = { ...childEnv, GITHUB_STEP_SUMMARY: summaryFile };

    const first = await shotlist(runArgs(manifest, sim, out), { env, cwd: tmp.dir });
    expect(first.exitCode, first.stderr).toBe(1);
    writeFileSync(summaryFile, '');
    const again = await shotlist(runArgs(manifest, sim, out, '--retry-unknown', '--json'), {
      env,
      cwd: tmp.dir,
    });
    expect(again.exitCode, again.stderr).toBe(1);
    expect(posts(sim)).toBe(2);
    const ledger = sim.ledger();
    // Every task the API made is among the attempts counted (the ones it did not make are the risk).
    expect(ledger.totals.billed_seconds).toBeLessThanOrEqual(8);

    const both = { seconds: 8, cost: 8 };
    const text = await shotlist(['cost', manifest, '--out', out], { cwd: tmp.dir });
    expect(text.stdout).toContain('may have been billed  8 s · 8.00 CNY');
    const cost = await costJson(manifest, out);
    expect(cost.at_risk).toEqual(both);
    expect(cost.tasks).toBe(posts(sim));
    expect(readReport(out).totals.job_spend?.at_risk).toEqual(both);
    const summary = parseEvents(again.stdout, 1).last;
    expect(summary.job_spend).toMatchObject({ tasks: 2, at_risk: both });
    expect(readFileSync(summaryFile, 'utf8')).toContain(
      '| at risk, may be billed | 4 s (4.00 CNY) | 8 s (8.00 CNY) |',
    );

    // 8 CNY at risk + 4 this run is over max_total_cost 10: refused, nothing sent.
    const third = await shotlist(runArgs(manifest, sim, out, '--retry-unknown'), {
      env,
      cwd: tmp.dir,
    });
    expect(third.exitCode, third.stderr).toBe(3);
    expect(third.stderr).toContain('8.00 CNY at risk');
    expect(posts(sim)).toBe(2);
  });
});

describe('a price is the one in force when the task was sent', () => {
  it('editing pricing does not re-price past spend, and the total budget counts it at its price', async () => {
    sim = await startSimulator({ apiKey: KEY, latency: 0, seed: 2 });
    const manifest = manifestOf(2, 1, '{ max_cost: 100, max_total_cost: 9 }');
    const out = path.join(tmp.dir, 'out');
    const run = await shotlist(runArgs(manifest, sim, out), { env: childEnv, cwd: tmp.dir });
    expect(run.exitCode, run.stderr).toBe(0);
    const billed = sim.ledger().totals.billed_seconds;
    expect(billed).toBe(8);

    // The price halves and a shot is added.
    writeFileSync(
      manifest,
      readFileSync(manifest, 'utf8')
        .replace('seedance-2-official: 1', 'seedance-2-official: 0.5')
        .replace('shots:\n', 'shots:\n  - id: s03\n    prompt: 镜头 3\n'),
    );
    const cost = await costJson(manifest, out);
    expect(cost.billed).toEqual({ seconds: billed, cost: billed * 1 });
    expect(cost.today_priced).toBe(0);
    const text = await shotlist(['cost', manifest, '--out', out], { cwd: tmp.dir });
    expect(text.stdout).toContain('billed                8 s · 8.00 CNY');
    expect(text.stdout).not.toContain("today's rates");

    // 8.00 billed + 2.00 for s03 is over 9: refused, nothing sent.
    const over = await shotlist(runArgs(manifest, sim, out), { env: childEnv, cwd: tmp.dir });
    expect(over.exitCode, over.stderr).toBe(3);
    expect(sim.ledger().totals.submissions).toBe(2);

    // A journal written before prices were recorded is priced at today's rates, and says so.
    const journal = path.join(out, 'journal.ndjson');
    const lines = readFileSync(journal, 'utf8').trim().split('\n');
    const old = lines.map((l) => {
      const { unit_price: _p, currency: _c, ...rest } = JSON.parse(l) as Record<string, unknown>;
      return JSON.stringify(rest);
    });
    writeFileSync(journal, `${old.join('\n')}\n`);
    const legacy = await shotlist(['cost', manifest, '--out', out], { cwd: tmp.dir });
    expect(legacy.stdout).toContain('billed                8 s · 4.00 CNY');
    expect(legacy.stdout).toContain(
      "priced at today's rates: 2 entries from before prices were recorded",
    );
  });
});

describe('cost: per account, a status per CSV row, snake_case JSON', () => {
  it('an accounts-file run: each account matches its key bill; failed rows carry no cost', async () => {
    const keys = {
      SHOTLIST_KEY_A: 'sk-pool-a-5d1e9f0c7b2a',
      SHOTLIST_KEY_B: 'sk-pool-b-83c4aa61e0d7',
    };
    sim = await startSimulator({
      quota: { [keys.SHOTLIST_KEY_A]: 1000, [keys.SHOTLIST_KEY_B]: 1000 },
      latency: 0,
      seed: 9,
      failRate: 0.3,
    });
    const manifest = manifestOf(8, 1, '{ max_cost: 100 }');
    const accounts = path.join(tmp.dir, 'accounts.yaml');
    writeFileSync(
      accounts,
      `accounts:\n${['a', 'b']
        .map(
          (n) =>
            `  - { name: ${n}, base_url: '${sim!.url}', key_env: SHOTLIST_KEY_${n.toUpperCase()}, concurrency: 2 }`,
        )
        .join('\n')}\n`,
    );
    const out = path.join(tmp.dir, 'out');
    const run = await shotlist(
      ['run', manifest, '--accounts', accounts, '--out', out, '--yes', '--concurrency', '4'],
      { env: { ...keys, CI: 'true' }, cwd: tmp.dir },
    );
    expect([0, 1]).toContain(run.exitCode);
    const ledger = sim.ledger();
    const billedBy = (key: string) =>
      ledger.submissions
        .filter((s) => s.account === accountOf(key) && s.status === 'completed')
        .reduce((n, s) => n + s.seconds, 0);
    const failed = ledger.submissions.filter((s) => s.status === 'failed');
    expect(failed.length).toBeGreaterThan(0);

    const doc = await costJson(manifest, out);
    expect(JSON.stringify(doc)).not.toMatch(/"[a-z]+[A-Z][A-Za-z]*":/);
    const byName = Object.fromEntries(doc.accounts.map((a) => [a.account, a]));
    expect(byName.a?.billed.seconds).toBe(billedBy(keys.SHOTLIST_KEY_A));
    expect(byName.b?.billed.seconds).toBe(billedBy(keys.SHOTLIST_KEY_B));
    expect(doc.accounts.reduce((n, a) => n + a.tasks, 0)).toBe(ledger.totals.submissions);
    const text = await shotlist(['cost', manifest, '--out', out], { cwd: tmp.dir });
    expect(text.stdout).toContain('per account:');
    expect(text.stdout).toMatch(/ {4}a: \d+ tasks; billed /);

    const csv = await shotlist(['cost', manifest, '--out', out, '--csv'], { cwd: tmp.dir });
    const rows = csv.stdout.trim().split('\n');
    expect(rows[0]).toBe('variant,model,status,seconds,cost,currency');
    expect(rows).toContain(`total,,failed,${failed.length * 4},,CNY`);
    const b = ledger.totals.billed_seconds;
    expect(rows).toContain(`total,,billed,${b},${b},CNY`);
    // Adding up the cost column of the rows (not the totals) gives what the API billed.
    const costs = rows
      .slice(1)
      .filter((r) => !r.startsWith('total,'))
      .map((r) => Number(r.split(',')[4] || 0));
    expect(costs.reduce((n, c) => n + c, 0)).toBe(b);
  });
});
