/**
 * The command line and the environment resolved once: flags, `SHOTLIST_*` variables and their
 * precedence (a flag wins over its variable), checked here, before anything is read or sent,
 * and handed down as typed values (a listen address, a team URL, a shard), never as text a
 * lower layer parses again. Every message here may name a flag: the command line words them.
 */
import { UsageError } from '../errors.js';
import { isHookUrl } from '../api/contract.js';
import { isLoopbackHost } from '../api/url.js';
import { accountsFileOf } from '../pipeline/accounts.js';
import { shardOf, type ShardSpec } from '../pipeline/shard.js';
import type { RunOptions } from '../pipeline/types.js';
import type { ListenAddress } from '../render/receiver.js';
import { failOnUnknown } from '../render/state.js';
import { DEFAULT_CONCURRENCY } from '../render/render.js';
import { parseLatency, type LatencyRange } from '../sim/options.js';
import { describeTeamUrl } from '../team/url.js';
import {
  ALLOW_COMMAND_FLAG,
  allowCommandFrom,
  numberFlag,
  type parseCommandArgs,
  splitList,
} from './args.js';
import { PLAN_FLAGS, planOptionsFrom } from './common.js';

/** The flags of `run`, `enqueue` and `run --worker`. */
export const RUN_FLAGS = {
  ...PLAN_FLAGS,
  out: { type: 'string' },
  force: { type: 'string' },
  'dry-run': { type: 'boolean' },
  'base-url': { type: 'string' },
  simulate: { type: 'boolean' },
  concurrency: { type: 'string' },
  yes: { type: 'boolean', short: 'y' },
  'retry-unknown': { type: 'boolean' },
  'wait-unknown': { type: 'string' },
  'max-attempts': { type: 'string' },
  'fail-on': { type: 'string' },
  'max-download-mb': { type: 'string' },
  'sim-latency': { type: 'string' },
  plan: { type: 'string' },
  'no-preflight': { type: 'boolean' },
  listen: { type: 'string' },
  'public-url': { type: 'string' },
  'safety-poll': { type: 'string' },
  shard: { type: 'string' },
  team: { type: 'string' },
  'team-budget': { type: 'string' },
  'team-campaign': { type: 'string' },
  reroll: { type: 'boolean' },
  accounts: { type: 'string' },
  worker: { type: 'boolean' },
  ...ALLOW_COMMAND_FLAG,
} as const;

/** The flags of `run`, `enqueue` and `run --worker`, as parsed (strings, not yet checked). */
export type RunValues = ReturnType<typeof parseCommandArgs<typeof RUN_FLAGS>>['values'];

/** A run or an enqueue, resolved: the pipeline's options and what the command line prints. */
export interface RunConfig {
  /** Everything but the process's edges (`cwd`, `signal`), which the command adds. */
  options: RunOptions & { env: NodeJS.ProcessEnv };
  json: boolean;
  /** `--fail-on unknown`: exit 1 while any shot of the manifest is unknown. */
  failOn: boolean;
  /** Said on stderr before the run starts (a receiver reachable beyond this machine). */
  notes: string[];
}

/** `run --worker`, resolved. */
export interface WorkerConfig {
  team: URL;
  baseUrl?: string;
  /** Tasks in flight of this key over the whole team. */
  cap: number;
  budgetSeconds?: number;
  campaign?: string;
}

/** The environment variables that stand for the push flags (a CI runner or server's setting). */
export const PUSH_ENV = {
  listen: 'SHOTLIST_LISTEN',
  'public-url': 'SHOTLIST_PUBLIC_URL',
  'safety-poll': 'SHOTLIST_SAFETY_POLL',
} as const;

/** Parses `--listen` (or what `name` stands for): `HOST:PORT`, or `PORT` on loopback. */
export function parseListen(text: string, name = '--listen'): ListenAddress {
  const m = /^(?:(\[[^\]]+\]|[^:]+):)?(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) {
    throw new UsageError(
      `${name} must be HOST:PORT or PORT, not ${text}${m ? ' (a port is 0 to 65535)' : ''}`,
      `e.g. ${name.startsWith('--') ? `${name} ` : `${name}=`}127.0.0.1:8787 (port 0 picks a free one)`,
    );
  }
  return { host: (m[1] ?? '127.0.0.1').replace(/^\[(.*)\]$/, '$1'), port };
}

/** `--shard i/n` (1 ≤ i ≤ n). */
export function parseShardFlag(text: string): ShardSpec {
  const spec = shardOf(text);
  if (!spec) {
    throw new UsageError(
      `--shard ${JSON.stringify(text)} is not a shard i/n with 1 ≤ i ≤ n`,
      'write it as i/n, e.g. --shard 1/3, --shard 2/3 and --shard 3/3 for three matrix jobs',
    );
  }
  return spec;
}

