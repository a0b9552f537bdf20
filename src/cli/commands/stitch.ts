import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { EXIT_CODES, UsageError } from '../../errors.js';
import { loadManifest } from '../../manifest/load.js';
import { assembleOutputs } from '../../media/assemble.js';
import { stitchJobs, takeKey } from '../../media/outputs.js';
import { plan as makePlan } from '../../plan/plan.js';
import type { RunReport } from '../../report/types.js';
import { insideRoot } from '../../safe-fs.js';
import { parseCommandArgs } from '../args.js';
import type { CliContext } from '../context.js';

export const help = `Usage: shotlist stitch <manifest> [options]

Joins the rendered clips of a manifest into one video per variant, following its stitch
section (order, transition, audio, soundtrack, size). Streams are copied when the clips
allow it; otherwise they are normalised and re-encoded once. Sends nothing to the API.

Options:
  --out DIR        the run's output folder (default renders/<name>)
  --variant NAME   stitch one variant only
  --json           one JSON document: { outputs, skipped, failed }

Exit 0 when every output was made, 1 when one could not be (a shot not rendered yet, or
ffmpeg failed), 2 on bad input.
`;

/** `shotlist stitch`: stitches what `run` rendered, and refreshes the report. */
export default async function stitchCommand(ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    ctx.argv,
    { out: { type: 'string' }, variant: { type: 'string' }, json: { type: 'boolean' } },
    help,
  );
  if (positionals.length !== 1) {
    throw new UsageError('stitch takes one manifest', 'shotlist stitch <manifest> [--out DIR]');
  }
  const manifestFile = path.resolve(ctx.cwd, positionals[0]!);
  const loaded = await loadManifest(manifestFile);
  const plan = makePlan(loaded, values.variant !== undefined ? { variant: values.variant } : {});
  const outDir = path.resolve(ctx.cwd, values.out ?? path.join('renders', plan.manifest.name));
  const reportFile = path.join(outDir, 'report.json');
  if (!existsSync(reportFile)) {
    throw new UsageError(
      `no rendered clips in ${outDir} (no report.json)`,
      `render first: shotlist run ${positionals[0]}${values.out ? ` --out ${values.out}` : ''}`,
    );
  }
  const report = JSON.parse(await readFile(reportFile, 'utf8')) as RunReport;
  const done = new Map(
    report.shots
      .filter((s) => s.status === 'done' && s.file)
      .map((s) => [takeKey(s), insideRoot(outDir, s.file!)]),
  );
  const { jobs, skipped } = stitchJobs(
    plan,
    (shot) => {
      const file = done.get(takeKey(shot));
      return file && existsSync(file) ? file : undefined;
    },
    outDir,
    path.dirname(manifestFile),
  );
  const say = (line: string) => (values.json ? ctx.stderr : ctx.stdout).write(`${line}\n`);
  for (const s of skipped) say(`${s.variant ? `${s.variant}: ` : ''}${s.reason}`);
  const { outputs, failed } = await assembleOutputs(jobs, outDir, {
    env: ctx.env,
    signal: ctx.signal,
    log: say,
  });
  if (outputs.length > 0) {
    const kept = report.outputs.filter((o) => !outputs.some((n) => n.variant === o.variant));
    const { writeReport } = await import('../../report/write.js');
    await writeReport(
      outDir,
      { ...report, outputs: [...kept, ...outputs] },
      { env: ctx.env, signal: ctx.signal },
    );
  }
  if (values.json) {
    ctx.stdout.write(`${JSON.stringify({ outputs, skipped, failed })}\n`);
  }
  return failed.length === 0 && skipped.length === 0 ? EXIT_CODES.ok : EXIT_CODES.shotsFailed;
}
