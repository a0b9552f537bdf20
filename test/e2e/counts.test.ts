/**
 * Every summary counts every shot of the run (done, failed, unknown, pending, not sent), and a
 * team machine counts what it paid apart from what it followed.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { shotlist, spawnShotlist, tempDir } from '../helpers/cli.js';
import {
  NO_REDIS,
  redisServerPath,
  startRedisServer,
  type RedisServer,
} from '../team/redis-server.js';
import { KEY, childEnv, readReport, runArgs, writeManifest } from './run-helpers.js';

let tmp: ReturnType<typeof tempDir>;
let sim: Simulator | undefined;

beforeEach(() => {
  tmp = tempDir('shotlist-counts-');
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  tmp.cleanup();
});

type Summary = {
  totals: Record<string, number>;
  spend: Record<string, { seconds: number; cost: number | null }>;
};
const summaryOf = (stdout: string) =>
  JSON.parse(stdout.trim().split('\n').at(-1)!) as Summary & { event: string };

describe('summaries count every shot', () => {
  it('after a quota stop the never-sent shots are counted in the line, the event, the step summary and the report', async () => {
    // 8 s of quota: two 4-second tasks, then the key is refused; 9 shots are never sent.
    sim = await startSimulator({ quota: { [KEY]: 8 }, latency: '0.3-0.6', seed: 4 });
    const manifest = writeManifest(tmp.dir, 12);
    const out = path.join(tmp.dir, 'out');
    const md = path.join(tmp.dir, 'summary.md');
    writeFileSync(md, '');
    const env = { ...childEnv, GITHUB_STEP_SUMMARY: md };
    const args = runArgs(manifest, sim, out, '--concurrency', '2');
    const r = await shotlist([...args, '--json'], { env });
    expect(r.exitCode).toBe(4);
    const summary = summaryOf(r.stdout);
    expect(summary.totals).toMatchObject({ shots: 12, done: 2, failed: 1, not_sent: 9 });
    const t = summary.totals;
    expect(t.done! + t.failed! + t.unknown! + t.pending! + t.not_sent!).toBe(t.shots);
    expect(readFileSync(md, 'utf8')).toContain(
      '2 done, 1 failed, 0 unknown, 0 pending, 9 not sent of 12 shots',
    );
    expect(readReport(out).totals).toMatchObject({ shots: 12, done: 2, failed: 1, not_sent: 9 });
    const line = await shotlist(args, { env });
    expect(line.stdout).toMatch(/2 done, 1 failed, 9 not sent · /);
  });
});

const binary = redisServerPath();
if (!binary) console.warn(NO_REDIS);

describe.skipIf(!binary)('team machines count what they paid apart from what they followed', () => {
  let redis: RedisServer | undefined;
  afterEach(async () => {
    await redis?.stop();
    redis = undefined;
  });

  it("two machines' billed add up to the API's ledger, not twice it", async () => {
    redis = await startRedisServer(binary!);
    sim = await startSimulator({ apiKey: KEY, latency: '0.5-1', seed: 12 });
    const team = redis.url.replace(/\/0$/, '/3');
    const machines = ['a', 'b'].map((name) => {
      const dir = path.join(tmp.dir, name);
      mkdirSync(dir);
      return { manifest: writeManifest(dir, 10), out: path.join(dir, 'out') };
    });
    const runs = await Promise.all(
      machines.map((m) =>
        spawnShotlist([...runArgs(m.manifest, sim!, m.out, '--team', team, '--json')], {
          env: childEnv,
        }),
      ),
    );
    const summaries = runs.map((r) => {
      expect(r.exitCode, String(r.stderr)).toBe(0);
      return summaryOf(String(r.stdout));
    });
    const ledger = sim.ledger().totals.billed_seconds;
    expect(ledger).toBe(40);
    expect(summaries.some((s) => (s.spend.followed?.seconds ?? 0) > 0)).toBe(true);
    const paid = summaries.reduce((n, s) => n + s.spend.billed!.seconds, 0);
    expect(paid).toBe(ledger);
    // Each machine has every shot: paid here or followed.
    for (const s of summaries)
      expect(s.spend.billed!.seconds + (s.spend.followed?.seconds ?? 0)).toBe(40);
  });
});