/**
 * The team's Redis URL: `--team`, else `$SHOTLIST_TEAM`; `redis://host:port/db` (or
 * `rediss://`). A password must not be on the command line (the process list would show it).
 */
export function teamUrlOf(
  values: { team?: string | undefined },
  env: NodeJS.ProcessEnv,
): URL | undefined {
  const text = values.team ?? (env.SHOTLIST_TEAM?.trim() || undefined);
  if (text === undefined) return undefined;
  const fix = 'write it as redis://HOST:PORT/DB, e.g. redis://127.0.0.1:6379/0';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--team "${text}" is not a URL`, fix);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new UsageError(`--team "${describeTeamUrl(url)}" is not a redis:// URL`, fix);
  }
  if (!/^\/?\d*$/.test(url.pathname)) {
    throw new UsageError(
      `--team "${describeTeamUrl(url)}": the path must be a database number`,
      fix,
    );
  }
  if (values.team !== undefined && url.password !== '') {
    throw new UsageError(
      '--team carries a password, which the process list and shell history would show',
      'put the URL with its password in SHOTLIST_TEAM instead',
    );
  }
  return url;
}

/**
 * An accounts file (`--accounts`, else `$SHOTLIST_ACCOUNTS`) gives the base URL and the keys:
 * the flags that name another API or a team of their own are refused beside it.
 */
export function refusePoolClash(
  values: {
    accounts?: string | undefined;
    simulate?: boolean | undefined;
    'base-url'?: string | undefined;
  },
  env: NodeJS.ProcessEnv,
  team?: URL,
): void {
  if (accountsFileOf(values.accounts, env) === undefined) return;
  const clash = values.simulate
    ? '--simulate'
    : values['base-url'] !== undefined
      ? '--base-url'
      : team !== undefined
        ? '--team'
        : undefined;
  if (!clash) return;
  throw new UsageError(
    `--accounts cannot be used with ${clash}`,
    clash === '--base-url'
      ? 'the accounts file gives the base URL: drop --base-url'
      : `drop ${clash}, or run without --accounts (and without SHOTLIST_ACCOUNTS)`,
  );
}

/** A push setting from its flag, else its environment variable; `name` is where it came from. */
function pushSetting(
  values: RunValues,
  env: NodeJS.ProcessEnv,
  flag: keyof typeof PUSH_ENV,
): { value: string | undefined; name: string } {
  if (values[flag] !== undefined) return { value: values[flag], name: `--${flag}` };
  const fromEnv = env[PUSH_ENV[flag]]?.trim();
  return { value: fromEnv || undefined, name: PUSH_ENV[flag] };
}

/** `--listen`, `--public-url`, `--safety-poll` (or their variables). */
function pushConfig(
  values: RunValues,
  env: NodeJS.ProcessEnv,
  notes: string[],
): Pick<RunOptions, 'listen' | 'publicUrl' | 'safetyPollSeconds'> {
  const listen = pushSetting(values, env, 'listen');
  const url = pushSetting(values, env, 'public-url');
  const poll = pushSetting(values, env, 'safety-poll');
  const safety = numberFlag(poll.value, poll.name);
  const publicUrl = url.value;
  if (listen.value === undefined) {
    if (publicUrl !== undefined || safety !== undefined) {
      const named = publicUrl !== undefined ? url.name : poll.name;
      throw new UsageError(
        `${named} needs --listen`,
        `add --listen PORT (or set ${PUSH_ENV.listen})`,
      );
    }
    return {};
  }
  const address = parseListen(listen.value, listen.name);
  if (publicUrl !== undefined && !URL.canParse(publicUrl)) {
    throw new UsageError(
      `${url.name} must be a URL, not ${publicUrl}`,
      `e.g. ${url.name === '--public-url' ? '--public-url ' : `${url.name}=`}https://hooks.example.com/shotlist`,
    );
  }
  if (publicUrl !== undefined && !isHookUrl(new URL(publicUrl))) {
    throw new UsageError(
      `${url.name} ${publicUrl} is not https: the API calls only https URLs`,
      'expose the receiver through an https reverse proxy or tunnel (plain http only on loopback)',
    );
  }
  if (!isLoopbackHost(address.host))
    notes.push(`note: the push receiver listens on ${address.host}, reachable beyond this machine`);
  return {
    listen: address,
    ...(publicUrl !== undefined ? { publicUrl } : {}),
    ...(safety !== undefined ? { safetyPollSeconds: Math.max(1, safety) } : {}),
  };
}

