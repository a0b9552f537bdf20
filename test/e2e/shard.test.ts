import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { locateTool } from '../../src/media/locate.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { shotlist, tempDir } from '../helpers/cli.js';
import { servePngFolder } from '../helpers/chains.js';
import { KEY, childEnv, readReport, runArgs, submissionsByPrompt } from './run-helpers.js';

const tmp = tempDir('shotlist-shard-e2e-');
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ apiKey: KEY, latency: 0, seed: 11 });
});
afterAll(async () => {
  await sim.close();
  tmp.cleanup();
});

/**
 * Seven distinct bodies over three shards (2, 3 and 2 shots by the hash of their ids), and
 * s08 with the body of s04: by its own id it would land in shard 2, so only the grouping of
 * shared bodies keeps it from being submitted a second time there.
 */
function writeFilm(): string {
  const file = path.join(tmp.dir, 'film.yaml');
  const shots = Array.from({ length: 8 }, (_, i) => {
    const n = i === 7 ? 4 : i + 1;
    return `  - id: s0${i + 1}\n    prompt: 橘猫的第 ${n} 个镜头,电影感`;
  }).join('\n');
  writeFileSync(
    file,
    `version: 1
name: film
defaults: { model: seedance-2-official, duration: 4, ratio: '16:9', size: 480p }
pricing: { currency: CNY, per_second: { seedance-2-official: 1.0 } }
concurrency: 4
shots:
${shots}
`,
  );
  return file;
}

/** The decoded frames (video and audio) of a file, one md5 per frame. */
async function frames(file: string): Promise<string> {
  const ffmpeg = locateTool('ffmpeg');
  const r = await execa(ffmpeg.path, ['-v', 'error', '-i', file, '-f', 'framemd5', '-']);
  return r.stdout;
}

const run = (args: string[]) => shotlist(args, { env: childEnv, cwd: tmp.dir });

it('run --shard 1/3..3/3 + merge + stitch: the final of one unsharded run, each body sent once', async () => {
  const film = writeFilm();
  const dirs = [1, 2, 3].map((i) => path.join(tmp.dir, `shard-${i}`));
  const sizes: number[] = [];
  for (const [i, dir] of dirs.entries()) {
    const r = await run(runArgs(film, sim, dir, '--shard', `${i + 1}/3`));
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    const shown = new RegExp(`shard ${i + 1}/3: (\\d) of 8 shots`).exec(r.stdout);
    expect(shown, r.stdout).not.toBeNull();
    sizes.push(Number(shown![1]));
    expect(r.stdout).toContain(`shard ${i + 1}/3: not stitched`);
    expect(existsSync(path.join(dir, 'final.mp4'))).toBe(false);
    // The report describes the shard only.
    expect(readReport(dir).shots).toHaveLength(sizes[i]!);
  }
  expect(sizes).toEqual([3, 3, 2]);
  const sent = submissionsByPrompt(sim);
  expect(sent.size).toBe(7);
  expect([...sent.values()].every((n) => n === 1)).toBe(true);

  const merged = path.join(tmp.dir, 'merged');
  const m = await run(['merge', merged, ...dirs]);
  expect(m.exitCode, m.stderr).toBe(0);
  expect(m.stdout).toContain('7 clips copied');
  const journal = readFileSync(path.join(merged, 'journal.ndjson'));
  const again = await run(['merge', merged, ...dirs]);
  expect(again.exitCode, again.stderr).toBe(0);
  expect(again.stdout).toContain('(0 new), 0 clips copied, 7 already there');
  expect(readFileSync(path.join(merged, 'journal.ndjson')).equals(journal)).toBe(true);

  const st = await run(['stitch', film, '--base-url', sim.url, '--out', merged]);
  expect(st.exitCode, st.stderr + st.stdout).toBe(0);
  // The merged folder is one run's folder: a run sends nothing and reports the whole manifest.
  const after = await run(runArgs(film, sim, merged));
  expect(after.exitCode, after.stderr + after.stdout).toBe(0);
  expect(sim.ledger().totals.submissions).toBe(7);
  expect(readReport(merged).shots.map((s) => s.status)).toEqual(Array(8).fill('done'));

  const whole = path.join(tmp.dir, 'whole');
  const one = await run(runArgs(film, sim, whole));
  expect(one.exitCode, one.stderr + one.stdout).toBe(0);
  expect(sim.ledger().totals.submissions).toBe(14);
  const expected = await frames(path.join(whole, 'final.mp4'));
  expect(expected.split('\n').length).toBeGreaterThan(8 * 4 * 24);
  expect(await frames(path.join(merged, 'final.mp4'))).toBe(expected);
}, 600_000);

it('merge refuses a shot rendered in two shard folders, writing nothing', async () => {
  const film = writeFilm();
  const a = path.join(tmp.dir, 'dup-a');
  const b = path.join(tmp.dir, 'dup-b');
  for (const dir of [a, b]) {
    const r = await run(runArgs(film, sim, dir, '--shard', '3/3'));
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
  }
  const merged = path.join(tmp.dir, 'dup-merged');
  const m = await run(['merge', merged, a, b]);
  expect(m.exitCode).toBe(2);
  expect(m.stderr).toContain('2 requests have journal lines in two folders; nothing was merged');
  expect(m.stderr).toMatch(
    /s06 \(request [0-9a-f]{12}\) in .*dup-a and .*dup-b: submitted in both \(paid twice\)/,
  );
  expect(m.stderr).toContain('fix: merge each shot from one folder only');
  expect(existsSync(merged)).toBe(false);
});

