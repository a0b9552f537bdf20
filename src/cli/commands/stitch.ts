import { EXIT_CODES } from '../../errors.js';
import { ALLOW_OUTSIDE_FLAG, parseCommandArgs } from '../args.js';
import { baseOf, manifestArg, runCommandLine } from '../common.js';
import { refusePoolClash } from '../config.js';
import type { CliContext } from '../context.js';

export const help = `Usage: shotlist stitch <manifest> [options]

Joins the rendered clips of a manifest into one video per variant, following its stitch
section (order, transition, audio, soundtrack, size, logo, voice-overs). Clips are found through the run
journal: only files whose checksum matches what was downloaded are used. Streams are copied
when the clips allow it; otherwise they are normalised and re-encoded once. Sends nothing
to the API.

With a report.json in the folder, writes it again from the job as it stands: each shot's key,
state, cost and picked take as \`status\` shows them.

Told another API than the folder's (--base-url, --simulate, --accounts), it refuses (exit 2), writing
nothing: a folder renders for one API.

Options:
  --out DIR        the run's output folder (default renders/<name> next to the manifest;
                   renders/<name>.simulated with --simulate)
  --variant NAME   stitch one variant only
  --base-url URL   use the clips rendered by this API (default: the API whose clips the
                   journal holds most of)
  --simulate       use the clips of \`run --simulate\`
  --accounts FILE  use the clips of \`run --accounts FILE\` (the base URL its accounts share;
                   default $SHOTLIST_ACCOUNTS; no key is needed)
  --preview        make a fast low-resolution draft of each variant's whole cut instead
                   (final[.<variant>].preview.mp4: 360 px high, 15 fps, no loudness passes);
                   the finals and report.json are left as they are; \`review\` plays it
  --json           one JSON document: { outputs, skipped, failed }

Exit 0 when every output was made, 1 when one could not be (a shot not rendered yet, or
ffmpeg failed), 2 on bad input, 130 interrupted (Ctrl-C): a final it had not made again yet
is moved aside to final[.<variant>].stale.mp4, never left looking current.
`;

const FLAGS = {
  out: { type: 'string' },
  variant: { type: 'string' },
  'base-url': { type: 'string' },
  simulate: { type: 'boolean' },
  accounts: { type: 'string' },
  ...ALLOW_OUTSIDE_FLAG,
  json: { type: 'boolean' },
  preview: { type: 'boolean' },
} as const;

/** The base of `run --accounts FILE`: the URL its accounts share (no key is read). */
async function poolOf(
  ctx: CliContext,
  values: { simulate?: boolean | undefined; 'base-url'?: string | undefined },
  file: string,
) {
  const { loadAccounts, poolBase } = await import('../../pipeline/accounts.js');
  const pool = await loadAccounts(file, { cwd: ctx.cwd, env: ctx.env, needKeys: false });
  return poolBase(pool, file);
}

/** `shotlist stitch`: stitches what `run` rendered, and refreshes the report. */
export default async function stitchCommand(ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(ctx.argv, FLAGS, help);
  const { arg } = manifestArg(ctx, positionals, 'stitch');
  refusePoolClash(values, ctx.env);
  const { accountsFileOf } = await import('../../pipeline/accounts.js');
  const accounts = accountsFileOf(values.accounts, ctx.env);
  const chosen = values.simulate || values['base-url'] !== undefined || accounts !== undefined;
  const base = accounts !== undefined ? await poolOf(ctx, values, accounts) : baseOf(ctx, values);
  const say = (line: string) => (values.json ? ctx.stderr : ctx.stdout).write(`${line}\n`);
  const { stitchManifest } = await import('../../pipeline/stitch.js');
  const { outputs, skipped, failed } = await stitchManifest(arg, {
    cwd: ctx.cwd,
    env: ctx.env,
    signal: ctx.signal,
    log: say,
    ...(values.out !== undefined ? { out: values.out } : {}),
    ...(values.variant !== undefined ? { variant: values.variant } : {}),
    simulate: !!values.simulate,
    // Told which API: only its clips. Else the journal decides, with the usual base as a fallback.
    ...(chosen ? { base: base.journalBase } : { fallbackBases: [base.journalBase] }),
    runCommand: runCommandLine(arg, values, base),
    allowOutside: !!values['allow-outside'],
    preview: !!values.preview,
  });
  if (values.json) {
    ctx.stdout.write(`${JSON.stringify({ outputs, skipped, failed })}\n`);
  }
  if (ctx.signal?.aborted) return EXIT_CODES.interrupted;
  return failed.length === 0 && skipped.length === 0 ? EXIT_CODES.ok : EXIT_CODES.shotsFailed;
}
