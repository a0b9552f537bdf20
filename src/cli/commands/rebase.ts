import { EXIT_CODES, UsageError } from '../../errors.js';
import { ALLOW_OUTSIDE_FLAG, parseCommandArgs } from '../args.js';
import { manifestArg } from '../common.js';
import type { CliContext } from '../context.js';

export const help = `Usage: shotlist rebase <manifest> --to-base-url URL [--out DIR]

Moves an output folder to another API on purpose (a new gateway for the same service). An
output folder belongs to one API: run, status, stitch and review for another one refuse it.
After the move the folder belongs to URL: its done shots stay done (their clips are kept,
nothing is rendered or billed again), new shots go to URL. Refused (exit 2, nothing changed)
while tasks are in flight with the folder's API (collect them with a run first), and for a
simulated folder (its clips are placeholders). Sends nothing.

Options:
  --to-base-url URL  the API the folder renders for from now on
  --out DIR          the output folder (default renders/<name> next to the manifest)
  --allow-outside    read local files outside the manifest's folder tree

Exit 0 moved (or already there), 2 bad input.
`;

const FLAGS = {
  'to-base-url': { type: 'string' },
  out: { type: 'string' },
  ...ALLOW_OUTSIDE_FLAG,
} as const;

/** `shotlist rebase`: moves an output folder to another API, keeping its done shots. */
export default async function rebaseCommand(ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(ctx.argv, FLAGS, help);
  const { arg } = manifestArg(ctx, positionals, 'rebase');
  const to = values['to-base-url'];
  if (to === undefined) {
    throw new UsageError(
      'rebase needs --to-base-url',
      `shotlist rebase ${arg} --to-base-url URL (the API the folder renders for from now on)`,
    );
  }
  const { rebaseFolder } = await import('../../pipeline/rebase.js');
  const { apiName } = await import('../../pipeline/folder-api.js');
  const result = await rebaseFolder(arg, {
    toBaseUrl: to,
    cwd: ctx.cwd,
    env: ctx.env,
    allowOutside: !!values['allow-outside'],
    ...(values.out !== undefined ? { out: values.out } : {}),
  });
  const there = apiName(result.to, result.from);
  ctx.stdout.write(
    result.from === result.to
      ? `${result.outDir} already renders for ${there}\n`
      : `${result.outDir} now renders for ${there} (was ${apiName(result.from, result.to)}): ${result.carried} done shot${result.carried === 1 ? '' : 's'} kept, nothing sent\n`,
  );
  return EXIT_CODES.ok;
}
