import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { shotlist, tempDir } from '../helpers/cli.js';
import { KEY, childEnv, expectNoKey, runArgs, writeManifest } from './run-helpers.js';

let tmp: ReturnType<typeof tempDir>;
let sim: Simulator | undefined;

beforeEach(() => {
  tmp = tempDir('shotlist-tampered-task-');
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  tmp.cleanup();
});

it('a task id the API never gives, planted in the journal, leaves the shot unknown: no request with it, nothing paid again', async () => {
  sim = await startSimulator({ apiKey: KEY, latency: 0, seed: 8 });
  const manifest = writeManifest(tmp.dir, 2);
  const out = path.join(tmp.dir, 'out');
  const first = await shotlist(runArgs(manifest, sim, out), { env: childEnv, cwd: tmp.dir });
  expect(first.exitCode, first.stderr).toBe(0);
  const intent = readFileSync(path.join(out, 'journal.ndjson'), 'utf8')
    .split('\n')
    .filter((l) => l.includes('"type":"intent"'))
    .map((l) => JSON.parse(l) as { key: string; shot: { id: string } })
    .find((e) => e.shot.id === 's02')!;
  // A new attempt of s02 whose task id points the poll at another path of the API.
  const at = Date.now();
  appendFileSync(
    path.join(out, 'journal.ndjson'),
    [
      { ...intent, gen: 2, idem: 'planted', at },
      { type: 'task', key: intent.key, task_id: '../../__sim/ledger?', at },
    ]
      .map((l) => `${JSON.stringify(l)}\n`)
      .join(''),
  );
  const requests = () => sim!.ledger().submissions.length;
  expect(requests()).toBe(2);

  // Two runs: the first must not turn the planted line into a failure the second pays again.
  const outputs: string[] = [];
  for (let i = 0; i < 2; i++) {
    const again = await shotlist(runArgs(manifest, sim, out), { env: childEnv, cwd: tmp.dir });
    outputs.push(again.stdout, again.stderr);
    expect(again.exitCode, again.stderr).toBe(1);
    expect(again.stderr).toContain('1 unknown shot may have been billed');
  }
  expect(requests()).toBe(2);
  const status = await shotlist(
    ['status', manifest, '--out', out, '--base-url', sim.url, '--json'],
    { cwd: tmp.dir },
  );
  const counts = (JSON.parse(status.stdout) as { counts: Record<string, number> }).counts;
  expect(counts).toMatchObject({ unknown: 1 });
  expect(readFileSync(path.join(out, 'journal.ndjson'), 'utf8')).not.toContain('"type":"failed"');
  expectNoKey([...outputs, status.stdout, status.stderr], out);
});
