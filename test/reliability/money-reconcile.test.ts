/**
 * Money reconciled on every path (the built CLI, the simulator, redis-server for team rows):
 * for each path the simulator's ledger is set against `shotlist cost --json` of the folder(s)
 * the path leaves. Four properties hold on every row:
 * - billed: the ledger's billed seconds of the tasks the folder knows equal `cost`'s billed,
 *   and every billed task the folder does not know is one the client was never told of;
 * - covered: every second the ledger may bill (completed or still running) is within
 *   billed + at risk;
 * - once: no request has two submissions that may bill, except a retry of an unknown
 *   attempt the row asked for (`--retry-unknown`);
 * - budget: the configured budget (`max_total_cost`, `--team-budget`) is not crossed.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJournal } from '../../src/render/journal.js';
import { startSimulator, type Ledger, type Simulator } from '../../src/sim/index.js';
import { shotlist, spawnShotlist, tempDir } from '../helpers/cli.js';
import { NO_REDIS, redisServerPath, startRedisServer } from '../team/redis-server.js';
import { KEY, env } from './common.js';
import { record } from './figures.js';
import { until } from '../helpers/wait.js';

const SUITE = 'money reconciled';
const binary = redisServerPath();
if (!binary) console.warn(NO_REDIS);

interface CostDoc {
  billed: { seconds: number; cost: number | null };
  at_risk: { seconds: number; cost: number | null };
}

/** What a row leaves: the folders `cost` reads, and the rules it ran under. */
interface Outcome {
  /**
   * Views of the job, each a list of folders whose `cost` together must account for the whole
   * ledger: one folder (a run, a merged folder, each machine's folder), or the shards together.
   */
  views: string[][];
  /** `cost` is run without `--out`, on the manifest's default folder (a view of one folder). */
  defaultFolder?: boolean;
  manifest: string;
  cwd: string;
  /** `--retry-unknown` was asked for: an unknown attempt may have been sent again. */
  retryUnknown?: boolean;
  /** A budget in CNY (`max_total_cost`) or in seconds (`--team-budget`). */
  budget: { cost: number } | { seconds: number };
}

/**
 * `n` four-second shots at 1.1 CNY a second (a price with cents, so rounding would show),
 * with `max_total_cost` of `budget` CNY.
 */
function writeFilm(dir: string, n: number, budget: number, name = 'film'): string {
  const file = path.join(dir, `${name}.yaml`);
  const shots = Array.from(
    { length: n },
    (_, i) => `  - id: s${i + 1}\n    prompt: the ferry crossing at dusk, ${name} shot ${i + 1}`,
  ).join('\n');
  writeFileSync(
    file,
    `version: 1
name: ${name}
defaults: { model: seedance-2-official, duration: 4, ratio: '16:9', size: 480p, audio: false }
pricing: { currency: CNY, per_second: { seedance-2-official: 1.1 } }
budget: { max_cost: 100, max_total_cost: ${budget} }
shots:
${shots}
`,
  );
  return file;
}

async function ledgerOf(sim: Simulator): Promise<Ledger> {
  const r = await fetch(`${sim.url}/__sim/ledger`);
  expect(r.status).toBe(200);
  return (await r.json()) as Ledger;
}

