import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { verifyVideo } from '../../src/media/probe.js';
import type { ReviewState } from '../../src/review/state.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { shotlist, spawnShotlist, tempDir } from '../helpers/cli.js';
import {
  KEY,
  childEnv,
  expectNoKey,
  readReport,
  runArgs,
  submissionsByPrompt,
  writeManifest,
} from './run-helpers.js';

const tmp = tempDir('shotlist-reroll-e2e-');
let sim: Simulator;
let manifest: string;
const out = path.join(tmp.dir, 'out');
const picksFile = path.join(tmp.dir, 'film.picks.yaml');
const outputs: string[] = [];

beforeAll(async () => {
  sim = await startSimulator({ apiKey: KEY, latency: '0.1-0.3', seed: 13 });
  manifest = writeManifest(tmp.dir, 3);
  const first = await run();
  expect(first.exitCode, first.stderr + first.stdout).toBe(0);
  expect(sim.ledger().totals.submissions).toBe(3);
});
afterAll(async () => {
  await sim.close();
  expectNoKey(outputs, tmp.dir);
  tmp.cleanup();
});

async function run(...more: string[]) {
  const r = await shotlist(runArgs(manifest, sim, out, ...more), {
    env: childEnv,
    cwd: tmp.dir,
  });
  outputs.push(r.stdout, r.stderr);
  return r;
}

/** The command line without `--yes`, as a CI job that forgot it would run it. */
async function runUnconfirmed(...more: string[]) {
  const args = runArgs(manifest, sim, out, ...more).filter((a) => a !== '--yes');
  const r = await shotlist(args, { env: childEnv, cwd: tmp.dir });
  outputs.push(r.stdout, r.stderr);
  return r;
}

const prompt = (n: number) => `橘猫的第 ${n} 个镜头,电影感`;
const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const picks = () =>
  (parse(readFileSync(picksFile, 'utf8')) as { picks: Record<string, unknown>[] }).picks;

/** `shotlist review`'s state as its page loads it, from the running server. */
async function reviewState(): Promise<ReviewState> {
  const child = spawnShotlist(['review', manifest, '--out', out], {
    cwd: tmp.dir,
    env: childEnv,
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let text = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        const m = /review at (http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+) /.exec(text);
        if (m) resolve(m[1]!);
      });
      void child.then((r) => reject(new Error(`review exited: ${String(r.stderr)}`)));
    });
    const state = new URL(url);
    state.pathname = '/api/state';
    return (await (await fetch(state)).json()) as ReviewState;
  } finally {
    child.kill('SIGTERM');
    await child;
  }
}

