import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import type { JournalEntry } from '../../src/render/journal.js';
import { shotlist } from '../helpers/cli.js';
import { runArgs } from '../e2e/run-helpers.js';
import { record } from './figures.js';
import { env, keyLeaks, readReport, useSimulator, writeManifest } from './common.js';

const bench = useSimulator('shotlist-untrusted-merge-', { latency: 0, seed: 21 });

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Every entry under the folders (links as links, never followed): what it holds and its size. */
function snapshot(dirs: readonly string[]): Map<string, { what: string; bytes: number }> {
  const seen = new Map<string, { what: string; bytes: number }>();
  for (const dir of dirs) {
    for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
      const file = path.join(e.parentPath, e.name);
      const info = lstatSync(file);
      const what = info.isSymbolicLink()
        ? `link ${readlinkSync(file)}`
        : info.isFile()
          ? `file ${sha(readFileSync(file))} ${info.mtimeMs}`
          : `folder ${info.mtimeMs}`;
      seen.set(file, { what, bytes: info.isFile() ? info.size : 0 });
    }
  }
  return seen;
}

/** Bytes of the entries added, changed or removed between two snapshots (1 for a bare entry). */
function bytesTouched(before: ReturnType<typeof snapshot>, after: ReturnType<typeof snapshot>) {
  let bytes = 0;
  for (const k of new Set([...before.keys(), ...after.keys()])) {
    const [a, b] = [before.get(k), after.get(k)];
    if (a?.what !== b?.what) bytes += Math.max(a?.bytes ?? 0, b?.bytes ?? 0, 1);
  }
  return bytes;
}

