import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { shotlist, spawnShotlist, tempDir } from '../helpers/cli.js';
import { eventCount, untilOutput } from '../helpers/wait.js';
import { KEY, childEnv, readReport, runArgs } from './run-helpers.js';

/** These manifests upload through a command: the user allows it. */
const commandEnv = { ...childEnv, SHOTLIST_ALLOW_COMMAND: '1' };
import { chainShots, servePngFolder, type PngFolderServer } from '../helpers/chains.js';

let tmp: ReturnType<typeof tempDir>;
let sim: Simulator | undefined;
let storage: PngFolderServer | undefined;

beforeEach(() => {
  tmp = tempDir('shotlist-chain-crash-');
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  await storage?.close();
  storage = undefined;
  tmp.cleanup();
});

/** `chains` chains of `length` shots, each starting on the last frame of the one before. */
function writeChains(dir: string, bucket: string, origin: string, chains: number, length: number) {
  const file = path.join(dir, 'chains.yaml');
  writeFileSync(
    file,
    `version: 1
name: chains
defaults: { model: seedance-2-official, duration: 4, ratio: '16:9', size: 480p }
concurrency: 4
uploads:
  provider: command
  command: [cp, "{file}", ${JSON.stringify(`${bucket}/{key}`)}]
  public_url: ${origin}/{key}
shots:
${chainShots(chains, length)}
`,
  );
  return file;
}

it('SIGKILLs anywhere in chains: the next run finishes them with no duplicate submission', async () => {
  const bucket = path.join(tmp.dir, 'bucket');
  mkdirSync(bucket);
  const origin = (storage = await servePngFolder(bucket)).url;
  const manifest = writeChains(tmp.dir, bucket, origin, 3, 3);
  sim = await startSimulator({ apiKey: KEY, latency: '0.5-1.5', seed: 9 });
  const out = path.join(tmp.dir, 'out');
  const args = runArgs(manifest, sim, out, '--json');
  // Kill moments spread over submissions, waits, downloads and frame cuts, each at an event of
  // the run (not a time, which a loaded machine would shift).
  const moments: [event: string, count: number][] = [
    ['submitted', 1],
    ['downloaded', 1],
    ['done', 2],
    ['submitted', 2],
    ['downloading', 2],
    ['done', 1],
  ];
  let kills = 0;
  for (const [event, count] of moments) {
    const child = spawnShotlist(args, { env: commandEnv });
    await untilOutput(child, (seen) => eventCount(seen, event) >= count);
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      kills++;
    }
    await child;
  }
  const final = await shotlist(args, { env: commandEnv });
  const report = readReport(out);
  const counts = new Map<string, number>();
  for (const s of sim.ledger().submissions)
    counts.set(s.body.prompt, (counts.get(s.body.prompt) ?? 0) + 1);
  expect(kills).toBeGreaterThanOrEqual(3);
  expect([...counts.values()].filter((n) => n > 1)).toEqual([]);
  // A kill between the intent and the task id leaves a shot unknown (and its chain blocked):
  // never resubmitted without --retry-unknown. Every other shot is done.
  const unknown = report.shots.filter((s) => s.status === 'unknown').length;
  if (unknown === 0) {
    expect(final.exitCode, final.stderr).toBe(0);
    expect(report.shots.every((s) => s.status === 'done')).toBe(true);
  } else {
    expect(report.shots.every((s) => s.status !== 'failed')).toBe(true);
  }
});
