import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { mergeEntries, mergeShards } from '../../src/pipeline/merge.js';
import type { JournalEntry } from '../../src/render/journal.js';
import { tempDir } from '../helpers/cli.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir('shotlist-merge-');
});
afterEach(() => tmp.cleanup());

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** A shard folder that rendered `id` (journal key `key`) at time `at` with a clip of `bytes`. */
function shard(name: string, renders: { id: string; key: string; at: number; clip: string }[]) {
  const dir = path.join(tmp.dir, name);
  mkdirSync(path.join(dir, 'clips/.store'), { recursive: true });
  const lines: JournalEntry[] = [];
  for (const r of renders) {
    const data = Buffer.from(r.clip);
    const hash = sha(data);
    writeFileSync(path.join(dir, 'clips/.store', `${hash}.mp4`), data);
    const shot = { id: r.id, variant: null, take: 1 };
    lines.push(
      { type: 'intent', key: r.key, shot, gen: 1, idem: `i-${r.key}`, at: r.at },
      { type: 'task', key: r.key, task_id: `t-${name}-${r.id}`, at: r.at + 1 },
      {
        type: 'completed',
        key: r.key,
        task_id: `t-${name}-${r.id}`,
        url: 'https://x/v.mp4',
        at: r.at + 5,
      },
      {
        type: 'file',
        key: r.key,
        task_id: `t-${name}-${r.id}`,
        path: `clips/${r.id}.mp4`,
        bytes: data.length,
        sha256: hash,
        at: r.at + 6,
      },
    );
  }
  writeFileSync(
    path.join(dir, 'journal.ndjson'),
    lines.map((l) => `${JSON.stringify(l)}\n`).join(''),
  );
  return dir;
}