/** `cost --json` summed over the folders of a view. */
async function costOf(o: Outcome, view: string[]) {
  const total = { billed: 0, atRisk: 0, money: 0 };
  for (const folder of view) {
    const args = ['cost', o.manifest, '--json', ...(o.defaultFolder ? [] : ['--out', folder])];
    const r = await shotlist(args, { cwd: o.cwd });
    expect(r.exitCode, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as CostDoc;
    total.billed += doc.billed.seconds;
    total.atRisk += doc.at_risk.seconds;
    total.money += (doc.billed.cost ?? 0) + (doc.at_risk.cost ?? 0);
  }
  return total;
}

/** Task ids the journals of a view's folders hold. */
function knownTasks(view: string[]): Set<string> {
  const ids = new Set<string>();
  for (const folder of view) {
    const file = path.join(folder, 'journal.ndjson');
    if (!existsSync(file)) continue;
    for (const e of parseJournal(readFileSync(file, 'utf8')).entries)
      if ('task_id' in e && typeof e.task_id === 'string') ids.add(e.task_id);
  }
  return ids;
}

const sum = (xs: { seconds: number }[]) => xs.reduce((n, s) => n + s.seconds, 0);

/** Checks the four properties for one view, printing and recording its figures. */
async function reconcile(row: string, o: Outcome, ledger: Ledger, view: string[]) {
  const cost = await costOf(o, view);
  const known = knownTasks(view);
  const mayBill = ledger.submissions.filter((s) => s.status !== 'failed');
  const completed = ledger.submissions.filter((s) => s.status === 'completed');
  // A billed task the folders have no id for: only one whose POST the client never saw answered.
  const unseen = completed.filter((s) => !known.has(s.id));
  const label = `${row} [${view.map((f) => path.basename(f)).join(' + ')}]`;
  const budget = 'cost' in o.budget ? `${o.budget.cost} CNY` : `${o.budget.seconds} s`;
  const figures = {
    'ledger billed s': ledger.totals.billed_seconds,
    'ledger may bill s': sum(mayBill),
    'cost billed s': cost.billed,
    'cost at risk s': cost.atRisk,
    'billed, never answered s': sum(unseen),
    budget,
  };
  console.log(
    `${label}: ledger ${ledger.totals.billed_seconds} s, billed ${cost.billed} s, ` +
      `at risk ${cost.atRisk} s, budget ${budget}`,
  );
  let passed = false;
  try {
    expect(cost.billed, 'billed: cost equals the ledger').toBe(
      ledger.totals.billed_seconds - sum(unseen),
    );
    for (const s of unseen)
      expect(s.fault, `billed task ${s.id} unknown to ${label}`).toBeDefined();
    expect(sum(mayBill), 'covered: ledger within billed + at risk').toBeLessThanOrEqual(
      cost.billed + cost.atRisk,
    );
    expectOnce(ledger, o.retryUnknown === true);
    if ('cost' in o.budget) expect(cost.money).toBeLessThanOrEqual(o.budget.cost + 1e-9);
    else expect(sum(mayBill), 'the team budget holds').toBeLessThanOrEqual(o.budget.seconds);
    passed = true;
  } finally {
    record(SUITE, label, passed, figures);
  }
}

/**
 * No prompt has two submissions that may bill, except where `--retry-unknown` resent an
 * attempt the API created but never answered with an id (the simulator marks it `fault`).
 */
function expectOnce(ledger: Ledger, retryUnknown: boolean): void {
  const byPrompt = new Map<string, Ledger['submissions']>();
  for (const s of ledger.submissions) {
    if (s.status === 'failed') continue;
    byPrompt.set(s.body.prompt, [...(byPrompt.get(s.body.prompt) ?? []), s]);
  }
  for (const [prompt, subs] of byPrompt) {
    if (subs.length === 1) continue;
    expect(retryUnknown, `"${prompt}" sent ${subs.length} times without --retry-unknown`).toBe(
      true,
    );
    // Every one but the last was an attempt the client was never told of.
    for (const s of subs.slice(0, -1)) expect(s.fault, `"${prompt}" paid twice`).toBeDefined();
  }
}

async function check(row: string, sim: Simulator, o: Outcome): Promise<void> {
  const ledger = await ledgerOf(sim);
  expect(ledger.totals.submissions, 'the row sent something').toBeGreaterThan(0);
  for (const view of o.views) await reconcile(row, o, ledger, view);
}

const runArgs = (manifest: string, sim: Simulator, out: string, ...more: string[]) => [
  ...['run', manifest, '--base-url', sim.url, '--out', out, '--yes', ...more],
];

/** Resolves once `child` has printed `pattern` `count` times, or has ended. */
function printed(child: ReturnType<typeof spawnShotlist>, pattern: RegExp, count: number) {
  let seen = '';
  child.stdout!.on('data', (chunk: Buffer) => (seen += String(chunk)));
  return () =>
    until(
      () => (seen.match(pattern) ?? []).length >= count || child.exitCode !== null,
      `${count} × ${pattern}`,
    );
}

/**
 * Drives a fault row with seeds `first`, `first + 1`, ... until the simulator created a task
 * it answered with a fault (the path these rows are for); at most six tries. A try that
 * created none is still a valid run, but it would leave the unknown path unexercised.
 */
async function untilAmbiguous(
  drive: (seed: number, attempt: number) => Promise<{ sim: Simulator; outcome: Outcome }>,
  first: number,
): Promise<{ sim: Simulator; outcome: Outcome }> {
  for (let attempt = 0; ; attempt++) {
    const row = await drive(first + attempt, attempt);
    const ambiguous = (await ledgerOf(row.sim)).totals.ambiguous_submissions;
    if (ambiguous > 0 || attempt === 5) {
      expect(ambiguous, 'an attempt the API created but never answered').toBeGreaterThan(0);
      return row;
    }
  }
}

interface Row {
  name: string;
  team?: boolean;
  /** `start` starts the row's simulator (closed after the row, whatever happens). */
  drive(ctx: {
    dir: string;
    team: (db: number) => string;
    start: (options: Parameters<typeof startSimulator>[0]) => Promise<Simulator>;
  }): Promise<{
    sim: Simulator;
    outcome: Outcome;
  }>;
}

const ROWS: Row[] = [
  {
    name: 'plain run with faults, then --retry-unknown',
    async drive({ dir, start }) {
      // Half the POSTs answer 500 (the simulator creating the task for some), others 502 or 429.
      // Faults fall on polls too, so where they land depends on timing: a seed whose draws
      // created no unanswered task is tried again with the next one, in a folder of its own.
      return untilAmbiguous(async (seed) => {
        const sim = await start({
          apiKey: KEY,
          latency: 0,
          seed,
          faults: '500=0.5,502=0.1,429=0.1',
        });
        const at = path.join(dir, `seed-${seed}`);
        mkdirSync(at, { recursive: true });
        const manifest = writeFilm(at, 4, 40);
        const out = path.join(at, 'out');
        const first = await shotlist(runArgs(manifest, sim, out), { env, cwd: at });
        expect([0, 1], first.stderr).toContain(first.exitCode);
        const again = await shotlist(runArgs(manifest, sim, out, '--retry-unknown'), {
          env,
          cwd: at,
        });
        expect([0, 1], again.stderr).toContain(again.exitCode);
        return {
          sim,
          outcome: { views: [[out]], manifest, cwd: at, retryUnknown: true, budget: { cost: 40 } },
        };
      }, 17);
    },
  },
  {
    name: 'account pool with a quota stop',
    async drive({ dir, start }) {
      const keys = { SHOTLIST_KEY_A: 'sk-recon-a-61f0c2d9', SHOTLIST_KEY_B: 'sk-recon-b-0b7e45a3' };
      // a's quota pays for two four-second tasks, b's for one: the pool stops after three.
      const sim = await start({
        quota: { [keys.SHOTLIST_KEY_A]: 8, [keys.SHOTLIST_KEY_B]: 4 },
        latency: '0.5-1',
        seed: 23,
      });
      const accounts = path.join(dir, 'accounts.yaml');
      writeFileSync(
        accounts,
        `accounts:\n${['a', 'b']
          .map(
            (n) =>
              `  - { name: ${n}, base_url: '${sim.url}', key_env: SHOTLIST_KEY_${n.toUpperCase()}, concurrency: 2 }`,
          )
          .join('\n')}\n`,
      );
      const manifest = writeFilm(dir, 4, 20);
      const out = path.join(dir, 'out');
      const r = await shotlist(
        ['run', manifest, '--accounts', accounts, '--out', out, '--yes', '--concurrency', '4'],
        { env: { ...keys, CI: 'true' }, cwd: dir },
      );
      // Every account refused for quota: exit 4, the tasks already sent collected.
      expect(r.exitCode, r.stderr).toBe(4);
      expect((await ledgerOf(sim)).totals.submissions).toBe(3);
      return { sim, outcome: { views: [[out]], manifest, cwd: dir, budget: { cost: 20 } } };
    },
  },
  {
    name: '3 shards + merge',
    async drive({ dir, start }) {
      const sim = await start({ apiKey: KEY, latency: 0, seed: 29 });
      const manifest = writeFilm(dir, 4, 20);
      const shards = [1, 2, 3].map((i) => path.join(dir, `shards/${i}`));
      for (const [i, shard] of shards.entries()) {
        const r = await shotlist(runArgs(manifest, sim, shard, '--shard', `${i + 1}/3`), {
          env,
          cwd: dir,
        });
        expect(r.exitCode, r.stderr).toBe(0);
      }
      const merged = path.join(dir, 'merged');
      const m = await shotlist(['merge', merged, ...shards, '--manifest', manifest], { cwd: dir });
      expect(m.exitCode, m.stderr).toBe(0);
      return {
        sim,
        outcome: { views: [[merged], shards], manifest, cwd: dir, budget: { cost: 20 } },
      };
    },
  },
  {
    name: '3 team processes',
    team: true,
    async drive({ dir, team, start }) {
      const sim = await start({ apiKey: KEY, latency: '0.2-0.5', seed: 31 });
      const manifest = writeFilm(dir, 4, 40);
      const outs = [1, 2, 3].map((i) => path.join(dir, `machine-${i}`));
      const runs = outs.map((out) =>
        spawnShotlist(runArgs(manifest, sim, out, '--team', team(1), '--team-budget', '12'), {
          env,
          cwd: dir,
        }),
      );
      // 16 s of shots over a 12 s team budget: a shot is refused on every machine (exit 1).
      for (const r of await Promise.all(runs)) expect(r.exitCode, String(r.stderr)).toBe(1);
      return {
        sim,
        outcome: { views: outs.map((o) => [o]), manifest, cwd: dir, budget: { seconds: 12 } },
      };
    },
  },
  {
    name: '3 team processes with faults, then each --retry-unknown',
    team: true,
    async drive({ dir, team, start }) {
      // As in the plain row, a seed that created no unanswered task is tried again (each try
      // with a Redis database of its own).
      return untilAmbiguous(async (seed, attempt) => {
        const sim = await start({ apiKey: KEY, latency: '0.2-0.5', seed, faults: '500=0.4' });
        const at = path.join(dir, `seed-${seed}`);
        mkdirSync(at, { recursive: true });
        const manifest = writeFilm(at, 4, 40);
        const outs = [1, 2, 3].map((i) => path.join(at, `machine-${i}`));
        for (const more of [[], ['--retry-unknown']]) {
          const runs = outs.map((out) =>
            spawnShotlist(
              runArgs(
                manifest,
                sim,
                out,
                '--team',
                team(3 + attempt),
                '--team-budget',
                '16',
                ...more,
              ),
              { env, cwd: at },
            ),
          );
          for (const r of await Promise.all(runs))
            expect([0, 1], String(r.stderr)).toContain(r.exitCode);
        }
        return {
          sim,
          outcome: {
            views: outs.map((o) => [o]),
            manifest,
            cwd: at,
            retryUnknown: true,
            budget: { seconds: 16 },
          },
        };
      }, 31);
    },
  },
  {
    name: 'enqueue + 2 workers, one killed -9',
    team: true,
    async drive({ dir, team, start }) {
      const sim = await start({ apiKey: KEY, latency: '1-2s', seed: 37 });
      const manifest = writeFilm(dir, 4, 40);
      const out = path.join(dir, 'out');
      const worker = (name: string) =>
        spawnShotlist(
          [
            ...['run', '--team', team(2), '--worker', '--base-url', sim.url],
            ...['--concurrency', '2', '--team-budget', '12'],
          ],
          { env, cwd: mkdirSync(path.join(dir, name), { recursive: true })! },
        );
      const victim = worker('victim');
      const other = worker('other');
      const victimSent = printed(victim, /submitted, task/g, 1);
      const enqueuer = spawnShotlist(
        ['enqueue', manifest, '--team', team(2), '--base-url', sim.url, '--out', out, '--yes'],
        { env, cwd: dir },
      );
      await victimSent();
      victim.kill('SIGKILL');
      await victim;
      const r = await enqueuer;
      // 16 s of shots over the workers' 12 s team budget: a shot is refused (exit 1).
      expect(r.exitCode, String(r.stderr)).toBe(1);
      other.kill('SIGTERM');
      await other;
      return { sim, outcome: { views: [[out]], manifest, cwd: dir, budget: { seconds: 12 } } };
    },
  },
];

describe('money reconciled: ledger, cost, once, budget', () => {
  for (const row of ROWS) {
    it.skipIf(row.team === true && !binary)(
      row.name,
      async () => {
        const tmp = tempDir('shotlist-reconcile-');
        const redis = row.team ? await startRedisServer(binary!) : undefined;
        let sim: Simulator | undefined;
        try {
          const team = (db: number) => redis!.url.replace(/\/0$/, `/${db}`);
          const start = async (options: Parameters<typeof startSimulator>[0]) =>
            (sim = await startSimulator(options));
          const driven = await row.drive({ dir: tmp.dir, team, start });
          await check(row.name, driven.sim, driven.outcome);
        } finally {
          await sim?.close();
          await redis?.stop();
          tmp.cleanup();
        }
      },
      300_000,
    );
  }
});

describe('simulated rehearsal then real run', () => {
  it('a --simulate rehearsal, then a real run, both in the default folders: cost counts the real run only', async () => {
    const tmp = tempDir('shotlist-reconcile-');
    const sim = await startSimulator({ apiKey: KEY, latency: 0, seed: 41 });
    try {
      const manifest = writeFilm(tmp.dir, 3, 20);
      const rehearsal = await shotlist(
        ['run', manifest, '--simulate', '--sim-latency', '0', '--yes'],
        { env, cwd: tmp.dir },
      );
      expect(rehearsal.exitCode, rehearsal.stderr).toBe(0);
      const real = await shotlist(['run', manifest, '--base-url', sim.url, '--yes'], {
        env,
        cwd: tmp.dir,
      });
      expect(real.exitCode, real.stderr).toBe(0);
      await check('simulated rehearsal then real run', sim, {
        views: [[path.join(tmp.dir, 'renders', 'film')]],
        defaultFolder: true,
        manifest,
        cwd: tmp.dir,
        budget: { cost: 20 },
      });
    } finally {
      await sim.close();
      tmp.cleanup();
    }
  }, 300_000);
});
