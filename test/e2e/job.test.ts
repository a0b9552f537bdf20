/**
 * Every command sees the same job: shots that use local files are found by `status`,
 * `review`, `pick` and `stitch` under the bodies `run` sent (built bin).
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { shotlist, tempDir } from '../helpers/cli.js';
import { makeImage } from '../helpers/tools.js';
import {
  reviewStateOf,
  startStorage,
  statusOf,
  storageEnv,
  type ReviewShotState,
  type Storage,
} from './job-helpers.js';
import { KEY, childEnv, readReport, writeManifest } from './run-helpers.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const FIXTURE = path.resolve(import.meta.dirname, '../fixtures/simulated-local-folder');

let tmp: ReturnType<typeof tempDir>;
let sim: Simulator | undefined;
let storage: Storage | undefined;

beforeEach(() => {
  tmp = tempDir('shotlist-job-');
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  await storage?.close();
  storage = undefined;
  tmp.cleanup();
});

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** A manifest of shots that all start from ./refs/cat.png, `takes: 2`, with `head` above `shots`. */
function writeFilm(dir: string, prompts: string[], head = ''): string {
  mkdirSync(path.join(dir, 'refs'), { recursive: true });
  makeImage(path.join(dir, 'refs', 'cat.png'), 'orange');
  const file = path.join(dir, 'film.yaml');
  writeFileSync(
    file,
    `version: 1
name: film
defaults: { model: seedance-2-official, duration: 4, ratio: '16:9', size: 480p, takes: 2 }
pricing: { currency: CNY, per_second: { seedance-2-official: 1.0 } }
${head}shots:
${prompts.map((p, i) => `  - id: s0${i + 1}\n    prompt: ${p}\n    assets: { images: [./refs/cat.png] }`).join('\n')}
`,
  );
  return file;
}

/** Take 2 of s01 picked: stitch uses it, status and review show every take done and it chosen. */
async function expectPickSeen(
  manifest: string,
  out: string,
  flags: string[],
  env: NodeJS.ProcessEnv,
): Promise<void> {
  const pick = await shotlist(['pick', manifest, 's01=2'], { env });
  expect(pick.exitCode, pick.stderr).toBe(0);
  const stitch = await shotlist(['stitch', manifest, '--out', out], { env });
  expect(stitch.exitCode, stitch.stderr).toBe(0);
  const said = stitch.stdout + stitch.stderr;
  expect(said).toContain('s01: picked take 2');
  expect(said).not.toContain('stale');
  const report = readReport(out);
  const picked = report.shots.filter((s) => s.picked).map((s) => `${s.id}#${s.take}`);
  expect(picked).toEqual(['s01#2']);

  const status = await statusOf([manifest, '--out', out, ...flags], env);
  expect(status.exitCode, status.stderr).toBe(0);
  expect(
    status.shots.map((s) => `${s.id}#${s.take} ${s.state}${s.picked ? ' picked' : ''}`),
  ).toEqual(['s01#1 cached', 's01#2 cached picked', 's02#1 cached picked', 's02#2 cached']);

  for (const args of [[], flags]) {
    const review = await reviewStateOf([manifest, '--out', out, ...args], env);
    const s01 = review.find((s) => s.id === 's01')!;
    expect(s01.picked).toBe(2);
    expect(s01.stale).toBeNull();
    for (const shot of review) {
      expect(shot.takes.map((t) => [t.take, t.status, t.clip !== null])).toEqual([
        [1, 'done', true],
        [2, 'done', true],
      ]);
    }
  }
}

