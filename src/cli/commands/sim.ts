import path from 'node:path';
import { ShotlistError, UsageError } from '../../errors.js';
import type { Simulator } from '../../sim/index.js';
import { parseCommandArgs } from '../args.js';
import type { CliContext } from '../context.js';

export const help = `Usage: shotlist sim [options]

Serve a local simulator of the Seedance video API on 127.0.0.1: same requests, same
answers, real MP4 files, no key needed and nothing spent. Stop it with Ctrl-C.

Options:
  --port N             port of the API (default 0: any free port)
  --api-key KEY        the only key accepted (default $SHOTLIST_API_KEY; unset: any key)
  --latency MIN-MAXs   time from submit to completion, e.g. 2-6s (default); 0 completes
                       at the first poll
  --fail-rate R        share of tasks (0-1) that end failed with content_filter (default 0)
  --faults LIST        per-request faults, e.g. 429=0.1,500=0.05,502=0.01,reset=0.02,
                       slow=0.02,truncate=0.05 (default none)
  --slow-seconds N     how late a "slow" answer comes (default 3)
  --max-concurrent N   tasks running at once; the rest stay queued (default unbounded)
  --seed N             make every random choice reproducible
  --webhook-loss P     share of webhook calls (0-1) never made, like a push lost (default 0)
  --webhook-dup P      share of webhook calls (0-1) made twice (default 0)
  --webhook-delay MIN-MAX  milliseconds between a task's end and its webhook call, drawn
                       per call so calls arrive out of order (default 0)
  --quota KEY=SECONDS  seconds of video KEY may be billed; once spent its POSTs get 403
                       (insufficient_user_quota). Repeat for several keys; each is accepted
  --bill-extra-seconds N  seconds added to what completed tasks report billing (default 0)
  --key-concurrency N  tasks one key may have queued or running; one more gets 429 with
                       Retry-After (default unbounded)
  --state-dir DIR      keep tasks, the ledger and clips in DIR: started again on the same
                       DIR, the simulator serves the earlier tasks (default: none, the
                       tasks end with the process)
  --cache-dir DIR      where generated clips are kept (default DIR/clips with --state-dir,
                       else a folder in the temp dir)
  --json               print one JSON line {event: "listening", url, file_url, ledger}
  -h, --help           show this help

The API answers at the printed URL; videos are served from a second port. The ledger of
what was submitted and billed is at /__sim/ledger, counters at /__sim/stats.`;

function number(flag: string, text: string | undefined, integer: boolean): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw new UsageError(
      `--${flag} ${JSON.stringify(text)} is not ${integer ? 'a whole number' : 'a number'}`,
      `give --${flag} a ${integer ? 'whole number' : 'number'}`,
    );
  }
  return value;
}

const FLAGS = {
  port: { type: 'string' },
  'api-key': { type: 'string' },
  latency: { type: 'string' },
  'fail-rate': { type: 'string' },
  faults: { type: 'string' },
  'slow-seconds': { type: 'string' },
  'max-concurrent': { type: 'string' },
  seed: { type: 'string' },
  'webhook-loss': { type: 'string' },
  'webhook-dup': { type: 'string' },
  'webhook-delay': { type: 'string' },
  quota: { type: 'string', multiple: true },
  'key-concurrency': { type: 'string' },
  'bill-extra-seconds': { type: 'string' },
  'cache-dir': { type: 'string' },
  'state-dir': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseCommandArgs<typeof FLAGS>>['values'];

function parseFlags(argv: string[]): Values {
  const { values, positionals } = parseCommandArgs(argv, FLAGS, help);
  if (positionals.length > 0) {
    throw new UsageError(
      `unexpected argument ${JSON.stringify(positionals[0])}`,
      'shotlist sim takes options only; --help lists them',
    );
  }
  return values;
}

async function start(ctx: CliContext, values: Values): Promise<Simulator> {
  const { startSimulator, parseLatency } = await import('../../sim/index.js');
  const apiKey = values['api-key'] ?? ctx.env.SHOTLIST_API_KEY;
  return startSimulator({
    port: number('port', values.port, true),
    apiKey: apiKey === '' ? undefined : apiKey,
    latency: values.latency,
    failRate: number('fail-rate', values['fail-rate'], false),
    faults: values.faults,
    slowSeconds: number('slow-seconds', values['slow-seconds'], false),
    maxConcurrent: number('max-concurrent', values['max-concurrent'], true),
    seed: number('seed', values.seed, true),
    webhookLoss: number('webhook-loss', values['webhook-loss'], false),
    webhookDup: number('webhook-dup', values['webhook-dup'], false),
    ...(values['webhook-delay'] !== undefined
      ? { webhookDelayMs: parseLatency(values['webhook-delay']) }
      : {}),
    ...(values.quota ? { quota: values.quota } : {}),
    keyConcurrency: number('key-concurrency', values['key-concurrency'], true),
    billExtraSeconds: number('bill-extra-seconds', values['bill-extra-seconds'], false),
    cacheDir: values['cache-dir'],
    stateDir:
      values['state-dir'] === undefined ? undefined : path.resolve(ctx.cwd, values['state-dir']),
    env: ctx.env,
    onLog: (event) => ctx.stderr.write(`${event.level}: ${event.message}\n`),
  });
}

/** `shotlist sim`: serves the simulator until the context's signal aborts. */
export default async function sim(ctx: CliContext): Promise<number> {
  let values: Values;
  let simulator: Simulator;
  try {
    values = parseFlags(ctx.argv);
    if (values.help) {
      ctx.stdout.write(`${help}\n`);
      return 0;
    }
    simulator = await start(ctx, values);
  } catch (error) {
    if (error instanceof ShotlistError) {
      ctx.stderr.write(`error: ${error.message}\n${error.fix ? `  fix: ${error.fix}\n` : ''}`);
      return error.exitCode;
    }
    throw error;
  }

  const keyed =
    values['api-key'] !== undefined || !!ctx.env.SHOTLIST_API_KEY || values.quota !== undefined;
  if (values.json) {
    ctx.stdout.write(
      `${JSON.stringify({ event: 'listening', url: simulator.url, file_url: simulator.fileUrl, ledger: `${simulator.url}/__sim/ledger`, auth: keyed ? 'key' : 'any' })}\n`,
    );
  } else {
    ctx.stdout.write(`listening on ${simulator.url}\n`);
    ctx.stdout.write(`videos served from ${simulator.fileUrl}\n`);
    ctx.stdout.write(
      `auth: ${keyed ? 'the configured key only' : 'any Bearer token'}; ledger at ${simulator.url}/__sim/ledger\n`,
    );
  }
  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) return resolve();
    ctx.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await simulator.close();
  ctx.stdout.write(
    values.json ? `${JSON.stringify({ event: 'stopped' })}\n` : 'simulator stopped\n',
  );
  return 0;
}
