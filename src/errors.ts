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

export interface ShotlistErrorOptions {
  code: string;
  exitCode?: ExitCode;
  fix?: string;
  cause?: unknown;
}

/** The base of every error shotlist means to show a user: a stable code, an exit code, a fix. */
export class ShotlistError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;
  readonly fix: string | undefined;

  constructor(message: string, options: ShotlistErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
    this.exitCode = options.exitCode ?? EXIT_CODES.shotsFailed;
    this.fix = options.fix;
  }
}

/** A bad flag, a missing argument, an unusable option: exit 2. */
export class UsageError extends ShotlistError {
  constructor(message: string, fix?: string) {
    super(message, { code: 'usage', exitCode: EXIT_CODES.badInput, fix });
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
  constructor(message: string, fix?: string) {
    super(message, { code: 'over_budget', exitCode: EXIT_CODES.overBudget, fix });
  }
}

/** The user pressed Ctrl-C. Exit 130. */
export class InterruptedError extends ShotlistError {
  constructor(message = 'interrupted', fix?: string) {
    super(message, { code: 'interrupted', exitCode: EXIT_CODES.interrupted, fix });
  }
}
