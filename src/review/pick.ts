/** `shotlist pick`: records picked takes from the command line, in the same file as the page. */
import { UsageError } from '../errors.js';
import { loadManifest } from '../manifest/load.js';
import { closest } from '../manifest/suggest.js';
import { folderLookup, renderedPlan } from '../pipeline/job.js';
import { checkFolderApi, outDirOf } from '../pipeline/folder-api.js';
import type { Plan } from '../plan/types.js';
import { bodyFingerprint, pickKey } from '../manifest/identity.js';
import {
  picksFileOf,
  readPicks,
  withPick,
  writePicks,
  extraTakesFrom,
  type ShotPick,
} from '../pipeline/picks.js';

/** A take to pick, or (`reroll`) a mark asking `run --reroll` for one more take. */
export type PickChoice = { shot: string; take: number } | { shot: string; reroll: true };

/** `s01=2` and `s03=reroll` words as choices; a malformed word is a usage error naming it. */
export function parseChoices(words: readonly string[]): PickChoice[] {
  if (words.length === 0) {
    throw new UsageError('pick needs at least one SHOT=TAKE', 'shotlist pick <manifest> s01=2');
  }
  return words.map((word) => {
    const m = /^(.+)=(\d+|reroll)$/.exec(word);
    if (!m || Number(m[2]) < 1) {
      throw new UsageError(
        `"${word}" is not SHOT=TAKE or SHOT=reroll`,
        'write the shot id, "=", a take >= 1 (s01=2), or reroll to ask for one more take (s01=reroll)',
      );
    }
    return m[2] === 'reroll' ? { shot: m[1]!, reroll: true } : { shot: m[1]!, take: Number(m[2]) };
  });
}

/** The planned shot each choice names, in every variant planned; unknown ids and takes refused. */
function pickedShots(plan: Plan, choices: readonly PickChoice[]): ShotPick[] {
  const ids = [...new Set(plan.shots.map((s) => s.id))];
  const entries: ShotPick[] = [];
  for (const c of choices) {
    if (!ids.includes(c.shot)) {
      const guess = closest(c.shot, ids);
      throw new UsageError(
        `the manifest has no shot "${c.shot}"`,
        guess ? `did you mean "${guess}"?` : `use one of: ${ids.slice(0, 20).join(', ')}`,
      );
    }
    for (const variant of plan.variants) {
      if ('reroll' in c) {
        entries.push({ shot: c.shot, variant, reroll: true });
        continue;
      }
      const takes = plan.shots.filter((s) => s.id === c.shot && s.variant === variant);
      const shot = takes.find((s) => s.take === c.take);
      if (!shot) {
        throw new UsageError(
          `shot ${c.shot} has ${takes.length} take${takes.length === 1 ? '' : 's'}: no take ${c.take}`,
          `pick a take from 1 to ${takes.length}`,
        );
      }
      entries.push({ shot: c.shot, variant, take: c.take, body: bodyFingerprint(shot) });
    }
  }
  return entries;
}

export interface PickResult {
  file: string;
  revision: number;
  picked: ShotPick[];
}

/**
 * Records the choices in the picks file of the takes' API (`<manifest>.picks.yaml`, or
 * `<manifest>.simulated.picks.yaml` for simulated takes; every variant, or `variant` only): picks
 * keep re-roll marks and notes, marks keep picks and notes. Sends nothing.
 */
export async function pickTakes(
  manifestFile: string,
  choices: readonly PickChoice[],
  options: {
    variant?: string;
    allowOutside?: boolean;
    /** The output folder (default renders/<name>) and the API (default its last) of the takes. */
    outDir?: string;
    base?: string;
    /** Simulated takes: the default folder is `renders/<name>.simulated`. */
    simulate?: boolean;
  } = {},
): Promise<PickResult> {
  const loaded = await loadManifest(manifestFile, { allowOutside: options.allowOutside === true });
  // The bodies the takes were rendered from (local files' URLs, frames): what stitch checks.
  const outDir =
    options.outDir ??
    (await outDirOf(
      { file: loaded.file, name: loaded.manifest.name },
      { simulate: options.simulate },
    ));
  if (options.base !== undefined) await checkFolderApi(outDir, options.base);
  // The picks of that API's takes: a simulated run's are its own file.
  const { journal, base } = await folderLookup(outDir, options.base);
  const file = picksFileOf(manifestFile, base);
  const current = await readPicks(file);
  const { plan } = await renderedPlan(loaded, {
    outDir,
    base,
    journal,
    planOptions: {
      ...(options.variant !== undefined ? { variant: options.variant } : {}),
      ...extraTakesFrom(current.picks),
    },
  });
  let picks = current.picks;
  const picked = pickedShots(plan, choices);
  for (const entry of picked) {
    const old = picks.find(
      (p) => pickKey(p.shot, p.variant) === pickKey(entry.shot, entry.variant),
    );
    // A mark keeps the pick; a pick keeps the mark. Either keeps the note.
    picks = withPick(
      picks,
      entry.reroll
        ? { ...old, ...entry }
        : {
            ...entry,
            ...(old?.reroll ? { reroll: true } : {}),
            ...(old?.note ? { note: old.note } : {}),
          },
    );
  }
  const written = await writePicks(file, picks, current.revision);
  return { file, revision: written.revision, picked };
}
