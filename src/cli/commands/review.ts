import { spawn } from 'node:child_process';
import path from 'node:path';
import { EXIT_CODES, UsageError } from '../../errors.js';
import { ALLOW_OUTSIDE_FLAG, numberFlag, parseCommandArgs } from '../args.js';
import { FOLDER_FLAGS, folderOptionsFrom, manifestArg } from '../common.js';
import { refusePoolClash } from '../config.js';
import type { CliContext } from '../context.js';

export const help = `Usage: shotlist review <manifest> [options]

Serves a local page (127.0.0.1 only) to review the rendered takes: every shot in stitch
order, per variant, its takes side by side with players, prompt, mode, cost and status.
Pick with a click or the keyboard (1-9 pick, j/k or arrows next/previous shot, space
play/pause, r mark re-roll, n note). Every change is saved at once in
<manifest>.picks.yaml, which \`stitch\` uses; simulated takes (--simulate, or a folder of
simulated renders) in <manifest>.simulated.picks.yaml, apart from the real picks. Sends
nothing to the API. Ctrl-C stops it.
The printed URL carries a random ?token= for this session: without it the server shows
only a notice, so other local users and processes cannot read the prompts or write picks.

Options:
  --out DIR        the run's output folder (default renders/<name> next to the manifest;
                   renders/<name>.simulated with --simulate)
  --simulate       the takes of \`run --simulate\`
  --base-url URL   the takes rendered with this API
  --accounts FILE  the takes of \`run --accounts FILE\` (default $SHOTLIST_ACCOUNTS): the
                   base URL its accounts share; no key is needed
  --port N         listen on this port (default: a free one; one in use is refused)
  --open           open the page in the default browser

Without --simulate, --base-url or --accounts the page shows the takes as \`stitch\` finds
them (the flags as \`status\` reads them).
`;

const FLAGS = {
  ...FOLDER_FLAGS,
  port: { type: 'string' },
  open: { type: 'boolean' },
  ...ALLOW_OUTSIDE_FLAG,
  json: { type: 'boolean' },
} as const;

/** Opens `url` with the system's opener; failing to is not an error (the URL is printed). */
function openBrowser(url: string): void {
  const opener =
    process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  const child = spawn(opener, [url], { stdio: 'ignore', detached: true });
  child.on('error', () => undefined);
  child.unref();
}

/** `shotlist review`: the review server, until interrupted. */
export default async function reviewCommand(ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(ctx.argv, FLAGS, help);
  refusePoolClash(values, ctx.env);
  const { file } = manifestArg(ctx, positionals, 'review');
  const port = numberFlag(values.port, '--port', true) ?? 0;
  if (port > 65535) {
    throw new UsageError(`--port ${values.port} is not a port`, 'use 1-65535, or leave it out');
  }
  const { reviewPlan } = await import('../../review/state.js');
  const { startReview } = await import('../../review/server.js');
  const allowOutside = !!values['allow-outside'];
  const folder = { ...folderOptionsFrom(values), env: ctx.env };
  const { lookupBase, namesBase } = await import('../../pipeline/job.js');
  const base = namesBase(folder) ? await lookupBase(folder, ctx.cwd) : undefined;
  const { outDir } = await reviewPlan({
    manifestFile: file,
    allowOutside,
    ...(folder.out !== undefined ? { out: path.resolve(ctx.cwd, folder.out) } : {}),
    ...(base !== undefined ? { base } : {}),
    simulate: folder.simulate,
    note: (line) => ctx.stderr.write(`${line}\n`),
  });
  const source = { manifestFile: file, outDir, allowOutside, ...(base ? { base } : {}) };
  const server = await startReview(source, port);
  if (values.json) ctx.stdout.write(`${JSON.stringify({ url: server.url, out: outDir })}\n`);
  else ctx.stdout.write(`review at ${server.url} (Ctrl-C to stop)\n`);
  if (values.open) openBrowser(server.url);
  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) resolve();
    ctx.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await server.close();
  return EXIT_CODES.ok;
}
