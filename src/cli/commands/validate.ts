import path from 'node:path';
import { EXIT_CODES, ManifestError, formatDiagnostic, type Diagnostic } from '../../errors.js';
import { checkManifest, readManifestText, type LoadedManifest } from '../../manifest/load.js';
import { ALLOW_OUTSIDE_FLAG, parseCommandArgs } from '../args.js';
import type { CliContext } from '../context.js';

export const help = `Usage: shotlist validate <manifest>... [--json] [--allow-outside]

Checks one or more manifests against the schema, every rule of the API reference and of the
stitcher, the local files they name and the picks files beside each (<manifest>.picks.yaml
and, for simulated takes, <manifest>.simulated.picks.yaml: their extra takes, and that no
two shots write one clip file, names compared case-insensitively), and prints each problem as file:line:col with the fix. Measures local voice-overs and the soundtrack with ffprobe:
a voice-over longer than its shot is an error, a soundtrack shorter than the cut a warning. Sends nothing. --allow-outside lets a manifest read local files outside its folder.
Exit 0 when all are valid, 2 when any has an error.
`;

/** The picks files' extra takes: in bounds, and writing no other shot's clip (throws if not). */
async function checkPicks(loaded: LoadedManifest, absolute: string): Promise<void> {
  const { extraTakesFrom, manifestPicks } = await import('../../pipeline/picks.js');
  const { SIMULATOR_BASE } = await import('../../pipeline/base.js');
  // The real takes' picks, then the simulated takes' (a file of its own).
  for (const base of [undefined, SIMULATOR_BASE]) {
    const picks = await manifestPicks(absolute, base);
    if (!picks.some((p) => p.extra_takes !== undefined)) continue;
    const { plan } = await import('../../plan/plan.js');
    plan(loaded, extraTakesFrom(picks));
  }
}

async function check(file: string, cwd: string, allowOutside: boolean): Promise<Diagnostic[]> {
  const absolute = path.resolve(cwd, file);
  try {
    const text = await readManifestText(absolute, file);
    const { cjkFontFound } = await import('../../media/fonts.js');
    const result = checkManifest(text, file, {
      dir: path.dirname(absolute),
      allowOutside,
      cjkFont: cjkFontFound,
    });
    if (result.loaded) await checkPicks(result.loaded, absolute);
    if (result.loaded) {
      // Measured with ffprobe: a voice-over longer than its shot, a soundtrack shorter than the cut.
      const { audioLengthProblems } = await import('../../media/audio-lengths.js');
      return [...result.diagnostics, ...(await audioLengthProblems(result.loaded))];
    }
    return result.diagnostics;
  } catch (error) {
    if (error instanceof ManifestError) return error.diagnostics;
    throw error;
  }
}

export default async function validate(ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    ctx.argv,
    { json: { type: 'boolean' }, ...ALLOW_OUTSIDE_FLAG },
    help,
  );
  if (positionals.length === 0) {
    ctx.stderr.write(`error: no manifest given\n  fix: shotlist validate <manifest>...\n`);
    return EXIT_CODES.badInput;
  }
  const results = [];
  for (const file of positionals) {
    const diagnostics = await check(file, ctx.cwd, values['allow-outside'] === true);
    results.push({ file, ok: !diagnostics.some((d) => d.severity === 'error'), diagnostics });
  }
  if (values.json) {
    ctx.stdout.write(`${JSON.stringify({ files: results }, null, 2)}\n`);
  } else {
    for (const r of results) {
      for (const d of r.diagnostics) ctx.stderr.write(`${formatDiagnostic(d)}\n`);
      const errors = r.diagnostics.filter((d) => d.severity === 'error').length;
      const warnings = r.diagnostics.length - errors;
      const tail = warnings ? ` (${warnings} warning${warnings === 1 ? '' : 's'})` : '';
      if (r.ok) ctx.stdout.write(`ok: ${r.file}${tail}\n`);
      else ctx.stderr.write(`${r.file}: ${errors} error${errors === 1 ? '' : 's'}${tail}\n`);
    }
  }
  return results.every((r) => r.ok) ? EXIT_CODES.ok : EXIT_CODES.badInput;
}
