import path from 'node:path';
import { EXIT_CODES, formatDiagnostic } from '../../errors.js';
import { writeFileAtomic } from '../../safe-fs.js';
import { formatPlan } from '../../plan/format.js';
import type { Plan } from '../../plan/types.js';
import { previewBody } from '../../render/wire.js';
import { takeKey } from '../../manifest/identity.js';
import { parseCommandArgs } from '../args.js';
import { PLAN_FLAGS, planOptionsFrom } from '../common.js';
import { parseShardFlag, refusePoolClash } from '../config.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../../errors.js';
import type { PreparedRun } from '../../pipeline/types.js';
import { shardSummary } from '../../pipeline/shard.js';

export const help = `Usage: shotlist plan <manifest> [options]

Shows every request a run would send, its billable seconds and cost, and the budget verdict.
Sends nothing.

Options:
  --json             one JSON document: { manifest, shots, totals, budget }; each
                     request as it is sent (with --simulate the simulator's address
                     shows as <set at send time: simulator address>) and each take's
                     key: the journal key a run with the same flags (--out,
                     --base-url, --accounts, --simulate) files it under
  --variant NAME     plan one variant only
  --only ID,...      plan these shots only
  --model ID         force a model on every shot
  --size 480p|720p   force a resolution
  --ratio R          force an aspect ratio
  --duration N       force a duration (seconds)
  --max-cost N       a tighter cost limit than the manifest's budget
  --save FILE        also write the plan a run would send (bodies, costs, the manifest's and
                     prices' hashes, the journal state it assumes) for \`run --plan FILE\`,
                     which sends exactly it or refuses if anything drifted
  --out DIR          the output folder whose journal the budget verdict counts, and with
                     --save the run's (default renders/<name>)
  --base-url URL     the API whose renders and spend the verdict counts (default: the
                     folder's API); with --save: the API the run will send to
  --accounts FILE    the same through an accounts file (its base URL keys the journal;
                     default $SHOTLIST_ACCOUNTS); with --save: the one the run will use
  --simulate         the simulated folder's verdict; local files get the simulator's URLs;
                     with --save: a plan for \`run --simulate --plan FILE\`
  --shard I/N        only the shots \`run --shard I/N\` renders (a CI matrix job); the budget
                     is the whole manifest's (the other shards' shots counted as new); with
                     --save: a plan for \`run --shard I/N --plan FILE\`

With budget.max_total_cost / max_total_seconds, the verdict counts the journal in the output
folder (--out): billed so far + at risk + this run, as \`run --dry-run\` does (the folder's
API when no --base-url, --accounts or --simulate names one). A saved plan's paths are
relative to the manifest's folder, so a checkout elsewhere (another runner) can apply it.

Exit 0 when the plan is within budget, 2 on bad input, 3 when over budget (with --save the
plan is still written, for approval; \`run --plan\` refuses it while it is over budget).
`;

/**
 * The `plan --json` document: each body as a run would send it (see render/wire.ts), and each
 * take's journal key as the run with the same flags would use it (`keys`, by {@link takeKey}).
 */
export function planJson(
  p: Plan,
  at: { simulated: boolean; keys?: Map<string, string> } = { simulated: false },
) {
  return {
    manifest: p.manifest,
    shots: p.shots.map((s) => ({
      id: s.id,
      variant: s.variant,
      take: s.take,
      ...(at.keys ? { key: at.keys.get(takeKey(s)) ?? null } : {}),
      mode: s.mode,
      model: s.model,
      size: s.size,
      ratio: s.ratio,
      seconds: s.seconds,
      unit_price: s.unit_price,
      cost: s.cost,
      ...(s.shared_with !== undefined ? { shared_with: s.shared_with } : {}),
      ...(s.depends_on !== undefined ? { depends_on: s.depends_on } : {}),
      ...(s.note !== undefined ? { note: s.note } : {}),
      request: previewBody(s.request, { simulated: at.simulated, listen: false }),
    })),
    ...(p.assets ? { assets: p.assets } : {}),
    totals: {
      shots: p.totals.shots,
      seconds: p.totals.seconds,
      cost: p.totals.cost,
      currency: p.totals.currency,
      unpriced_seconds: p.totals.unpriced_seconds,
    },
    budget: {
      max_cost: p.budget.max_cost,
      max_seconds: p.budget.max_seconds,
      max_total_cost: p.budget.max_total_cost ?? null,
      max_total_seconds: p.budget.max_total_seconds ?? null,
      ...(p.budget.job ? { job: p.budget.job } : {}),
      ok: p.budget.ok,
      reason: p.budget.reason,
      ...(p.budget.over_total ? { over_total: p.budget.over_total } : {}),
    },
    warnings: p.warnings,
  };
}

