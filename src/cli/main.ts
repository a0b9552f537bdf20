import { readFileSync } from 'node:fs';
import {
  EXIT_CODES,
  ManifestError,
  ShotlistError,
  UsageError,
  formatDiagnostic,
  useAdviceWording,
} from '../errors.js';
import { CLI_WORDING } from './advice.js';
import type { CliContext, Command } from './context.js';

const COMMANDS: Record<
  string,
  { summary: string; load: () => Promise<{ default: Command; help: string }> }
> = {
  validate: {
    summary: 'check manifests; problems as file:line:col',
    load: () => import('./commands/validate.js'),
  },
  plan: {
    summary: 'show what would be sent and what it costs',
    load: () => import('./commands/plan.js'),
  },
  check: {
    summary: 'fetch every reference URL and check it before anything is spent',
    load: () => import('./commands/check.js'),
  },
  run: {
    summary: 'render every shot: confirm, submit, poll, download, stitch, report',
    load: () => import('./commands/run.js'),
  },
  upload: {
    summary: 'upload the local files of assets, without rendering',
    load: () => import('./commands/upload.js'),
  },
  status: {
    summary: 'what the next run would skip, resume or submit',
    load: () => import('./commands/status.js'),
  },
  cost: {
    summary: 'what the job has cost: billed, failed, unknown',
    load: () => import('./commands/cost.js'),
  },
  stitch: {
    summary: 'join rendered shots into one video per variant',
    load: () => import('./commands/stitch.js'),
  },
  review: {
    summary: 'a local page to compare takes, pick, mark re-rolls',
    load: () => import('./commands/review.js'),
  },
  pick: {
    summary: 'record which take of a shot the finals use',
    load: () => import('./commands/pick.js'),
  },
  enqueue: {
    summary: "queue the shots for the team's workers; download, stitch, report",
    load: () => import('./commands/enqueue.js'),
  },
  team: {
    summary: "the team's budgets, slots and claims in Redis; reset a budget",
    load: () => import('./commands/team.js'),
  },
  merge: {
    summary: 'join the output folders of run --shard jobs into one',
    load: () => import('./commands/merge.js'),
  },
  rebase: {
    summary: 'move an output folder to another API, keeping its done shots',
    load: () => import('./commands/rebase.js'),
  },
  sim: { summary: 'serve the local API simulator', load: () => import('./commands/sim.js') },
  init: { summary: 'write a commented starter manifest', load: () => import('./commands/init.js') },
};

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

const USAGE = `shotlist: storyboard YAML in, finished video out, through the Seedance video API.

Usage: shotlist <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)}${c.summary}`)
  .join('\n')}

Run \`shotlist <command> --help\` for a command's options. Every command takes --json.
Exit codes: 0 ok, 1 some shots failed, 2 bad input, 3 over budget (nothing sent),
4 the API refused the account (key or quota; tasks already sent were still fetched),
70 unexpected (an unusable folder, or a bug), 130 interrupted.
`;

/** What the system says for the errors a user can fix on their own machine. */
const SYSTEM_ERRORS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  ENOTDIR: 'a file stands where a folder is needed',
  EISDIR: 'a folder stands where a file is needed',
  ENOENT: 'no such file or folder',
};

/**
 * Prints an error the way users should see it: known errors with their fix, a failing file
 * system call as one line naming the path, anything else as one line (the stack only with
 * SHOTLIST_DEBUG=1). Unexpected errors exit 70, apart from "some shots failed".
 */
function reportError(error: unknown, ctx: Pick<CliContext, 'stderr' | 'env'>): number {
  if (error instanceof ManifestError) {
    for (const d of error.diagnostics) ctx.stderr.write(`${formatDiagnostic(d)}\n`);
    ctx.stderr.write(`${error.message}; nothing was sent.\n`);
    return error.exitCode;
  }
  if (error instanceof ShotlistError) {
    ctx.stderr.write(`error: ${error.message}\n`);
    if (error.fix) ctx.stderr.write(`  fix: ${error.fix}\n`);
    return error.exitCode;
  }
  const e = error as NodeJS.ErrnoException | undefined;
  const reason = e?.code ? SYSTEM_ERRORS[e.code] : undefined;
  if (reason && e?.path) {
    ctx.stderr.write(`error: cannot use ${e.path}: ${reason} (${e.code})\n`);
    ctx.stderr.write('  fix: choose a folder you can write to (--out), or fix its permissions\n');
  } else {
    ctx.stderr.write(`error: unexpected: ${e?.message ?? String(error)}\n`);
    ctx.stderr.write(
      '  fix: run again with SHOTLIST_DEBUG=1 for details, and report it if it persists\n',
    );
  }
  if (ctx.env?.SHOTLIST_DEBUG) ctx.stderr.write(`${e?.stack ?? String(error)}\n`);
  return EXIT_CODES.internal;
}

/**
 * Reports an error and returns its exit code; with `--json` the output also ends with an
 * `error` event (docs/events.md), so a machine reading stdout learns how the command ended.
 */
async function endWithError(error: unknown, ctx: CliContext): Promise<number> {
  const code = reportError(error, ctx);
  if (ctx.argv.includes('--json')) {
    const { eventLine, errorEventFields } = await import('../ui/events.js');
    ctx.stdout.write(eventLine('error', errorEventFields(error, code)));
  }
  return code;
}

/**
 * The CLI entry point: dispatches to a lazily imported command and returns the exit code.
 * The first Ctrl-C aborts `ctx.signal` so the command can stop cleanly; a second one exits at once.
 */
export async function main(argv: string[], partial: Partial<CliContext> = {}): Promise<number> {
  // Layers below the CLI give advice as data; from here on it is worded with our flags.
  useAdviceWording(CLI_WORDING);
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts++;
    if (interrupts > 1) process.exit(EXIT_CODES.interrupted);
    controller.abort(new Error(signal));
  };
  const ctx: CliContext = {
    argv: argv.slice(1),
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
    signal: controller.signal,
    ...partial,
  };
  const [name] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    ctx.stdout.write(USAGE);
    return name === undefined ? EXIT_CODES.badInput : EXIT_CODES.ok;
  }
  if (name === '--version' || name === '-v') {
    ctx.stdout.write(`${version()}\n`);
    return EXIT_CODES.ok;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    const unknown = new UsageError(
      `unknown command "${name}"`,
      `use one of ${Object.keys(COMMANDS).join(', ')}`,
    );
    return endWithError(unknown, ctx);
  }
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const command = await entry.load();
    if (ctx.argv.includes('--help') || ctx.argv.includes('-h')) {
      ctx.stdout.write(command.help);
      return EXIT_CODES.ok;
    }
    return await command.default(ctx);
  } catch (error) {
    return await endWithError(error, ctx);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
