/**
 * Finals that stay although their variant cannot be stitched now. A final is moved aside only
 * when the manifest or the picks changed what it must contain, never because a run failed to
 * render: a shot whose new attempt failed (or was never sent) still has the clip its request
 * last made, and a final stitched from those clips is still the manifest's final.
 */
import path from 'node:path';
import { currentFinal, finalInputs } from '../media/finals.js';
import { stitchJobs, type SkippedOutput } from '../media/outputs.js';
import type { Plan, PlannedShot } from '../plan/types.js';
import type { JournalEntry } from '../render/journal.js';
import { hashFile, type AssessedShot } from '../render/state.js';
import { regularFile } from '../safe-fs.js';

/**
 * The outputs among `skipped` whose final on disk was stitched from the clips the manifest and
 * picks ask for now: each shot's request by the last clip the journal verified for it.
 */
export async function currentSkippedFinals(
  plan: Plan,
  skipped: readonly SkippedOutput[],
  at: {
    outDir: string;
    entries: readonly JournalEntry[];
    assessed: readonly AssessedShot[];
    /** Each stitched shot's clip as stitch chooses it (the picked take), from a clip lookup. */
    picked: (
      clipOf: (shot: PlannedShot) => string | undefined,
    ) => (shot: PlannedShot) => string | undefined;
  },
): Promise<Set<string>> {
  const kept = new Set<string>();
  if (skipped.length === 0) return kept;
  const lastSha = new Map<string, string>();
  for (const e of at.entries) {
    if (e.type === 'file') lastSha.set(e.key, e.sha256);
    // A shot carried from another API (`rebase`) holds the clip its request made there.
    const carried = e.type === 'carried' ? lastSha.get(e.from) : undefined;
    if (e.type === 'carried' && carried !== undefined) lastSha.set(e.key, carried);
  }
  const byShot = new Map(at.assessed.map((a) => [a.shot, a] as const));
  const shaOf = new Map<string, string>();
  const clipOf = (shot: PlannedShot) => {
    const a = byShot.get(shot);
    const sha = a === undefined ? undefined : lastSha.get(a.key);
    if (a === undefined || sha === undefined) return undefined;
    const file = path.join(at.outDir, a.clip);
    shaOf.set(file, sha);
    return file;
  };
  const names = new Set(skipped.map((s) => s.output));
  const { jobs } = stitchJobs(plan, at.picked(clipOf), at.outDir, path.dirname(plan.manifest.file));
  for (const job of jobs) {
    const output = path.relative(at.outDir, job.options.output);
    if (!names.has(output)) continue;
    const shas = job.options.clips.map((c) => shaOf.get(c.file)!);
    // Each clip is still on disk as verified: a final is kept only beside the clips it holds.
    if (!(await clipsOnDisk(at.outDir, job.options.clips, shas))) continue;
    const inputs = await finalInputs(job, at.outDir, shas);
    if (await currentFinal(at.outDir, output, inputs)) kept.add(output);
  }
  return kept;
}

/** Whether each clip is a plain file (no link followed) with the sha256 the journal verified. */
async function clipsOnDisk(
  outDir: string,
  clips: readonly { file: string }[],
  shas: readonly string[],
): Promise<boolean> {
  for (const [i, clip] of clips.entries()) {
    if (!(await regularFile(outDir, path.relative(outDir, clip.file)))) return false;
    if ((await hashFile(clip.file).catch(() => undefined)) !== shas[i]) return false;
  }
  return true;
}
