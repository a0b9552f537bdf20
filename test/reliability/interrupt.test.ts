import path from 'node:path';
import { expect, it } from 'vitest';
import { shotlist, spawnShotlist } from '../helpers/cli.js';
import { until } from '../helpers/wait.js';
import { runArgs } from '../e2e/run-helpers.js';
import { record } from './figures.js';
import {
  badJournalLines,
  duplicateSubmissions,
  env,
  keyLeaks,
  partFiles,
  readReport,
  writeManifest,
  useSimulator,
} from './common.js';

const bench = useSimulator('shotlist-interrupt-', { latency: '1-3', seed: 130 });

it('interrupt: SIGINT mid-run exits 130 with a consistent journal, and the next run finishes', async () => {
  const { tmp, sim } = bench;
  const manifest = writeManifest(tmp.dir, 16, 'interrupt');
  const out = path.join(tmp.dir, 'out');
  const args = runArgs(manifest, sim, out, '--concurrency', '4');
  const child = spawnShotlist(args, { env, cwd: tmp.dir });
  // Mid-run by the simulator's ledger, not by a time: a slow start would take the Ctrl-C
  // before the run could handle it.
  await until(
    () => sim.ledger().totals.submissions >= 4 || child.exitCode !== null,
    'four submissions',
  );
  child.kill('SIGINT');
  const first = await child;
  const submittedBefore = sim.ledger().totals.submissions;
  const journalOk = badJournalLines(out) === 0;
  const second = await shotlist(args, { env, cwd: tmp.dir });
  const report = readReport(out);
  const figures = {
    'exit code after SIGINT': first.exitCode ?? String(first.signal),
    'says how to resume': /run again|resume/i.test(String(first.stdout) + String(first.stderr))
      ? 'yes'
      : 'no',
    'journal consistent after SIGINT': journalOk ? 'yes' : 'no',
    'submitted before SIGINT': submittedBefore,
    'exit code of the next run': second.exitCode ?? -1,
    'shots done after the next run': report.totals.done,
    'duplicate submissions': duplicateSubmissions(sim),
    'leftover .part files': partFiles(out),
    'key leaks': keyLeaks(
      [String(first.stdout), String(first.stderr), second.stdout, second.stderr],
      tmp.dir,
    ),
  };
  const passed =
    first.exitCode === 130 &&
    submittedBefore > 0 &&
    journalOk &&
    second.exitCode === 0 &&
    report.totals.done === 16 &&
    figures['duplicate submissions'] === 0 &&
    figures['leftover .part files'] === 0 &&
    figures['key leaks'] === 0;
  record('interrupt', 'SIGINT then run again', passed, figures);
  expect(first.exitCode).toBe(130);
  // Mid-run indeed: the Ctrl-C came once shots were sent, not during the start-up.
  expect(submittedBefore).toBeGreaterThan(0);
  expect(figures).toMatchObject({
    'says how to resume': 'yes',
    'journal consistent after SIGINT': 'yes',
    'exit code of the next run': 0,
    'shots done after the next run': 16,
    'duplicate submissions': 0,
    'leftover .part files': 0,
    'key leaks': 0,
  });
});
