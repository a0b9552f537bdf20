import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, expect, it } from 'vitest';
import { shotlist } from '../helpers/cli.js';
import { runArgs } from '../e2e/run-helpers.js';
import { record } from './figures.js';
import {
  badJournalLines,
  env,
  keyLeaks,
  killRuns,
  mulberry32,
  partFiles,
  readReport,
  useSimulator,
} from './common.js';
import { chainShots, servePngFolder, type PngFolderServer } from '../helpers/chains.js';

const CHAINS = 10;
const LINKS = 4;
const bench = useSimulator('shotlist-chains-crash-', { latency: '0.2-0.6', seed: 40 });

let storage: PngFolderServer | undefined;
afterAll(async () => {
  await storage?.close();
});

/** 10 chains of 4 shots, each starting on the last frame of the one before. */
function writeChains(dir: string, bucket: string, origin: string): string {
  const file = path.join(dir, 'chains.yaml');
  writeFileSync(
    file,
    `version: 1
name: chains
defaults: { model: seedance-2-official, duration: 4, ratio: '1:1', size: 480p, audio: false }
pricing: { currency: CNY, per_second: { seedance-2-official: 1.0 } }
concurrency: 8
uploads:
  provider: command
  command: [cp, "{file}", ${JSON.stringify(`${bucket}/{key}`)}]
  public_url: ${origin}/{key}
shots:
${chainShots(CHAINS, LINKS)}
`,
  );
  return file;
}

it('chains and crashes: 20 SIGKILLs across 10 chains of 4, then every shot done, none paid twice', async () => {
  const { tmp, sim } = bench;
  const bucket = path.join(tmp.dir, 'bucket');
  mkdirSync(bucket);
  const manifest = writeChains(tmp.dir, bucket, (storage = await servePngFolder(bucket)).url);
  const out = path.join(tmp.dir, 'out');
  const args = runArgs(manifest, sim, out, '--json', '--allow-command');
  const random = mulberry32(10);
  // Each run is killed at a random moment once it has sent something new (or after 4 s on a
  // machine too slow for that): during submissions, waits, downloads, frame cuts and uploads.
  const { outputs, kills, tornJournalSeen } = await killRuns(
    20,
    args,
    { cwd: tmp.dir, out },
    () => {
      const sent = sim.ledger().totals.submissions;
      return async (child) => {
        for (let waited = 0; waited < 4000 && child.exitCode === null; waited += 50) {
          if (sim.ledger().totals.submissions > sent) break;
          await delay(50);
        }
        await delay(random() * 1000);
      };
    },
  );
  const submissionsBefore = new Set(sim.ledger().submissions.map((s) => s.id));
  const final = await shotlist(args, { env, cwd: tmp.dir });
  outputs.push(final.stdout, final.stderr);
  // A kill between a POST and its answer leaves the shot `unknown` (its chain blocked after
  // it). The documented way out is `--retry-unknown`: it sends those shots again, knowing
  // each may have been billed once already. Nothing else is ever sent twice.
  const unknownShots = readReport(out)
    .shots.filter((s) => s.status === 'unknown')
    .map((s) => s.id);
  let retried = { exitCode: final.exitCode, stderr: final.stderr };
  if (unknownShots.length > 0) {
    const r = await shotlist([...args, '--retry-unknown'], { env, cwd: tmp.dir });
    outputs.push(r.stdout, r.stderr);
    retried = r;
  }
  const report = readReport(out);
  const counts = new Map<string, number>();
  for (const s of sim.ledger().submissions)
    counts.set(s.body.prompt, (counts.get(s.body.prompt) ?? 0) + 1);
  const prompts = new Map(
    report.shots.map((s) => [s.id, `chain ${s.id.slice(1).replace('s', ' shot ')}`]),
  );
  const unknownPrompts = new Set(unknownShots.map((id) => prompts.get(id)));
  const duplicates = [...counts].filter(([p, n]) => n > 1 && !unknownPrompts.has(p)).length;
  const resentUnknown = [...counts].filter(([p, n]) => n > 1 && unknownPrompts.has(p)).length;
  const done = report.shots.filter((s) => s.status === 'done').length;
  const figures = {
    'SIGKILLs delivered': kills,
    'runs with a torn journal line': tornJournalSeen,
    'shots done': done,
    'shots unknown after the kills (sent again with --retry-unknown)': unknownShots.length,
    'of those, tasks the API had made (billed twice, as --retry-unknown warns)': resentUnknown,
    'duplicate submissions': duplicates,
    'submissions by the final runs': sim
      .ledger()
      .submissions.filter((s) => !submissionsBefore.has(s.id)).length,
    'leftover .part files': partFiles(out),
    'journal lines that fail to parse': badJournalLines(out),
    'key leaks': keyLeaks(outputs, tmp.dir),
  };
  const passed =
    kills >= 15 &&
    done === CHAINS * LINKS &&
    duplicates === 0 &&
    figures['leftover .part files'] === 0 &&
    figures['journal lines that fail to parse'] === 0 &&
    figures['key leaks'] === 0;
  record('chains-crash', '20 SIGKILLs across 10 chains of 4', passed, figures);
  expect(figures, retried.stderr.slice(-3000)).toMatchObject({
    'shots done': CHAINS * LINKS,
    'duplicate submissions': 0,
    'leftover .part files': 0,
    'journal lines that fail to parse': 0,
    'key leaks': 0,
  });
  expect(retried.exitCode).toBe(0);
  expect(kills).toBeGreaterThanOrEqual(15);
  // Each chain's shots were sent in order: a dependent only after its upstream's task.
  const sentAt = new Map(
    sim.ledger().submissions.map((s) => [s.body.prompt, Date.parse(s.received_at)]),
  );
  for (let c = 1; c <= CHAINS; c++)
    for (let n = 2; n <= LINKS; n++)
      expect(sentAt.get(`chain ${c} shot ${n}`)!).toBeGreaterThan(
        sentAt.get(`chain ${c} shot ${n - 1}`)!,
      );
});
