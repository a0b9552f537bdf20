import path from 'node:path';
import { expect, it } from 'vitest';
import { shotlist } from '../helpers/cli.js';
import { runArgs } from '../e2e/run-helpers.js';
import { record } from './figures.js';
import {
  billedForDone,
  duplicateSubmissions,
  env,
  filesFailingProbe,
  keyLeaks,
  partFiles,
  readReport,
  writeManifest,
  useSimulator,
} from './common.js';

const FAULTS = '429=0.1,500=0.03,502=0.02,reset=0.02,slow=0.02,truncate=0.05';
const bench = useSimulator('shotlist-soak-', {
  latency: '0.2-0.8',
  failRate: 0.05,
  faults: FAULTS,
  slowSeconds: 2,
  seed: 20261124,
});

it('fault soak: 300 shots under injected faults end done or failed with the reason, nothing paid twice', async () => {
  const { tmp, sim } = bench;
  const manifest = writeManifest(tmp.dir, 300);
  const out = path.join(tmp.dir, 'out');
  const started = Date.now();
  const r = await shotlist(runArgs(manifest, sim, out, '--concurrency', '32', '--json'), {
    env,
    cwd: tmp.dir,
    // A backstop against a hang, below the test's own (vitest.reliability.config.ts): 300
    // shots took 153 s on a quiet 2-core machine and 606 s beside four CPU-bound processes
    // (the simulator encodes at a lower priority, so other work starves its clips first).
    timeout: 1_500_000,
  });
  const seconds = (Date.now() - started) / 1000;
  const report = readReport(out);
  const by = (status: string) => report.shots.filter((s) => s.status === status);
  const failedWithReason = by('failed').filter((s) => s.error?.code && s.error.message).length;
  const { billed, previewed } = billedForDone(sim, report);
  const stats = sim.stats();
  const spend = {
    billed: report.totals.spend?.billed.seconds ?? -1,
    atRisk: report.totals.spend?.at_risk.seconds ?? 0,
    sim: sim.ledger().totals.billed_seconds,
    unseen: sim
      .ledger()
      .submissions.filter((e) => e.fault && e.status === 'completed')
      .reduce((n, e) => n + e.seconds, 0),
  };
  const apiRequests = Object.entries(stats.requests)
    .filter(([route]) => route.includes('/v1/'))
    .reduce((a, [, n]) => a + n, 0);
  const figures = {
    shots: report.shots.length,
    'shots done': by('done').length,
    'shots failed (API reason)': `${by('failed').length} (${failedWithReason})`,
    'unknown outcomes': by('unknown').length,
    'still pending': by('pending').length,
    'duplicate submissions': duplicateSubmissions(sim),
    'ambiguous submissions (sim)': sim.ledger().totals.ambiguous_submissions,
    'files failing ffprobe': await filesFailingProbe(out, report),
    'leftover .part files': partFiles(out),
    'billed s / previewed s (done)': `${billed} / ${previewed}`,
    'spend s (+ may be billed) / sim billed s': `${spend.billed} (+${spend.atRisk}) / ${spend.sim}`,
    'auth sent to file host': sim.ledger().totals.file_requests_with_authorization,
    'key leaks': keyLeaks([r.stdout, r.stderr], tmp.dir),
    'API requests (per shot)': `${apiRequests} (${(apiRequests / 300).toFixed(1)})`,
    'faults injected': Object.entries(stats.faults)
      .map(([k, n]) => `${k}=${n}`)
      .join(' '),
    'wall time s': Math.round(seconds),
  };
  const passed =
    [0, 1].includes(r.exitCode ?? -1) &&
    figures['shots done'] + by('failed').length + figures['unknown outcomes'] === 300 &&
    failedWithReason === by('failed').length &&
    figures['duplicate submissions'] === 0 &&
    figures['files failing ffprobe'] === 0 &&
    figures['leftover .part files'] === 0 &&
    billed === previewed &&
    spend.billed === spend.sim - spend.unseen &&
    spend.billed + spend.atRisk >= spend.sim &&
    figures['auth sent to file host'] === 0 &&
    figures['key leaks'] === 0;
  record('soak', '300 shots under faults', passed, figures);
  expect(figures, r.stderr.slice(-3000)).toMatchObject({
    'still pending': 0,
    'duplicate submissions': 0,
    'files failing ffprobe': 0,
    'leftover .part files': 0,
    'auth sent to file host': 0,
    'key leaks': 0,
  });
  expect(by('done').length).toBeGreaterThan(240);
  expect(failedWithReason).toBe(by('failed').length);
  expect(billed).toBe(previewed);
  // The spend line is what the simulator billed for the tasks the run saw; a task created
  // although its POST got a 500 or a reset is among those that "may have been billed".
  expect(spend.billed).toBe(spend.sim - spend.unseen);
  expect(spend.billed + spend.atRisk).toBeGreaterThanOrEqual(spend.sim);
  expect([0, 1]).toContain(r.exitCode);
});
