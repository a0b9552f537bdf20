import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { createApiClient } from '../../api/client.js';
import { createRequestGate } from '../../api/gate.js';
import { resolveApiKey } from '../../api/key.js';
import { redact } from '../../api/redact.js';
import { normalizeBaseUrl } from '../../api/url.js';
import { BudgetError, EXIT_CODES, UsageError, formatDiagnostic } from '../../errors.js';
import { loadManifest } from '../../manifest/load.js';
import { verifyVideo } from '../../media/probe.js';
import { DEFAULT_BASE_URL } from '../../models.js';
import { checkBudget } from '../../plan/budget.js';
import { plan as makePlan } from '../../plan/plan.js';
import type { Plan } from '../../plan/types.js';
import { assembleOutputs } from '../../media/assemble.js';
import { stitchJobs, takeKey } from '../../media/outputs.js';
import { JOURNAL_FILE, readJournal } from '../../render/journal.js';
import { DEFAULT_CONCURRENCY, render, type RenderResult } from '../../render/render.js';
import { describeCharges, toRunReport } from '../../render/report.js';
import { assessShots, summarizeAssessment, type AssessmentSummary } from '../../render/state.js';
import type { OutputReport } from '../../report/types.js';
import { formatMoney } from '../../ui/format.js';
import { createProgress } from '../../ui/progress.js';
import { getRenderer } from '../../ui/renderer.js';
import { numberFlag, parseCommandArgs, splitList } from '../args.js';
import type { CliContext } from '../context.js';
import { PLAN_FLAGS, planOptionsFrom } from './plan.js';

export const help = `Usage: shotlist run <manifest> [options]

Plans the manifest, shows what is new, cached or in flight and what the new shots cost,
asks before spending, then renders every shot through the API with bounded concurrency,
downloads and checks the videos, stitches one video per variant (see the manifest's
stitch section) and writes <out>/report.json, report.html and contact-sheet.jpg. A re-run
pays for nothing twice: done shots are skipped, tasks in flight are picked up, never
resubmitted.

Options:
  --out DIR            output folder (default renders/<name>)
  --only ID,...        render these shots only
  --variant NAME       render one variant only
  --force ID,...|all   render these shots again even if done (pays again)
  --dry-run            print the request bodies and send nothing
  --base-url URL       API base (default $SHOTLIST_BASE_URL, else ${DEFAULT_BASE_URL})
  --simulate           render against a simulator started in-process: no key, no spend
  --sim-latency MIN-MAXs  with --simulate: how long its tasks take (default 2-6s; 0 = at once)
  --concurrency N      tasks in flight at once (default: the manifest's, else ${DEFAULT_CONCURRENCY})
  --max-cost N         refuse to start when the new spend exceeds N
  --yes                do not ask for confirmation
  --max-download-mb N  refuse a video file larger than N MiB (default 2048)
  --retry-unknown      resubmit shots whose earlier submission may or may not have
                       created a task (may pay twice)
  --json               NDJSON events on stdout instead of the task list
  --model, --size, --ratio, --duration   force a setting on every shot (as in plan)

The key comes from SHOTLIST_API_KEY, else API_KEY, else a .env file in the working
directory; never from the manifest. Ctrl-C stops submitting and keeps every task for the
next run; a second Ctrl-C stops at once (the journal is always safe).
Exit 0 all shots done, 1 some failed, 2 bad input, 3 over budget (nothing sent), 130 interrupted.
`;

const FLAGS = {
  ...PLAN_FLAGS,
  out: { type: 'string' },
  force: { type: 'string' },
  'dry-run': { type: 'boolean' },
  'base-url': { type: 'string' },
  simulate: { type: 'boolean' },
  concurrency: { type: 'string' },
  yes: { type: 'boolean', short: 'y' },
  'retry-unknown': { type: 'boolean' },
  'max-download-mb': { type: 'string' },
  'sim-latency': { type: 'string' },
} as const;

/** The journal key base of `--simulate` runs: fixed, as the simulator's port changes each time. */
export const SIMULATOR_BASE = 'simulator://shotlist';

/** What {@link afterRender} gets: everything the run knows when the shots are finished. */
export interface AfterRenderInput {
  ctx: CliContext;
  plan: Plan;
  result: RenderResult;
  outDir: string;
  signal: AbortSignal;
  /** Human-readable notes go here (stderr under --json). */
  log: (line: string) => void;
}