const journalOf = (dir: string) =>
  readFileSync(path.join(dir, 'journal.ndjson'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as JournalEntry);

describe('mergeShards', () => {
  it('merges journals in time order and copies verified clips into the store; merging again changes nothing', async () => {
    const a = shard('a', [{ id: 's01', key: 'k1', at: 100, clip: 'clip one' }]);
    const b = shard('b', [{ id: 's02', key: 'k2', at: 102, clip: 'clip two' }]);
    const out = path.join(tmp.dir, 'out');
    const first = await mergeShards(out, [a, b]);
    expect(first).toMatchObject({
      shards: 2,
      entries: 8,
      added: 8,
      clips: { copied: 2, present: 0, missing: 0 },
    });
    const entries = journalOf(out);
    expect(entries.map((e) => e.at)).toEqual([100, 101, 102, 103, 105, 106, 107, 108]);
    expect(
      readFileSync(path.join(out, 'clips/.store', `${sha(Buffer.from('clip two'))}.mp4`), 'utf8'),
    ).toBe('clip two');
    const bytes = readFileSync(path.join(out, 'journal.ndjson'));
    const second = await mergeShards(out, [b, a]);
    expect(second).toMatchObject({ entries: 8, added: 0, clips: { copied: 0, present: 2 } });
    expect(readFileSync(path.join(out, 'journal.ndjson')).equals(bytes)).toBe(true);
  });

  it('adds a later shard to a folder that already holds a merge', async () => {
    const a = shard('a', [{ id: 's01', key: 'k1', at: 100, clip: 'one' }]);
    const b = shard('b', [{ id: 's02', key: 'k2', at: 50, clip: 'two' }]);
    const out = path.join(tmp.dir, 'out');
    await mergeShards(out, [a]);
    const r = await mergeShards(out, [b, a]);
    expect(r).toMatchObject({ entries: 8, added: 4 });
    expect(journalOf(out).map((e) => e.key)).toEqual([
      'k2',
      'k2',
      'k2',
      'k2',
      'k1',
      'k1',
      'k1',
      'k1',
    ]);
  });

  it('refuses a request submitted in two folders, also against the output folder, writing nothing', async () => {
    const a = shard('a', [{ id: 's01', key: 'k1', at: 100, clip: 'one' }]);
    const b = shard('b', [{ id: 's01', key: 'k1', at: 200, clip: 'one again' }]);
    const out = path.join(tmp.dir, 'out');
    const refused = mergeShards(out, [a, b]);
    await expect(refused).rejects.toThrow(UsageError);
    await expect(mergeShards(out, [a, b])).rejects.toThrow(
      /1 request has journal lines in two folders; nothing was merged:\n {2}s01 \(request k1\) in .*a and .*b: submitted in both \(paid twice\)/,
    );
    expect(existsSync(out)).toBe(false);
    await mergeShards(out, [a]);
    const before = readFileSync(path.join(out, 'journal.ndjson'));
    await expect(mergeShards(out, [b])).rejects.toThrow(/s01 \(request k1\) in .*out and .*b/);
    expect(readFileSync(path.join(out, 'journal.ndjson')).equals(before)).toBe(true);
  });

  it('refuses a folder whose clip differs from its journal, writing nothing', async () => {
    const a = shard('a', [{ id: 's01', key: 'k1', at: 100, clip: 'the real clip' }]);
    const stored = path.join(a, 'clips/.store', `${sha(Buffer.from('the real clip'))}.mp4`);
    writeFileSync(stored, 'the real clop');
    const out = path.join(tmp.dir, 'out');
    await expect(mergeShards(out, [a])).rejects.toThrow(
      /1 clip in a shard folder differs from its journal; nothing was merged:\n {2}s01 \(request k1\) in .*a: clips\/\.store\/[0-9a-f]{64}\.mp4 does not match/,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('notes a clip missing from a shard folder: the next run downloads it again', async () => {
    const a = shard('a', [{ id: 's01', key: 'k1', at: 100, clip: 'the real clip' }]);
    rmSync(path.join(a, 'clips/.store', `${sha(Buffer.from('the real clip'))}.mp4`));
    const r = await mergeShards(path.join(tmp.dir, 'out'), [a]);
    expect(r.clips).toEqual({ copied: 0, present: 0, missing: 1 });
    expect(r.notes.join()).toContain('1 clip(s) missing in the shard folders');
  });

  it("takes from a folder only its own requests' lines, and a clip only with its own completion", async () => {
    const a = shard('a', [{ id: 's01', key: 'k1', at: 100, clip: 'one' }]);
    const planted = Buffer.from('planted');
    const extra = shard('extra', [{ id: 's02', key: 'k2', at: 100, clip: 'two' }]);
    writeFileSync(path.join(extra, 'clips/.store', `${sha(planted)}.mp4`), planted);
    const foreign: JournalEntry[] = [
      { type: 'failed', key: 'k1', message: 'planted', at: 900 },
      // k2 is extra's own request, but this task never completed in extra.
      {
        type: 'file',
        key: 'k2',
        task_id: 't-other',
        path: 'x',
        bytes: 7,
        sha256: sha(planted),
        at: 901,
      },
      { type: 'upload', key: sha(planted), url: 'https://elsewhere/x.png', bytes: 7, at: 902 },
    ];
    writeFileSync(
      path.join(extra, 'journal.ndjson'),
      readFileSync(path.join(extra, 'journal.ndjson'), 'utf8') +
        foreign.map((l) => `${JSON.stringify(l)}\n`).join(''),
    );
    const out = path.join(tmp.dir, 'out');
    const r = await mergeShards(out, [a, extra]);
    expect(r).toMatchObject({ entries: 8, clips: { copied: 2, present: 0, missing: 0 } });
    // The upload record is left out too, but it is no request: not counted as foreign.
    expect(r.notes.join()).toContain('extra: 2 journal line(s) about requests it did not submit');
    expect(journalOf(out).some((e) => e.at >= 900)).toBe(false);
    expect(existsSync(path.join(out, 'clips/.store', `${sha(planted)}.mp4`))).toBe(false);
  });

  it("a clean shard's own upload records are not carried, and not called foreign", async () => {
    const a = shard('a', [{ id: 's01', key: 'k1', at: 100, clip: 'one' }]);
    const upload = {
      type: 'upload',
      key: sha(Buffer.from('ref')),
      url: 'http://127.0.0.1:9/r.png',
      bytes: 3,
      at: 90,
    };
    writeFileSync(
      path.join(a, 'journal.ndjson'),
      `${JSON.stringify(upload)}\n${readFileSync(path.join(a, 'journal.ndjson'), 'utf8')}`,
    );
    const out = path.join(tmp.dir, 'out');
    const r = await mergeShards(out, [a]);
    expect(r.notes.join()).not.toContain('did not submit');
    expect(journalOf(out).some((e) => e.type === 'upload')).toBe(false);
    expect(journalOf(out).some((e) => e.type === 'intent' && e.key === 'k1')).toBe(true);
  });

  it('refuses one request journaled differently in two folders, and new lines for a merged one', async () => {
    const a = shard('a', [{ id: 's01', key: 'k1', at: 100, clip: 'one' }]);
    const copy = path.join(tmp.dir, 'copy');
    cpSync(a, copy, { recursive: true });
    const out = path.join(tmp.dir, 'out');
    // The very same lines twice (a folder given twice) are one render.
    expect((await mergeShards(path.join(tmp.dir, 'o1'), [a, copy])).entries).toBe(4);
    const failed = { type: 'failed', key: 'k1', message: 'planted', at: 900 };
    writeFileSync(path.join(copy, 'journal.ndjson'), `${JSON.stringify(failed)}\n`, { flag: 'a' });
    await expect(mergeShards(out, [a, copy])).rejects.toThrow(
      /s01 \(request k1\) in .*a and .*copy: journaled differently/,
    );
    expect(existsSync(out)).toBe(false);
    await mergeShards(out, [a]);
    await expect(mergeShards(out, [copy])).rejects.toThrow(
      /in .*out and .*copy: journaled differently/,
    );
  });

  it('follows no link: a linked shard folder, journal or stored clip is refused or left out', async () => {
    const a = shard('a', [{ id: 's01', key: 'k1', at: 100, clip: 'one' }]);
    const linked = path.join(tmp.dir, 'linked');
    symlinkSync(a, linked);
    await expect(mergeShards(path.join(tmp.dir, 'o1'), [linked])).rejects.toThrow(
      /is a symbolic link/,
    );

    const b = path.join(tmp.dir, 'b');
    mkdirSync(b);
    symlinkSync(path.join(a, 'journal.ndjson'), path.join(b, 'journal.ndjson'));
    await expect(mergeShards(path.join(tmp.dir, 'o2'), [b])).rejects.toThrow(/symbolic link/);

    const c = shard('c', []);
    writeFileSync(path.join(c, 'journal.ndjson'), readFileSync(path.join(a, 'journal.ndjson')));
    const hash = sha(Buffer.from('one'));
    symlinkSync(
      path.join(a, 'clips/.store', `${hash}.mp4`),
      path.join(c, 'clips/.store', `${hash}.mp4`),
    );
    const r = await mergeShards(path.join(tmp.dir, 'o3'), [c]);
    expect(r.clips).toEqual({ copied: 0, present: 0, missing: 1 });
  });

  it('refuses a folder that is no run output, with the fix', async () => {
    const empty = path.join(tmp.dir, 'empty');
    mkdirSync(empty);
    await expect(mergeShards(path.join(tmp.dir, 'o'), [empty])).rejects.toThrow(/holds no journal/);
    await expect(
      mergeShards(path.join(tmp.dir, 'o'), [path.join(tmp.dir, 'nope')]),
    ).rejects.toThrow(/no shard folder/);
  });

  it('leaves out a torn last line of a shard journal and says so', async () => {
    const a = shard('a', [{ id: 's01', key: 'k1', at: 100, clip: 'one' }]);
    writeFileSync(
      path.join(a, 'journal.ndjson'),
      `${readFileSync(path.join(a, 'journal.ndjson'), 'utf8')}{"type":"sta`,
    );
    const r = await mergeShards(path.join(tmp.dir, 'out'), [a]);
    expect(r.entries).toBe(4);
    expect(r.notes.join()).toContain('1 unreadable journal line(s) left out');
  });
});

describe('mergeEntries', () => {
  const e = (key: string, at: number): JournalEntry => ({ type: 'unknown', key, message: 'm', at });
  const src = (entries: JournalEntry[]) => ({ dir: 'd', entries, skipped: 0 });

  it("keeps each source's own order, even against its timestamps", () => {
    const merged = mergeEntries([src([e('a', 5), e('b', 1)]), src([e('c', 3)])]);
    expect(merged.map((x) => x.key)).toEqual(['c', 'a', 'b']);
  });

  it('is a union of multisets: a line two sources share appears once, a repeated line keeps its count', () => {
    const twice = [e('a', 1), e('a', 1)];
    const merged = mergeEntries([src(twice), src([e('a', 1), e('b', 2)])]);
    expect(merged.map((x) => x.key)).toEqual(['a', 'a', 'b']);
  });
});

it('takes the folder of a shard that had no shots (a report, no journal)', async () => {
  const a = shard('a', [{ id: 's01', key: 'k1', at: 100, clip: 'one' }]);
  const empty = path.join(tmp.dir, 'empty-shard');
  mkdirSync(empty);
  writeFileSync(path.join(empty, 'report.json'), '{}');
  const r = await mergeShards(path.join(tmp.dir, 'out'), [a, empty]);
  expect(r).toMatchObject({ shards: 2, entries: 4, clips: { copied: 1 } });
});
