/**
 * What the journal knows about a plan's clips: which verified clip each shot has, and which
 * tasks were sent to another API than the one a run is about to use.
 */
import path from 'node:path';
import type { Plan } from '../plan/types.js';
import type { JournalShot } from '../render/journal.js';
import { assessShots, type AssessedShot } from '../render/state.js';
import type { HashCache } from '../render/store.js';
import { SIMULATOR_BASE, sameBase } from './base.js';

/** Tasks the journal holds for one other base URL: money that only that API can deliver. */
export interface ForeignTasks {
  base: string;
  tasks: number;
}

/** Phases in which a task exists (or may) and has not been fetched. */
const OPEN_PHASES = new Set<JournalShot['phase']>([
  'submitting',
  'submitted',
  'unknown',
  'completed',
]);

/** Open tasks of the journal recorded for a base URL other than `base`, per base. */
export function foreignTasks(journal: Map<string, JournalShot>, base: string): ForeignTasks[] {
  const counts = new Map<string, number>();
  for (const j of journal.values()) {
    if (j.base === undefined || sameBase(j.base, base) || !OPEN_PHASES.has(j.phase)) continue;
    counts.set(j.base, (counts.get(j.base) ?? 0) + 1);
  }
  return [...counts].map(([b, tasks]) => ({ base: b, tasks }));
}

/** The base URLs of the journal, the most recently used first. */
export function journalBases(journal: Map<string, JournalShot>): string[] {
  const latest = new Map<string, number>();
  for (const j of journal.values()) {
    if (j.base !== undefined) latest.set(j.base, Math.max(latest.get(j.base) ?? 0, j.intentAt));
  }
  return [...latest].sort((a, b) => b[1] - a[1]).map(([b]) => b);
}

export interface RenderedClips {
  /** The base URL whose clips were found. */
  base: string;
  assessed: AssessedShot[];
  /** Absolute path of each planned shot's verified clip, when it has one. */
  clipOf: (shot: AssessedShot['shot']) => string | undefined;
  /** The sha256 the journal records for a clip of `clipOf` (what a final's record names it by). */
  shaOf: (file: string) => string | undefined;
  /** Shots with a verified clip. */
  found: number;
}

/**
 * Finds each planned shot's verified clip through the journal: the file recorded for its key
 * with a matching sha256. With `base` only that API's clips count; without, the base whose
 * journal holds the most of them (the last used first), so one final never mixes two APIs.
 */
export async function findRenderedClips(
  plan: Pick<Plan, 'shots'>,
  options: {
    outDir: string;
    journal: Map<string, JournalShot>;
    base?: string | undefined;
    fallbackBases?: readonly string[];
    hashes?: HashCache;
  },
): Promise<RenderedClips> {
  const candidates = options.base
    ? [options.base]
    : [
        ...new Set([
          ...journalBases(options.journal),
          ...(options.fallbackBases ?? []),
          SIMULATOR_BASE,
        ]),
      ];
  let best: { base: string; assessed: AssessedShot[]; found: number } | undefined;
  for (const base of candidates) {
    const assessed = await assessShots(plan, {
      outDir: options.outDir,
      baseUrl: base,
      journal: options.journal,
      ...(options.hashes ? { hashes: options.hashes } : {}),
    });
    const found = assessed.filter((a) => a.state === 'cached').length;
    if (!best || found > best.found) best = { base, assessed, found };
  }
  const chosen = best!;
  const cached = chosen.assessed.filter((a) => a.state === 'cached');
  // The path is derived from the shot, never read back from the journal (it is untrusted).
  const files = new Map(cached.map((a) => [a.shot, path.join(options.outDir, a.clip)] as const));
  const hashes = new Map(
    cached.map((a) => [path.join(options.outDir, a.clip), a.journal?.file?.sha256] as const),
  );
  return { ...chosen, clipOf: (shot) => files.get(shot), shaOf: (file) => hashes.get(file) };
}
