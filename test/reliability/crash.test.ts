import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { shotlist } from '../helpers/cli.js';
import { runArgs } from '../e2e/run-helpers.js';
import { record } from './figures.js';
import {
  badJournalLines,
  billedForDone,
  duplicateSubmissions,
  env,
  filesFailingProbe,
  keyLeaks,
  killRuns,
  partFiles,
  readReport,
  writeManifest,
  useSimulator,
  mulberry32,
} from './common.js';

const bench = useSimulator('shotlist-crash-', { latency: '0.5-2.5', seed: 60 });

it('crash and resume: 20 SIGKILLs across a 60-shot run lose nothing and pay for nothing twice', async () => {
  const { tmp, sim } = bench;
  const manifest = writeManifest(tmp.dir, 60, 'crash');
  const out = path.join(tmp.dir, 'out');
  const args = runArgs(manifest, sim, out, '--concurrency', '8', '--json');
  const random = mulberry32(20);
  const { outputs, kills, tornJournalSeen } = await killRuns(
    20,
    args,
    { cwd: tmp.dir, out },
    () => () => delay(300 + random() * 2200),
  );
  const final = await shotlist(args, { env, cwd: tmp.dir });
  outputs.push(final.stdout, final.stderr);
  const report = readReport(out);
  const done = report.shots.filter((s) => s.status === 'done').length;
  const unknown = report.shots.filter((s) => s.status === 'unknown').length;
  const { billed, previewed } = billedForDone(sim, report);
  const figures = {
    'SIGKILLs delivered': kills,
    'runs with a torn journal line': tornJournalSeen,
    'shots done': done,
    'shots unknown (killed mid-submit)': unknown,
    'shots lost': 60 - done - unknown,
    'duplicate submissions': duplicateSubmissions(sim),
    'leftover .part files': partFiles(out),
    'journal lines that fail to parse': badJournalLines(out),
    'files failing ffprobe': await filesFailingProbe(out, report),
    'billed s / previewed s (done)': `${billed} / ${previewed}`,
    'key leaks': keyLeaks(outputs, tmp.dir),
  };
  const passed =
    kills >= 15 &&
    figures['shots lost'] === 0 &&
    figures['duplicate submissions'] === 0 &&
    figures['leftover .part files'] === 0 &&
    figures['journal lines that fail to parse'] === 0 &&
    figures['files failing ffprobe'] === 0 &&
    billed === previewed &&
    figures['key leaks'] === 0;
  record('crash', '20 SIGKILLs then resume', passed, figures);
  expect(figures, final.stderr.slice(-3000)).toMatchObject({
    'shots lost': 0,
    'duplicate submissions': 0,
    'leftover .part files': 0,
    'journal lines that fail to parse': 0,
    'files failing ffprobe': 0,
    'key leaks': 0,
  });
  expect(kills).toBeGreaterThanOrEqual(15);
  expect(billed).toBe(previewed);
  expect(done).toBeGreaterThanOrEqual(55);
});
