/** Exit codes of every command, by meaning. */
export const EXIT_CODES = {
  ok: 0,
  shotsFailed: 1,
  badInput: 2,
  overBudget: 3,
  /** The API refused the account (a wrong key, or its quota is spent): new submissions stopped. */
  accountRefused: 4,
  /** Not the manifest, not the shots: the machine (an unwritable folder) or a bug in shotlist. */
  internal: 70,
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/**
 * An option of a command, by its name in the library's options: the CLI words it as its flag
 * (`retryUnknown` is `--retry-unknown`), so text below the CLI never spells a flag itself.
 */
export type OptionName =
  | 'force'
  | 'failOn'
  | 'legacy'
  | 'maxCost'
  | 'only'
  | 'plan'
  | 'reroll'
  | 'shard'
  | 'teamBudget'
  | 'variant';

/**
 * What a user can do about a problem, as data: library callers act on it, the CLI words it
 * (src/cli/advice.ts), naming the flags to pass.
 */
export type Advice =
  | { kind: 'add_uploads' }
  | { kind: 'add_uploads_section' }
  | { kind: 'allow_command'; rehearse: boolean }
  | { kind: 'allow_outside'; dir: string }
  | { kind: 'another_port' }
  | { kind: 'another_listen_port' }
  | { kind: 'merge_shards' }
  | { kind: 'over_budget'; total: boolean }
  | { kind: 'public_url_for_listen' }
  | { kind: 'collect_first'; manifest: string; api: string }
  | { kind: 'confirm' }
  | { kind: 'fail_on_unknown' }
  | { kind: 'fix_references' }
  | { kind: 'fix_team_url' }
  | { kind: 'force_known_shots' }
  | { kind: 'force_shot'; shot: string }
  | { kind: 'give_shard_folders' }
  | { kind: 'give_shard_run_folders' }
  | { kind: 'leave_out_misplaced' }
  | { kind: 'merge_each_once' }
  | { kind: 'name_api_directly' }
  | { kind: 'no_key' }
  | { kind: 'quota_format' }
  | { kind: 'raise_download_cap' }
  | { kind: 'render_before_reroll' }
  | { kind: 'render_for_real' }
  | { kind: 'reroll_clash'; options: OptionName[] }
  | { kind: 'retry_unknown' }
  | { kind: 'save_plan' }
  | { kind: 'save_plan_again' }
  | {
      kind: 'collect_foreign';
      /** The API holding the tasks, described (never a URL to copy from the folder). */
      there: string;
      thereSimulated: boolean;
      /** The API this run sends to, when sending there anyway is a way out. */
      here?: { base: string; simulated: boolean };
    }
  | { kind: 'take_pool_task'; account: string | undefined }
  | {
      kind: 'folder_of_another_api';
      /** The folder's API and this command's, by name. */
      folder: { api: string; simulated: boolean };
      ours: { api: string; simulated: boolean };
      /** The manifest argument of a rebase, when the folder may move to ours. */
      rebase?: string;
    }
  | { kind: 'wait_for_run'; lockFile: string };

/** Words advice and option names for people; the CLI installs one that names its flags. */
export interface AdviceWording {
  advice(advice: Advice): string;
  option(name: OptionName): string;
}

/** A library caller's wording: the advice's kind and the option's name, no flag spelled. */
const PLAIN_WORDING: AdviceWording = {
  advice: (advice) => `see advice "${advice.kind}"`,
  option: (name) => `the ${name} option`,
};

let wording: AdviceWording = PLAIN_WORDING;

/** Installs how advice is worded (the CLI does, once, before running a command). */
export function useAdviceWording(next: AdviceWording | undefined): void {
  wording = next ?? PLAIN_WORDING;
}

/** Advice as a sentence, in the installed wording. */
export function adviceText(advice: Advice): string {
  return wording.advice(advice);
}

/** An option as a person calls it: the CLI's flag, or its name for a library caller. */
export function optionText(name: OptionName): string {
  return wording.option(name);
}

export interface ShotlistErrorOptions {
  code: string;
  exitCode?: ExitCode;
  fix?: string;
  /** What the user can do, as data; worded as the fix when there is no `fix`. */
  advice?: Advice;
  cause?: unknown;
}

/** The base of every error shotlist means to show a user: a stable code, an exit code, a fix. */
export class ShotlistError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;
  /** What the user can do, as data (its wording is {@link ShotlistError.fix}). */
  readonly advice: Advice | undefined;
  readonly #fix: string | undefined;

  constructor(message: string, options: ShotlistErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
    this.exitCode = options.exitCode ?? EXIT_CODES.shotsFailed;
    this.#fix = options.fix;
    this.advice = options.advice;
  }

  /** The fix as a sentence: the one given, else the advice in the installed wording. */
  get fix(): string | undefined {
    return this.#fix ?? (this.advice ? adviceText(this.advice) : undefined);
  }
}