const FLAGS = {
  ...PLAN_FLAGS,
  save: { type: 'string' },
  out: { type: 'string' },
  'base-url': { type: 'string' },
  accounts: { type: 'string' },
  simulate: { type: 'boolean' },
  shard: { type: 'string' },
} as const;

type Values = ReturnType<typeof parseCommandArgs<typeof FLAGS>>['values'];

/** `--save FILE`: the run's view of the plan, written for `run --plan`. */
async function savePlanFile(
  ctx: CliContext,
  prepared: PreparedRun,
  values: Values,
): Promise<string> {
  const { savePlan } = await import('../../pipeline/saved-plan.js');
  const file = path.resolve(ctx.cwd, values.save!);
  const saved = await savePlan(prepared, prepared.pricing);
  await writeFileAtomic(
    path.dirname(file),
    path.basename(file),
    `${JSON.stringify(saved, null, 2)}\n`,
  );
  return file;
}

export default async function planCommand(ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(ctx.argv, FLAGS, help);
  refusePoolClash(values, ctx.env);
  if (positionals.length !== 1)
    throw new UsageError('plan takes one manifest', 'shotlist plan <manifest>');
  const shard = values.shard !== undefined ? parseShardFlag(values.shard) : undefined;
  const { planJob } = await import('../../pipeline/job-plan.js');
  const job = await planJob(positionals[0]!, {
    cwd: ctx.cwd,
    env: ctx.env,
    ...planOptionsFrom(values),
    ...(values.out !== undefined ? { out: values.out } : {}),
    ...(values['base-url'] !== undefined ? { baseUrl: values['base-url'] } : {}),
    ...(values.accounts !== undefined ? { accounts: values.accounts } : {}),
    ...(shard !== undefined ? { shard } : {}),
    simulate: !!values.simulate,
    allowOutside: values['allow-outside'] === true,
    save: values.save !== undefined,
    keys: !!values.json,
  });
  for (const note of job.notes) ctx.stderr.write(`${note}\n`);
  const { result, whole, prepared } = job;
  if (values.json) {
    // Each take's journal key, as the run with these flags keys it (none when it cannot prepare).
    const doc = planJson(result, {
      simulated: !!values.simulate,
      ...(job.keys ? { keys: job.keys } : {}),
    });
    ctx.stdout.write(`${JSON.stringify(doc)}\n`);
  } else {
    for (const w of result.warnings) ctx.stderr.write(`${formatDiagnostic(w)}\n`);
    if (shard)
      ctx.stdout.write(`${shardSummary(shard, result.shots.length, whole.shots.length)}\n`);
    ctx.stdout.write(formatPlan(result));
  }
  const { staleMessage } = await import('../../pipeline/picks.js');
  for (const s of job.stale) ctx.stderr.write(`${staleMessage(s)}\n`);
  const ok = result.budget.ok;
  if (values.save !== undefined && prepared) {
    const saved = await savePlanFile(ctx, prepared, values);
    ctx.stderr.write(
      ok
        ? `plan saved to ${saved}: run it with shotlist run ${positionals[0]} --plan ${values.save} (and the same flags)\n`
        : `plan saved to ${saved} for approval, but it is OVER BUDGET (${result.budget.reason}): run --plan refuses it (exit 3) until the budget allows it; exit 3\n`,
    );
  }
  return ok ? EXIT_CODES.ok : EXIT_CODES.overBudget;
}