it('--shard out of range is a usage error with the fix, nothing sent', async () => {
  const film = writeFilm();
  const before = sim.ledger().totals.submissions;
  const r = await run(runArgs(film, sim, path.join(tmp.dir, 'bad'), '--shard', '4/3'));
  expect(r.exitCode).toBe(2);
  expect(r.stderr).toContain('--shard "4/3" is not a shard i/n with 1 ≤ i ≤ n');
  expect(r.stderr).toContain('fix: write it as i/n');
  expect(sim.ledger().totals.submissions).toBe(before);
});

it('plan and status --shard show the shard only, status in the shard folder', async () => {
  const film = writeFilm();
  const plan = await run(['plan', film, '--shard', '2/3']);
  expect(plan.exitCode, plan.stderr).toBe(0);
  expect(plan.stdout).toContain('shard 2/3: 3 of 8 shots');
  expect(plan.stdout).toContain('total: 3 shots, 12 billable seconds, cost 12.00 CNY');
  for (const id of ['s01', 's02', 's03']) expect(plan.stdout).toContain(id);
  for (const id of ['s04', 's05', 's06', 's07', 's08']) expect(plan.stdout).not.toContain(id);
  const status = await run(['status', film, '--shard', '1/3', '--json']);
  const doc = JSON.parse(status.stdout) as { out: string; shots: { id: string; state: string }[] };
  expect(doc.out).toBe(path.join(tmp.dir, 'renders', 'film.shard-1-of-3'));
  expect(doc.shots.map((s) => [s.id, s.state])).toEqual([
    ['s04', 'new'],
    ['s05', 'new'],
    ['s08', 'new'],
  ]);
});

it('shards keep each chain whole: 3 shards + merge + stitch render every link, each body once', async () => {
  const bucket = path.join(tmp.dir, 'bucket');
  mkdirSync(bucket);
  const storage = await servePngFolder(bucket);
  try {
    // By their own ids the links of chain a would land in shards 3, 1, 2 and those of chain c
    // in 1, 2, 1: only the chain's root decides (a1: shard 3, c1: shard 1); x4 is alone in 2.
    const link = (c: string, n: number) =>
      `  - id: ${c}${n}\n    prompt: 链 ${c} 第 ${n} 镜${n > 1 ? `\n    assets: { images: [{ from: ${c}${n - 1}, frame: last }] }` : ''}`;
    const film = path.join(tmp.dir, 'chained.yaml');
    writeFileSync(
      film,
      `version: 1
name: chained
defaults: { model: seedance-2-official, duration: 4, ratio: '1:1', size: 480p, audio: false }
concurrency: 4
uploads:
  provider: command
  command: [cp, "{file}", ${JSON.stringify(`${bucket}/{key}`)}]
  public_url: ${storage.url}/{key}
shots:
${[1, 2, 3].map((n) => link('a', n)).join('\n')}
${[1, 2, 3].map((n) => link('c', n)).join('\n')}
  - id: x4
    prompt: 链外的一镜
`,
    );
    const dirs = [1, 2, 3].map((i) => path.join(tmp.dir, `chained-${i}`));
    const held: string[][] = [];
    for (const [i, dir] of dirs.entries()) {
      const r = await run(runArgs(film, sim, dir, '--shard', `${i + 1}/3`, '--allow-command'));
      expect(r.exitCode, r.stderr + r.stdout).toBe(0);
      const shots = readReport(dir).shots;
      expect(shots.every((s) => s.status === 'done')).toBe(true);
      held.push(shots.map((s) => s.id));
    }
    expect(held).toEqual([['c1', 'c2', 'c3'], ['x4'], ['a1', 'a2', 'a3']]);
    const sent = submissionsByPrompt(sim);
    const ours = [...sent].filter(([p]) => p.startsWith('链'));
    expect(ours).toHaveLength(7);
    expect(ours.every(([, n]) => n === 1)).toBe(true);

    const merged = path.join(tmp.dir, 'chained-merged');
    const m = await run(['merge', merged, ...dirs]);
    expect(m.exitCode, m.stderr).toBe(0);
    const st = await run(['stitch', film, '--base-url', sim.url, '--out', merged]);
    expect(st.exitCode, st.stderr + st.stdout).toBe(0);
    expect(existsSync(path.join(merged, 'final.mp4'))).toBe(true);
    // The merged folder is whole: a run there sends nothing more.
    const before = sim.ledger().totals.submissions;
    const after = await run(runArgs(film, sim, merged, '--allow-command'));
    expect(after.exitCode, after.stderr + after.stdout).toBe(0);
    expect(sim.ledger().totals.submissions).toBe(before);
    expect(readReport(merged).shots.map((s) => s.status)).toEqual(Array(7).fill('done'));
  } finally {
    await storage.close();
  }
});
