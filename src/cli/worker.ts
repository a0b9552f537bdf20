/**
 * `shotlist run --team URL --worker`: this machine becomes a worker of the team's queue. No
 * manifest: the shots come from every `shotlist enqueue` for the same API. It runs until
 * Ctrl-C or SIGTERM, then sends nothing new and lets the polls it holds finish.
 */
import { resolveApiKey } from '../api/key.js';
import { redact } from '../api/redact.js';
import { EXIT_CODES, UsageError } from '../errors.js';
import { chooseBase } from '../pipeline/base.js';
import type { RenderEvent } from '../render/events.js';
import { describeTeamUrl } from '../team/url.js';
import { resolveConfig, type RunValues } from './config.js';
import type { CliContext } from './context.js';

/** One line per shot that ends here (or is sent here), for the worker's log. */
function logLine(e: RenderEvent): string | undefined {
  switch (e.type) {
    case 'submitted':
      return `${e.shot}: submitted, task ${e.taskId}`;
    case 'status':
      return e.status === 'completed' ? `${e.shot}: completed, task ${e.taskId}` : undefined;
    case 'failed':
      return `${e.shot}: failed: ${e.error.code}: ${e.error.message}`;
    case 'unknown':
      return `${e.shot}: unknown: ${e.error.message}`;
    default:
      return undefined;
  }
}

/** Runs the worker; returns the exit code (0 once stopped on request, 4 when the key was refused). */
export async function runWorkerCommand(
  ctx: CliContext,
  values: RunValues,
  positionals: readonly string[],
): Promise<number> {
  if (positionals.length > 0)
    throw new UsageError(
      '--worker takes no manifest: it renders the shots of every `shotlist enqueue`',
      'shotlist run --team redis://HOST:PORT/DB --worker',
    );
  const {
    team: url,
    cap,
    budgetSeconds: budget,
    campaign,
    baseUrl,
  } = resolveConfig('worker', values, ctx.env);
  const base = chooseBase({ baseUrl, env: ctx.env }).journalBase;
  const apiKey = (await resolveApiKey(ctx.env, ctx.cwd))?.key;
  if (!apiKey)
    throw new UsageError(
      'no API key: a worker submits with its own key',
      'export SHOTLIST_API_KEY=<your key> (or API_KEY, or put it in .env here)',
    );
  // Server text may quote the request: the key is taken out of everything shown.
  const say = (line: string) => ctx.stdout.write(`${redact(line, [apiKey])}\n`);
  const { runWorker } = await import('../team/worker.js');
  const summary = await runWorker({
    url,
    apiKey,
    base,
    cap,
    ...(budget !== undefined ? { budgetSeconds: budget } : {}),
    ...(campaign !== undefined ? { campaign } : {}),
    signal: ctx.signal,
    onNote: say,
    onReady: () =>
      say(`worker: taking shots for ${base} from ${describeTeamUrl(url)}; Ctrl-C stops it`),
    onEvent: (e) => {
      const line = logLine(e);
      if (line) say(line);
    },
  });
  say(`worker stopped: ${summary.done} done, ${summary.failed} failed, ${summary.unknown} unknown`);
  if (!summary.fatal) return EXIT_CODES.ok;
  ctx.stderr.write(`error: ${redact(summary.fatal.message, [apiKey])}\n`);
  if (summary.fatal.fix) ctx.stderr.write(`  fix: ${summary.fatal.fix}\n`);
  return summary.fatal.exitCode;
}
