/**
 * Every command sees the same job: after each step of a job (run, edit a prompt, revert it,
 * pick take 2, re-roll), `plan`, `status`, the review page, `stitch`, `cost` and `report.json`
 * agree on each take's key, state, chosen take and cost (built bin, simulator on loopback).
 * One file a row (`commands-agree-<row>.test.ts`), so that the rows run side by side.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/sim/index.js';
import { shotlist, tempDir } from '../helpers/cli.js';
import { makeImage } from '../helpers/tools.js';
import { reviewStateOf, startStorage, statusOf, storageEnv } from './job-helpers.js';
import { childEnv, KEY, readReport } from './run-helpers.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

/** One job: its manifest, output folder, the flags naming its API, and how it runs. */
interface Job {
  manifest: string;
  out: string;
  /** The flags every command is given to look at the job's API. */
  flags: string[];
  /** The flags of `run` besides those. */
  runFlags: string[];
  env: NodeJS.ProcessEnv;
  /** A prompt of the manifest the edit step changes (then reverts). */
  edit: string;
  /** The shot the pick and re-roll steps choose a take of. */
  picked: string;
  /** The first run as a CI matrix: `run --shard i/n` into folders of their own, then `merge`. */
  shards?: number;
}

export interface Row {
  name: string;
  open: (dir: string, closers: (() => Promise<void>)[]) => Promise<Job>;
}

const HEAD = `version: 1
name: film
defaults: { model: seedance-2-official, duration: 4, ratio: '16:9', size: 480p, takes: 2 }
pricing: { currency: CNY, per_second: { seedance-2-official: 1.0 } }
`;

/** `film.yaml` in `dir` with a local image at ./refs/cat.png: `body` after the defaults. */
function writeJob(dir: string, body: string): string {
  mkdirSync(path.join(dir, 'refs'), { recursive: true });
  makeImage(path.join(dir, 'refs', 'cat.png'), 'orange');
  const file = path.join(dir, 'film.yaml');
  writeFileSync(file, `${HEAD}${body}`);
  return file;
}

const LOCAL_SHOTS = `shots:
  - { id: s01, prompt: 橘猫在窗边, assets: { images: [./refs/cat.png] } }
  - { id: s02, prompt: 橘猫跳下窗台, assets: { images: [./refs/cat.png] } }
  - { id: s03, prompt: 橘猫在地板上打盹 }
`;

export const ROWS = {
  local: {
    name: 'local files under --simulate',
    open: async (dir) => ({
      manifest: writeJob(dir, LOCAL_SHOTS),
      out: path.join(dir, 'renders', 'film.simulated'),
      flags: ['--simulate'],
      runFlags: ['--sim-latency', '0'],
      env: { CI: 'true' },
      edit: '橘猫跳下窗台',
      picked: 's01',
    }),
  },
  s3: {
    name: 'local files uploaded to S3-compatible storage, another API',
    open: async (dir, closers) => {
      const storage = await startStorage(path.join(dir, 's3'));
      closers.push(storage.close);
      const sim = await startSimulator({ apiKey: KEY, latency: '0.05-0.1', seed: 5 });
      closers.push(() => sim.close());
      const { endpoint } = storage;
      const uploads = `uploads:
  provider: s3
  bucket: media
  region: us-east-1
  endpoint: ${endpoint}
  path_style: true
  public_url: ${endpoint}/media/{key}
`;
      return {
        manifest: writeJob(dir, `${uploads}${LOCAL_SHOTS}`),
        out: path.join(dir, 'renders', 'film'),
        flags: ['--base-url', sim.url],
        runFlags: ['--no-preflight'],
        env: { ...childEnv, ...storageEnv },
        edit: '橘猫跳下窗台',
        picked: 's01',
      };
    },
  },
  chain: {
    name: 'a chain and a cast member with a local image under --simulate',
    open: async (dir) => ({
      manifest: writeJob(
        dir,
        `cast:
  mimi: { images: [./refs/cat.png], description: 橘色短毛猫 }
shots:
  - { id: s01, prompt: '@mimi 趴在窗台上看雨' }
  - id: s02
    prompt: '@mimi 从窗台跳到木地板上'
    assets: { images: [{ from: s01, frame: last, as: first_frame }] }
`,
      ),
      out: path.join(dir, 'renders', 'film.simulated'),
      flags: ['--simulate'],
      runFlags: ['--sim-latency', '0'],
      env: { CI: 'true' },
      edit: '从窗台跳到木地板上',
      // Its pick changes the frame s02 starts on: s02 is new until the next run.
      picked: 's01',
    }),
  },
  variants: {
    name: 'two variants (two aspect ratios) under --simulate',
    open: async (dir) => ({
      manifest: writeJob(
        dir,
        `variants:
  - { name: wide, ratio: '16:9' }
  - { name: tall, ratio: '9:16' }
shots:
  - { id: s01, prompt: 橘猫在窗边, assets: { images: [./refs/cat.png] } }
  - { id: s02, prompt: 橘猫跳下窗台 }
`,
      ),
      out: path.join(dir, 'renders', 'film.simulated'),
      flags: ['--simulate'],
      runFlags: ['--sim-latency', '0'],
      env: { CI: 'true' },
      edit: '橘猫跳下窗台',
      picked: 's02',
    }),
  },
  shards: {
    name: '3 shards and a merge under --simulate',
    open: async (dir) => ({
      manifest: writeJob(dir, LOCAL_SHOTS),
      out: path.join(dir, 'renders', 'film.simulated'),
      flags: ['--simulate'],
      runFlags: ['--sim-latency', '0'],
      env: { CI: 'true' },
      edit: '橘猫跳下窗台',
      picked: 's01',
      shards: 3,
    }),
  },
  accounts: {
    name: 'an accounts pool',
    open: async (dir, closers) => {
      const sim = await startSimulator({ latency: 0, seed: 11 });
      closers.push(() => sim.close());
      const accounts = path.join(dir, 'accounts.yaml');
      writeFileSync(
        accounts,
        `accounts:\n  - { name: a, base_url: '${sim.url}', key_env: SHOTLIST_KEY_A, concurrency: 4 }\n`,
      );
      return {
        manifest: writeJob(
          dir,
          `shots:
  - { id: s01, prompt: 橘猫在窗边 }
  - { id: s02, prompt: 橘猫跳下窗台 }
`,
        ),
        out: path.join(dir, 'renders', 'film'),
        flags: ['--accounts', accounts],
        runFlags: [],
        env: { CI: 'true', SHOTLIST_KEY_A: KEY, SHOTLIST_BASE_URL: '', SHOTLIST_ACCOUNTS: '' },
        edit: '橘猫跳下窗台',
        picked: 's01',
      };
    },
  },
} satisfies Record<string, Row>;

