/**
 * `stitch` rebuilds report.json from the job as it stands: after a pick or an edit, the
 * report names each take by the key, state, chosen take and cost `status` and `plan` give it
 * (built bin, simulated renders).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { shotlist, tempDir } from '../helpers/cli.js';
import { statusOf } from './job-helpers.js';
import { readReport } from './run-helpers.js';

const MANIFEST = `version: 1
name: film
defaults: { model: seedance-2-official, duration: 4, ratio: '16:9', size: 480p, takes: 2 }
pricing: { currency: CNY, per_second: { seedance-2-official: 1.0 } }
shots:
  - { id: s01, prompt: 橘猫趴在窗台上看雨 }
  - id: s02
    prompt: 橘猫从窗台跳到木地板上
    assets: { images: [{ from: s01, frame: last, as: first_frame }] }
  - { id: s03, prompt: 橘猫在地板上打盹, duration: 5 }
`;

const env = { CI: 'true' };
const take = (s: { id: string; take: number }) => `${s.id}#${s.take}`;

describe('report.json after stitch (built bin)', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir('shotlist-report-job-');
  });
  afterEach(() => tmp.cleanup());

  /** Plan, status and report.json of the job, and the assertion that they agree. */
  async function expectReportAgrees(manifest: string, out: string, step: string) {
    const at = [manifest, '--out', out, '--simulate'];
    const planRun = await shotlist(['plan', ...at, '--json'], { env });
    expect(planRun.exitCode, `${step}: plan ${planRun.stderr}`).toBe(0);
    const planned = (
      JSON.parse(planRun.stdout) as { shots: { id: string; take: number; cost: number }[] }
    ).shots;
    const status = await statusOf(at, env);
    const report = readReport(out);
    const byTake = <T extends { id: string; take: number }>(xs: T[], f: (x: T) => unknown) =>
      Object.fromEntries(xs.map((x) => [take(x), f(x)]));
    expect(
      byTake(report.shots, (s) => s.key),
      `${step}: keys`,
    ).toEqual(byTake(status.shots, (s) => s.key));
    // Done in the report exactly where status has the clip; never sent where status says new.
    const STATE: Record<string, string> = { cached: 'done', new: 'skipped' };
    expect(
      byTake(report.shots, (s) => s.status),
      `${step}: states`,
    ).toEqual(byTake(status.shots, (s) => STATE[s.state] ?? s.state));
    expect(
      byTake(report.shots, (s) => s.cost),
      `${step}: costs`,
    ).toEqual(byTake(planned, (s) => s.cost));
    expect(report.totals.done, `${step}: done`).toBe(
      status.shots.filter((s) => s.state === 'cached').length,
    );
    return { status, report };
  }

  it('shows the picked take and the shots a pick or an edit left to render', async () => {
    const manifest = path.join(tmp.dir, 'film.yaml');
    writeFileSync(manifest, MANIFEST);
    const out = path.join(tmp.dir, 'renders', 'film.simulated');
    const at = [manifest, '--out', out, '--simulate'];
    const run = await shotlist(['run', ...at, '--sim-latency', '0', '--yes'], { env });
    expect(run.exitCode, run.stderr).toBe(0);
    const ranKeys = new Map(readReport(out).shots.map((s) => [take(s), s.key]));

    // Take 2 of s01: s02 now starts from another frame, a request no run has sent yet.
    const pick = await shotlist(['pick', ...at, 's01=2'], { env });
    expect(pick.exitCode, pick.stderr).toBe(0);
    const afterPick = await shotlist(['stitch', ...at], { env });
    expect(afterPick.exitCode, afterPick.stderr).toBe(1);
    const picked = await expectReportAgrees(manifest, out, 'pick');
    expect(picked.report.shots.filter((s) => s.picked).map(take)).toEqual(['s01#2']);
    expect(picked.status.shots.filter((s) => s.id === 's01' && s.picked).map(take)).toEqual([
      's01#2',
    ]);
    const s02 = picked.report.shots.find((s) => take(s) === 's02#1')!;
    expect(s02.status).toBe('skipped');
    expect(s02.key).not.toBe(ranKeys.get('s02#1'));

    // Back to take 1, then an edit of s03's prompt: only s03's takes are left to render.
    const unpick = await shotlist(['pick', ...at, 's01=1'], { env });
    expect(unpick.exitCode, unpick.stderr).toBe(0);
    writeFileSync(
      manifest,
      readFileSync(manifest, 'utf8').replace('在地板上打盹', '在地板上伸懒腰'),
    );
    const afterEdit = await shotlist(['stitch', ...at], { env });
    expect(afterEdit.exitCode, afterEdit.stderr).toBe(1);
    const edited = await expectReportAgrees(manifest, out, 'edit');
    const notDone = edited.report.shots.filter((s) => s.status !== 'done').map(take);
    expect(notDone).toEqual(['s03#1', 's03#2']);
    expect(edited.report.shots.find((s) => take(s) === 's03#1')!.key).not.toBe(
      ranKeys.get('s03#1'),
    );
    expect(edited.report.shots.filter((s) => s.picked).map(take)).toEqual(['s01#1']);
  });
});
