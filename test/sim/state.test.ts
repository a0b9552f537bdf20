import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readLedger } from '../../src/sim/index.js';
import { TASKS_FILE } from '../../src/sim/state.js';
import { tempDir } from '../helpers/cli.js';
import { BODY, KEY, get, manualClock, post, sim } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir('shotlist-sim-state-'));
});
afterEach(() => cleanup());

type Task = { id: string; status: string; progress: number; metadata?: { url: string } };

async function submit(base: string, body: unknown = BODY): Promise<string> {
  const res = await post(base, body);
  expect(res.status).toBe(200);
  return ((await res.json()) as { id: string }).id;
}

async function task(base: string, id: string): Promise<{ status: number; body: Task }> {
  const res = await get(base, id);
  return { status: res.status, body: (await res.json()) as Task };
}

describe('a simulator started again on its state folder', () => {
  it('serves the earlier tasks and continues their timelines', async () => {
    const clock = manualClock();
    const stateDir = path.join(dir, 'state');
    const first = await sim({ stateDir, clock: clock.now, latency: 10 });
    const a = await submit(first.url);
    clock.advance(4);
    const b = await submit(first.url, { ...BODY, prompt: 'a second shot' });
    await first.close();

    clock.advance(2); // a at 6 s of 10, b at 2 s of 10: both still running
    const second = await sim({ stateDir, clock: clock.now, latency: 0 });
    expect((await task(second.url, a)).body.status).toMatch(/queued|in_progress/);
    clock.advance(4); // a ends at its planned time, b does not
    expect((await task(second.url, a)).body).toMatchObject({ status: 'completed', progress: 100 });
    expect((await task(second.url, b)).body.status).toMatch(/queued|in_progress/);
    clock.advance(4);
    const done = (await task(second.url, b)).body;
    expect(done.status).toBe('completed');
    // The URL names the live file origin, whatever port the first process had.
    expect(done.metadata?.url).toBe(`${second.fileUrl}/videos/${b}.mp4`);
  });

  it('completes at once a task whose planned end passed while it was down, and serves its file', async () => {
    const clock = manualClock(Date.now());
    const stateDir = path.join(dir, 'state');
    const first = await sim({ stateDir, clock: clock.now, latency: 30 });
    const id = await submit(first.url);
    await first.close();
    clock.advance(60);
    const second = await sim({ stateDir, clock: clock.now });
    const { body } = await task(second.url, id);
    expect(body.status).toBe('completed');
    const file = await fetch(body.metadata?.url ?? '');
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('video/mp4');
    expect((await file.arrayBuffer()).byteLength).toBeGreaterThan(1000);
  });

  it('serves its files on the same port again when that port is free', async () => {
    const stateDir = path.join(dir, 'state');
    const first = await sim({ stateDir });
    const port = first.fileUrl;
    await first.close();
    const second = await sim({ stateDir });
    expect(second.fileUrl).toBe(port);
  });

  it('serves on a new port when the old one is taken, and gives the old tasks URLs on it', async () => {
    const stateDir = path.join(dir, 'state');
    const first = await sim({ stateDir });
    const id = await submit(first.url);
    const oldFiles = first.fileUrl;
    await first.close();
    const squatter = createServer((_req, res) => res.end('not a video'));
    await new Promise<void>((resolve) =>
      squatter.listen(Number(new URL(oldFiles).port), '127.0.0.1', resolve),
    );
    try {
      const second = await sim({ stateDir });
      expect(second.fileUrl).not.toBe(oldFiles);
      const { body } = await task(second.url, id);
      expect(body.metadata?.url).toBe(`${second.fileUrl}/videos/${id}.mp4`);
      const file = await fetch(body.metadata?.url ?? '');
      expect(file.headers.get('content-type')).toBe('video/mp4');
      await file.arrayBuffer();
      await second.close();
      // The new port is the one remembered now.
      squatter.close();
      const third = await sim({ stateDir });
      expect(third.fileUrl).toBe(second.fileUrl);
    } finally {
      if (squatter.listening) squatter.close();
    }
  });

  it('gives a waiting task the slot it would have had', async () => {
    const clock = manualClock();
    const stateDir = path.join(dir, 'state');
    const first = await sim({ stateDir, clock: clock.now, latency: 10, maxConcurrent: 1 });
    const a = await submit(first.url);
    const b = await submit(first.url, { ...BODY, prompt: 'waits for a' });
    await first.close();

    const second = await sim({ stateDir, clock: clock.now, latency: 0, maxConcurrent: 1 });
    clock.advance(10);
    expect((await task(second.url, a)).body.status).toBe('completed');
    expect((await task(second.url, b)).body.status).not.toBe('completed');
    clock.advance(10);
    expect((await task(second.url, b)).body.status).toBe('completed');
  });

  it('never gives out an id twice, even under the same seed', async () => {
    const stateDir = path.join(dir, 'state');
    const first = await sim({ stateDir, seed: 7 });
    const earlier = [await submit(first.url), await submit(first.url)];
    await first.close();
    const second = await sim({ stateDir, seed: 7 });
    const later = [await submit(second.url), await submit(second.url)];
    expect(new Set([...earlier, ...later]).size).toBe(4);
    expect(second.ledger().submissions.map((s) => s.id)).toEqual([...earlier, ...later]);
  });

  it('keeps a ledger on disk that counts the submissions of every process', async () => {
    const stateDir = path.join(dir, 'state');
    const first = await sim({ stateDir });
    await submit(first.url);
    await first.close();
    const second = await sim({ stateDir });
    await submit(second.url, { ...BODY, duration: 6 });
    const fromDisk = await readLedger(stateDir);
    expect(fromDisk.totals.submissions).toBe(2);
    expect(fromDisk.submissions.map((s) => s.seconds)).toEqual([4, 6]);
    expect(fromDisk.submissions).toEqual(second.ledger().submissions);
  });

  it('skips a torn last line, foreign lines and bodies the API would refuse, and keeps appending on a fresh line', async () => {
    const stateDir = path.join(dir, 'state');
    const first = await sim({ stateDir });
    const id = await submit(first.url);
    await first.close();
    const file = path.join(stateDir, TASKS_FILE);
    // A well-formed line whose body the API would refuse: a clip of a million seconds.
    const stored = JSON.parse(readFileSync(file, 'utf8').split('\n')[0]!) as {
      id: string;
      body: { duration: number };
    };
    const huge = { ...stored, id: 'task_huge', body: { ...stored.body, duration: 1e6 } };
    appendFileSync(file, `${JSON.stringify(huge)}\n`);
    // A line far over any we write, then a valid one that spans the reader's chunks.
    const copy = { ...stored, id: 'task_copy', body: { ...stored.body, prompt: 'p'.repeat(2000) } };
    appendFileSync(
      file,
      `${'x'.repeat(3_000_000)}\n${' '.repeat(65_000)}${JSON.stringify(copy)}\n`,
    );
    appendFileSync(file, `${JSON.stringify(copy).replace('task_copy', 'task_copy2')}\n`);
    appendFileSync(file, '{"v":1,"id":"../../etc","received_at":1}\nnot json\n{"v":1,"id":"task_');
    const second = await sim({ stateDir });
    const next = await submit(second.url);
    await second.close();
    const ledger = await readLedger(stateDir);
    expect(ledger.submissions.map((s) => s.id)).toEqual([id, 'task_copy', 'task_copy2', next]);
    expect(readFileSync(file, 'utf8').endsWith('\n')).toBe(true);
  });

  it('refuses a state folder that is a symlink, and a symlinked task file', async () => {
    const target = path.join(dir, 'elsewhere');
    mkdirSync(target);
    const linked = path.join(dir, 'linked');
    symlinkSync(target, linked);
    await expect(sim({ stateDir: linked })).rejects.toThrow(/not a folder/);

    const stateDir = path.join(dir, 'state');
    mkdirSync(stateDir);
    const victim = path.join(dir, 'victim.txt');
    writeFileSync(victim, 'keep me');
    symlinkSync(victim, path.join(stateDir, TASKS_FILE));
    await expect(sim({ stateDir })).rejects.toThrow();
    expect(readFileSync(victim, 'utf8')).toBe('keep me');
  });

  it.skipIf(process.platform === 'win32')(
    'refuses a FIFO planted as its task file instead of waiting on it',
    async () => {
      const stateDir = path.join(dir, 'state');
      mkdirSync(stateDir);
      execFileSync('mkfifo', [path.join(stateDir, TASKS_FILE)]);
      await expect(sim({ stateDir })).rejects.toThrow(/not a regular file/);
    },
  );

  it('accepts the key of the process it runs in, not of the one before', async () => {
    const stateDir = path.join(dir, 'state');
    const first = await sim({ stateDir, apiKey: 'sk-first-run-key' });
    const res = await fetch(`${first.url}/v1/videos`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-first-run-key', 'content-type': 'application/json' },
      body: JSON.stringify(BODY),
    });
    const { id } = (await res.json()) as { id: string };
    await first.close();
    const second = await sim({ stateDir });
    expect((await get(second.url, id, { authorization: `Bearer ${KEY}` })).status).toBe(200);
    expect(readFileSync(path.join(stateDir, TASKS_FILE), 'utf8')).not.toContain('sk-first');
  });
});
