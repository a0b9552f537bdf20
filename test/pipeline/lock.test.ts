/**
 * The run lock appears whole: another process looking at the folder never finds the lock file
 * empty or half written, so a run killed at any moment (kill -9 while taking the lock) leaves
 * a lock the next run can read, and take over once its holder is gone.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOCK_FILE, acquireRunLock } from '../../src/pipeline/lock.js';
import { tempDir } from '../helpers/cli.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir('shotlist-lock-');
});
afterEach(() => tmp.cleanup());

/** A process that reads the lock file as fast as it can until told to stop, and counts. */
const READER = `
const { readFileSync } = require('node:fs');
const file = process.argv[1];
let reads = 0, torn = 0, stop = false;
process.stdin.on('data', () => { stop = true; });
process.stdout.write('ready\\n');
(function loop() {
  for (let i = 0; i < 2000 && !stop; i++) {
    let text;
    try { text = readFileSync(file, 'utf8'); } catch { continue; }
    reads++;
    try { JSON.parse(text); } catch { torn++; }
  }
  if (stop) { process.stdout.write(JSON.stringify({ reads, torn }) + '\\n'); process.exit(0); }
  setImmediate(loop);
})();
`;

describe('the run lock', () => {
  it('is never seen empty or half written by another process', async () => {
    const out = path.join(tmp.dir, 'out');
    const reader = spawn(process.execPath, ['-e', READER, path.join(out, LOCK_FILE)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let said = '';
    reader.stdout.on('data', (chunk: Buffer) => (said += chunk.toString()));
    await new Promise<void>((resolve) => reader.stdout.once('data', () => resolve()));
    // Take and release the lock until the reader has seen it held many times.
    for (let round = 0; round < 3000; round++) {
      const lock = await acquireRunLock(out);
      await lock.release();
    }
    reader.stdin.write('stop\n');
    await new Promise<void>((resolve) => reader.once('exit', () => resolve()));
    const { reads, torn } = JSON.parse(said.split('\n')[1]!) as { reads: number; torn: number };
    expect(reads, 'the reader saw the lock held').toBeGreaterThan(0);
    expect(torn).toBe(0);
    // No draft of the lock is left behind.
    expect(readdirSync(out).filter((f) => f.startsWith(LOCK_FILE))).toEqual([]);
    expect(existsSync(path.join(out, LOCK_FILE))).toBe(false);
  });

  it("removes the drafts a killed run left while taking it, and no one else's file", async () => {
    const out = path.join(tmp.dir, 'out');
    mkdirSync(out);
    const dead = 999_999;
    const live = 4242;
    const files = {
      left: `${LOCK_FILE}.${dead}.0123456789ab`,
      fresh: `${LOCK_FILE}.${dead}.ba9876543210`,
      living: `${LOCK_FILE}.${live}.aaaaaaaaaaaa`,
      other: `${LOCK_FILE}.${dead}.notadraft`,
    };
    const old = new Date(Date.now() - 3_600_000);
    for (const [kind, name] of Object.entries(files)) {
      writeFileSync(path.join(out, name), '{"pid":1}\n');
      if (kind !== 'fresh') utimesSync(path.join(out, name), old, old);
    }
    const lock = await acquireRunLock(out, {
      pid: process.pid,
      host: 'here',
      now: Date.now,
      alive: (pid) => pid === live || pid === process.pid,
    });
    await lock.release();
    expect(readdirSync(out).sort()).toEqual([files.fresh, files.living, files.other].sort());
  });
});
