import { createHash } from 'node:crypto';
import {
  cpSync,
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
import { shotlist, type CliResult } from '../helpers/cli.js';
import { runArgs } from '../e2e/run-helpers.js';
import { record } from './figures.js';
import { env, keyLeaks, readReport, useSimulator, writeManifest } from './common.js';

const bench = useSimulator('shotlist-tampered-', { latency: 0, seed: 15 });

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Every entry under a folder (links as links, never followed) with what it holds. */
function snapshot(dir: string): Map<string, string> {
  const seen = new Map<string, string>();
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const file = path.join(e.parentPath, e.name);
    const info = lstatSync(file);
    const what = info.isSymbolicLink()
      ? `link ${readlinkSync(file)}`
      : info.isFile()
        ? `file ${info.size} ${sha256(file)} ${info.mtimeMs}`
        : `folder ${info.mtimeMs}`;
    seen.set(path.relative(dir, file), what);
  }
  return seen;
}

/** Outside entries added, changed or removed between two snapshots. */
function differences(before: Map<string, string>, after: Map<string, string>): string[] {
  const keys = new Set([...before.keys(), ...after.keys()]);
  return [...keys].filter((k) => before.get(k) !== after.get(k));
}

/** Rewrites the journal's `file` entries of some shots (found through their intents). */
function editFileEntries(out: string, edit: Record<string, Record<string, unknown>>): void {
  const file = path.join(out, 'journal.ndjson');
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const idOf = new Map<unknown, string>();
  for (const e of entries) if (e.type === 'intent') idOf.set(e.key, (e.shot as { id: string }).id);
  const edited = entries.map((e) =>
    e.type === 'file' && edit[idOf.get(e.key)!] ? { ...e, ...edit[idOf.get(e.key)!] } : e,
  );
  writeFileSync(file, `${edited.map((e) => JSON.stringify(e)).join('\n')}\n`);
}

interface Case {
  name: string;
  tamper: (out: string, sentinel: string) => void;
  /** `refused`: a clear error naming the path, exit 2; `recovered`: the run finishes. */
  expect: 'refused' | 'recovered';
  check?: (out: string, sentinel: string, r: CliResult) => void;
}

const cases: Case[] = [
  {
    name: 'journal file entries name outside paths (one with the outside file sha256)',
    tamper: (out, sentinel) => {
      for (const id of ['s01', 's02']) rmSync(path.join(out, `clips/${id}.mp4`));
      rmSync(path.join(out, 'clips/.store'), { recursive: true, force: true });
      const victim = path.join(sentinel, 'victim.txt');
      editFileEntries(out, {
        s01: {
          path: path.relative(out, victim),
          bytes: lstatSync(victim).size,
          sha256: sha256(victim),
        },
        s02: { path: path.relative(out, path.join(sentinel, 'other.txt')) },
      });
    },
    expect: 'recovered',
    check: (out, sentinel) => {
      const report = readReport(out);
      expect(report.shots.map((s) => s.file)).toEqual(['clips/s01.mp4', 'clips/s02.mp4']);
      expect(report.shots[0]!.sha256).not.toBe(sha256(path.join(sentinel, 'victim.txt')));
      expect(lstatSync(path.join(out, 'clips/s01.mp4')).isFile()).toBe(true);
    },
  },
  {
    name: 'journal.ndjson is a link to an outside file',
    tamper: (out, sentinel) => {
      rmSync(path.join(out, 'journal.ndjson'));
      symlinkSync(path.join(sentinel, 'victim.txt'), path.join(out, 'journal.ndjson'));
    },
    expect: 'refused',
  },
  {
    name: 'clips/ is a link to an outside folder holding .part files',
    tamper: (out, sentinel) => {
      rmSync(path.join(out, 'clips'), { recursive: true });
      symlinkSync(path.join(sentinel, 'folder'), path.join(out, 'clips'));
    },
    expect: 'refused',
  },
  {
    name: 'thumbs/ is a link to an outside folder',
    tamper: (out, sentinel) => {
      rmSync(path.join(out, 'thumbs'), { recursive: true, force: true });
      symlinkSync(path.join(sentinel, 'folder'), path.join(out, 'thumbs'));
    },
    expect: 'refused',
  },
  {
    name: 'report.json, report.html and a clip are links to outside files',
    tamper: (out, sentinel) => {
      for (const f of ['report.json', 'report.html', 'clips/s01.mp4', 'clips/s02.mp4.part']) {
        rmSync(path.join(out, f), { force: true });
        symlinkSync(path.join(sentinel, 'victim.txt'), path.join(out, f));
      }
    },
    expect: 'recovered',
    check: (out) => {
      for (const f of ['report.json', 'report.html', 'clips/s01.mp4'])
        expect(lstatSync(path.join(out, f)).isFile(), f).toBe(true);
      const report = readReport(out);
      expect(sha256(path.join(out, 'clips/s01.mp4'))).toBe(report.shots[0]!.sha256);
    },
  },
  {
    name: 'a folder where a clip should be',
    tamper: (out) => {
      rmSync(path.join(out, 'clips/s01.mp4'));
      mkdirSync(path.join(out, 'clips/s01.mp4'));
      writeFileSync(path.join(out, 'clips/s01.mp4/keep.txt'), 'mine');
    },
    expect: 'refused',
    check: (out) => {
      expect(readFileSync(path.join(out, 'clips/s01.mp4/keep.txt'), 'utf8')).toBe('mine');
    },
  },
];

