import { appendFile } from 'node:fs/promises';
import { createInterface } from 'node:readline/promises';
import { DEFAULT_BASE_URL } from '../models.js';
import { DEFAULT_CONCURRENCY } from '../render/render.js';
import { EXIT_CODES, UsageError } from '../errors.js';
import { unknownAtRisk } from '../render/state.js';
import type { RunCallbacks, RunOptions, RunResult, PreparedRun } from '../pipeline/types.js';
import { describeCharges } from '../render/report.js';
import type { RunReport } from '../report/types.js';
import { formatMoney } from '../ui/format.js';
import { eventLine, planEventFields, stitchEventFields, summaryEventFields } from '../ui/events.js';
import { createProgress, type ProgressView } from '../ui/progress.js';
import { stepSummaryMarkdown } from '../ui/step-summary.js';
import { getRenderer, truthy } from '../ui/renderer.js';
import path from 'node:path';
import { parseCommandArgs } from './args.js';
import { describeCommand, uploadCommandOf } from '../assets/open.js';
import { manifestArg, noJournalNote, runCommandLine } from './common.js';
import { RUN_FLAGS, resolveConfig } from './config.js';
import type { CliContext } from './context.js';
import { shotLabel } from '../manifest/identity.js';
import { previewBody } from '../render/wire.js';
import { shardSummary } from '../pipeline/shard.js';

export const runHelp = `Usage: shotlist run <manifest> [options]

Plans the manifest, shows what is new, cached or in flight and what the new shots cost,
asks before spending, then renders every shot through the API with bounded concurrency,
downloads and checks the videos, stitches one video per variant (see the manifest's
stitch section) and writes <out>/report.json, report.html and contact-sheet.jpg. A re-run
pays for nothing twice: done shots are skipped, tasks in flight are picked up, never
resubmitted.

Options:
  --out DIR            output folder (default renders/<name> next to the manifest;
                       renders/<name>.simulated with --simulate). A folder renders for
                       one API (folder.json): a run for another one is refused, exit 2,
                       nothing sent; \`shotlist rebase\` moves a folder on purpose
  --only ID,...        render these shots only
  --variant NAME       render one variant only
  --force ID,...|all   render these shots again even if done (pays again)
  --dry-run            print the bodies this run would send (not the cached or resumed
                       shots; a value known only when sending, the --listen webhook URL or
                       the simulator's address, shows as <set at send time: ...>) and send
                       nothing; exit 3 when the run would be over budget
  --base-url URL       API base (default $SHOTLIST_BASE_URL, else ${DEFAULT_BASE_URL})
  --simulate           render against a simulator started in-process: no key, no spend,
                       and no question (there is nothing to confirm)
  --sim-latency MIN-MAXs  with --simulate: how long its tasks take (default 2-6s; 0 = at once)
  --concurrency N      tasks in flight at once (default: the manifest's, else ${DEFAULT_CONCURRENCY})
  --max-cost N         refuse to start when the new spend exceeds N
  --yes                do not ask for confirmation
  --max-download-mb N  refuse a video file larger than N MiB (default 2048)
  --retry-unknown      resubmit shots whose earlier submission may or may not have
                       created a task (may pay twice)
  --max-attempts N     stop submitting a shot after N failed tasks over all runs
                       (default: the manifest's max_attempts, else 2); --force sends it again
  --fail-on unknown    exit 1 while any shot of the manifest is unknown (its submission
                       may have been billed); \`shotlist status\` lists them
  --json               NDJSON events on stdout instead of the task list
  --plan FILE          send exactly the plan saved by \`plan --save FILE\`; refuse, sending
                       nothing, if the manifest, prices, flags or journal drifted since
                       or the file shows a body, cost or total the run would not send;
                       shots done or in flight from that plan are progress, not drift (a
                       stopped run resumes with it; an applied plan sends nothing)
  --listen HOST:PORT   serve a push receiver (PORT alone: loopback) and ask the API to
                       call it when a task ends; polling slows to a safety net
  --public-url URL     the receiver's address as the API reaches it (a reverse proxy or
                       tunnel); default http://HOST:PORT/hook
  --safety-poll S      with --listen: seconds between looks at a task whose push has not
                       come, once the run's tasks would usually be done (default 60);
                       SHOTLIST_LISTEN, SHOTLIST_PUBLIC_URL, SHOTLIST_SAFETY_POLL set
                       the three from the environment
  --shard I/N          render shard I of N only (a CI matrix job; shots are assigned by a
                       hash of id, variant and take), into renders/<name>.shard-I-of-N by
                       default, without stitching; join the shards with \`shotlist merge\`;
                       budgets hold for the whole manifest: the other shards' shots are
                       counted as new, beside this folder's billed and at risk
  --team redis://HOST:PORT/DB  team mode (default $SHOTLIST_TEAM): machines rendering the
                       same shots share one journal of facts in this Redis; each shot is
                       submitted once by whichever machine claims it first, the others await
                       its task and download the file; --concurrency (or the manifest's)
                       then bounds the tasks in flight of the whole team on this key
  --team-budget S      with --team: seconds the whole team may have billed or in flight on
                       this account (API base URL and key), reserved before each submission
                       (given back when a task fails); \`shotlist team status\` shows it
  --team-campaign NAME with --team-budget: count in the budget of this campaign within the
                       account instead of the account's own
  --accounts FILE      spread the shots over the API keys of an accounts file (default
                       $SHOTLIST_ACCOUNTS): each account has its base URL, the name of the
                       variable holding its key, a concurrency and an optional rpm; an
                       account the API refuses (key, quota) is retired, the others carry on
  --worker             with --team, and no manifest: take shots from the team's queue
                       (\`shotlist enqueue\`) for this API and submit them with this
                       machine's key until Ctrl-C or SIGTERM (then nothing new is sent and
                       the polls under way finish); reads --base-url, --concurrency (the
                       key's tasks in flight over the team), --team-budget and
                       --team-campaign; writes no file. Unknown shots are sent again only
                       when the enqueuer says so (\`enqueue --retry-unknown\`).
                       A job whose body does not match its key or breaks the API's rules is
                       refused, unsent; the budget counts the body's own duration
  --model, --size, --ratio, --duration   force a setting on every shot (as in plan)
  --allow-command      run the program the manifest's uploads name (provider command);
                       without it (or SHOTLIST_ALLOW_COMMAND=1) such a run refuses before
                       anything is sent: a manifest cannot allow itself to run a program
  --no-preflight       do not check the references (HTTP status, type, video lengths)
                       before sending; see \`shotlist check\`
  --reroll             render one new take of each shot marked re-roll in
                       <manifest>.picks.yaml (\`shotlist review\`, key r) and nothing
                       else; once rendered, the mark is cleared and the take kept
                       (with --simulate: <manifest>.simulated.picks.yaml)

The key comes from SHOTLIST_API_KEY, else API_KEY, else a .env file in the working
directory; never from the manifest. Ctrl-C stops submitting and keeps every task for the
next run; a second Ctrl-C stops at once (the journal is always safe).
Exit 0 all shots done, 1 some failed, 2 bad input, 3 over budget (nothing sent), 4 the API
refused the account (key or quota; tasks already sent were still fetched), 130 interrupted.
`;

