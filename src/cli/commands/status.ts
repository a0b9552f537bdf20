import { EXIT_CODES } from '../../errors.js';
import { baseUrlHost } from '../../api/url.js';
import { describeBase } from '../../pipeline/base.js';
import { staleMessage } from '../../pipeline/picks.js';
import { DEFAULT_BASE_URL } from '../../models.js';
import { billedWarning, type BilledCheck } from '../../report/billed.js';
import { clipVersions, versionsOf } from '../../render/store.js';
import type { Money } from '../../render/cost.js';
import type { BudgetVerdict } from '../../plan/types.js';
import {
  failOnUnknown,
  gaveUpMessage,
  unknownAtRisk,
  type ShotState,
  type UnknownAtRisk,
} from '../../render/state.js';
import { formatMoney } from '../../ui/format.js';
import { parseCommandArgs } from '../args.js';
import {
  FOLDER_FLAGS,
  PLAN_FLAGS,
  folderOptionsFrom,
  manifestArg,
  noJournalNote,
  planOptionsFrom,
} from '../common.js';
import { parseShardFlag, refusePoolClash } from '../config.js';
import type { CliContext } from '../context.js';

export const help = `Usage: shotlist status <manifest> [options]

Shows, per shot, what the next \`run\` would do: skip it (cached), pick up its task (in flight),
download it again, leave it (unknown) or submit it (new). Reads the journal and the files;
sends nothing. Without an API flag it looks at the folder's API (folder.json, else its
journal). Named another API than the folder's (--base-url, --simulate, --accounts), it
refuses (exit 2): a folder renders for one API.

Options:
  --out DIR          output folder (default renders/<name> next to the manifest;
                     renders/<name>.simulated with --simulate)
  --variant NAME     one variant only
  --only ID,...      these shots only
  --base-url URL     the API the renders were made with (default: the folder's API, else
                     $SHOTLIST_BASE_URL, else ${DEFAULT_BASE_URL})
  --simulate         look at the renders of \`run --simulate\`
  --accounts FILE    the renders of \`run --accounts FILE\` (default $SHOTLIST_ACCOUNTS):
                     the base URL its accounts share; no key is needed
  --model, --size, --ratio, --duration   force a setting on every shot (as in run): the
                     status of the run with those flags
  --max-cost N       check the new spend against N, as run would
  --shard I/N        the shots of \`run --shard I/N\`, in its folder (renders/<name>.shard-I-of-N)
  --json             one JSON document
  --fail-on unknown  exit 1 while any shot is unknown (a submission that may have been billed)

Unknown shots are listed with what they may cost at the plan's prices and when they were
submitted. When the folder holds renders only for another API (an accounts file, another
--base-url), status says so, naming that API by host, instead of listing every shot as new.
Money that may have been billed over every run (as \`cost\` counts it: submissions whose
outcome was never seen, even of shots done since, e.g. after --retry-unknown) is shown on its
own line, and as \`at_risk\` in --json.
--json gives each shot's \`picked\` (the take stitch uses) and \`renders_elsewhere\`.
Exit 0 when every shot is done, 1 otherwise, 3 when the new spend is over the budget.
`;

const FLAGS = {
  ...PLAN_FLAGS,
  ...FOLDER_FLAGS,
  'fail-on': { type: 'string' },
  shard: { type: 'string' },
} as const;

const when = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The unknown shots: what each may cost, since when, and what can be done about them. */
/** The budget verdict: over (a run refuses), or a job already over its total with nothing to send. */
function printBudget(ctx: CliContext, budget: BudgetVerdict): void {
  if (!budget.ok) ctx.stdout.write(`over budget: ${budget.reason}; run would refuse (exit 3)\n`);
  else if (budget.over_total)
    ctx.stdout.write(
      `over the budget of every run: ${budget.over_total}; nothing is left to send, so a run is not refused\n`,
    );
}

