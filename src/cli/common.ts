/**
 * Plumbing the commands share: the one manifest argument (against `ctx.cwd`), the plan flags,
 * the API base and the run command line. Output folders resolve in the pipeline
 * (`defaultOutDir`: next to the manifest unless `--out` says otherwise).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import type { ShotOverrides } from '../manifest/resolve.js';
import { chooseBase, type BaseChoice } from '../pipeline/base.js';
import { JOURNAL_FILE } from '../render/journal.js';
import { ALLOW_OUTSIDE_FLAG, numberFlag, splitList } from './args.js';
import type { CliContext } from './context.js';

/** The manifest positional, exactly as typed (for advice), and its absolute path. */
export function manifestArg(
  ctx: Pick<CliContext, 'cwd'>,
  positionals: readonly string[],
  command: string,
): { arg: string; file: string } {
  if (positionals.length !== 1) {
    throw new UsageError(
      `${command} takes one manifest`,
      `shotlist ${command} <manifest> [options]`,
    );
  }
  const arg = positionals[0]!;
  return { arg, file: path.resolve(ctx.cwd, arg) };
}

/** A path as shown to people: relative to `cwd` when it lies below it, else absolute. */
export function shownPath(ctx: Pick<CliContext, 'cwd'>, file: string): string {
  const relative = path.relative(ctx.cwd, file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

/**
 * Said before a run asks (and by `status`) when the output folder holds no journal: renders
 * made elsewhere (another `--out`) cannot be known, so say plainly where we looked.
 */
export function noJournalNote(ctx: Pick<CliContext, 'cwd'>, outDir: string): string | undefined {
  const file = path.join(outDir, JOURNAL_FILE);
  return existsSync(file) ? undefined : `no journal at ${shownPath(ctx, file)}: every shot is new`;
}

/** The API base from `--simulate`, `--base-url`, `$SHOTLIST_BASE_URL` or the default. */
export function baseOf(
  ctx: Pick<CliContext, 'env'>,
  values: { simulate?: boolean | undefined; 'base-url'?: string | undefined },
): BaseChoice {
  return chooseBase({ simulate: values.simulate, baseUrl: values['base-url'], env: ctx.env });
}

/** The flags naming the output folder and whose renders in it a command looks at (`status`, `review`). */
export const FOLDER_FLAGS = {
  out: { type: 'string' },
  'base-url': { type: 'string' },
  simulate: { type: 'boolean' },
  accounts: { type: 'string' },
} as const;

/** {@link FOLDER_FLAGS} as options: only the flags given. */
export function folderOptionsFrom(values: {
  out?: string | undefined;
  'base-url'?: string | undefined;
  simulate?: boolean | undefined;
  accounts?: string | undefined;
}): { out?: string; baseUrl?: string; simulate: boolean; accounts?: string } {
  return {
    ...(values.out !== undefined ? { out: values.out } : {}),
    ...(values['base-url'] !== undefined ? { baseUrl: values['base-url'] } : {}),
    simulate: !!values.simulate,
    ...(values.accounts !== undefined ? { accounts: values.accounts } : {}),
  };
}

/** The flags that `plan` and `run` share, as plan options. */
export const PLAN_FLAGS = {
  json: { type: 'boolean' },
  variant: { type: 'string' },
  only: { type: 'string' },
  model: { type: 'string' },
  size: { type: 'string' },
  ratio: { type: 'string' },
  duration: { type: 'string' },
  'max-cost': { type: 'string' },
  ...ALLOW_OUTSIDE_FLAG,
} as const;

export function planOptionsFrom(values: {
  variant?: string;
  only?: string;
  model?: string;
  size?: string;
  ratio?: string;
  duration?: string;
  'max-cost'?: string;
}) {
  const overrides: ShotOverrides = {};
  if (values.model !== undefined) overrides.model = values.model;
  if (values.size !== undefined) overrides.size = values.size;
  if (values.ratio !== undefined) overrides.ratio = values.ratio;
  const duration = numberFlag(values.duration, '--duration', true);
  if (duration !== undefined) overrides.duration = duration;
  const maxCost = numberFlag(values['max-cost'], '--max-cost');
  return {
    ...(values.variant !== undefined ? { variant: values.variant } : {}),
    ...(values.only !== undefined ? { only: splitList(values.only) ?? [] } : {}),
    overrides,
    ...(maxCost !== undefined ? { budget: { max_cost: maxCost } } : {}),
  };
}

/** A word as a POSIX shell reads it back: quoted when it holds anything but safe characters. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The flags of a run that decide what is sent and where, as parsed. */
export interface RunCommandFlags {
  out?: string | undefined;
  variant?: string | undefined;
  only?: string | undefined;
  model?: string | undefined;
  size?: string | undefined;
  ratio?: string | undefined;
  duration?: string | undefined;
  concurrency?: string | undefined;
  'max-cost'?: string | undefined;
  simulate?: boolean | undefined;
  'sim-latency'?: string | undefined;
  yes?: boolean | undefined;
  'allow-outside'?: boolean | undefined;
  'allow-command'?: boolean | undefined;
  reroll?: boolean | undefined;
  'max-attempts'?: string | undefined;
  listen?: string | undefined;
  'public-url'?: string | undefined;
  'safety-poll'?: string | undefined;
  shard?: string | undefined;
  team?: string | undefined;
  'team-budget'?: string | undefined;
  'team-campaign'?: string | undefined;
}

/**
 * `shotlist run ...` with every flag that decides what is sent and where: following our own
 * advice must never reach another API (the base URL is spelled out even when it came from
 * `$SHOTLIST_BASE_URL`) nor render other shots. `--force` and `--retry-unknown` are left out:
 * they pay again, and a resume must not.
 */
export function runCommandLine(manifest: string, flags: RunCommandFlags, base: BaseChoice): string {
  const words = ['shotlist', 'run', manifest];
  const add = (flag: string, value: string | undefined) => {
    if (value !== undefined) words.push(flag, value);
  };
  if (base.source === 'simulate') words.push('--simulate');
  // A pool's base is its accounts file's: the resume goes to the same accounts.
  else if (base.source === 'accounts') add('--accounts', base.accountsFile);
  else if (base.source !== 'default') add('--base-url', base.apiBase);
  add('--sim-latency', flags['sim-latency']);
  add('--out', flags.out);
  add('--variant', flags.variant);
  add('--only', flags.only);
  add('--model', flags.model);
  add('--size', flags.size);
  add('--ratio', flags.ratio);
  add('--duration', flags.duration);
  add('--concurrency', flags.concurrency);
  // Without it a resume could be refused by the manifest's budget the first run was allowed past.
  add('--max-cost', flags['max-cost']);
  // Without it a resume could resubmit a shot the first run had given up on.
  add('--max-attempts', flags['max-attempts']);
  // A resume with pushes keeps them: the same receiver, the same public address.
  add('--listen', flags.listen);
  add('--public-url', flags['public-url']);
  add('--safety-poll', flags['safety-poll']);
  // Without it a resume would render every shard's shots into this shard's folder.
  add('--shard', flags.shard);
  // Without them a resume would submit alone what the team shares (never a password: see team/url.ts).
  add('--team', flags.team);
  add('--team-budget', flags['team-budget']);
  add('--team-campaign', flags['team-campaign']);
  if (flags['allow-outside']) words.push('--allow-outside');
  // The user allowed the manifest's upload command on this command line: a resume runs it too.
  if (flags['allow-command']) words.push('--allow-command');
  // Without it a resume would leave the re-roll's new take in flight, uncollected.
  if (flags.reroll) words.push('--reroll');
  if (flags.yes) words.push('--yes');
  return words.map(shellWord).join(' ');
}