/** The first line of `shotlist enqueue --help` (enqueue.ts), for flag errors. */
const ENQUEUE_USAGE = 'Usage: shotlist enqueue <manifest> --team redis://HOST:PORT/DB [options]';

/** What the run cost: nothing when simulated; no invented figure when no price is set. */
export function describeSpend(
  simulated: boolean,
  cost: number | null,
  currency: string | null,
  priced: boolean,
): string {
  const money = priced ? formatMoney(cost ?? 0, currency) : undefined;
  if (simulated) return `simulated: nothing spent${money ? ` (${money} at your prices)` : ''}`;
  return money ? `spent ${money}` : 'spent: no prices set';
}

/** The last line of a run: shot counts, spend, where the report is. */
function summaryLine(
  report: RunReport,
  simulated: boolean,
  priced: boolean,
  reportHtml: string,
): string {
  const t = report.totals;
  return `${t.done} done, ${t.failed} failed${t.unknown ? `, ${t.unknown} unknown` : ''}${t.pending ? `, ${t.pending} pending` : ''}${t.not_sent ? `, ${t.not_sent} not sent` : ''}${t.followed ? ` (${t.followed} followed: paid by another machine)` : ''} · ${describeSpend(simulated, t.spent_cost, t.currency, priced)}${simulated ? '' : ` ${describeCharges(t.spend)}`} · ${reportHtml}`;
}

