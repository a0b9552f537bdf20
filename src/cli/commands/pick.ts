import path from 'node:path';
import { EXIT_CODES, UsageError } from '../../errors.js';
import { ALLOW_OUTSIDE_FLAG, parseCommandArgs } from '../args.js';
import { FOLDER_FLAGS, folderOptionsFrom, shownPath } from '../common.js';
import { refusePoolClash } from '../config.js';
import type { CliContext } from '../context.js';

export const help = `Usage: shotlist pick <manifest> SHOT=TAKE|SHOT=reroll... [options]

Records which take of a shot the finals use, in <manifest>.picks.yaml beside the manifest
(the file \`shotlist review\` writes; commit it with the manifest). \`stitch\` and the stitch
step of \`run\` use the picked take of each shot, take 1 where none is picked. A pick names
the request it was made for: once the shot is edited, the pick is reported stale and not
applied. SHOT=reroll marks the shot for one more take, which \`run --reroll\` renders.
Simulated takes (--simulate, or a folder of simulated renders) have picks of their own, in
<manifest>.simulated.picks.yaml: a rehearsal never changes the real picks. Sends nothing.

  shotlist pick campaign.yaml s01=2 s03=1 s04=reroll

Options:
  --variant NAME   pick in this variant only (default: every variant)
  --out DIR        the run's output folder (default renders/<name> next to the manifest;
                   renders/<name>.simulated with --simulate)
  --simulate, --base-url URL, --accounts FILE   the takes of that API (as \`status\` reads
                   them; default: as \`stitch\` finds them)
  --json           one JSON document: { file, revision, picked }

Exit 0 when recorded, 2 on bad input (an unknown shot or take).
`;

const FLAGS = {
  ...FOLDER_FLAGS,
  variant: { type: 'string' },
  ...ALLOW_OUTSIDE_FLAG,
  json: { type: 'boolean' },
} as const;

/** `shotlist pick`: writes picked takes from the command line. */
export default async function pickCommand(ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(ctx.argv, FLAGS, help);
  refusePoolClash(values, ctx.env);
  const [arg, ...words] = positionals;
  if (arg === undefined) {
    throw new UsageError('pick takes a manifest', 'shotlist pick <manifest> s01=2 s03=1');
  }
  const { parseChoices, pickTakes } = await import('../../review/pick.js');
  const folder = { ...folderOptionsFrom(values), env: ctx.env };
  const { lookupBase, namesBase } = await import('../../pipeline/job.js');
  const base = namesBase(folder) ? await lookupBase(folder, ctx.cwd) : undefined;
  const result = await pickTakes(path.resolve(ctx.cwd, arg), parseChoices(words), {
    ...(values.variant !== undefined ? { variant: values.variant } : {}),
    ...(folder.out !== undefined ? { outDir: path.resolve(ctx.cwd, folder.out) } : {}),
    ...(base !== undefined ? { base } : {}),
    simulate: folder.simulate,
    allowOutside: !!values['allow-outside'],
  });
  if (values.json) {
    ctx.stdout.write(`${JSON.stringify(result)}\n`);
    return EXIT_CODES.ok;
  }
  for (const p of result.picked) {
    const label = `${p.shot}${p.variant ? `@${p.variant}` : ''}`;
    if (p.take === undefined) ctx.stdout.write(`marked ${label} for re-roll (run --reroll)\n`);
    else ctx.stdout.write(`picked ${label}: take ${p.take}\n`);
  }
  ctx.stdout.write(`saved in ${shownPath(ctx, result.file)}\n`);
  return EXIT_CODES.ok;
}