/**
 * The step after rendering, before the report is written: stitches one video per variant
 * from the shots' first takes. A variant with a shot not done is skipped with the reason;
 * a stitch that fails is reported and makes the run exit 1, the clips stay.
 */
export async function afterRender(
  input: AfterRenderInput,
): Promise<{ outputs: OutputReport[]; failed: number }> {
  const { plan, result, outDir } = input;
  const files = new Map<string, string>();
  for (const s of result.shots) {
    if (s.status === 'done' && s.file) {
      files.set(takeKey(s.shot), path.resolve(outDir, s.file.path));
    }
  }
  const { jobs, skipped } = stitchJobs(
    plan,
    (shot) => files.get(takeKey(shot)),
    outDir,
    path.dirname(plan.manifest.file),
  );
  for (const s of skipped) input.log(`${s.variant ? `${s.variant}: ` : ''}${s.reason}`);
  if (jobs.length === 0) return { outputs: [], failed: 0 };
  // A re-encode of many clips takes a while: say how far it is, in quarters.
  const shown = new Map<string | null, number>();
  const { outputs, failed } = await assembleOutputs(jobs, outDir, {
    env: input.ctx.env,
    signal: input.signal,
    log: input.log,
    onProgress: (variant, fraction) => {
      const quarter = Math.floor(fraction * 4);
      if (quarter < 1 || quarter > 3 || quarter <= (shown.get(variant) ?? 0)) return;
      shown.set(variant, quarter);
      input.log(`stitching${variant ? ` ${variant}` : ''}: ${quarter * 25}%`);
    },
  });
  return { outputs, failed: failed.length };
}

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

function describePreview(s: AssessmentSummary, currency: string | null): string {
  const parts = [
    `${s.counts.new + s.counts.retry + s.counts.forced} new (${formatMoney(s.newCost ?? 0, currency)}${s.unpricedSeconds > 0 ? ` + ${s.unpricedSeconds} unpriced s` : ''})`,
  ];
  if (s.counts.cached) parts.push(`${s.counts.cached} cached`);
  if (s.counts.in_flight) parts.push(`${s.counts.in_flight} in flight from an earlier run`);
  if (s.counts.download) parts.push(`${s.counts.download} to download again`);
  if (s.counts.unknown) parts.push(`${s.counts.unknown} unknown`);
  return parts.join(', ');
}

