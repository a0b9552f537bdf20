import { canonicalJson } from '../../src/api/contract.js';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  foldJournal,
  idempotencyKey,
  openJournal,
  parseJournal,
  readJournal,
  type JournalEntry,
} from '../../src/render/journal.js';
import { journalKey } from '../../src/manifest/identity.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'shotlist-journal-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ref = { id: 's01', variant: null, take: 1 };

describe('journalKey', () => {
  const body = {
    model: 'm',
    prompt: '猫',
    duration: 5,
    metadata: { ratio: '16:9', generate_audio: true },
  };
  it('ignores key order but not values, take or base URL', () => {
    const a = journalKey(body, 1, 'https://cdn.12ai.org');
    const reordered = {
      metadata: { generate_audio: true, ratio: '16:9' },
      duration: 5,
      prompt: '猫',
      model: 'm',
    };
    expect(journalKey(reordered, 1, 'https://cdn.12ai.org/')).toBe(a);
    expect(journalKey({ ...body, prompt: '狗' }, 1, 'https://cdn.12ai.org')).not.toBe(a);
    expect(journalKey(body, 2, 'https://cdn.12ai.org')).not.toBe(a);
    expect(journalKey(body, 1, 'http://127.0.0.1:9999')).not.toBe(a);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
  });
  it('canonical JSON sorts keys at every level', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 1, c: 2 }] })).toBe('{"a":[{"c":2,"d":1}],"b":1}');
  });
  it('idempotency keys differ per generation', () => {
    expect(idempotencyKey('k', 1)).not.toBe(idempotencyKey('k', 2));
    expect(idempotencyKey('k', 1)).toBe(idempotencyKey('k', 1));
  });
});

describe('parseJournal', () => {
  it('tolerates a torn last line and reports where the good part ends', () => {
    const good = `${JSON.stringify({ type: 'intent', key: 'k', shot: ref, gen: 1, idem: 'i', at: 1 })}\n`;
    const parsed = parseJournal(`${good}{"type":"task","key":"k","ta`);
    expect(parsed.entries).toHaveLength(1);
    expect(parsed.torn).toBe(true);
    expect(parsed.validLength).toBe(Buffer.byteLength(good));
  });
  it('skips unreadable lines in the middle', () => {
    const parsed = parseJournal('garbage\n{"type":"task","key":"k","task_id":"t","at":1}\n');
    expect(parsed.badLines).toBe(1);
    expect(parsed.entries).toHaveLength(1);
    expect(parsed.torn).toBe(false);
  });
});

describe('foldJournal', () => {
  it('follows a shot through its life and a new generation resets it', () => {
    const e: JournalEntry[] = [
      { type: 'intent', key: 'k', shot: ref, gen: 1, idem: 'i1', at: 1 },
      { type: 'task', key: 'k', task_id: 't1', at: 2 },
      { type: 'status', key: 'k', task_id: 't1', status: 'in_progress', progress: 30, at: 3 },
      { type: 'completed', key: 'k', task_id: 't1', url: 'http://f/1.mp4', at: 4 },
    ];
    let s = foldJournal(e).get('k')!;
    expect(s.phase).toBe('completed');
    expect(s.url).toBe('http://f/1.mp4');
    e.push({
      type: 'file',
      key: 'k',
      task_id: 't1',
      path: 'clips/s01.mp4',
      bytes: 3,
      sha256: 'abc',
      at: 5,
    });
    s = foldJournal(e).get('k')!;
    expect(s.phase).toBe('downloaded');
    e.push({ type: 'intent', key: 'k', shot: ref, gen: 2, idem: 'i2', at: 6 });
    s = foldJournal(e).get('k')!;
    expect(s.phase).toBe('submitting');
    expect(s.taskId).toBeUndefined();
    expect(s.gen).toBe(2);
  });
  it('an intent without a task id is a crash during the POST', () => {
    const s = foldJournal([{ type: 'intent', key: 'k', shot: ref, gen: 1, idem: 'i', at: 1 }]).get(
      'k',
    )!;
    expect(s.phase).toBe('submitting');
  });
  it('a task id the API never gives (a hand-written line) leaves the shot unknown, not failed', () => {
    for (const id of ['../../__sim/ledger?', 'task_ok/../x#', '']) {
      const s = foldJournal([
        { type: 'intent', key: 'k', shot: ref, gen: 1, idem: 'i', at: 1 },
        { type: 'task', key: 'k', task_id: id, at: 2 },
      ]).get('k')!;
      expect(s.phase, id).toBe('unknown');
      expect(s.taskId).toBeUndefined();
    }
  });
});