/** A bad flag, a missing argument, an unusable option: exit 2. */
export class UsageError extends ShotlistError {
  constructor(message: string, fix?: string | Advice) {
    super(message, {
      code: 'usage',
      exitCode: EXIT_CODES.badInput,
      ...(typeof fix === 'string' ? { fix } : fix ? { advice: fix } : {}),
    });
  }
}

export type Severity = 'error' | 'warning';

/** One problem found in a manifest, pointing at the offending value. */
export interface Diagnostic {
  severity: Severity;
  file: string;
  line: number;
  col: number;
  /** JSON-pointer-like path of the offending value, e.g. `/shots/2/duration`. */
  path: string;
  message: string;
  fix?: string;
}

/** Formats a diagnostic as `file:line:col: severity: message` with the fix on its own line. */
export function formatDiagnostic(d: Diagnostic): string {
  const head = `${d.file}:${d.line}:${d.col}: ${d.severity}: ${d.message}`;
  return d.fix ? `${head}\n  fix: ${d.fix}` : head;
}

/** A manifest that cannot be used: every problem found, at once. Exit 2. */
export class ManifestError extends ShotlistError {
  readonly diagnostics: Diagnostic[];

  constructor(diagnostics: Diagnostic[], message?: string) {
    const errors = diagnostics.filter((d) => d.severity === 'error');
    super(
      message ??
        `${errors.length} problem${errors.length === 1 ? '' : 's'} in ${errors[0]?.file ?? 'the manifest'}`,
      { code: 'manifest_invalid', exitCode: EXIT_CODES.badInput },
    );
    this.diagnostics = diagnostics;
  }
}

/** The API said no, or could not be reached. Carries the HTTP status and the server's words. */
export class ApiError extends ShotlistError {
  readonly status: number | undefined;
  readonly serverCode: string | undefined;
  readonly serverMessage: string | undefined;

  constructor(
    message: string,
    options: ShotlistErrorOptions & {
      status?: number;
      serverCode?: string;
      serverMessage?: string;
    },
  ) {
    super(message, options);
    this.status = options.status;
    this.serverCode = options.serverCode;
    this.serverMessage = options.serverMessage;
  }
}

/** ffmpeg or ffprobe failed or is missing; keeps the tail of its stderr. */
export class MediaError extends ShotlistError {
  readonly stderrTail: string | undefined;

  constructor(message: string, options: ShotlistErrorOptions & { stderrTail?: string }) {
    super(message, options);
    this.stderrTail = options.stderrTail;
  }
}

/** The plan costs more than the budget allows; nothing was sent. Exit 3. */
export class BudgetError extends ShotlistError {
  constructor(message: string, fix?: string | Advice) {
    super(message, {
      code: 'over_budget',
      exitCode: EXIT_CODES.overBudget,
      ...(typeof fix === 'string' ? { fix } : fix ? { advice: fix } : {}),
    });
  }
}

/** The user pressed Ctrl-C. Exit 130. */
export class InterruptedError extends ShotlistError {
  constructor(message = 'interrupted', fix?: string) {
    super(message, { code: 'interrupted', exitCode: EXIT_CODES.interrupted, fix });
  }
}