it('tampered folder: links, outside paths and folders in the output folder touch nothing outside it', async () => {
  const { tmp, sim } = bench;
  const manifest = writeManifest(tmp.dir, 2, 'tampered');
  // The simulator's two clips of these prompts; the shots are named s01 and s02.
  writeFileSync(manifest, readFileSync(manifest, 'utf8').replace(/id: r00/g, 'id: s0'));
  const base = path.join(tmp.dir, 'base');
  const first = await shotlist(runArgs(manifest, sim, base), { env, cwd: tmp.dir });
  expect(first.exitCode, first.stderr).toBe(0);

  const sentinel = path.join(tmp.dir, 'sentinel');
  mkdirSync(path.join(sentinel, 'folder'), { recursive: true });
  writeFileSync(path.join(sentinel, 'victim.txt'), 'precious outside file\n');
  writeFileSync(path.join(sentinel, 'other.txt'), 'another outside file\n');
  writeFileSync(path.join(sentinel, 'folder/keep.mp4.part'), 'an outside .part file\n');
  writeFileSync(path.join(sentinel, 'folder/keep.mp4'), 'an outside clip\n');
  const before = snapshot(sentinel);
  const submitted = sim.ledger().totals.submissions;

  const outputs: string[] = [];
  const failures: string[] = [];
  let refused = 0;
  let recovered = 0;
  let changed = 0;
  for (const [i, c] of cases.entries()) {
    const out = path.join(tmp.dir, `case${i + 1}`);
    cpSync(base, out, { recursive: true });
    c.tamper(out, sentinel);
    const r = await shotlist(runArgs(manifest, sim, out), { env, cwd: tmp.dir });
    outputs.push(r.stdout, r.stderr);
    const diff = differences(before, snapshot(sentinel));
    changed += diff.length;
    try {
      expect(diff, c.name).toEqual([]);
      if (c.expect === 'refused') {
        expect(r.exitCode, `${c.name}\n${r.stderr}`).toBe(2);
        expect(r.stderr, c.name).toMatch(/refusing to use .*(symbolic link|folder where a file)/);
        refused++;
      } else {
        expect(r.exitCode, `${c.name}\n${r.stderr}`).toBe(0);
        recovered++;
      }
      c.check?.(out, sentinel, r);
    } catch (err) {
      failures.push(`${c.name}: ${(err as Error).message}`);
    }
  }
  // `stitch` finds clips through the journal at paths derived from the shots: a clip path in
  // report.json that leaves the folder is never read, and the final is made from the real clips.
  const edited = path.join(tmp.dir, 'stitch-case');
  cpSync(base, edited, { recursive: true });
  const report = readReport(edited);
  report.shots[0]!.file = path.relative(edited, path.join(sentinel, 'victim.txt'));
  writeFileSync(path.join(edited, 'report.json'), JSON.stringify(report));
  const stitch = await shotlist(['stitch', manifest, '--out', edited], { env, cwd: tmp.dir });
  outputs.push(stitch.stdout, stitch.stderr);
  changed += differences(before, snapshot(sentinel)).length;
  if (stitch.exitCode === 0 && !stitch.stdout.includes('victim')) recovered++;
  else failures.push(`stitch with an outside clip path: exit ${stitch.exitCode}\n${stitch.stderr}`);

  const figures = {
    'tampered folders tried': cases.length + 1,
    'refused with a clear message': refused,
    'recovered safely': recovered,
    'outside entries touched': changed,
    'new submissions': sim.ledger().totals.submissions - submitted,
    'key leaks': keyLeaks(outputs, tmp.dir),
  };
  record('tampered', 'tampered output folder', failures.length === 0, figures);
  expect(failures).toEqual([]);
  expect(figures).toMatchObject({
    'outside entries touched': 0,
    'new submissions': 0,
    'key leaks': 0,
  });
});