describe('openJournal', () => {
  it('repairs a torn line and appends after it', async () => {
    const file = path.join(dir, 'journal.ndjson');
    const good = `${JSON.stringify({ type: 'intent', key: 'k', shot: ref, gen: 1, idem: 'i', at: 1 })}\n`;
    await writeFile(file, `${good}{"type":"ta`);
    const before = await readJournal(file);
    expect(before.torn).toBe(true);
    const w = await openJournal(file, before.validLength);
    await Promise.all([
      w.append({ type: 'task', key: 'k', task_id: 't', at: 2 }),
      w.append(
        { type: 'status', key: 'k', task_id: 't', status: 'queued', at: 3 },
        { durable: false },
      ),
    ]);
    await w.close();
    const after = await readJournal(file);
    expect(after.torn).toBe(false);
    expect(after.badLines).toBe(0);
    expect(after.entries.map((x) => x.type)).toEqual(['intent', 'task', 'status']);
    expect((await readFile(file, 'utf8')).endsWith('\n')).toBe(true);
  });
  it('a missing journal is empty', async () => {
    const r = await readJournal(path.join(dir, 'none.ndjson'));
    expect(r.entries).toEqual([]);
    expect(r.shots.size).toBe(0);
  });
});

describe('strings read back from a journal', () => {
  const line = (e: object) => `${JSON.stringify(e)}\n`;
  it('are stripped of escapes and controls; a base is normalised, or kept as text when not an http(s) URL', () => {
    const { entries } = parseJournal(
      line({
        type: 'intent',
        key: 'k1',
        shot: { id: 'a\u001b[2Jb', variant: null, take: 1 },
        gen: 1,
        idem: 'i',
        base: 'HTTPS://user:pw@API.Example:443/v1/?q#f',
        at: 1,
      }) +
        line({
          type: 'intent',
          key: 'k2',
          shot: { id: 's', variant: null, take: 1 },
          gen: 1,
          idem: 'i',
          base: 'http://evil.example/\u001b[2J',
          at: 1,
        }) +
        line({
          type: 'intent',
          key: 'k3',
          shot: { id: 's', variant: null, take: 1 },
          gen: 1,
          idem: 'i',
          base: 'file:///etc\u001b]0;x\u0007',
          at: 1,
        }) +
        line({
          type: 'intent',
          key: 'k4',
          shot: { id: 's', variant: null, take: 1 },
          gen: 1,
          idem: 'i',
          base: 'simulator://shotlist',
          at: 1,
        }) +
        line({
          type: 'failed',
          key: 'k1',
          task_id: 't\u009b31m',
          message: `x\r\n${'y'.repeat(2000)}`,
          at: 2,
        }),
    );
    const bases = entries.map((e) => (e as { base?: string }).base);
    expect(bases.slice(0, 4)).toEqual([
      'https://api.example/v1',
      'http://evil.example/%1B[2J',
      'file:///etc',
      'simulator://shotlist',
    ]);
    expect((entries[0] as { shot: { id: string } }).shot.id).toBe('ab');
    const failed = entries[4] as { task_id: string; message: string };
    expect(failed.task_id).toBe('t');
    expect(failed.message.startsWith('x y')).toBe(true);
    expect(failed.message.length).toBeLessThanOrEqual(1001);
  });
});