describe('run --reroll (built bin against the simulator)', () => {
  it('with no shot marked, sends nothing and says so', async () => {
    const r = await run('--reroll');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('no shot is marked for re-roll in film.picks.yaml: nothing to send');
    expect(sim.ledger().totals.submissions).toBe(3);
  });

  it('shotlist pick s02=reroll marks the shot; a run without --reroll leaves the mark alone', async () => {
    const marked = await shotlist(['pick', manifest, 's02=reroll'], { cwd: tmp.dir });
    expect(marked.exitCode, marked.stderr).toBe(0);
    expect(marked.stdout).toContain('marked s02 for re-roll');
    expect(picks()).toEqual([{ shot: 's02', reroll: true }]);

    const plain = await run();
    expect(plain.exitCode, plain.stderr).toBe(0);
    expect(plain.stdout).toContain('3 shots: 0 new');
    expect(sim.ledger().totals.submissions).toBe(3);
    expect(picks()).toEqual([{ shot: 's02', reroll: true }]);
  });

  it('previews the one new take with its cost, and asks before sending it', async () => {
    const dry = await run('--reroll', '--dry-run');
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('POST /v1/videos  # s02#2');
    expect(dry.stdout).toContain('dry run: 1 request shown, 1 cached; nothing sent.');

    const unconfirmed = await runUnconfirmed('--reroll');
    expect(unconfirmed.exitCode).toBe(2);
    expect(unconfirmed.stdout).toContain('film: 2 shots: 1 new (4.00 CNY), 1 cached');
    expect(unconfirmed.stderr).toContain(
      'refusing to submit 1 shot (4.00 CNY) without confirmation',
    );
    expect(sim.ledger().totals.submissions).toBe(3);
  });

  it('renders exactly one new take of the marked shot into a new clip, then clears the mark', async () => {
    const take1 = sha(path.join(out, 'clips', 's02.mp4'));
    const others = ['s01', 's03'].map((id) => sha(path.join(out, 'clips', `${id}.mp4`)));
    const r = await run('--reroll');
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);

    const submissions = sim.ledger().submissions;
    expect(submissions).toHaveLength(4);
    expect(submissions.at(-1)!.body.prompt).toBe(prompt(2));
    expect(submissionsByPrompt(sim).get(prompt(2))).toBe(2);

    const clip2 = path.join(out, 'clips', 's02.take2.mp4');
    await verifyVideo(clip2, { expectDurationSec: 4, toleranceSec: 0.5 });
    expect(sha(clip2)).not.toBe(take1);
    // The shot now has two takes: its first clip is named as take 1, the same file.
    expect(sha(path.join(out, 'clips', 's02.take1.mp4'))).toBe(take1);
    expect(['s01', 's03'].map((id) => sha(path.join(out, 'clips', `${id}.mp4`)))).toEqual(others);
    expect(picks()).toEqual([{ shot: 's02', extra_takes: 1 }]);

    const report = readReport(out);
    const s02 = report.shots.filter((s) => s.id === 's02').map((s) => [s.take, s.status]);
    expect(s02).toEqual([
      [1, 'done'],
      [2, 'done'],
    ]);
  });

  it('a second --reroll without a new mark sends nothing and says so', async () => {
    const r = await run('--reroll');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('no shot is marked for re-roll');
    expect(sim.ledger().totals.submissions).toBe(4);
  });

  it('plan, run, status and review list the new take beside the others; a pick of it is stitched', async () => {
    const planned = await shotlist(['plan', manifest], { cwd: tmp.dir });
    expect(planned.stdout).toMatch(/^s02\s+2 \(re-roll, from film\.picks\.yaml\)\s+text_to_video/m);
    expect(planned.stdout).toContain('total: 4 shots');
    const plain = await run();
    expect(plain.exitCode, plain.stderr).toBe(0);
    expect(plain.stdout).toContain('4 shots: 0 new');
    expect(sim.ledger().totals.submissions).toBe(4);

    const status = await shotlist(['status', manifest, '--base-url', sim.url, '--out', out], {
      cwd: tmp.dir,
      env: childEnv,
    });
    expect(status.stdout).toMatch(/s02#2\s+done/);

    const state = await reviewState();
    const shot = state.shots.find((s) => s.id === 's02')!;
    expect(shot.takes.map((t) => [t.take, t.status, t.clip])).toEqual([
      [1, 'done', 'clips/s02.take1.mp4'],
      [2, 'done', 'clips/s02.take2.mp4'],
    ]);

    const picked = await shotlist(['pick', manifest, 's02=2'], { cwd: tmp.dir });
    expect(picked.exitCode, picked.stderr).toBe(0);
    const stitched = await shotlist(['stitch', manifest, '--out', out], {
      cwd: tmp.dir,
    });
    expect(stitched.exitCode, stitched.stderr).toBe(0);
    expect(stitched.stdout).toContain('s02: picked take 2');
    expect(existsSync(path.join(out, 'final.mp4'))).toBe(true);
  });

  it('--reroll --only s01 renders s01 only: the other mark stays, the report has no take of it', async () => {
    const marked = await shotlist(['pick', manifest, 's01=reroll'], { cwd: tmp.dir });
    expect(marked.exitCode, marked.stderr).toBe(0);
    // A mark written by hand in the sidecar counts the same.
    const text = readFileSync(picksFile, 'utf8');
    writeFileSync(picksFile, text.replace('picks:\n', 'picks:\n  - { shot: s03, reroll: true }\n'));
    const r = await run('--reroll', '--only', 's01');
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    expect(sim.ledger().submissions).toHaveLength(5);
    expect(sim.ledger().submissions.at(-1)!.body.prompt).toBe(prompt(1));
    expect(existsSync(path.join(out, 'clips', 's01.take2.mp4'))).toBe(true);
    expect(
      readReport(out)
        .shots.filter((s) => s.id === 's03')
        .map((s) => s.take),
    ).toEqual([1]);
    const byShot = Object.fromEntries(picks().map((p) => [p.shot, p]));
    expect(byShot.s01).toEqual({ shot: 's01', extra_takes: 1 });
    expect(byShot.s03).toEqual({ shot: 's03', reroll: true });
  });

  it('an older take not rendered yet is refused, sending nothing', async () => {
    // s03 is still marked; for another API (and folder) its only take was never rendered.
    const other = await startSimulator({ apiKey: KEY, latency: '0.1-0.3' });
    try {
      const r = await shotlist(
        [...runArgs(manifest, other, path.join(tmp.dir, 'elsewhere')), '--reroll'],
        { env: childEnv, cwd: tmp.dir },
      );
      outputs.push(r.stdout, r.stderr);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain('--reroll would also send s03#1 (new), not rendered yet');
      expect(other.ledger().totals.submissions).toBe(0);
    } finally {
      await other.close();
    }
  });
});
