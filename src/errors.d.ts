/** Exit codes of every command, by meaning. */
export declare const EXIT_CODES: {
  readonly ok: 0;
  readonly shotsFailed: 1;
  readonly badInput: 2;
  readonly overBudget: 3;
  readonly interrupted: 130;
};
export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];
export interface ShotlistErrorOptions {
  code: string;
  exitCode?: ExitCode;
  fix?: string;
  cause?: unknown;
}
/** The base of every error shotlist means to show a user: a stable code, an exit code, a fix. */
export declare class ShotlistError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;
  readonly fix: string | undefined;
  constructor(message: string, options: ShotlistErrorOptions);
}
/** A bad flag, a missing argument, an unusable option: exit 2. */
export declare class UsageError extends ShotlistError {
  constructor(message: string, fix?: string);
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
export declare function formatDiagnostic(d: Diagnostic): string;
/** A manifest that cannot be used: every problem found, at once. Exit 2. */
export declare class ManifestError extends ShotlistError {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[], message?: string);
}
/** The API said no, or could not be reached. Carries the HTTP status and the server's words. */
export declare class ApiError extends ShotlistError {
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
  );
}
/** ffmpeg or ffprobe failed or is missing; keeps the tail of its stderr. */
export declare class MediaError extends ShotlistError {
  readonly stderrTail: string | undefined;
  constructor(
    message: string,
    options: ShotlistErrorOptions & {
      stderrTail?: string;
    },
  );
}
/** The plan costs more than the budget allows; nothing was sent. Exit 3. */
export declare class BudgetError extends ShotlistError {
  constructor(message: string, fix?: string);
}
/** The user pressed Ctrl-C. Exit 130. */
export declare class InterruptedError extends ShotlistError {
  constructor(message?: string, fix?: string);
}