/** One take as a map key. */
const take = (s: { id: string; variant: string | null; take: number }) =>
  `${s.id}${s.variant ? `@${s.variant}` : ''}#${s.take}`;
const shotOf = (s: { id: string; variant: string | null }) =>
  `${s.id}${s.variant ? `@${s.variant}` : ''}`;

interface PlanShot {
  id: string;
  variant: string | null;
  take: number;
  key?: string | null;
  cost: number;
}
interface ReportShot {
  id: string;
  variant: string | null;
  take: number;
  key: string;
  status: string;
  picked?: true;
  cost: number | null;
}

/**
 * Gathers plan, status, review, stitch, cost and report.json of `job` and asserts they agree;
 * `billed` holds the cost of every key seen done so far (what the journal has billed).
 */
async function expectAgree(job: Job, billed: Map<string, number>, step: string): Promise<void> {
  const { manifest, out, env } = job;
  const at = ['--out', out, ...job.flags];
  const planRun = await shotlist(['plan', manifest, ...at, '--json'], { env });
  expect(planRun.exitCode, `${step}: plan ${planRun.stderr}`).toBe(0);
  const planned = (JSON.parse(planRun.stdout) as { shots: PlanShot[] }).shots;
  const status = await statusOf([manifest, ...at], env);
  // A shot not rendered under its current body: status exits 1, stitch makes no final.
  const complete = status.shots.every((s) => s.state === 'cached');
  expect(status.exitCode, `${step}: status ${status.stderr}`).toBe(complete ? 0 : 1);
  const review = await reviewStateOf([manifest, ...at], env);
  const stitch = await shotlist(['stitch', manifest, ...at, '--json'], { env });
  expect(stitch.exitCode, `${step}: stitch ${stitch.stderr}`).toBe(complete ? 0 : 1);
  // `cost` reads the folder's whole journal: it takes the folder, not an API.
  const costRun = await shotlist(['cost', manifest, '--out', out, '--json'], { env });
  expect(costRun.exitCode, `${step}: cost ${costRun.stderr}`).toBe(0);
  const cost = JSON.parse(costRun.stdout) as { billed: { cost: number | null } };
  const report = readReport(out).shots as unknown as ReportShot[];

  // The same takes, under the same keys.
  const keysOf = (shots: { id: string; variant: string | null; take: number; key?: unknown }[]) =>
    Object.fromEntries(shots.map((s) => [take(s), s.key]));
  const keys = keysOf(status.shots);
  expect(keysOf(planned), `${step}: plan keys`).toEqual(keys);
  // report.json is rebuilt from the job by every stitch, finals made or not (a pick that
  // changed a chained frame leaves a shot to render): it is held to the job at every step.
  expect(keysOf(report), `${step}: report keys`).toEqual(keys);

  // Done in status ⇔ done in the report ⇔ the review page shows its clip.
  const doneInStatus = status.shots.filter((s) => s.state === 'cached').map(take);
  const doneInReport = report.filter((s) => s.status === 'done').map(take);
  const doneInReview = review.flatMap((s) =>
    s.takes
      .filter((t) => t.status === 'done' && t.clip !== null)
      .map((t) => take({ ...s, take: t.take })),
  );
  // A plain run renders every take; a pick or a re-roll can leave a chained shot to render.
  if (!['pick', 're-roll'].includes(step)) expect(complete, `${step}: every take done`).toBe(true);
  expect(doneInReport.sort(), `${step}: done in report`).toEqual([...doneInStatus].sort());
  expect(doneInReview.sort(), `${step}: done in review`).toEqual([...doneInStatus].sort());

  // The chosen take of each shot: status, review, stitch and the report name the same one.
  const said = `${stitch.stdout}\n${stitch.stderr}`;
  const chosen = new Map(status.shots.filter((s) => s.picked).map((s) => [shotOf(s), s.take]));
  expect(chosen.size, `${step}: one chosen take a shot`).toBe(review.length);
  for (const s of review) {
    const label = shotOf(s);
    const want = chosen.get(label);
    expect(s.picked, `${step}: review's pick of ${label}`).toBe(want);
    const stitched = new RegExp(`^${label}: picked take (\\d+)$`, 'm').exec(said)?.[1];
    expect(Number(stitched ?? 1), `${step}: stitch's take of ${label}: ${said}`).toBe(want);
    const marked = report.find((r) => shotOf(r) === label && r.picked)?.take;
    expect(marked ?? 1, `${step}: report's pick of ${label}`).toBe(want);
  }

  // Money: plan and the report price each take alike; cost bills every key ever done.
  const planCost = Object.fromEntries(planned.map((s) => [take(s), s.cost]));
  for (const r of report) {
    expect(r.cost, `${step}: cost of ${take(r)}`).toBe(planCost[take(r)]);
    if (r.status === 'done') billed.set(r.key, r.cost ?? 0);
  }
  const sum = [...billed.values()].reduce((a, b) => a + b, 0);
  expect(cost.billed.cost, `${step}: billed`).toBe(sum);
}

