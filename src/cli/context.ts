import type { Readable, Writable } from 'node:stream';

/** What a command gets from the entry point: its arguments and the process's edges, passed in. */
export interface CliContext {
  /** The arguments after the command name. */
  argv: string[];
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable & { isTTY?: boolean };
  stdin: Readable & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Aborted on the first Ctrl-C (SIGINT) or SIGTERM. */
  signal: AbortSignal;
}

/** A command module's default export: runs the command and returns its exit code. */
export type Command = (ctx: CliContext) => Promise<number>;
