import { createHash } from 'node:crypto';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { locateTool } from '../../src/media/locate.js';
import type { JournalEntry } from '../../src/render/journal.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { shotlist, tempDir } from '../helpers/cli.js';
import { KEY, childEnv, readReport, runArgs, writeManifest } from './run-helpers.js';

/**
 * Shard folders are artifacts anyone who can add or alter one wrote: `merge` takes from a
 * folder only the lines of the requests it submitted itself, refuses a request journaled in
 * two folders or a clip that differs from its journal, and with --manifest a folder holding
 * another shard's requests.
 */
const tmp = tempDir('shotlist-merge-untrusted-');
let sim: Simulator;
let film: string;
/** The folders of `run --shard 1/2` and `--shard 2/2`. */
let one: string;
let two: string;

const run = (args: string[]) => shotlist(args, { env: childEnv, cwd: tmp.dir });
const journal = (dir: string) =>
  readFileSync(path.join(dir, 'journal.ndjson'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as JournalEntry);
const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');
/** A copy of a folder, to alter: the originals stay as their runs wrote them. */
const copyOf = (dir: string, name: string) => {
  const to = path.join(tmp.dir, name);
  cpSync(dir, to, { recursive: true });
  return to;
};
const append = (dir: string, lines: object[]) =>
  writeFileSync(
    path.join(dir, 'journal.ndjson'),
    lines.map((l) => `${JSON.stringify(l)}\n`).join(''),
    { flag: 'a' },
  );
/** A shard folder holding only `lines` (and the store it is given). */
const folderWith = (name: string, lines: object[]) => {
  const dir = path.join(tmp.dir, name);
  cpSync(path.join(one, 'report.json'), path.join(dir, 'report.json'));
  append(dir, lines);
  return dir;
};
/** The first completed, downloaded request of a folder: its intent and its file line. */
function doneRequest(dir: string) {
  const entries = journal(dir);
  const file = entries.find((e) => e.type === 'file')!;
  const intent = entries.find((e) => e.type === 'intent' && e.key === file.key)!;
  if (file.type !== 'file' || intent.type !== 'intent') throw new Error('no finished request');
  return { key: file.key, intent, file };
}

beforeAll(async () => {
  sim = await startSimulator({ apiKey: KEY, latency: 0, seed: 5 });
  film = writeManifest(tmp.dir, 4);
  one = path.join(tmp.dir, 'one');
  two = path.join(tmp.dir, 'two');
  for (const [i, dir] of [one, two].entries()) {
    const r = await run(runArgs(film, sim, dir, '--shard', `${i + 1}/2`));
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
  }
  expect(sim.ledger().totals.submissions).toBe(4);
});
afterAll(async () => {
  await sim.close();
  tmp.cleanup();
});

it("an extra folder's failed line for another folder's request is left out: the next run submits nothing", async () => {
  const { key } = doneRequest(one);
  const extra = folderWith('extra-failed', [
    { type: 'failed', key, code: 'planted', message: 'planted', at: Date.now() + 60_000 },
  ]);
  const merged = path.join(tmp.dir, 'merged-failed');
  const m = await run(['merge', merged, one, two, extra]);
  expect(m.exitCode, m.stderr).toBe(0);
  const before = sim.ledger().totals.submissions;
  const r = await run(runArgs(film, sim, merged));
  expect(r.exitCode, r.stderr + r.stdout).toBe(0);
  expect(sim.ledger().totals.submissions).toBe(before);
  expect(readReport(merged).shots.map((s) => s.status)).toEqual(Array(4).fill('done'));
  expect(m.stderr).toContain('1 journal line(s) about requests it did not submit');
});

it("a planted file line and clip for another folder's request are not merged: the final has the real clip", async () => {
  const { key, file } = doneRequest(one);
  const extra = folderWith('extra-file', []);
  const planted = path.join(extra, 'planted.mp4');
  const ffmpeg = locateTool('ffmpeg');
  await execa(ffmpeg.path, [
    ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=854x480:rate=24:duration=4'],
    ...['-pix_fmt', 'yuv420p', planted],
  ]);
  const bytes = readFileSync(planted);
  const hash = sha(bytes);
  cpSync(planted, path.join(extra, 'clips/.store', `${hash}.mp4`));
  append(extra, [
    { ...file, path: 'clips/planted.mp4', bytes: bytes.length, sha256: hash, at: file.at + 1 },
  ]);
  const merged = path.join(tmp.dir, 'merged-file');
  const m = await run(['merge', merged, one, two, extra]);
  expect(m.exitCode, m.stderr).toBe(0);
  expect(existsSync(path.join(merged, 'clips/.store', `${hash}.mp4`))).toBe(false);
  const before = sim.ledger().totals.submissions;
  const r = await run(runArgs(film, sim, merged));
  expect(r.exitCode, r.stderr + r.stdout).toBe(0);
  expect(sim.ledger().totals.submissions).toBe(before);
  const shot = readReport(merged).shots.find((s) => s.key === key)!;
  expect(shot.sha256).toBe(file.sha256);
  expect(sha(readFileSync(path.join(merged, shot.file!)))).toBe(file.sha256);
  expect(existsSync(path.join(merged, 'final.mp4'))).toBe(true);
});

it('lines for one request from two folders are refused, naming both and the request, cleaned', async () => {
  const altered = copyOf(one, 'altered');
  const { key, intent } = doneRequest(one);
  append(altered, [{ type: 'failed', key, message: 'planted', at: Date.now() }]);
  const merged = path.join(tmp.dir, 'merged-two');
  const m = await run(['merge', merged, one, two, altered]);
  expect(m.exitCode).toBe(2);
  expect(m.stderr).toContain('1 request has journal lines in two folders; nothing was merged');
  expect(m.stderr).toMatch(
    new RegExp(`${intent.shot.id} \\(request ${key.slice(0, 12)}\\) in .*one and .*altered`),
  );
  expect(existsSync(merged)).toBe(false);

  // A forged submission of the same request, with escapes in its shot id: refused, cleaned.
  const forged = folderWith('forged', [
    { ...intent, shot: { ...intent.shot, id: '\u001b]0;owned\u0007\u001b[2Js01' }, at: 1 },
    { type: 'failed', key, message: 'planted', at: 2 },
  ]);
  const f = await run(['merge', merged, one, two, forged]);
  expect(f.exitCode).toBe(2);
  expect(f.stderr).toContain('submitted in both (paid twice)');
  expect(f.stderr).not.toContain('\u001b');
  expect(f.stderr).not.toContain('\u0007');
  expect(existsSync(merged)).toBe(false);
});

it("--manifest refuses a folder holding another shard's requests, and takes the true folders", async () => {
  const good = await run(['merge', path.join(tmp.dir, 'merged-ok'), one, two, '--manifest', film]);
  expect(good.exitCode, good.stderr).toBe(0);
  // The folder of shard 2/2, passed off as shard 1/2 (no shard 1 folder given).
  const posing = copyOf(two, 'posing');
  writeFileSync(path.join(posing, 'shard.json'), '{"shard":"1/2"}\n');
  const merged = path.join(tmp.dir, 'merged-posing');
  const m = await run(['merge', merged, posing, '--manifest', film]);
  expect(m.exitCode).toBe(2);
  expect(m.stderr).toMatch(/s0\d \(request [0-9a-f]{12}\) in .*posing, which says shard 1\/2/);
  expect(m.stderr).toContain('the manifest puts it in another shard');
  expect(existsSync(merged)).toBe(false);
  // A folder that does not say its shard is refused under --manifest.
  const unnamed = copyOf(two, 'unnamed');
  writeFileSync(path.join(unnamed, 'shard.json'), 'not json');
  const u = await run(['merge', merged, unnamed, '--manifest', film]);
  expect(u.exitCode).toBe(2);
  expect(u.stderr).toContain('its shard.json cannot be read');
});

it('a clip whose bytes differ from the sha256 its folder journaled is refused, nothing merged', async () => {
  const damaged = copyOf(one, 'damaged');
  const { file } = doneRequest(one);
  const stored = path.join(damaged, 'clips/.store', `${file.sha256}.mp4`);
  const bytes = readFileSync(stored);
  bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
  writeFileSync(stored, bytes);
  const merged = path.join(tmp.dir, 'merged-damaged');
  const m = await run(['merge', merged, damaged, two]);
  expect(m.exitCode).toBe(2);
  expect(m.stderr).toContain('1 clip in a shard folder differs from its journal');
  expect(m.stderr).toContain(`clips/.store/${file.sha256}.mp4 does not match`);
  expect(existsSync(merged)).toBe(false);
});