/** Renders `job` as `run --shard i/n` jobs in folders of their own, merged into its folder. */
async function renderShards(job: Job): Promise<void> {
  const n = job.shards!;
  const folders = Array.from({ length: n }, (_, i) => `${job.out}.shard-${i + 1}-of-${n}`);
  for (const [i, folder] of folders.entries()) {
    const shard = ['--shard', `${i + 1}/${n}`];
    const r = await shotlist(
      ['run', job.manifest, '--out', folder, ...job.flags, ...job.runFlags, '--yes', ...shard],
      { env: job.env },
    );
    expect(r.exitCode, `shard ${i + 1}: ${r.stderr}`).toBe(0);
  }
  const merge = await shotlist(['merge', job.out, ...folders, '--manifest', job.manifest], {
    env: job.env,
  });
  expect(merge.exitCode, `merge: ${merge.stderr}`).toBe(0);
}

/** The steps of one row's job, each followed by every command's view of it. */
export function agreeOn(row: Row): void {
  describe('every command sees the same job (built bin)', () => {
    let tmp: ReturnType<typeof tempDir>;
    let closers: (() => Promise<void>)[] = [];
    beforeEach(() => {
      tmp = tempDir('shotlist-agree-');
      closers = [];
    });
    afterEach(async () => {
      for (const close of closers.reverse()) await close();
      tmp.cleanup();
    });

    it(`${row.name}: run, edit, revert, pick, re-roll`, async () => {
      const job = await row.open(tmp.dir, closers);
      const { manifest, out, env } = job;
      const billed = new Map<string, number>();
      const run = async (step: string, ...more: string[]) => {
        const r = await shotlist(
          ['run', manifest, '--out', out, ...job.flags, ...job.runFlags, '--yes', ...more],
          { env },
        );
        expect(r.exitCode, `${step}: run ${r.stderr}`).toBe(0);
      };
      const text = readFileSync(manifest, 'utf8');

      if (job.shards) await renderShards(job);
      await run('run');
      await expectAgree(job, billed, 'run');

      writeFileSync(manifest, text.replace(job.edit, `${job.edit}慢镜头`));
      await run('edit');
      await expectAgree(job, billed, 'edit');

      writeFileSync(manifest, text);
      await run('revert');
      await expectAgree(job, billed, 'revert');

      const pick = await shotlist(
        ['pick', manifest, `${job.picked}=2`, '--out', out, ...job.flags],
        {
          env,
        },
      );
      expect(pick.exitCode, pick.stderr).toBe(0);
      await expectAgree(job, billed, 'pick');

      const mark = await shotlist(
        ['pick', manifest, `${job.picked}=reroll`, '--out', out, ...job.flags],
        { env },
      );
      expect(mark.exitCode, mark.stderr).toBe(0);
      await run('re-roll', '--reroll');
      await expectAgree(job, billed, 're-roll');
    });
  });
}
