import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN, CHILD_DEADLINE_MS, tempDir } from '../helpers/cli.js';
import { readReport } from './run-helpers.js';

const COUNTER = path.resolve(import.meta.dirname, '../helpers/read-counter.mjs');

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir('shotlist-reads-');
});
afterEach(() => tmp.cleanup());

/** A chain s01 -> s02 (s02 starts on s01's last frame) and an independent s03. */
function writeChain(dir: string): string {
  const file = path.join(dir, 'film.yaml');
  writeFileSync(
    file,
    `version: 1
name: film
defaults: { model: seedance-2-official, duration: 4, ratio: '16:9', size: 480p }
pricing: { currency: CNY, per_second: { seedance-2-official: 1.0 } }
shots:
  - id: s01
    prompt: 猫趴在窗台上
  - id: s02
    prompt: 猫跳下窗台
    assets: { images: [{ from: s01, frame: last }] }
  - id: s03
    prompt: 窗外下着雨
`,
  );
  return file;
}

/** Runs the built CLI, counting how often it opens the journal and the report for reading. */
async function countedRun(args: string[], cwd: string) {
  const counts = path.join(cwd, `reads-${Date.now()}.json`);
  const r = await execa(process.execPath, ['--import', COUNTER, BIN, ...args], {
    cwd,
    reject: false,
    stdin: 'ignore',
    env: {
      CI: 'true',
      NO_COLOR: '1',
      SHOTLIST_COUNT_READS: 'journal.ndjson,report.json',
      SHOTLIST_COUNT_READS_OUT: counts,
    },
    timeout: CHILD_DEADLINE_MS,
  });
  const reads = JSON.parse(readFileSync(counts, 'utf8')) as Record<string, number>;
  return { exitCode: r.exitCode, stderr: String(r.stderr), reads };
}

describe('one run reads its journal once', () => {
  it('a chained run reads neither its own journal back nor the report twice; a re-run reads each once', async () => {
    writeChain(tmp.dir);
    const first = await countedRun(['run', 'film.yaml', '--simulate', '--yes'], tmp.dir);
    expect(first.exitCode, first.stderr).toBe(0);
    const out = path.join(tmp.dir, 'renders', 'film.simulated');
    expect(readReport(out).totals.done).toBe(3);
    // No journal yet: there is nothing to read, and what the run appends it already knows.
    expect(first.reads).toEqual({ 'journal.ndjson': 0, 'report.json': 1 });

    const again = await countedRun(['run', 'film.yaml', '--simulate', '--yes'], tmp.dir);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.reads).toEqual({ 'journal.ndjson': 1, 'report.json': 1 });
  });
});
