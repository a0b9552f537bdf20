import path from 'node:path';
import { EXIT_CODES, formatDiagnostic } from '../../errors.js';
import { writeFileAtomic } from '../../safe-fs.js';
import { loadManifest } from '../../manifest/load.js';
import { formatPlan } from '../../plan/format.js';
import { plan } from '../../plan/plan.js';
import type { Plan } from '../../plan/types.js';
import { previewBody } from '../../render/wire.js';
import { takeKey } from '../../manifest/identity.js';
import { parseCommandArgs } from '../args.js';
import { PLAN_FLAGS, planOptionsFrom } from '../common.js';
import { parseShardFlag, refusePoolClash } from '../config.js';
import type { CliContext } from '../context.js';
import { ShotlistError, UsageError } from '../../errors.js';
import type { PreparedRun } from '../../pipeline/types.js';
import { shardPlan, shardSummary, type ShardSpec } from '../../pipeline/shard.js';

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

/**
 * The run's view of the plan (journal read, nothing sent): what `run` with the same flags would
 * decide, its budget verdict included (the total limits against the journal's spend).
 */
async function preparePlan(
  ctx: CliContext,
  manifest: string,
  values: Values,
  shard: ShardSpec | undefined,
  folder: FolderFlags = {},
) {
  const { prepareRun } = await import('../../pipeline/prepare.js');
  const options = planOptionsFrom(values);
  return prepareRun(manifest, {
    cwd: ctx.cwd,
    env: ctx.env,
    dryRun: true,
    ...(options.variant !== undefined ? { variant: options.variant } : {}),
    ...(options.only !== undefined ? { only: options.only } : {}),
    overrides: options.overrides,
    ...(options.budget ? { maxCost: options.budget.max_cost } : {}),
    ...(values.out !== undefined ? { out: values.out } : {}),
    ...(values['base-url'] !== undefined ? { baseUrl: values['base-url'] } : {}),
    ...(values.accounts !== undefined ? { accounts: values.accounts } : {}),
    ...(shard !== undefined ? { shard } : {}),
    simulate: !!values.simulate,
    allowOutside: values['allow-outside'] === true,
    ...folder,
  });
}

/** The flags that point a run at the folder's API (see {@link folderFlags}). */
type FolderFlags = { baseUrl?: string; simulate?: boolean; out?: string };

/**
 * Without an API flag (and without --save, which plans for the run's own flags), the verdict
 * is the one of the folder's API, as status, cost and stitch read it: its journal's spend.
 */
async function folderFlags(
  ctx: CliContext,
  manifest: { file: string; name: string },
  values: Values,
  shard: ShardSpec | undefined,
): Promise<FolderFlags> {
  const { namesBase, folderLookupBase, jobOutDir } = await import('../../pipeline/job.js');
  const flags = { simulate: !!values.simulate, baseUrl: values['base-url'], env: ctx.env };
  if (values.save !== undefined || namesBase({ ...flags, accounts: values.accounts })) return {};
  const { SIMULATOR_BASE } = await import('../../pipeline/base.js');
  const out = await jobOutDir(manifest, { cwd: ctx.cwd, out: values.out, shard });
  const { base } = await folderLookupBase({ env: ctx.env }, ctx.cwd, out);
  return base === SIMULATOR_BASE ? { simulate: true, out } : { baseUrl: base, out };
}

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

/** Whether the run's budget verdict can differ from the plan's: with --save, or total limits. */
function verdictOfRun(values: Values, whole: Plan): boolean {
  const totals = whole.budget.max_total_cost != null || whole.budget.max_total_seconds != null;
  return values.save !== undefined || totals;
}

/**
 * The run's view of the plan, when it can differ from the plan's verdict (see
 * {@link verdictOfRun}) or for `--json` (each take's journal key). A manifest the run cannot
 * prepare (no uploads section for its local files...) still gets its plan; without --save the
 * total and the keys are then left to `run`.
 */
async function runView(
  ctx: CliContext,
  manifest: string,
  values: Values,
  whole: Plan,
  shard: ShardSpec | undefined,
): Promise<PreparedRun | undefined> {
  const verdict = verdictOfRun(values, whole);
  if (!verdict && !values.json) return undefined;
  try {
    const folder = await folderFlags(ctx, whole.manifest, values, shard);
    return await preparePlan(ctx, manifest, values, shard, folder);
  } catch (err) {
    if (values.save !== undefined || !(err instanceof ShotlistError)) throw err;
    ctx.stderr.write(
      verdict
        ? `note: budget over every run not checked against the journal (${err.message}); run checks it\n`
        : `note: no journal keys in the plan (${err.message})\n`,
    );
    return undefined;
  }
}

export default async function planCommand(ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(ctx.argv, FLAGS, help);
  refusePoolClash(values, ctx.env);
  if (positionals.length !== 1)
    throw new UsageError('plan takes one manifest', 'shotlist plan <manifest>');
  const loaded = await loadManifest(positionals[0]!, {
    cwd: ctx.cwd,
    allowOutside: values['allow-outside'] === true,
  });
  const shard = values.shard !== undefined ? parseShardFlag(values.shard) : undefined;
  const { localAssets } = await import('../../assets/local.js');
  const assets = await localAssets(loaded, { simulate: values.simulate === true });
  // A plain run plans the takes re-rolls added: so does its preview.
  const { extraTakesFrom, manifestPicks } = await import('../../pipeline/picks.js');
  // A simulated run's picks are its own (<manifest>.simulated.picks.yaml).
  const { SIMULATOR_BASE } = await import('../../pipeline/base.js');
  const picksBase = values.simulate === true ? SIMULATOR_BASE : undefined;
  const takes = extraTakesFrom(await manifestPicks(loaded.file, picksBase));
  const whole = plan(loaded, { ...planOptionsFrom(values), ...takes, assets });
  const prepared = await runView(ctx, positionals[0]!, values, whole, shard);
  const sharded = shardPlan(whole, shard);
  // The verdict `run` would act on: the total limits against the journal included.
  const result =
    prepared && verdictOfRun(values, whole)
      ? { ...sharded, budget: { ...sharded.budget, ...prepared.budget } }
      : sharded;
  if (values.json) {
    // Each take's journal key, as the run with these flags keys it (none when it cannot prepare).
    const keys = prepared && new Map(prepared.assessed.map((a) => [takeKey(a.shot), a.key]));
    const doc = planJson(result, { simulated: !!values.simulate, ...(keys ? { keys } : {}) });
    ctx.stdout.write(`${JSON.stringify(doc)}\n`);
  } else {
    for (const w of result.warnings) ctx.stderr.write(`${formatDiagnostic(w)}\n`);
    if (shard)
      ctx.stdout.write(`${shardSummary(shard, result.shots.length, whole.shots.length)}\n`);
    ctx.stdout.write(formatPlan(result));
  }
  const { picksOfPlan, staleMessage } = await import('../../pipeline/picks.js');
  for (const s of (await picksOfPlan(result, picksBase)).stale)
    ctx.stderr.write(`${staleMessage(s)}\n`);
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