const journal = (dir: string) =>
  readFileSync(path.join(dir, 'journal.ndjson'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as JournalEntry);
const append = (dir: string, lines: object[]) => {
  mkdirSync(path.join(dir, 'clips/.store'), { recursive: true });
  writeFileSync(
    path.join(dir, 'journal.ndjson'),
    lines.map((l) => `${JSON.stringify(l)}\n`).join(''),
    { flag: 'a' },
  );
};

interface Attack {
  name: string;
  /** Makes the attacking folder(s) under `at`; returns the folders to merge and extra flags. */
  craft: (at: string) => string[];
  /** `refused`: exit 2, nothing written; `left out`: merged, and the planted lines are not. */
  expect: 'refused' | 'left out';
}

it('untrusted shard folders: planted, forged and altered folders never reach the merge', async () => {
  const { tmp, sim } = bench;
  const manifest = writeManifest(tmp.dir, 4, 'sharded');
  const one = path.join(tmp.dir, 'one');
  const two = path.join(tmp.dir, 'two');
  for (const [i, dir] of [one, two].entries()) {
    const r = await shotlist(runArgs(manifest, sim, dir, '--shard', `${i + 1}/2`), {
      env,
      cwd: tmp.dir,
    });
    expect(r.exitCode, r.stderr).toBe(0);
  }
  // The clip each request really got: what every merged folder must hold.
  const genuine = new Map<string, string>();
  for (const dir of [one, two])
    for (const e of journal(dir)) if (e.type === 'file') genuine.set(e.key, e.sha256);
  const done = journal(one).find((e) => e.type === 'file')!;
  const intent = journal(one).find((e) => e.type === 'intent' && e.key === done.key)!;
  if (done.type !== 'file' || intent.type !== 'intent') throw new Error('shard 1 rendered nothing');
  const clipOf = (dir: string) => {
    const f = journal(dir).find((e) => e.type === 'file')!;
    return readFileSync(path.join(dir, 'clips/.store', `${(f as { sha256: string }).sha256}.mp4`));
  };
  const sentinel = path.join(tmp.dir, 'sentinel');
  mkdirSync(sentinel);
  writeFileSync(path.join(sentinel, 'victim.mp4'), 'a precious outside file\n');
  const copy = (from: string, at: string) => (cpSync(from, at, { recursive: true }), at);
  const later = Date.now() + 3_600_000;

  const attacks: Attack[] = [
    {
      name: 'extra folder: a failed line for a request shard 1 completed',
      craft: (at) => (
        append(at, [{ type: 'failed', key: done.key, message: 'x', at: later }]),
        [one, two, at]
      ),
      expect: 'left out',
    },
    {
      name: 'extra folder: a file line and a planted clip for that request',
      craft: (at) => {
        const planted = Buffer.concat([clipOf(two), Buffer.from('planted')]);
        append(at, [{ ...done, bytes: planted.length, sha256: sha(planted), at: later }]);
        writeFileSync(path.join(at, 'clips/.store', `${sha(planted)}.mp4`), planted);
        return [one, two, at];
      },
      expect: 'left out',
    },
    {
      name: 'extra folder: its own request whose clip is a link to an outside file',
      craft: (at) => {
        const victim = path.join(sentinel, 'victim.mp4');
        const key = 'f'.repeat(64);
        const hash = sha(readFileSync(victim));
        append(at, [
          { ...intent, key, shot: { id: 'r999', variant: null, take: 1 }, at: 1 },
          { type: 'task', key, task_id: 't-x', at: 2 },
          { type: 'completed', key, task_id: 't-x', url: 'http://127.0.0.1:9/x', at: 3 },
          { type: 'file', key, task_id: 't-x', path: victim, bytes: 24, sha256: hash, at: 4 },
        ]);
        symlinkSync(victim, path.join(at, 'clips/.store', `${hash}.mp4`));
        return [one, two, at];
      },
      expect: 'left out',
    },
    {
      name: 'extra folder: a forged submission of that request, escapes in its shot id',
      craft: (at) => {
        const id = '\u001b]0;owned\u0007\u001b[2Jr001';
        append(at, [
          { ...intent, shot: { ...intent.shot, id }, at: 1 },
          { type: 'failed', key: done.key, message: 'x', at: 2 },
        ]);
        return [one, two, at];
      },
      expect: 'refused',
    },
    {
      name: 'a copy of shard 1 with one more line, beside shard 1',
      craft: (at) => {
        copy(one, at);
        append(at, [{ type: 'failed', key: done.key, message: 'x', at: later }]);
        return [one, two, at];
      },
      expect: 'refused',
    },
    {
      name: 'shard 1 with one clip altered',
      craft: (at) => {
        copy(one, at);
        const stored = path.join(at, 'clips/.store', `${done.sha256}.mp4`);
        const bytes = readFileSync(stored);
        bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
        writeFileSync(stored, bytes);
        return [at, two];
      },
      expect: 'refused',
    },
    {
      name: 'shard 2 posing as shard 1 (--manifest)',
      craft: (at) => {
        copy(two, at);
        writeFileSync(path.join(at, 'shard.json'), '{"shard":"1/2"}\n');
        return [at, two, '--manifest', manifest];
      },
      expect: 'refused',
    },
    {
      name: 'shard 2 whose shard.json is a link to an outside file (--manifest)',
      craft: (at) => {
        copy(two, at);
        rmSync(path.join(at, 'shard.json'));
        symlinkSync(path.join(sentinel, 'victim.mp4'), path.join(at, 'shard.json'));
        return [one, at, '--manifest', manifest];
      },
      expect: 'refused',
    },
  ];

  const outputs: string[] = [];
  const failures: string[] = [];
  const submitted = sim.ledger().totals.submissions;
  let refused = 0;
  let leftOut = 0;
  let touched = 0;
  let plantedAccepted = 0;
  for (const [i, a] of attacks.entries()) {
    const args = a.craft(path.join(tmp.dir, `attack${i + 1}`));
    const folders = args.filter((x) => existsSync(x) && lstatSync(x).isDirectory());
    const before = snapshot([sentinel, ...folders]);
    const out = path.join(tmp.dir, `merged${i + 1}`);
    const m = await shotlist(['merge', out, ...args], { env, cwd: tmp.dir });
    outputs.push(m.stdout, m.stderr);
    touched += bytesTouched(before, snapshot([sentinel, ...folders]));
    try {
      const shown = m.stderr + m.stdout;
      expect(
        ['\u001b', '\u0007'].filter((c) => shown.includes(c)),
        a.name,
      ).toEqual([]);
      if (a.expect === 'refused') {
        expect(m.exitCode, `${a.name}\n${m.stderr}`).toBe(2);
        expect(existsSync(out), a.name).toBe(false);
        refused++;
        continue;
      }
      expect(m.exitCode, `${a.name}\n${m.stderr}`).toBe(0);
      const r = await shotlist(runArgs(manifest, sim, out), { env, cwd: tmp.dir });
      outputs.push(r.stdout, r.stderr);
      expect(r.exitCode, `${a.name}\n${r.stderr}`).toBe(0);
      const shots = readReport(out).shots;
      plantedAccepted += shots.filter((s) => s.sha256 !== genuine.get(s.key)).length;
      expect(
        shots.map((s) => s.status),
        a.name,
      ).toEqual(Array(4).fill('done'));
      leftOut++;
    } catch (err) {
      failures.push(`${a.name}: ${(err as Error).message}`);
    }
  }

  const figures = {
    'attacks tried': attacks.length,
    'refused (exit 2, nothing written)': refused,
    'planted lines left out, merge clean': leftOut,
    'planted clips accepted': plantedAccepted,
    'bytes touched outside the output folder': touched,
    'extra submissions': sim.ledger().totals.submissions - submitted,
    'key leaks': keyLeaks(outputs, tmp.dir),
  };
  record('untrusted-merge', 'untrusted shard folders', failures.length === 0, figures);
  expect(failures).toEqual([]);
  expect(figures).toMatchObject({
    'planted clips accepted': 0,
    'bytes touched outside the output folder': 0,
    'extra submissions': 0,
    'key leaks': 0,
  });
});
