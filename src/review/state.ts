/**
 * What the review page shows: every shot of the manifest (stitch order, per variant) with its
 * takes, each take's status and verified clip, and the current pick, re-roll mark and note.
 */
import path from 'node:path';
import { loadManifest } from '../manifest/load.js';
import type { Plan, PlannedShot } from '../plan/types.js';
import { findRenderedClips } from '../pipeline/clips.js';
import { checkFolderApi, outDirOf } from '../pipeline/folder-api.js';
import { renderedPlan } from '../pipeline/job.js';
import { pickKey, shotLabel } from '../manifest/identity.js';
import { applyPicks, picksFileOf, readPicks } from '../pipeline/picks.js';
import { previewFiles } from './previews.js';

export interface ReviewTake {
  take: number;
  /** `done` when its verified clip is on disk, else what a run would do with it. */
  status: string;
  /** The clip, relative to the output folder (served under `/files/`), when done. */
  clip: string | null;
  cost: number | null;
}

export interface ReviewShot {
  id: string;
  variant: string | null;
  label: string;
  prompt: string;
  mode: string;
  seconds: number;
  currency: string | null;
  takes: ReviewTake[];
  /** The take stitch uses (the pick, else 1). */
  picked: number;
  /** Set when the recorded pick is not applied, with why. */
  stale: string | null;
  reroll: boolean;
  note: string;
}

export interface ReviewState {
  manifest: string;
  name: string;
  picksFile: string;
  revision: number;
  shots: ReviewShot[];
  /** The drafts `stitch --preview` made, relative to the output folder (served under `/files/`). */
  previews: { variant: string | null; file: string }[];
}

export interface ReviewSource {
  manifestFile: string;
  outDir: string;
  allowOutside: boolean;
  /** The API whose clips are shown; default the one the journal holds most clips of. */
  base?: string;
}

/** The planned shots in stitch order, variant by variant, each with its takes. */
function shotsInOrder(plan: Plan): PlannedShot[][] {
  const order = ((plan.stitch ?? {}) as { order?: string[] }).order ?? plan.order;
  const ids = [...order, ...plan.order.filter((id) => !order.includes(id))];
  return plan.variants.flatMap((variant) =>
    ids
      .map((id) => plan.shots.filter((s) => s.id === id && s.variant === variant))
      .filter((takes) => takes.length > 0),
  );
}

/**
 * The folder a review serves (`outDir`, else `out` or the default) and its job's plan: every
 * take, with the bodies the renders of `base` (else the journal's last API) were made from.
 */
export async function reviewPlan(
  source: Omit<ReviewSource, 'outDir'> & {
    out?: string;
    outDir?: string;
    simulate?: boolean;
    note?: (line: string) => void;
  },
) {
  const loaded = await loadManifest(source.manifestFile, { allowOutside: source.allowOutside });
  // `out` comes absolute from the command line (resolved against its working folder).
  const outDir =
    source.outDir ??
    path.resolve(
      source.out ??
        (await outDirOf(
          { file: loaded.file, name: loaded.manifest.name },
          { simulate: source.simulate, note: source.note },
        )),
    );
  // One folder, one API: told which API, a folder of another one is refused.
  if (source.base !== undefined) await checkFolderApi(outDir, source.base);
  const { plan, base, journal } = await renderedPlan(loaded, { outDir, base: source.base });
  return { plan, outDir, base, journal };
}

/** Reads the manifest, journal, clips and picks afresh: a reload shows what is on disk now. */
export async function reviewState(source: ReviewSource): Promise<ReviewState> {
  const { plan, journal, base } = await reviewPlan(source);
  // As stitch finds them: without a base, the one the journal holds most clips of.
  const clips = await findRenderedClips(plan, {
    outDir: source.outDir,
    journal: journal.shots,
    base: source.base,
  });
  const byShot = new Map(clips.assessed.map((a) => [a.shot, a] as const));
  // The picks of the API whose takes are shown: a simulated run's are its own file.
  const file = picksFileOf(source.manifestFile, base);
  const picks = await readPicks(file);
  const applied = applyPicks(plan, picks.picks);
  const stale = new Map(applied.stale.map((s) => [s.label, s.reason] as const));
  const shots = shotsInOrder(plan).map((takes): ReviewShot => {
    const first = takes[0]!;
    const entry = picks.picks.find(
      (p) => pickKey(p.shot, p.variant) === pickKey(first.id, first.variant),
    );
    const label = shotLabel(first, false);
    return {
      id: first.id,
      variant: first.variant,
      label,
      prompt: first.prompt,
      mode: first.mode,
      seconds: first.seconds,
      currency: first.currency,
      takes: takes.map((s) => {
        const a = byShot.get(s);
        const done = a?.state === 'cached';
        return {
          take: s.take,
          status: done ? 'done' : (a?.state ?? 'new'),
          clip: done ? a.clip : null,
          cost: s.cost,
        };
      }),
      picked: applied.takeOf(first.id, first.variant),
      stale: stale.get(label) ?? null,
      reroll: entry?.reroll === true,
      note: entry?.note ?? '',
    };
  });
  return {
    manifest: path.basename(source.manifestFile),
    name: plan.manifest.name,
    picksFile: path.basename(file),
    revision: picks.revision,
    shots,
    previews: await previewFiles(plan, source.outDir),
  };
}