/** `--team` (else `SHOTLIST_TEAM`), `--team-budget` and `--team-campaign`. */
function teamConfig(
  values: RunValues,
  env: NodeJS.ProcessEnv,
): Pick<RunOptions, 'team' | 'teamBudget' | 'teamCampaign'> {
  const given = values.team ?? (env.SHOTLIST_TEAM?.trim() || undefined);
  const budget = numberFlag(values['team-budget'], '--team-budget', true);
  const campaign = values['team-campaign'];
  if (given === undefined) {
    if (budget !== undefined || campaign !== undefined)
      throw new UsageError(
        `${budget !== undefined ? '--team-budget' : '--team-campaign'} needs --team`,
        'add --team redis://HOST:PORT/DB',
      );
    return {};
  }
  if (campaign !== undefined && budget === undefined)
    throw new UsageError('--team-campaign needs --team-budget', 'add --team-budget SECONDS');
  const team = teamUrlOf(values, env)!;
  if (values.simulate) {
    throw new UsageError(
      '--team cannot be used with --simulate: each machine would have a simulator of its own',
      'point every machine at one API with --base-url, or leave out --team',
    );
  }
  return {
    team,
    ...(budget !== undefined ? { teamBudget: budget } : {}),
    ...(campaign !== undefined ? { teamCampaign: campaign } : {}),
  };
}

/** A whole number of at least 1, or undefined when not given. */
function atLeastOne(value: string | undefined, flag: string): number | undefined {
  const n = numberFlag(value, flag, true);
  if (n !== undefined && n < 1) throw new UsageError(`${flag} ${n} is too small`, 'use 1 or more');
  return n;
}

/** `--sim-latency MIN-MAXs`, read here so a bad one is refused before the run starts. */
function simLatencyOf(text: string): LatencyRange {
  try {
    return parseLatency(text);
  } catch (error) {
    const { message, fix } = error as UsageError;
    throw new UsageError(`--sim-latency: ${message}`, fix);
  }
}

/** What a re-roll run cannot honour: it sends one new take of each marked shot and nothing else. */
function refuseRerollClash(values: RunValues): void {
  if (!values.reroll) return;
  const clash = [
    values.force !== undefined ? '--force' : '',
    values.shard !== undefined ? '--shard' : '',
    values.plan !== undefined ? '--plan' : '',
  ].filter(Boolean);
  if (clash.length > 0) {
    throw new UsageError(
      `--reroll renders one new take of each marked shot; it does not take ${clash.join(', ')}`,
      `drop ${clash.join(', ')}, or run without --reroll`,
    );
  }
}

/** `run`'s flags as `runManifest` options: every check of a flag and its variable, once. */
function runConfig(values: RunValues, env: NodeJS.ProcessEnv): RunConfig {
  const notes: string[] = [];
  const plan = planOptionsFrom(values);
  const concurrency = atLeastOne(values.concurrency, '--concurrency');
  const maxDownloadMb = numberFlag(values['max-download-mb'], '--max-download-mb');
  const maxAttempts = atLeastOne(values['max-attempts'], '--max-attempts');
  const force = values.force?.trim() === 'all' ? ('all' as const) : splitList(values.force);
  const shard = values.shard !== undefined ? parseShardFlag(values.shard) : undefined;
  const push = pushConfig(values, env, notes);
  const team = teamConfig(values, env);
  const failOn = failOnUnknown(values['fail-on']);
  if (values['sim-latency'] !== undefined && !values.simulate)
    throw new UsageError(
      '--sim-latency only applies to --simulate',
      'add --simulate, or drop --sim-latency',
    );
  const simLatency =
    values['sim-latency'] !== undefined ? simLatencyOf(values['sim-latency']) : undefined;
  refuseRerollClash(values);
  refusePoolClash(values, env, team.team);
  const accounts = accountsFileOf(values.accounts, env);
  const options: RunConfig['options'] = {
    env,
    ...(values.out !== undefined ? { out: values.out } : {}),
    ...(plan.variant !== undefined ? { variant: plan.variant } : {}),
    ...(plan.only !== undefined ? { only: plan.only } : {}),
    overrides: plan.overrides,
    ...(plan.budget ? { maxCost: plan.budget.max_cost } : {}),
    ...(force !== undefined ? { force } : {}),
    dryRun: !!values['dry-run'],
    ...(values['base-url'] !== undefined ? { baseUrl: values['base-url'] } : {}),
    simulate: !!values.simulate,
    ...(simLatency !== undefined ? { simLatency } : {}),
    ...(concurrency !== undefined ? { concurrency } : {}),
    ...(maxDownloadMb !== undefined ? { maxDownloadMb } : {}),
    retryUnknown: !!values['retry-unknown'],
    ...(maxAttempts !== undefined ? { maxAttempts } : {}),
    yes: !!values.yes,
    allowOutside: !!values['allow-outside'],
    allowCommand: allowCommandFrom(values, env),
    ...(values.plan !== undefined ? { savedPlan: values.plan } : {}),
    ...(values['no-preflight'] ? { preflight: false } : {}),
    ...(shard !== undefined ? { shard } : {}),
    ...(values.reroll ? { reroll: true } : {}),
    ...(accounts !== undefined ? { accounts } : {}),
    ...push,
    ...team,
  };
  return { options, json: !!values.json, failOn, notes };
}

