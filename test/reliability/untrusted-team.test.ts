/**
 * Reliability row of untrusted team state: a party that can write to the team's Redis plants
 * facts for the enqueuer and jobs for the workers (the built CLI, Debian's redis-server, the
 * simulator). Each attack is refused or taken only as far as the API confirms it: nothing is
 * fetched from the planted hosts, nothing written outside the output folders, nothing sent
 * that the manifest did not ask for, the key never shown.
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import type { VideoRequest } from '../../src/api/contract.js';
import { journalKey } from '../../src/manifest/identity.js';
import { spawnShotlist, type CliResult } from '../helpers/cli.js';
import { until } from '../helpers/wait.js';
import { foreignServer, plannedShots, plantFact, plantJob } from '../team/plant.js';
import { NO_REDIS, redisServerPath, startRedisServer } from '../team/redis-server.js';
import { record } from './figures.js';
import { KEY, env, keyLeaks, useSimulator, writeManifest } from './common.js';

const bench = useSimulator('shotlist-untrusted-team-', { latency: 0, seed: 41 });
const binary = redisServerPath();
if (!binary) console.warn(NO_REDIS);

const ESC = '\x1b';
const bare = { PATH: process.env.PATH ?? '', CI: 'true', NO_COLOR: '1' };

/** Every file under a folder with its size and sha256 (what an attack could have touched). */
function snapshot(dir: string): Map<string, string> {
  const seen = new Map<string, string>();
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const file = path.join(e.parentPath, e.name);
    const info = lstatSync(file);
    const hash = info.isFile() ? createHash('sha256').update(readFileSync(file)).digest('hex') : '';
    seen.set(path.relative(dir, file), `${info.size} ${hash}`);
  }
  return seen;
}

/** Bytes of the entries added or changed between two snapshots. */
function bytesChanged(before: Map<string, string>, after: Map<string, string>): number {
  let bytes = 0;
  for (const [k, v] of after) if (before.get(k) !== v) bytes += Number(v.split(' ')[0]) || 1;
  return bytes;
}

interface Attack {
  name: string;
  /** Plants the attack in Redis db `db`; `shot` is the manifest's one shot. */
  plant: (a: AttackContext) => Promise<void>;
  /** `enqueuer`: the manifest is enqueued (with or without the key); `worker`: a worker runs. */
  runs: 'enqueuer' | 'keyless enqueuer' | 'worker';
  /** What shows the attack was refused (or taken no further than the API confirms). */
  refused: (r: CliResult) => boolean;
}

interface AttackContext {
  team: string;
  base: string;
  key: string;
  request: VideoRequest;
  foreign: string;
  sentinel: string;
  shot: Awaited<ReturnType<typeof plannedShots>>[number]['shot'];
}

const fact = (a: AttackContext, fields: Record<string, string>) =>
  plantFact(a.team, a.key, { gen: '1', owner: 'intruder', ...fields });
const shown = (r: CliResult) => r.stdout + r.stderr;