describe('shots that use local files, through every command (built bin)', () => {
  it('under --simulate: a pick of take 2 is applied by stitch and shown done and chosen by status and review', async () => {
    const manifest = writeFilm(tmp.dir, ['橘猫在窗边', '橘猫跳下窗台']);
    // The default folder: `pick` finds the takes there.
    const out = path.join(tmp.dir, 'renders', 'film');
    const env = { CI: 'true' };
    const run = await shotlist(
      ['run', manifest, '--simulate', '--sim-latency', '0', '--out', out, '--yes'],
      { env },
    );
    expect(run.exitCode, run.stderr).toBe(0);
    await expectPickSeen(manifest, out, ['--simulate'], env);
    // An edited shot: status says its pick no longer applies, as stitch and plan do.
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('橘猫在窗边', '橘猫在门口'));
    const status = await shotlist(['status', manifest, '--simulate'], { env });
    expect(status.stderr).toContain('pick of s01 take 2 is stale');
  });

  it('against another API with uploads to S3-compatible storage: the same', async () => {
    storage = await startStorage(path.join(tmp.dir, 's3'));
    const { endpoint } = storage;
    sim = await startSimulator({ apiKey: KEY, latency: '0.1-0.2', seed: 5 });
    const manifest = writeFilm(
      tmp.dir,
      ['橘猫在窗边', '橘猫跳下窗台'],
      `uploads:
  provider: s3
  bucket: media
  region: us-east-1
  endpoint: ${endpoint}
  path_style: true
  public_url: ${endpoint}/media/{key}
`,
    );
    // The default folder: `pick` finds the takes there.
    const out = path.join(tmp.dir, 'renders', 'film');
    const env = { ...childEnv, ...storageEnv };
    const run = await shotlist(
      ['run', manifest, '--base-url', sim.url, '--out', out, '--yes', '--no-preflight'],
      { env },
    );
    expect(run.exitCode, run.stderr).toBe(0);
    expect(sim.ledger().submissions.every((s) => s.body.images?.[0]?.startsWith(endpoint))).toBe(
      true,
    );
    await expectPickSeen(manifest, out, ['--base-url', sim.url], env);
  });
});

describe('simulated renders of shots with local files (built bin)', () => {
  it('a second run sends nothing; a re-roll renders a new clip; prompts that start alike get their own clips', async () => {
    // The same image, the same first 32 characters, and prompts whose hashes pick one colour.
    const manifest = writeFilm(tmp.dir, [
      'an orange cat at the window in the morning light, first shot',
      'an orange cat at the window in the morning light, slow push in',
    ]);
    // The default folder: `pick` finds the takes there.
    const out = path.join(tmp.dir, 'renders', 'film');
    const env = { CI: 'true' };
    const run = (...more: string[]) =>
      shotlist(
        ['run', manifest, '--simulate', '--sim-latency', '0', '--out', out, '--yes', ...more],
        {
          env,
        },
      );
    const intents = () =>
      readFileSync(path.join(out, 'journal.ndjson'), 'utf8')
        .split('\n')
        .filter((l) => l.includes('"type":"intent"')).length;
    const first = await run();
    expect(first.exitCode, first.stderr).toBe(0);
    expect(intents()).toBe(4);
    // A new process, a new simulator port: the same keys, nothing sent.
    const again = await run();
    expect(again.exitCode, again.stderr).toBe(0);
    expect(intents()).toBe(4);

    const clip = (name: string) => sha(path.join(out, 'clips', name));
    expect(clip('s01.take1.mp4')).not.toBe(clip('s02.take1.mp4'));
    expect(clip('s01.take2.mp4')).not.toBe(clip('s02.take2.mp4'));

    const mark = await shotlist(['pick', manifest, 's01=reroll'], { env });
    expect(mark.exitCode, mark.stderr).toBe(0);
    const reroll = await run('--reroll');
    expect(reroll.exitCode, reroll.stderr).toBe(0);
    expect(intents()).toBe(5);
    const takes = ['s01.take1.mp4', 's01.take2.mp4', 's01.take3.mp4'].map(clip);
    expect(new Set(takes).size).toBe(3);
  });

  it('a folder rendered by an earlier version is still done: status, review and run send nothing', async () => {
    cpSync(FIXTURE, tmp.dir, { recursive: true });
    const manifest = path.join(tmp.dir, 'film.yaml');
    const journal = path.join(tmp.dir, 'renders', 'film', 'journal.ndjson');
    const before = readFileSync(journal, 'utf8');
    const env = { CI: 'true' };
    const status = await statusOf([manifest, '--simulate'], env);
    expect(status.exitCode, status.stderr).toBe(0);
    expect(status.shots.map((s) => s.state)).toEqual(['cached']);
    const review = await reviewStateOf([manifest], env);
    expect(review[0]!.takes[0]!.status).toBe('done');
    const run = await shotlist(['run', manifest, '--simulate', '--sim-latency', '0', '--yes'], {
      env,
    });
    expect(run.exitCode, run.stderr).toBe(0);
    const added = readFileSync(journal, 'utf8').slice(before.length);
    expect(added).not.toContain('"type":"intent"');
  });
});

