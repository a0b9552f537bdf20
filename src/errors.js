/** Exit codes of every command, by meaning. */
export const EXIT_CODES = {
  ok: 0,
  shotsFailed: 1,
  badInput: 2,
  overBudget: 3,
  interrupted: 130,
};
/** The base of every error shotlist means to show a user: a stable code, an exit code, a fix. */
export class ShotlistError extends Error {
  code;
  exitCode;
  fix;
  constructor(message, options) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
    this.exitCode = options.exitCode ?? EXIT_CODES.shotsFailed;
    this.fix = options.fix;
  }
}
/** A bad flag, a missing argument, an unusable option: exit 2. */
export class UsageError extends ShotlistError {
  constructor(message, fix) {
    super(message, { code: 'usage', exitCode: EXIT_CODES.badInput, fix });
  }
}
/** Formats a diagnostic as `file:line:col: severity: message` with the fix on its own line. */
export function formatDiagnostic(d) {
  const head = `${d.file}:${d.line}:${d.col}: ${d.severity}: ${d.message}`;
  return d.fix ? `${head}\n  fix: ${d.fix}` : head;
}
/** A manifest that cannot be used: every problem found, at once. Exit 2. */
export class ManifestError extends ShotlistError {
  diagnostics;
  constructor(diagnostics, message) {
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
  status;
  serverCode;
  serverMessage;
  constructor(message, options) {
    super(message, options);
    this.status = options.status;
    this.serverCode = options.serverCode;
    this.serverMessage = options.serverMessage;
  }
}
/** ffmpeg or ffprobe failed or is missing; keeps the tail of its stderr. */
export class MediaError extends ShotlistError {
  stderrTail;
  constructor(message, options) {
    super(message, options);
    this.stderrTail = options.stderrTail;
  }
}
/** The plan costs more than the budget allows; nothing was sent. Exit 3. */
export class BudgetError extends ShotlistError {
  constructor(message, fix) {
    super(message, { code: 'over_budget', exitCode: EXIT_CODES.overBudget, fix });
  }
}
/** The user pressed Ctrl-C. Exit 130. */
export class InterruptedError extends ShotlistError {
  constructor(message = 'interrupted', fix) {
    super(message, { code: 'interrupted', exitCode: EXIT_CODES.interrupted, fix });
  }
}
//# sourceMappingURL=errors.js.map