function describePreview(p: PreparedRun): string {
  const { summary: s } = p;
  const currency = p.plan.totals.currency;
  const cost = `${formatMoney(s.newCost ?? 0, currency)}${s.unpricedSeconds > 0 ? ` + ${s.unpricedSeconds} unpriced s` : ''}`;
  // Unknown shots sent again (--retry-unknown) are not new: their first attempts stay at risk.
  const again = p.assessed.filter((a) => a.state === 'unknown' && a.submits).length;
  const risk = unknownAtRisk(p.assessed.filter((a) => a.state === 'unknown' && !a.submits));
  const fresh = s.counts.new + s.counts.retry + s.counts.forced;
  const parts = [
    again > 0
      ? `${fresh} new + ${again} unknown sent again (${cost}; may pay twice)`
      : `${fresh} new (${cost})`,
  ];
  if (risk.shots.length > 0)
    parts.push(
      `${risk.shots.length} unknown, not sent (${risk.cost === null ? `${risk.seconds} s` : formatMoney(risk.cost, currency)} may have been billed; --retry-unknown resubmits)`,
    );
  if (s.counts.cached) parts.push(`${s.counts.cached} cached`);
  if (s.counts.in_flight) parts.push(`${s.counts.in_flight} in flight from an earlier run`);
  if (s.counts.download) parts.push(`${s.counts.download} to download again`);
  if (s.counts.gave_up) parts.push(`${s.counts.gave_up} given up (failed too often; --force)`);
  return parts.join(', ');
}

