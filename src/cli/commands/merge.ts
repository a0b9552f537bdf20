import path from 'node:path';
import { EXIT_CODES, UsageError } from '../../errors.js';
import { parseCommandArgs } from '../args.js';
import { shownPath } from '../common.js';
import type { CliContext } from '../context.js';

export const help = `Usage: shotlist merge <out> <shard folder>...

Joins the output folders of \`shotlist run --shard i/n\` jobs (a CI matrix) into one output
folder: checks that no request was submitted in two of them (refused, nothing written:
that shot was paid twice), merges their journals in time order and copies their verified
clips (checked against the sha256 each journal records; links are never followed) into
<out>/clips/.store. <out> may already hold a journal (an earlier merge): merging the same
folders again changes nothing.

Then, as after one unsharded run:
  shotlist stitch <manifest> --out <out>     the finals
  shotlist run <manifest> --out <out> --yes  sends nothing when every shard finished, and
                                             writes the report of the whole manifest

Options:
  --json    one JSON document: { out, shards, entries, added, clips, notes }

Exit 0 merged, 2 bad input (a shot rendered in two folders, a folder that is no run's output).
`;

const FLAGS = { json: { type: 'boolean' } } as const;

/** `shotlist merge`: shard output folders into one. */
export default async function mergeCommand(ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(ctx.argv, FLAGS, help);
  if (positionals.length < 2) {
    throw new UsageError(
      'merge takes an output folder and at least one shard folder',
      'shotlist merge <out> <shard folder>...',
    );
  }
  const [out, ...shards] = positionals.map((p) => path.resolve(ctx.cwd, p));
  const { mergeShards } = await import('../../pipeline/merge.js');
  const result = await mergeShards(out!, shards);
  const say = (line: string) => (values.json ? ctx.stderr : ctx.stdout).write(`${line}\n`);
  for (const note of result.notes) ctx.stderr.write(`note: ${note}\n`);
  const { copied, present } = result.clips;
  say(
    `merged ${result.shards} folder${result.shards === 1 ? '' : 's'} into ${shownPath(ctx, result.outDir)}: ${result.entries} journal entries (${result.added} new), ${copied} clips copied, ${present} already there; no request was submitted twice`,
  );
  say(`next: shotlist stitch <manifest> --out ${shownPath(ctx, result.outDir)}`);
  if (values.json) {
    ctx.stdout.write(
      `${JSON.stringify({
        out: result.outDir,
        shards: result.shards,
        entries: result.entries,
        added: result.added,
        clips: result.clips,
        notes: result.notes,
      })}\n`,
    );
  }
  return EXIT_CODES.ok;
}
