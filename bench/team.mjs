/**
 * Team mode benchmark (needs `npm run build` and a redis-server): N shots (default 300,
 * SHOTLIST_BENCH_TEAM_SHOTS) against `sim --latency 0` with a key cap, through the built CLI:
 *  - one process without --team, then one with it: CPU and wall ms per shot of each, and the
 *    differences (team mode's overhead per shot; CPU is the steadier figure on a shared machine);
 *  - three processes with --team on the same manifest: submissions (N, none twice), POSTs
 *    refused for the cap (0), Redis commands per shot (Redis's own count), Redis's CPU over
 *    the makespan, and the makespan over its bound from the key cap (each task holds a slot
 *    until its first poll, one second after submission): near 1 means the cap, not Redis,
 *    bounds the throughput.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { startSimulator } from '../dist/sim/index.js';
import { DEFAULT_POLL_TUNING } from '../dist/render/poll.js';
import { runMeasured } from './util.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(root, 'bin', 'shotlist.js');
const KEY = 'bench-key-0123456789';
const CAP = 16;

function manifest(shots) {
  const lines = Array.from(
    { length: shots },
    (_, i) => `  - id: t${String(i + 1).padStart(3, '0')}\n    prompt: 团队基准镜头 ${i + 1}`,
  );
  return `version: 1
name: bench
defaults: { model: seedance-2-official, duration: 4, ratio: '16:9', size: 480p }
concurrency: ${CAP}
shots:
${lines.join('\n')}
`;
}

const freePort = () =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

const accepts = (port) =>
  new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

async function startRedis(dir) {
  const binary = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find(existsSync);
  if (!binary) throw new Error('redis-server is not installed: team bench skipped');
  const port = await freePort();
  const child = spawn(
    binary,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
    ],
    { stdio: 'ignore' },
  );
  for (let i = 0; i < 100 && !(await accepts(port)); i++)
    await new Promise((r) => setTimeout(r, 50));
  return { url: `redis://127.0.0.1:${port}/0`, stop: () => child.kill('SIGTERM') };
}

/** One CLI run; its CPU time comes from the child itself. */
async function shotlist(file, out, sim, more) {
  const { child, wallMs, usage } = await runMeasured(
    BIN,
    ['run', file, '--base-url', sim.url, '--out', out, '--yes', '--json', ...more],
    { ...process.env, SHOTLIST_API_KEY: KEY, CI: '1' },
  );
  const summary = JSON.parse(String(child.stdout).trim().split('\n').at(-1) ?? '{}');
  return {
    done: summary.totals?.done ?? 0,
    cpuMs: usage ? (usage.userCPUTime + usage.systemCPUTime) / 1000 : NaN,
    wallMs,
  };
}

async function redisInfo(redis) {
  const stats = await redis.info('commandstats');
  const cpu = await redis.info('cpu');
  const all = [...stats.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)].filter(([, n]) => n !== 'info');
  // Commands the scripts run inside Redis are counted too: `scripts` is the round trips.
  const calls = all.reduce((n, [, , c]) => n + Number(c), 0);
  const scripts = all
    .filter(([, n]) => n === 'evalsha' || n === 'eval')
    .reduce((n, [, , c]) => n + Number(c), 0);
  const used = (name) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(cpu)?.[1] ?? 0);
  return { calls, scripts, cpuS: used('used_cpu_sys') + used('used_cpu_user') };
}

export async function benchTeam() {
  const shots = Number(process.env.SHOTLIST_BENCH_TEAM_SHOTS ?? 300);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'shotlist-bench-team-'));
  const redisServer = await startRedis(dir);
  const redis = new Redis(redisServer.url);
  const sim = await startSimulator({ apiKey: KEY, latency: 0, seed: 3, keyConcurrency: CAP });
  const file = path.join(dir, 'bench.yaml');
  await writeFile(file, manifest(shots));
  const folder = async (name) => {
    await mkdir(path.join(dir, name), { recursive: true });
    return path.join(dir, name, 'out');
  };
  try {
    // The first run fills the simulator's clip cache, so the next ones measure shotlist.
    await shotlist(file, await folder('warm'), sim, []);
    // Each run has its own folder (its own journal), so each submits every shot anew.
    const local = await shotlist(file, await folder('local'), sim, []);
    const teamUrl = (db) => redisServer.url.replace(/\/0$/, `/${db}`);
    const alone = await shotlist(file, await folder('alone'), sim, ['--team', teamUrl(1)]);
    const bodiesBefore = sim.ledger().submissions.length;
    const postsBefore = sim.stats().requests['POST /v1/videos'] ?? 0;
    const before = await redisInfo(redis);
    const started = performance.now();
    const three = await Promise.all(
      ['a', 'b', 'c'].map(async (m) =>
        shotlist(file, await folder(m), sim, ['--team', teamUrl(2)]),
      ),
    );
    const makespanMs = performance.now() - started;
    const after = await redisInfo(redis);
    const posts = (sim.stats().requests['POST /v1/videos'] ?? 0) - postsBefore;
    const created = sim.ledger().submissions.length - bodiesBefore;
    const boundMs = Math.ceil(shots / CAP) * DEFAULT_POLL_TUNING.firstMs;
    return {
      'team.shots': { value: shots, unit: 'shots', note: `key cap ${CAP}, latency 0` },
      'team.cpu_per_shot_local': { value: local.cpuMs / shots, unit: 'ms' },
      'team.cpu_per_shot_team': { value: alone.cpuMs / shots, unit: 'ms' },
      'team.wall_local': { value: local.wallMs, unit: 'ms', note: 'one process, no --team' },
      'team.wall_team': { value: alone.wallMs, unit: 'ms', note: 'one process, --team' },
      'team.overhead_per_shot': {
        value: (alone.cpuMs - local.cpuMs) / shots,
        unit: 'ms CPU',
        note: 'one process, --team vs none',
      },
      'team.wall_overhead_per_shot': {
        value: (alone.wallMs - local.wallMs) / shots,
        unit: 'ms wall',
        note: 'one process, --team vs none (shared machine: noisy)',
      },
      'team.three_makespan': {
        value: makespanMs,
        unit: 'ms',
        note: `3 processes x ${shots} shots, one Redis`,
      },
      'team.three_done_each': { value: Math.min(...three.map((r) => r.done)), unit: 'shots' },
      'team.three_submissions': {
        value: created,
        unit: 'tasks',
        target: `${shots}`,
        note: 'tasks the three processes created',
      },
      'team.three_cap_refusals': { value: posts - created, unit: 'POSTs', target: '0' },
      'team.redis_commands_per_shot': {
        value: (after.calls - before.calls) / shots,
        unit: 'commands',
        note: 'three processes, per manifest shot, with the commands inside scripts',
      },
      'team.redis_round_trips_per_shot': {
        value: (after.scripts - before.scripts) / shots,
        unit: 'scripts',
        note: 'three processes, per manifest shot',
      },
      'team.redis_cpu_share': {
        value: (after.cpuS - before.cpuS) / (makespanMs / 1000),
        unit: 'of one core',
      },
      'team.makespan_over_cap_bound': {
        value: makespanMs / boundMs,
        unit: 'x',
        note: `bound: ${shots}/${CAP} slots x ${DEFAULT_POLL_TUNING.firstMs} ms first poll`,
      },
    };
  } finally {
    redis.disconnect();
    await sim.close();
    redisServer.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