/** Asks a yes/no question on the terminal; anything but yes (or Ctrl-C) is no. */
export async function confirm(ctx: CliContext, question: string): Promise<boolean> {
  const rl = createInterface({ input: ctx.stdin, output: ctx.stderr, terminal: true });
  try {
    const answer = await rl.question(question, { signal: ctx.signal });
    return /^y(es)?$/i.test(answer.trim());
  } catch {
    return false;
  } finally {
    rl.close();
  }
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * How a run asks before spending: on a terminal it asks; under CI (even with a pseudo-terminal,
 * where nobody answers) it refuses as it does without a terminal, so a job never hangs.
 */
function confirmFor(ctx: CliContext): Pick<RunCallbacks, 'confirm'> {
  if (truthy(ctx.env.CI)) {
    return {
      confirm: (p) =>
        Promise.reject(
          new UsageError(
            `refusing to submit ${plural(p.summary.submits, 'shot')} (${formatMoney(p.summary.newCost ?? 0, p.plan.totals.currency)}) without confirmation: CI is set, nobody can answer`,
            'pass --yes to confirm, or --dry-run to see the requests first',
          ),
        ),
    };
  }
  if (!ctx.stdin.isTTY || !ctx.stderr.isTTY) return {};
  return {
    confirm: (p) =>
      confirm(
        ctx,
        `Submit ${plural(p.summary.submits, 'shot')} for ${formatMoney(p.summary.newCost ?? 0, p.plan.totals.currency)}? [y/N] `,
      ),
  };
}

/**
 * `--dry-run`: the bodies this run would POST (placeholders for what only sending knows, see
 * render/wire.ts), and what it would not send again.
 */
function printDryRun(
  ctx: CliContext,
  run: PreparedRun,
  options: { json: boolean; listen: boolean },
  say: (line: string) => void,
) {
  const sent = run.assessed.filter((a) => a.submits);
  for (const { shot: s } of sent) {
    const body = previewBody(s.request, { simulated: run.simulated, listen: options.listen });
    if (options.json)
      ctx.stdout.write(eventLine('request', { id: s.id, variant: s.variant, take: s.take, body }));
    else say(`POST /v1/videos  # ${shotLabel(s)}\n${JSON.stringify(body, null, 2)}`);
  }
  const c = run.summary.counts;
  const leftUnknown = run.assessed.filter((a) => a.state === 'unknown' && !a.submits).length;
  const kept = [
    c.cached > 0 ? `${c.cached} cached` : '',
    c.in_flight + c.download > 0
      ? `${c.in_flight + c.download} in flight (resumed, not sent again)`
      : '',
    leftUnknown > 0 ? `${leftUnknown} unknown (left alone)` : '',
    c.gave_up > 0 ? `${c.gave_up} given up (failed too often; --force sends again)` : '',
  ].filter(Boolean);
  say(
    `dry run: ${plural(sent.length, 'request')} shown${kept.length > 0 ? `, ${kept.join(', ')}` : ''}; nothing sent.`,
  );
  if (!run.budget.ok)
    ctx.stderr.write(`over budget: ${run.budget.reason}; the run would be refused (exit 3)\n`);
}

/** The end of a run that rendered: the summary, the shots that failed, how to resume. */
function printOutcome(
  ctx: CliContext,
  result: RunResult,
  resume: string,
  say: (line: string) => void,
): void {
  const { render, report, reportFiles, prepared } = result;
  if (!render || !report || !reportFiles) return;
  const html = path.relative(ctx.cwd, reportFiles.html) || reportFiles.html;
  say(summaryLine(report, prepared.simulated, prepared.plan.totals.cost !== null, html));
  const mine = new Set(render.shots.map((s) => s.key));
  for (const s of report.shots) {
    if (!mine.has(s.key) || (s.status !== 'failed' && s.status !== 'unknown')) continue;
    const label = shotLabel(s);
    // A shot given up on was not sent: its message says how often it failed and how to force it.
    if (s.error?.code === 'max_attempts') say(`  ${label}: ${s.error.message}`);
    else
      say(
        `  ${label}: ${[s.status, s.error?.code, s.error?.message].filter((w, i, all) => w && all.indexOf(w) === i).join(': ')}`,
      );
  }
  for (const s of report.shots)
    if (mine.has(s.key) && s.error?.code === 'account_missing')
      say(`  ${shotLabel(s)}: in flight: ${s.error.message}`);
  for (const a of report.accounts ?? [])
    if (a.retired) say(`  account ${a.name} retired (${a.retired.reason}): ${a.retired.message}`);
  if (result.fatal) {
    ctx.stderr.write(`error: ${result.fatal.message}\n`);
    if (result.fatal.fix) ctx.stderr.write(`  fix: ${result.fatal.fix}\n`);
  } else if (result.status === 'failed') {
    const unknown = report.shots.filter((s) => mine.has(s.key) && s.status === 'unknown').length;
    const ours = report.shots.filter((s) => mine.has(s.key));
    // Never reached, the API may be a typo: the folder is not tied to it (see folder-api.ts).
    if (ours.length > 0 && ours.every((s) => s.error?.code === 'unreachable'))
      ctx.stderr.write(
        `  the API was never reached (nothing was created or billed): check its URL (--base-url, $SHOTLIST_BASE_URL); a run with the right one takes this folder over\n`,
      );
    else if (ours.some((s) => s.status !== 'done' && s.status !== 'unknown'))
      ctx.stderr.write(`  run again: ${resume} (only the shots not done are sent)\n`);
    if (unknown > 0)
      ctx.stderr.write(
        `  ${plural(unknown, 'unknown shot')} may have been billed; a plain re-run does not send ${unknown === 1 ? 'it' : 'them'} again. To resubmit (may pay twice): ${resume} --retry-unknown\n`,
      );
    // An enqueuer can also wait for a retry that another terminal or machine makes.
    if (unknown > 0 && resume.startsWith('shotlist enqueue '))
      ctx.stderr.write(
        `  to collect a retry made elsewhere while enqueue waits: ${resume} --wait-unknown MINUTES\n`,
      );
  } else if (result.status === 'interrupted') {
    const inFlight = render.shots.filter((s) => s.status === 'pending').length;
    ctx.stderr.write(
      `interrupted: ${inFlight} task${inFlight === 1 ? '' : 's'} in flight ${inFlight === 1 ? 'is' : 'are'} journaled in ${path.relative(ctx.cwd, render.journalFile)}.\n  resume: ${resume} (nothing is paid twice)\n`,
    );
  }
}

/** Unknown shots of the whole manifest after the run (or, without a report, as assessed). */
function unknownShots(result: RunResult): number {
  if (result.report) return result.report.shots.filter((s) => s.status === 'unknown').length;
  return unknownAtRisk([...result.prepared.assessed, ...result.prepared.others]).shots.length;
}

/**
 * `shotlist run` and `shotlist enqueue`: parse the flags, run the manifest, print what happened.
 * Returns the exit code.
 */
export async function runFlow(ctx: CliContext, mode: 'run' | 'enqueue' = 'run'): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    ctx.argv,
    RUN_FLAGS,
    mode === 'run' ? runHelp : ENQUEUE_USAGE,
  );
  if (values.worker && mode === 'run') {
    const { runWorkerCommand } = await import('./worker.js');
    return runWorkerCommand(ctx, values, positionals);
  }
  const { arg } = manifestArg(ctx, positionals, mode);
  const config = resolveConfig(mode, values, ctx.env);
  for (const note of config.notes) ctx.stderr.write(`${note}\n`);
  const { json, failOn } = config;
  const options: RunOptions = { ...config.options, cwd: ctx.cwd, signal: ctx.signal };
  const human = json ? ctx.stderr : ctx.stdout;
  const say = (line: string) => human.write(`${line}\n`);
  let progress: ProgressView | undefined;
  // A re-encode of many clips takes a while: say how far it is, in quarters.
  const shown = new Map<string | null, number>();
  const { runManifest } = await import('../pipeline/run.js');
  const result = await runManifest(arg, options, {
    log: say,
    warn: (line) => ctx.stderr.write(`${line}\n`),
    onPrepared: (p) => {
      if (json)
        ctx.stdout.write(eventLine('plan', planEventFields(p, !noJournalNote(ctx, p.outDir))));
      if (p.shard) say(shardSummary(p.shard.spec, p.plan.shots.length, p.shard.of));
      const command = p.simulated ? undefined : uploadCommandOf(p.uploads?.config);
      if (command)
        say(
          `uploads run this command of the manifest${options.dryRun ? ' (not in a dry run)' : ''}: ${describeCommand(command)}`,
        );
      if (options.dryRun) return;
      say(
        `${p.plan.manifest.name}: ${plural(p.plan.shots.length, 'shot')}: ${describePreview(p)}${p.simulated ? ' [simulated: nothing is spent]' : ''}`,
      );
      const added = p.assessed.filter((a) => a.submits && a.shot.added_by !== undefined);
      if (added.length > 0)
        say(
          `  ${plural(added.length, 'take')} to send ${added.length === 1 ? 'is a re-roll' : 'are re-rolls'} from ${added[0]!.shot.added_by}: ${added.map((a) => a.label).join(', ')}`,
        );
      const note = p.assessed.length > 0 ? noJournalNote(ctx, p.outDir) : undefined;
      if (note) say(note);
    },
    ...confirmFor(ctx),
    onRenderStart: async (p) => {
      const renderer = getRenderer(
        { json, isTTY: !!ctx.stdout.isTTY, shots: p.plan.shots.length },
        ctx.env,
      );
      progress = await createProgress(renderer, {
        shots: p.assessed.map((a) => ({
          label: a.label,
          key: a.key,
          id: a.shot.id,
          variant: a.shot.variant,
          take: a.shot.take,
        })),
        currency: p.plan.totals.currency,
        out: renderer === 'json' ? ctx.stdout : human,
        simulated: p.simulated,
      });
    },
    onEvent: (e) => progress?.onEvent(e),
    onRenderEnd: () => progress?.close(),
    onStitchProgress: (variant, fraction) => {
      const quarter = Math.floor(fraction * 4);
      if (quarter < 1 || quarter > 3 || quarter <= (shown.get(variant) ?? 0)) return;
      shown.set(variant, quarter);
      say(`stitching${variant ? ` ${variant}` : ''}: ${quarter * 25}%`);
    },
  });
  if (result.status === 'dry-run')
    printDryRun(ctx, result.prepared, { json, listen: options.listen !== undefined }, say);
  else if (result.status === 'declined') say('nothing was sent.');
  else {
    // An enqueuer's advice is to enqueue again: `run` would send the shots from here.
    const again = runCommandLine(arg, values, result.prepared.base).replace(
      /^shotlist run /,
      `shotlist ${mode} `,
    );
    printOutcome(ctx, result, again, say);
  }
  const unknown = unknownShots(result);
  const failedOnUnknown = failOn && unknown > 0 && result.exitCode === EXIT_CODES.ok;
  if (failedOnUnknown) {
    ctx.stderr.write(
      `${plural(unknown, 'shot')} unknown (may have been billed): exit 1 (--fail-on unknown); \`shotlist status\` lists them\n`,
    );
  }
  const exitCode = failedOnUnknown ? EXIT_CODES.shotsFailed : result.exitCode;
  if (json) {
    for (const fields of stitchEventFields(result, result.prepared.outDir))
      ctx.stdout.write(eventLine('stitch', fields));
    ctx.stdout.write(eventLine('summary', { ...summaryEventFields(result), exit_code: exitCode }));
  }
  const stepSummary = ctx.env.GITHUB_STEP_SUMMARY;
  if (stepSummary && result.report)
    await appendFile(stepSummary, stepSummaryMarkdown(result, ctx.cwd));
  return exitCode;
}