function printUnknown(ctx: CliContext, risk: UnknownAtRisk, currency: string | null): void {
  if (risk.shots.length === 0) return;
  const money = (cost: number | null, seconds: number) =>
    cost === null ? `${seconds} s (no price)` : formatMoney(cost, currency);
  const n = risk.shots.length;
  ctx.stdout.write(
    `\n${n} unknown shot${n === 1 ? '' : 's'}: submitted, but whether a task was created (and will be billed) is not known; at risk ${money(risk.cost, risk.seconds)}\n`,
  );
  for (const a of risk.shots) {
    const at = a.journal ? `submitted ${when(a.journal.intentAt)}` : '';
    ctx.stdout.write(`  ${a.label}  ${money(a.shot.cost, a.shot.seconds)}  ${at}\n`);
  }
  ctx.stdout.write(
    'options: wait and run again (a plain run sends nothing for them), or run with --retry-unknown to resubmit them (may pay twice)\n',
  );
}

/**
 * The folder's renders belong to another API than the one looked at: which one (by host only:
 * the folder is untrusted) and the flags that show them, instead of every shot as new.
 */
function elsewhereNote(
  outDir: string,
  base: string,
  elsewhere: { base: string; renders: number },
): string {
  const n = elsewhere.renders;
  return (
    `${n} render${n === 1 ? '' : 's'} in ${outDir} ${n === 1 ? 'is' : 'are'} for ${describeBase(elsewhere.base)}, none for ${baseUrlHost(base) ?? base}: ` +
    `they were made through an accounts file or another API; see them with the flags of that run: --accounts FILE, or --base-url with that API's URL`
  );
}

/**
 * What may have been billed over every run, as cost counts it (even of shots done since), and
 * the seconds the API reported billing against the previewed ones.
 */
function printMoneyNotes(
  ctx: CliContext,
  { atRisk, billed }: { atRisk: Money; billed: BilledCheck | undefined },
  currency: string | null,
): void {
  if (atRisk.seconds > 0)
    ctx.stdout.write(
      `may have been billed over every run: ${atRisk.seconds} s · ${formatMoney(atRisk.cost, currency)} (submissions whose outcome was never seen, even of shots done since; see shotlist cost)\n`,
    );
  if (!billed) return;
  ctx.stdout.write(
    `billed as the API reports it: ${billed.reported_seconds} s for ${billed.shots} shot${billed.shots === 1 ? '' : 's'} (previewed ${billed.previewed_seconds} s)\n`,
  );
  const warning = billedWarning(billed);
  if (warning) ctx.stdout.write(`warning: ${warning}\n`);
}

const WORDS: Record<ShotState, string> = {
  new: 'new: will be submitted',
  cached: 'done (cached)',
  in_flight: 'in flight: will be polled, not resubmitted',
  download: 'finished: will be downloaded again',
  unknown: 'unknown: may have been created; --retry-unknown resubmits',
  retry: 'failed: will be submitted again',
  gave_up: 'given up: not submitted again',
  forced: 'forced',
};

