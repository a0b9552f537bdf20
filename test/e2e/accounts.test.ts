import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { accountOf, startSimulator, type Simulator } from '../../src/sim/index.js';
import { shotlist, spawnShotlist, tempDir } from '../helpers/cli.js';
import { eventCount, heldClock, untilOutput } from '../helpers/wait.js';
import { parseEvents } from './events-schema.js';
import { filesUnder, readReport, submissionsByPrompt, writeManifest } from './run-helpers.js';

const KEYS = {
  SHOTLIST_KEY_A: 'sk-pool-a-5d1e9f0c7b2a',
  SHOTLIST_KEY_B: 'sk-pool-b-83c4aa61e0d7',
  SHOTLIST_KEY_C: 'sk-pool-c-2f7b90d35e18',
};
const env = { ...KEYS, CI: 'true' };
const ACCOUNT_OF = Object.fromEntries(
  Object.entries({ a: KEYS.SHOTLIST_KEY_A, b: KEYS.SHOTLIST_KEY_B, c: KEYS.SHOTLIST_KEY_C }).map(
    ([name, key]) => [accountOf(key), name],
  ),
);

let tmp: ReturnType<typeof tempDir>;
let sim: Simulator | undefined;

beforeEach(() => {
  tmp = tempDir('shotlist-accounts-');
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  tmp.cleanup();
});

/** An accounts file of the named accounts (a, b, c), each on `sim` with concurrency 4. */
function writeAccounts(names: string[], file = 'accounts.yaml'): string {
  const lines = names.map(
    (n) =>
      `  - { name: ${n}, base_url: '${sim!.url}', key_env: SHOTLIST_KEY_${n.toUpperCase()}, concurrency: 4 }`,
  );
  const full = path.join(tmp.dir, file);
  writeFileSync(full, `accounts:\n${lines.join('\n')}\n`);
  return full;
}

/** Asserts no key appears in any output or file. */
function expectNoKeys(outputs: string[], dir: string): void {
  const keys = Object.values(KEYS);
  for (const text of outputs) for (const k of keys) expect(text.includes(k)).toBe(false);
  for (const file of filesUnder(dir))
    for (const k of keys) expect(readFileSync(file).includes(k), file).toBe(false);
}

/** Tasks the simulator created, by pool account name. */
function tasksByAccount(s: Simulator): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of s.ledger().submissions) {
    const name = ACCOUNT_OF[e.account ?? ''] ?? '?';
    out[name] = (out[name] ?? 0) + 1;
  }
  return out;
}

/** Tasks the journal of `out` says `account` holds and whose file it has not recorded. */
function heldInFlight(out: string, account: string): number {
  const lines = readFileSync(path.join(out, 'journal.ndjson'), 'utf8').split('\n').filter(Boolean);
  const entries = lines.map(
    (l) => JSON.parse(l) as { type: string; key: string; account?: string },
  );
  const done = new Set(entries.filter((e) => e.type === 'file').map((e) => e.key));
  const held = new Set(
    entries.filter((e) => e.type === 'intent' && e.account === account).map((e) => e.key),
  );
  return [...held].filter((k) => !done.has(k)).length;
}

const args = (manifest: string, out: string, accounts: string, ...more: string[]) => [
  'run',
  manifest,
  '--accounts',
  accounts,
  '--out',
  out,
  '--yes',
  '--json',
  ...more,
];