/** Renders a 4-shot manifest into `dir` through an accounts file of one account on the simulator. */
async function renderThroughAccounts(dir: string, simulator: Simulator) {
  const manifest = writeManifest(dir, 4);
  const accounts = path.join(dir, 'accounts.yaml');
  writeFileSync(
    accounts,
    `accounts:\n  - { name: a, base_url: '${simulator.url}', key_env: SHOTLIST_KEY_A, concurrency: 4 }\n`,
  );
  const out = path.join(dir, 'renders', 'film');
  const env = { CI: 'true', SHOTLIST_KEY_A: KEY, SHOTLIST_BASE_URL: '', SHOTLIST_ACCOUNTS: '' };
  const run = await shotlist(['run', manifest, '--accounts', accounts, '--yes'], { env });
  expect(run.exitCode, run.stderr).toBe(0);
  return { sim: simulator, manifest, accounts, out, env };
}

// Both tests only read the folder: it is rendered once for them.
describe('a folder rendered through an accounts file (built bin)', () => {
  const folder = tempDir('shotlist-job-accounts-');
  let rendered: Awaited<ReturnType<typeof renderThroughAccounts>>;
  beforeAll(async () => {
    rendered = await renderThroughAccounts(
      folder.dir,
      await startSimulator({ latency: 0, seed: 11 }),
    );
  });
  afterAll(async () => {
    await rendered?.sim.close();
    folder.cleanup();
  });

  it('review takes the flags status takes: --accounts, --base-url, --out, --simulate', async () => {
    const { sim, manifest, accounts, out, env } = rendered;
    const done = (shots: ReviewShotState[]) =>
      shots.flatMap((s) => s.takes.map((t) => t.status === 'done'));
    for (const flags of [
      ['--accounts', accounts],
      ['--base-url', sim.url],
      ['--out', out],
    ]) {
      expect(done(await reviewStateOf([manifest, ...flags], env))).toEqual([
        true,
        true,
        true,
        true,
      ]);
    }
    expect(done(await reviewStateOf([manifest, '--simulate'], env))).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });

  it("status without them looks at the folder's API: the renders made through the accounts file are done", async () => {
    const { sim, manifest, accounts, env } = rendered;
    const status = await shotlist(['status', manifest], { env });
    expect(status.exitCode, status.stdout + status.stderr).toBe(0);
    expect(status.stdout).not.toContain('another API');
    // A folder's URL is never offered as a value to pass.
    expect(status.stdout).not.toContain(sim.url);
    const json = await shotlist(['status', manifest, '--json'], { env });
    const doc = JSON.parse(json.stdout) as {
      shots: { state: string }[];
      renders_elsewhere: unknown;
    };
    expect(doc.shots.map((s) => s.state)).toEqual(['cached', 'cached', 'cached', 'cached']);
    expect(doc.renders_elsewhere).toBeNull();
    const seen = await statusOf([manifest, '--accounts', accounts], env);
    expect(seen.exitCode).toBe(0);
  });
});