const attacks: Attack[] = [
  {
    name: 'completed fact: unknown task, foreign URL',
    runs: 'enqueuer',
    plant: (a) =>
      fact(a, { state: 'completed', task_id: 'task_planted', url: `${a.foreign}/x.mp4` }),
    refused: (r) => r.exitCode === 1 && r.stdout.includes('team_fact_refused'),
  },
  {
    name: 'completed fact: unknown task, file URL of an outside file',
    runs: 'enqueuer',
    plant: (a) =>
      fact(a, {
        state: 'completed',
        task_id: 'task_planted2',
        url: `file://${path.join(a.sentinel, 'victim.mp4')}`,
      }),
    refused: (r) => r.exitCode === 1 && r.stdout.includes('team_fact_refused'),
  },
  {
    name: 'completed fact: task id with a path in it',
    runs: 'enqueuer',
    plant: (a) =>
      fact(a, { state: 'completed', task_id: '../../../etc/passwd', url: `${a.foreign}/y.mp4` }),
    refused: (r) => r.exitCode === 1 && r.stdout.includes('team_fact_refused'),
  },
  {
    name: "completed fact: a real task of the API, foreign URL (the API's URL is fetched)",
    runs: 'enqueuer',
    plant: async (a) => {
      const res = await fetch(`${a.base}/v1/videos`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(a.request),
      });
      const task = (await res.json()) as { id: string };
      await fact(a, { state: 'completed', task_id: task.id, url: `${a.foreign}/z.mp4` });
    },
    refused: (r) => r.exitCode === 0,
  },
  {
    name: 'failed fact: terminal escapes and the key in its message',
    runs: 'enqueuer',
    plant: (a) =>
      fact(a, {
        state: 'failed',
        code: `x${ESC}[2J`,
        message: `${ESC}]0;title${ESC}\\${ESC}[31m${KEY}${ESC}[0m\r\nfake: line`,
      }),
    refused: (r) => r.exitCode === 1 && !shown(r).includes(ESC) && r.stdout.includes('***'),
  },
  {
    name: 'keyless enqueuer: completed fact, unknown task, outside URL (trusted, with a warning)',
    runs: 'keyless enqueuer',
    plant: (a) =>
      fact(a, { state: 'completed', task_id: 'task_planted3', url: `${a.foreign}/w.mp4` }),
    // Without a key the fact is all there is: the warning says so, the clip fails its checks.
    refused: (r) =>
      r.exitCode === 1 &&
      /warning: no API key: this enqueuer trusts the team's Redis/.test(r.stderr),
  },
  {
    name: "job under the shot's key with another body (15 s, 720p, seconds: 1)",
    runs: 'worker',
    plant: (a) =>
      plantJob(a.team, a.base, {
        key: a.key,
        gen: 1,
        label: `s1${ESC}[2J`,
        base: a.base,
        shot: {
          ...a.shot,
          seconds: 1,
          request: { ...a.request, prompt: 'another film', duration: 15, size: '720p' },
        },
      }),
    refused: (r) => r.stdout.includes('job_refused') && !r.stdout.includes(ESC),
  },
  {
    name: "job over --team-budget by its body's duration, carrying seconds: 1",
    runs: 'worker',
    plant: (a) => {
      const request = { ...a.request, duration: 15 };
      return plantJob(a.team, a.base, {
        key: journalKey(request, 1, a.base),
        gen: 1,
        label: 'over',
        base: a.base,
        shot: { ...a.shot, request, seconds: 1, cost: 0 },
      });
    },
    refused: (r) => r.stdout.includes('failed: team_budget'),
  },
  {
    name: 'job whose body breaks the API rules, keyed to match',
    runs: 'worker',
    plant: (a) => {
      const request = { ...a.request, duration: 99 };
      return plantJob(a.team, a.base, {
        key: journalKey(request, 1, a.base),
        gen: 1,
        label: 'invalid',
        base: a.base,
        shot: { ...a.shot, request },
      });
    },
    refused: (r) => /job_refused: the queued job's body is not valid: duration/.test(r.stdout),
  },
  {
    name: 'job of another API base URL, keyed for that API',
    runs: 'worker',
    plant: (a) => {
      const other = 'https://elsewhere.example';
      return plantJob(a.team, a.base, {
        key: journalKey(a.request, 1, other),
        gen: 1,
        label: 'elsewhere',
        base: other,
        shot: a.shot,
      });
    },
    refused: (r) => r.stdout.includes('job_refused'),
  },
];

/** Runs a worker until it has ended one job (or has ended), then stops it. */
async function runWorker(a: AttackContext, cwd: string): Promise<CliResult> {
  const child = spawnShotlist(
    ['run', '--team', a.team, '--worker', '--base-url', a.base, '--team-budget', '5'],
    { cwd, env: { ...bare, ...env }, extendEnv: false },
  );
  let seen = '';
  child.stdout!.on('data', (chunk: Buffer) => (seen += String(chunk)));
  await until(
    () => /: (failed|submitted)/.test(seen) || child.exitCode !== null,
    'the worker to end a job',
  );
  child.kill('SIGTERM');
  const r = await child;
  return { exitCode: r.exitCode, signal: r.signal, stdout: seen, stderr: String(r.stderr) };
}