describe('an account pool spreads one run over several keys (built bin)', () => {
  it('3 accounts, 60 shots: all done once, the account out of quota retired, the others carry on', async () => {
    // c's quota pays for two 4-second tasks; a and b have room for all.
    const quota = {
      [KEYS.SHOTLIST_KEY_A]: 1000,
      [KEYS.SHOTLIST_KEY_B]: 1000,
      [KEYS.SHOTLIST_KEY_C]: 8,
    };
    sim = await startSimulator({ quota, latency: 0, seed: 3 });
    const manifest = writeManifest(tmp.dir, 60);
    // 60 shots of 4 s at 1 CNY/s: within the budget.
    writeFileSync(
      manifest,
      readFileSync(manifest, 'utf8').replace('max_cost: 100', 'max_cost: 300'),
    );
    const out = path.join(tmp.dir, 'out');
    const r = await shotlist(
      args(manifest, out, writeAccounts(['a', 'b', 'c']), '--concurrency', '12'),
      // 60 downloads, probes and thumbnails: minutes on a loaded 2-core machine.
      { env },
    );

    expect(r.stderr).not.toMatch(/error/);
    expect(r.exitCode).toBe(0);
    expect(readReport(out).totals.done).toBe(60);
    const counts = submissionsByPrompt(sim);
    expect(counts.size).toBe(60);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    const byAccount = tasksByAccount(sim);
    expect(byAccount.c).toBe(2);
    expect(byAccount.a! + byAccount.b!).toBe(58);
    expect(byAccount.a).toBeGreaterThan(10);
    expect(byAccount.b).toBeGreaterThan(10);
    // The retirement: one NDJSON event with the gateway's message, and the report.
    // Every event fits docs/events.schema.json, the retirement's included.
    const { events } = parseEvents(r.stdout, r.exitCode);
    const retired = events.filter((e) => e.event === 'account');
    expect(retired).toHaveLength(1);
    expect(retired[0]).toMatchObject({ account: 'c', state: 'retired', reason: 'quota', left: 2 });
    expect(retired[0]!.message).toMatch(/quota exhausted/);
    const accounts = readReport(out).accounts!;
    expect(accounts.map((a) => a.name)).toEqual(['a', 'b', 'c']);
    expect(accounts.find((a) => a.name === 'c')!.retired?.reason).toBe('quota');
    expect(accounts.filter((a) => a.retired)).toHaveLength(1);
    expect(sim.stats().foreign_task_requests).toBe(0);
    expectNoKeys([r.stdout, r.stderr], out);
  });

  it('kill -9 mid-run: each task is polled at its own account, a missing account leaves its tasks in flight', async () => {
    const quota = Object.fromEntries(Object.values(KEYS).map((k) => [k, 1000]));
    // The simulator's clock stands still until the kill: every task is in flight at it.
    const clock = heldClock();
    sim = await startSimulator({ quota, latency: '1.5-2.5', seed: 7, clock: clock.now });
    const manifest = writeManifest(tmp.dir, 12);
    const out = path.join(tmp.dir, 'out');
    const all = writeAccounts(['a', 'b', 'c']);
    const child = spawnShotlist(args(manifest, out, all, '--concurrency', '12'), { env });
    await untilOutput(child, (seen) => eventCount(seen, 'submitted') >= 12);
    child.kill('SIGKILL');
    await child;
    clock.release();
    // Every task was created before the kill, spread over the three accounts; the journal
    // names the account holding each (c's still in flight are counted from it).
    const held = tasksByAccount(sim);
    expect(held.a! + held.b! + held.c!).toBe(12);
    expect(held.a! * held.b! * held.c!).toBeGreaterThan(0);
    const inFlightAtC = heldInFlight(out, 'c');
    expect(inFlightAtC).toBeGreaterThan(0);
    const before =
      sim.stats().accounts[accountOf(KEYS.SHOTLIST_KEY_C)]?.['GET /v1/videos/:id'] ?? 0;

    // Without c in the file: c's tasks stay in flight (never sent again), named with the fix.
    const partial = await shotlist(args(manifest, out, writeAccounts(['a', 'b'], 'ab.yaml')), {
      env,
    });
    expect(partial.exitCode).toBe(1);
    expect(partial.stderr).toMatch(/held by account c, which this run does not have; add c back/);
    expect(readReport(out).totals.done).toBe(12 - inFlightAtC);
    expect(sim.ledger().totals.submissions).toBe(12);
    expect(sim.stats().accounts[accountOf(KEYS.SHOTLIST_KEY_C)]?.['GET /v1/videos/:id'] ?? 0).toBe(
      before,
    );

    // With c back: its tasks are polled with c's key and collected; nothing is sent again.
    const again = await shotlist(args(manifest, out, all), { env });
    expect(again.exitCode).toBe(0);
    expect(readReport(out).totals.done).toBe(12);
    expect(sim.ledger().totals.submissions).toBe(12);
    expect(sim.stats().requests['POST /v1/videos']).toBe(12);
    expect(
      sim.stats().accounts[accountOf(KEYS.SHOTLIST_KEY_C)]!['GET /v1/videos/:id'],
    ).toBeGreaterThan(before);
    expect(sim.stats().foreign_task_requests).toBe(0);
    expectNoKeys([partial.stdout, partial.stderr, again.stdout, again.stderr], out);
  });

  it('a bad accounts file: every problem at file:line:col, exit 2, nothing sent, no key shown', async () => {
    sim = await startSimulator({ quota: { [KEYS.SHOTLIST_KEY_A]: 100 }, latency: 0 });
    const manifest = writeManifest(tmp.dir, 2);
    const file = path.join(tmp.dir, 'accounts.yaml');
    writeFileSync(
      file,
      `accounts:
  - { name: a, base_url: '${sim.url}', key_env: SHOTLIST_KEY_A, concurency: 4 }
  - { name: a, base_url: '${sim.url}', key_env: SHOTLIST_KEY_UNSET, concurrency: 4 }
`,
    );
    const r = await shotlist(args(manifest, path.join(tmp.dir, 'out'), file), { env });
    expect(r.exitCode).toBe(2);
    // Every problem at once, each at its line, with the fix; the key variable by its name only.
    expect(r.stderr).toMatch(
      /accounts\.yaml:2:\d+: error: unknown field "concurency" in account 1\n {2}fix: did you mean concurrency\?/,
    );
    expect(r.stderr).toMatch(
      /accounts\.yaml:3:\d+: error: account name "a" is given twice \(first at line 2\)/,
    );
    expect(r.stderr).toMatch(
      /accounts\.yaml:3:\d+: error: account a: its key variable SHOTLIST_KEY_UNSET is not set/,
    );
    expect(sim.stats().requests['POST /v1/videos'] ?? 0).toBe(0);
    expectNoKeys([r.stdout, r.stderr], tmp.dir);
    const clash = await shotlist(
      [...args(manifest, path.join(tmp.dir, 'out'), file), '--base-url', sim.url],
      { env },
    );
    expect(clash.exitCode).toBe(2);
    expect(clash.stderr).toMatch(/--accounts cannot be used with --base-url/);
  });
});