/**
 * `shotlist enqueue`: the options of `run` for a machine that sends nothing itself, so the
 * flags that decide how shots are sent (by the workers) are refused, as is a missing --team.
 */
function enqueueConfig(values: RunValues, env: NodeJS.ProcessEnv): RunConfig {
  const fix = 'give it to the workers (shotlist run --team ... --worker), or leave it out';
  for (const flag of ['worker', 'team-budget', 'team-campaign', 'listen'] as const) {
    if (values[flag] !== undefined && values[flag] !== false)
      throw new UsageError(`enqueue does not take --${flag}: the workers send the shots`, fix);
  }
  const config = runConfig(values, env);
  if (!config.options.team)
    throw new UsageError('enqueue needs --team', 'add --team redis://HOST:PORT/DB');
  const waitUnknown = numberFlag(values['wait-unknown'], '--wait-unknown');
  return {
    ...config,
    options: {
      ...config.options,
      teamRole: 'enqueue',
      ...(waitUnknown ? { waitUnknownMs: Math.round(waitUnknown * 60_000) } : {}),
    },
  };
}

/** `run --worker`: the flags a worker reads; a manifest's flags mean nothing to it. */
function workerConfig(values: RunValues, env: NodeJS.ProcessEnv): WorkerConfig {
  const given = values.team ?? (env.SHOTLIST_TEAM?.trim() || undefined);
  if (given === undefined)
    throw new UsageError('--worker needs --team', 'add --team redis://HOST:PORT/DB');
  if (values.simulate)
    throw new UsageError(
      '--worker cannot be used with --simulate: its simulator would be its own, not the team API',
      'point the worker at the team API with --base-url, or leave out --worker',
    );
  if (values['retry-unknown'])
    throw new UsageError(
      '--worker does not take --retry-unknown: whether an unknown shot is sent again is for the one who enqueued it',
      'shotlist enqueue <manifest> --team ... --retry-unknown marks its unknown shots for the workers',
    );
  const team = teamUrlOf(values, env)!;
  const campaign = values['team-campaign'];
  if (campaign !== undefined && values['team-budget'] === undefined)
    throw new UsageError('--team-campaign needs --team-budget', 'add --team-budget SECONDS');
  const budget = numberFlag(values['team-budget'], '--team-budget', true);
  const cap = atLeastOne(values.concurrency, '--concurrency') ?? DEFAULT_CONCURRENCY;
  return {
    team,
    ...(values['base-url'] !== undefined ? { baseUrl: values['base-url'] } : {}),
    cap,
    ...(budget !== undefined ? { budgetSeconds: budget } : {}),
    ...(campaign !== undefined ? { campaign } : {}),
  };
}

/**
 * The flags of `run` (`run --worker`, `enqueue`) and the environment, resolved and checked
 * once: a flag wins over its variable; a bad value or combination is a UsageError (exit 2)
 * naming the flag (or variable) and the fix, before anything is read or sent.
 */
export function resolveConfig(
  command: 'worker',
  values: RunValues,
  env: NodeJS.ProcessEnv,
): WorkerConfig;
export function resolveConfig(
  command: 'run' | 'enqueue',
  values: RunValues,
  env: NodeJS.ProcessEnv,
): RunConfig;
export function resolveConfig(
  command: 'run' | 'enqueue' | 'worker',
  values: RunValues,
  env: NodeJS.ProcessEnv,
): RunConfig | WorkerConfig {
  if (command !== 'enqueue' && values['wait-unknown'] !== undefined)
    throw new UsageError(
      '--wait-unknown is an option of enqueue: a run watches no unknown shot',
      'shotlist enqueue <manifest> --team ... --wait-unknown MINUTES',
    );
  if (command === 'worker') return workerConfig(values, env);
  return command === 'run' ? runConfig(values, env) : enqueueConfig(values, env);
}