/** `shotlist status`: the journal's view of each planned shot. */
export default async function status(ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(ctx.argv, FLAGS, help);
  refusePoolClash(values, ctx.env);
  const { arg } = manifestArg(ctx, positionals, 'status');
  const failOn = failOnUnknown(values['fail-on']);
  const { manifestStatus } = await import('../../pipeline/status.js');
  const planned = planOptionsFrom(values);
  const {
    plan,
    outDir,
    base,
    journal,
    journalFile,
    assessed,
    summary,
    budget,
    simulatedElsewhere,
    elsewhere,
    picks,
    billed,
    atRisk,
  } = await manifestStatus(arg, {
    cwd: ctx.cwd,
    env: ctx.env,
    note: (line) => ctx.stderr.write(`${line}\n`),
    ...folderOptionsFrom(values),
    ...(planned.variant !== undefined ? { variant: planned.variant } : {}),
    ...(planned.only !== undefined ? { only: planned.only } : {}),
    overrides: planned.overrides,
    ...(planned.budget ? { maxCost: planned.budget.max_cost } : {}),
    allowOutside: !!values['allow-outside'],
    ...(values.shard !== undefined ? { shard: parseShardFlag(values.shard) } : {}),
  });
  const versions = clipVersions(journal.entries, new Set(assessed.map((a) => a.key)));
  const noJournal = noJournalNote(ctx, outDir);
  const risk = unknownAtRisk(assessed);

  if (values.json) {
    ctx.stdout.write(
      `${JSON.stringify({
        manifest: plan.manifest,
        out: outDir,
        base_url: base,
        simulated_renders_only: simulatedElsewhere,
        renders_elsewhere: elsewhere
          ? { api: describeBase(elsewhere.base), renders: elsewhere.renders }
          : null,
        journal: {
          file: journalFile,
          exists: noJournal === undefined,
          torn: journal.torn,
          bad_lines: journal.badLines,
        },
        shots: assessed.map((a) => ({
          id: a.shot.id,
          variant: a.shot.variant,
          take: a.shot.take,
          key: a.key,
          state: a.state,
          picked: picks.takeOf(a.shot.id, a.shot.variant) === a.shot.take,
          task_id: a.journal?.taskId ?? null,
          task_status: a.journal?.status ?? null,
          file: a.state === 'cached' ? a.clip : null,
          versions: versionsOf(versions, a.shot),
          shared_with: a.sharedWith ?? null,
          error: a.journal?.error ?? null,
          failures: a.failures,
          submitted_at:
            a.state === 'unknown' && a.journal ? new Date(a.journal.intentAt).toISOString() : null,
          cost_if_run: a.cost,
        })),
        counts: summary.counts,
        new_cost: summary.newCost,
        new_seconds: summary.newSeconds,
        budget,
        unknown: { shots: risk.shots.length, seconds: risk.seconds, cost: risk.cost },
        at_risk: atRisk,
        billed_check: billed ?? null,
      })}\n`,
    );
  } else if (elsewhere) {
    ctx.stdout.write(`note: ${elsewhereNote(outDir, base, elsewhere)}\n`);
  } else {
    if (noJournal) ctx.stdout.write(`${noJournal}\n`);
    if (simulatedElsewhere)
      ctx.stdout.write(
        `note: the renders of ${arg} were made by \`run --simulate\` (free, not real); see them with: shotlist status --simulate ${arg}\n`,
      );
    const width = Math.max(4, ...assessed.map((a) => a.label.length));
    for (const a of assessed) {
      const task = a.journal?.taskId ? `  ${a.journal.taskId}` : '';
      const why =
        a.state === 'gave_up'
          ? ` (${gaveUpMessage(a)})`
          : a.state === 'retry' && a.journal?.error
            ? ` (${a.journal.error.code ?? 'error'}: ${a.journal.error.message})`
            : '';
      const n = versionsOf(versions, a.shot).length;
      const kept = `${n > 1 ? ` (${n} versions kept)` : ''}${a.sharedWith ? ` (shared with ${a.sharedWith})` : ''}`;
      ctx.stdout.write(`${a.label.padEnd(width)}  ${WORDS[a.state]}${why}${task}${kept}\n`);
    }
    const c = summary.counts;
    ctx.stdout.write(
      `\n${c.cached} done, ${c.in_flight} in flight, ${c.download} to download, ${c.unknown} unknown, ${c.new + c.retry} to submit (${formatMoney(summary.newCost ?? 0, plan.totals.currency)})\n`,
    );
    printBudget(ctx, budget);
    printUnknown(ctx, risk, plan.totals.currency);
    printMoneyNotes(ctx, { atRisk, billed }, plan.totals.currency);
    for (const stale of picks.stale) ctx.stderr.write(`${staleMessage(stale)}\n`);
    if (journal.torn)
      ctx.stdout.write(
        'note: the journal ends with a torn line (a run was killed mid-write); the next run repairs it\n',
      );
  }
  if (!budget.ok) return EXIT_CODES.overBudget;
  if (failOn && risk.shots.length > 0) return EXIT_CODES.shotsFailed;
  return summary.counts.cached === assessed.length ? EXIT_CODES.ok : EXIT_CODES.shotsFailed;
}
