import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { EXIT_CODES, UsageError } from '../../errors.js';
import { parseCommandArgs } from '../args.js';
import type { CliContext } from '../context.js';

export const help = `Usage: shotlist init [file] [--json]

Writes a commented starter manifest (default shotlist.yaml), creating its folder if needed.
Never overwrites a file.
`;

/** The starter manifest: valid as written, and a tour of the format in its comments. */
const STARTER = `# yaml-language-server: $schema=./node_modules/shotlist/schema/manifest.schema.json
# A shotlist manifest: shots rendered through the Seedance video API, then stitched.
# Check it: shotlist validate <file>   Cost it: shotlist plan <file>   Try it free: shotlist run --simulate <file>
version: 1
name: my-first-story            # the output folder: renders/my-first-story

defaults:                       # every shot inherits these unless it sets its own
  model: seedance-2-official    # or seedance-2-official2-fast (720p default, asset:// refs)
  duration: 5                   # seconds, 4-15; billed per second
  ratio: "16:9"                 # 21:9 16:9 4:3 1:1 3:4 9:16
  size: 480p                    # 480p or 720p

vars:                           # \${hero} in any string below becomes this text
  hero: an orange cat

pricing:                        # your price per second; without it plans show seconds only
  currency: CNY
  per_second:
    seedance-2-official: 1.0

budget:
  max_cost: 40                  # run refuses to start above this (exit 3)

shots:
  - id: s01-garden              # unique; becomes the clip's file name
    prompt: \${hero} chasing butterflies in a garden, slow motion, cinematic
  - id: s02-nap
    prompt: \${hero} falls asleep in a sunbeam on a wooden floor, soft light
    duration: 4
    # assets: { images: [https://example.com/first-frame.jpg] }   # 1 image: image_to_video

stitch:
  output: final.mp4
  transition: { type: fade, duration: 0.5 }   # cut, fade, dissolve, wipeleft, ...
`;

/** Opens a new file for writing, creating its folders; never an existing file. */
async function create(absolute: string, file: string) {
  const cannot = (error: unknown) =>
    new UsageError(
      `cannot write ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      'give a path in a folder you can write to',
    );
  try {
    await mkdir(path.dirname(absolute), { recursive: true });
  } catch (error) {
    throw cannot(error);
  }
  try {
    return await open(absolute, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw cannot(error);
    throw new UsageError(
      `${file} already exists; init never overwrites a file`,
      'give another name: shotlist init other.yaml',
    );
  }
}

export default async function init(ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(ctx.argv, { json: { type: 'boolean' } }, help);
  if (positionals.length > 1)
    throw new UsageError('init takes at most one file name', 'shotlist init [file]');
  const file = positionals[0] ?? 'shotlist.yaml';
  const handle = await create(path.resolve(ctx.cwd, file), file);
  try {
    await handle.writeFile(STARTER);
  } finally {
    await handle.close();
  }
  if (values.json) ctx.stdout.write(`${JSON.stringify({ file })}\n`);
  else ctx.stdout.write(`wrote ${file}\nnext: shotlist plan ${file}\n`);
  return EXIT_CODES.ok;
}