it.skipIf(!binary)(
  'untrusted team state: planted facts and jobs are refused or checked with the API',
  async () => {
    const { tmp, sim } = bench;
    const redis = await startRedisServer(binary!);
    const foreign = await foreignServer();
    const sentinel = path.join(tmp.dir, 'sentinel');
    mkdirSync(sentinel, { recursive: true });
    writeFileSync(path.join(sentinel, 'victim.mp4'), 'an outside file\n');
    const before = snapshot(sentinel);
    const outputs: string[] = [];
    const failures: string[] = [];
    let refused = 0;
    let outsideBytes = 0;
    let ownSubmissions = 0;
    let plantedFetches = 0;
    try {
      for (const [i, attack] of attacks.entries()) {
        const dir = path.join(tmp.dir, `attack${i + 1}`);
        const cwd = path.join(dir, 'cwd');
        mkdirSync(cwd, { recursive: true });
        const manifest = writeManifest(dir, 1, 'untrusted');
        const [planned] = await plannedShots(manifest, sim.url);
        const a: AttackContext = {
          team: redis.url.replace(/\/0$/, `/${i + 1}`),
          base: sim.url,
          key: planned!.key,
          request: planned!.shot.request,
          shot: planned!.shot,
          foreign: foreign.url,
          sentinel,
        };
        const submitted = sim.ledger().totals.submissions;
        await attack.plant(a);
        ownSubmissions += sim.ledger().totals.submissions - submitted;
        const out = path.join(dir, 'out');
        const fetched = foreign.requests();
        const r =
          attack.runs === 'worker'
            ? await runWorker(a, cwd)
            : await spawnShotlist(
                [
                  'enqueue',
                  manifest,
                  '--team',
                  a.team,
                  '--base-url',
                  a.base,
                  '--out',
                  out,
                  '--yes',
                ],
                {
                  cwd,
                  env: attack.runs === 'enqueuer' ? { ...bare, ...env } : bare,
                  extendEnv: false,
                },
              ).then((c) => ({
                exitCode: c.exitCode,
                signal: c.signal,
                stdout: String(c.stdout),
                stderr: String(c.stderr),
              }));
        outputs.push(r.stdout, r.stderr);
        // A keyless enqueuer has only the facts to go by (it warns so): its fetch is expected.
        if (attack.runs !== 'keyless enqueuer') plantedFetches += foreign.requests() - fetched;
        // The folder a process runs in is outside its output folder: nothing may appear there.
        outsideBytes += bytesChanged(new Map(), snapshot(cwd));
        if (attack.refused(r)) refused++;
        else failures.push(`${attack.name}: exit ${r.exitCode}\n${r.stdout}\n${r.stderr}`);
      }
    } finally {
      await foreign.close();
      await redis.stop();
    }
    outsideBytes += bytesChanged(before, snapshot(sentinel));
    const figures = {
      'attacks tried': attacks.length,
      'refused or checked with the API': refused,
      'planted URLs fetched (with a key)': plantedFetches,
      'bytes touched outside output folders': outsideBytes,
      'extra submissions': sim.ledger().totals.submissions - ownSubmissions,
      'key leaks': keyLeaks(outputs, tmp.dir),
    };
    record('untrusted-team', 'planted Redis facts and queued jobs', failures.length === 0, figures);
    expect(failures).toEqual([]);
    expect(figures).toMatchObject({
      'planted URLs fetched (with a key)': 0,
      'bytes touched outside output folders': 0,
      'extra submissions': 0,
      'key leaks': 0,
    });
  },
);
