import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { stripControls } from '../../api/redact.js';
import type { MergedSpend } from '../../pipeline/merge-check.js';
import { formatMoney } from '../../plan/money.js';
import { EXIT_CODES, UsageError } from '../../errors.js';
import { parseCommandArgs } from '../args.js';
import { shownPath } from '../common.js';
import type { CliContext } from '../context.js';

export const help = `Usage: shotlist merge <out> <shard folder>... [--manifest <file>]

Joins the output folders of \`shotlist run --shard i/n\` jobs (a CI matrix) into one output
folder. Shard folders are untrusted (anyone who can add or alter an artifact wrote them):
each folder speaks only for the requests it submitted itself, so its lines about other
requests, and clips without its own completion, are left out (and said so). Refused, nothing
written (exit 2): a request with journal lines in two folders (paid twice, or a folder altered
or run on after an earlier merge), or a clip whose bytes differ from the sha256 its folder's
journal records. Otherwise the journals are merged in time order and the verified clips
copied (links are never followed) into <out>/clips/.store. <out> may already hold a journal
(an earlier merge): merging the same folders again changes nothing.

Then, as after one unsharded run:
  shotlist stitch <manifest> --out <out>  the finals
  shotlist run <manifest> --out <out>     writes the report of the whole manifest; it sends
                                          nothing when every shard finished, and without
                                          --yes (under CI) refuses rather than render a shot
                                          a shard missed
(with the same --base-url, --accounts or --simulate the shards used: the journal's keys
include the API; merge itself takes none, it copies the journals as they are)

Options:
  --manifest <file>  also check that each folder holds only the requests the manifest puts
                     in the shard it says it rendered: its shard.json (written by
                     \`run --shard i/n\`), else a folder name ending in shard-<i>-of-<n>;
                     a folder that says neither, or holds another shard's shots, is refused
                     and price the merged journal: the campaign's spend (billed, may have
                     been billed, failed), the shots not finished, and its total budget
                     (budget.max_total_cost / max_total_seconds) against billed + at risk;
                     over it, merge still writes <out> (that money is spent) but says so
                     and exits 3. $GITHUB_STEP_SUMMARY, when set, gets the same totals
  --json             one JSON document: { out, shards, entries, added, clips, notes, spend }

Exit 0 merged, 3 merged but over the manifest's total budget, 2 bad input (a request in two folders, an altered clip, a folder holding
another shard's requests, a folder that is no run's output).
`;

const FLAGS = { json: { type: 'boolean' }, manifest: { type: 'string' } } as const;

/** The merged spend as `--json` gives it. */
function spendJson(spend: MergedSpend) {
  const { ledger } = spend;
  return {
    currency: spend.currency,
    billed: ledger.billed,
    failed: ledger.failed,
    at_risk: ledger.atRisk,
    tasks: ledger.tasks,
    shots: spend.shots,
    unfinished: spend.unfinished,
    budget: { ok: spend.budget.ok, reason: spend.budget.reason },
  };
}

/**
 * The campaign's spend over the merged journal, the shots not finished, and, loudly, a total
 * budget broken; returns whether it is.
 */
function printSpend(ctx: CliContext, spend: MergedSpend, say: (line: string) => void): boolean {
  const m = (x: { seconds: number; cost: number | null }) =>
    `${x.seconds} s (${formatMoney(x.cost ?? 0, spend.currency)})`;
  const { ledger, unfinished } = spend;
  say(
    `spend over the merged folders: ${m(ledger.billed)} billed, ${m(ledger.atRisk)} may have been billed, ${m(ledger.failed)} failed (not billed); ${ledger.tasks} task${ledger.tasks === 1 ? '' : 's'}`,
  );
  const shown = unfinished.slice(0, 10).map(stripControls).join(', ');
  say(
    unfinished.length === 0
      ? `every one of the manifest's ${spend.shots} shots has a finished task`
      : `${unfinished.length} of ${spend.shots} shots not finished: ${shown}${unfinished.length > 10 ? ` and ${unfinished.length - 10} more` : ''} (the next run sends or collects them)`,
  );
  if (spend.budget.ok) return false;
  ctx.stderr.write(
    `OVER BUDGET: ${spend.budget.reason}; the folders are merged (that money is spent), exit 3\n  fix: find out why before rendering more; raise budget.max_total_cost / max_total_seconds only if the spend was meant\n`,
  );
  return true;
}

/** `shotlist merge`: shard output folders into one. */
export default async function mergeCommand(ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(ctx.argv, FLAGS, help);
  if (positionals.length < 2) {
    throw new UsageError(
      'merge takes an output folder and at least one shard folder',
      'shotlist merge <out> <shard folder>...',
    );
  }
  const [out, ...shards] = positionals.map((p) => path.resolve(ctx.cwd, p));
  const { mergeShards } = await import('../../pipeline/merge.js');
  const result = await mergeShards(out!, shards, {
    ...(values.manifest !== undefined ? { manifest: values.manifest } : {}),
    cwd: ctx.cwd,
  });
  const say = (line: string) => (values.json ? ctx.stderr : ctx.stdout).write(`${line}\n`);
  for (const note of result.notes) ctx.stderr.write(`note: ${note}\n`);
  const { copied, present } = result.clips;
  say(
    `merged ${result.shards} folder${result.shards === 1 ? '' : 's'} into ${shownPath(ctx, result.outDir)}: ${result.entries} journal entries (${result.added} new), ${copied} clips copied, ${present} already there; each request from the one folder that submitted it`,
  );
  const over = result.spend ? printSpend(ctx, result.spend, say) : false;
  if (!result.spend)
    say('spend: give --manifest <file> to price the merged journal and check its total budget');
  say(`next: shotlist stitch <manifest> --out ${shownPath(ctx, result.outDir)}`);
  const stepSummary = ctx.env.GITHUB_STEP_SUMMARY;
  if (stepSummary && result.spend) {
    const { mergeStepSummary } = await import('../../ui/step-summary.js');
    await appendFile(stepSummary, mergeStepSummary(result.spend, shownPath(ctx, result.outDir)));
  }
  if (values.json) {
    ctx.stdout.write(
      `${JSON.stringify({
        out: result.outDir,
        shards: result.shards,
        entries: result.entries,
        added: result.added,
        clips: result.clips,
        notes: result.notes,
        ...(result.spend ? { spend: spendJson(result.spend) } : {}),
      })}\n`,
    );
  }
  return over ? EXIT_CODES.overBudget : EXIT_CODES.ok;
}