async function confirm(ctx: CliContext, question: string): Promise<boolean> {
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

/** `shotlist run`: plan, confirm, render, report. Returns the exit code. */
export default async function run(ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(ctx.argv, FLAGS, help);
  if (positionals.length !== 1)
    throw new UsageError('run takes one manifest', 'shotlist run <manifest> [options]');
  const manifestFile = path.resolve(ctx.cwd, positionals[0]!);
  const json = !!values.json;
  const human = json ? ctx.stderr : ctx.stdout;
  const say = (line: string) => human.write(`${line}\n`);

  const concurrency = numberFlag(values.concurrency, '--concurrency', true);
  if (concurrency !== undefined && concurrency < 1) {
    throw new UsageError(`--concurrency ${concurrency} is too small`, 'use 1 or more');
  }
  const force =
    values.force === undefined
      ? undefined
      : values.force.trim() === 'all'
        ? ('all' as const)
        : (splitList(values.force) ?? []);

  const loaded = await loadManifest(manifestFile);
  const plan = makePlan(loaded, planOptionsFrom(values));
  for (const w of plan.warnings) ctx.stderr.write(`${formatDiagnostic(w)}\n`);
  if (Array.isArray(force)) {
    const ids = new Set(plan.shots.map((s) => s.id));
    const unknownIds = force.filter((id) => !ids.has(id));
    if (unknownIds.length > 0) {
      throw new UsageError(
        `--force names ${unknownIds.join(', ')}, not in the plan`,
        `use shot ids of the manifest, or --force all`,
      );
    }
  }
  const outDir = path.resolve(ctx.cwd, values.out ?? path.join('renders', plan.manifest.name));

  if (values['dry-run']) {
    for (const s of plan.shots) {
      if (json)
        ctx.stdout.write(
          `${JSON.stringify({ event: 'request', shot: s.id, variant: s.variant, take: s.take, body: s.request })}\n`,
        );
      else
        say(
          `POST /v1/videos  # ${s.id}${s.variant ? ` @${s.variant}` : ''}${s.take > 1 ? ` take ${s.take}` : ''}\n${JSON.stringify(s.request, null, 2)}`,
        );
    }
    say(
      `dry run: ${plan.shots.length} request${plan.shots.length === 1 ? '' : 's'} shown, nothing sent.`,
    );
    return EXIT_CODES.ok;
  }

  const simulate = !!values.simulate;
  if (values['sim-latency'] !== undefined && !simulate) {
    throw new UsageError(
      '--sim-latency only applies to --simulate',
      'add --simulate, or drop --sim-latency',
    );
  }
  const baseText = simulate
    ? undefined
    : (values['base-url'] ?? ctx.env.SHOTLIST_BASE_URL ?? DEFAULT_BASE_URL);
  const journalBase = simulate ? SIMULATOR_BASE : normalizeBaseUrl(baseText!);

  const journal = await readJournal(path.join(outDir, JOURNAL_FILE));
  const assessed = await assessShots(plan, {
    outDir,
    baseUrl: journalBase,
    journal: journal.shots,
    ...(force ? { force } : {}),
    ...(values['retry-unknown'] ? { retryUnknown: true } : {}),
  });
  const summary = summarizeAssessment(assessed);
  const currency = plan.totals.currency;
  say(
    `${plan.manifest.name}: ${plan.shots.length} shot${plan.shots.length === 1 ? '' : 's'}: ${describePreview(summary, currency)}${simulate ? ' [simulated: nothing is spent]' : ''}`,
  );

  const verdict = checkBudget(
    {
      max_cost: plan.budget.max_cost ?? undefined,
      max_seconds: plan.budget.max_seconds ?? undefined,
    },
    {
      seconds: summary.newSeconds,
      cost: summary.newCost,
      unpriced_seconds: summary.unpricedSeconds,
      currency,
    },
  );
  if (!verdict.ok) {
    throw new BudgetError(
      `over budget: ${verdict.reason}; nothing was sent`,
      'raise budget.max_cost in the manifest or --max-cost, or render fewer shots with --only / --variant',
    );
  }

  const needsNetwork = assessed.some(
    (a) => a.state !== 'cached' && !(a.state === 'unknown' && !a.submits),
  );
  let apiKey: string | undefined;
  let stopSimulator: (() => Promise<void>) | undefined;
  let baseUrl = baseText;
  if (simulate) {
    apiKey = randomBytes(18).toString('base64url');
    if (needsNetwork) {
      const { startSimulator } = await import('../../sim/index.js');
      const sim = await startSimulator({
        apiKey,
        port: 0,
        env: ctx.env,
        ...(values['sim-latency'] !== undefined ? { latency: values['sim-latency'] } : {}),
      });
      baseUrl = sim.url;
      stopSimulator = () => sim.close();
    }
  } else if (needsNetwork) {
    apiKey = (await resolveApiKey(ctx.env, ctx.cwd))?.key;
    if (!apiKey) {
      throw new UsageError(
        'no API key: nothing was sent',
        'export SHOTLIST_API_KEY=<your key> (or API_KEY, or put it in .env here); or try --simulate',
      );
    }
  }

  if (summary.submits > 0 && !simulate && !values.yes) {
    const interactive = !!ctx.stdin.isTTY && !!ctx.stderr.isTTY;
    if (!interactive) {
      throw new UsageError(
        `refusing to submit ${summary.submits} shot${summary.submits === 1 ? '' : 's'} (${formatMoney(summary.newCost ?? 0, currency)}) without confirmation: no terminal to ask`,
        'pass --yes to confirm, or --dry-run to see the requests first',
      );
    }
    const ok = await confirm(
      ctx,
      `Submit ${summary.submits} shot${summary.submits === 1 ? '' : 's'} for ${formatMoney(summary.newCost ?? 0, currency)}? [y/N] `,
    );
    if (!ok) {
      say('nothing was sent.');
      return ctx.signal.aborted ? EXIT_CODES.interrupted : EXIT_CODES.ok;
    }
  }

  const secrets = apiKey ? [apiKey] : [];
  const clean = (text: string) => redact(text, secrets);
  const effectiveConcurrency = concurrency ?? plan.concurrency ?? DEFAULT_CONCURRENCY;
  const sleep = (ms: number, signal?: AbortSignal) =>
    delay(ms, undefined, signal ? { signal } : undefined);
  const maxDownloadMb = numberFlag(values['max-download-mb'], '--max-download-mb');
  const client = createApiClient({
    ...(maxDownloadMb !== undefined
      ? { maxDownloadBytes: Math.floor(maxDownloadMb * 1024 * 1024) }
      : {}),
    baseUrl: baseUrl ?? DEFAULT_BASE_URL,
    apiKey: apiKey ?? 'none',
    connections: Math.min(128, Math.max(8, effectiveConcurrency * 2)),
    gate: createRequestGate({
      ratePerSecond: Math.max(20, 4 * effectiveConcurrency),
      burst: Math.max(20, 2 * effectiveConcurrency),
      now: Date.now,
      sleep,
    }),
  });
  const renderer = getRenderer(
    { json, isTTY: !!ctx.stdout.isTTY, shots: plan.shots.length },
    ctx.env,
  );
  const progress = await createProgress(renderer, {
    shots: assessed.map((a) => ({ label: a.label, key: a.key })),
    currency,
    out: renderer === 'json' ? ctx.stdout : human,
    simulated: simulate,
  });

  let result: RenderResult;
  try {
    result = await render(
      plan,
      {
        outDir,
        concurrency: effectiveConcurrency,
        signal: ctx.signal,
        journalBase,
        ...(force ? { force } : {}),
        ...(values['retry-unknown'] ? { retryUnknown: true } : {}),
      },
      {
        client,
        assessed,
        onEvent: (e) => {
          if (e.type === 'failed' || e.type === 'unknown') e.error.message = clean(e.error.message);
          progress.onEvent(e);
        },
        verify: async (file, shot) => {
          try {
            await verifyVideo(file, {
              expectDurationSec: shot.seconds,
              toleranceSec: 0.5,
              env: ctx.env,
            });
          } catch (err) {
            // Without ffprobe the length check is all there is; that is not the clip's fault.
            if ((err as { code?: string }).code !== 'tool_missing') throw err;
          }
        },
      },
    );
  } finally {
    await progress.close();
    await client.close();
    await stopSimulator?.();
  }

  const stitched =
    result.interrupted || result.fatal
      ? { outputs: [], failed: 0 }
      : await afterRender({ ctx, plan, result, outDir, signal: ctx.signal, log: say });
  const outputs = stitched.outputs;
  const report = toRunReport(plan, result, {
    baseUrl: simulate ? SIMULATOR_BASE : journalBase,
    simulated: simulate,
    outputs,
  });
  for (const s of report.shots) if (s.error) s.error.message = clean(s.error.message);
  const { writeReport } = await import('../../report/write.js');
  const done = report.shots.filter((s) => s.status === 'done').length;
  const written = await writeReport(outDir, report, {
    env: ctx.env,
    media: done <= 200 && !ctx.signal.aborted,
  });

  const t = report.totals;
  const line = `${t.done} done, ${t.failed} failed${t.unknown ? `, ${t.unknown} unknown` : ''}${t.pending ? `, ${t.pending} pending` : ''} · ${describeSpend(simulate, t.spent_cost, currency, plan.totals.cost !== null)} ${describeCharges(t.spend)} · ${path.relative(ctx.cwd, written.files.html) || written.files.html}`;
  if (json) {
    ctx.stdout.write(
      `${JSON.stringify({ event: 'summary', time: new Date().toISOString(), totals: t, requests: result.requests, interrupted: result.interrupted, report: written.files.json })}\n`,
    );
  }
  say(line);
  for (const s of report.shots) {
    if (s.status === 'failed' || s.status === 'unknown')
      say(
        `  ${s.id}${s.variant ? `@${s.variant}` : ''}: ${s.status}: ${s.error?.code ?? ''}: ${s.error?.message ?? ''}`,
      );
  }
  if (result.fatal) {
    ctx.stderr.write(`error: ${clean(result.fatal.message)}\n`);
    if (result.fatal.fix) ctx.stderr.write(`  fix: ${result.fatal.fix}\n`);
    return result.fatal.exitCode;
  }
  if (result.interrupted) {
    const inFlight = result.shots.filter((s) => s.status === 'pending').length;
    ctx.stderr.write(
      `interrupted: ${inFlight} task${inFlight === 1 ? '' : 's'} in flight ${inFlight === 1 ? 'is' : 'are'} journaled in ${path.relative(ctx.cwd, result.journalFile)}.\n  resume: shotlist run ${positionals[0]}${values.out ? ` --out ${values.out}` : ''} (nothing is paid twice)\n`,
    );
    return EXIT_CODES.interrupted;
  }
  return result.shots.every((s) => s.status === 'done') && stitched.failed === 0
    ? EXIT_CODES.ok
    : EXIT_CODES.shotsFailed;
}
