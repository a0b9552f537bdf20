/**
 * Picks: which take of each shot the finals use, plus re-roll marks and notes, kept in a
 * sidecar `<manifest>.picks.yaml` meant to be committed with the manifest. Each pick names
 * the body it was made for, so a pick whose shot changed since is reported stale, not applied.
 */
import { createHash } from 'node:crypto';
import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { EXIT_CODES, ShotlistError, UsageError } from '../errors.js';
import { writeFileAtomic } from '../safe-fs.js';
import { canonicalJson } from '../api/contract.js';
import { shotLabel } from '../plan/label.js';
import type { PlanOptions } from '../plan/plan.js';
import type { Plan, PlannedShot } from '../plan/types.js';

/** What the review page or `shotlist pick` recorded for one shot of one variant. */
export interface ShotPick {
  shot: string;
  variant: string | null;
  /** The picked take (1-based); none: the first take. */
  take?: number;
  /** Fingerprint of the request the take was rendered from ({@link bodyFingerprint}). */
  body?: string;
  /** Marked for one more take by `run --reroll`. */
  reroll?: boolean;
  note?: string;
  /** Takes the shot has beyond the manifest's `takes`: one per finished re-roll. */
  extra_takes?: number;
}

export interface PicksFile {
  /** Counts the writes: a writer that read revision N may only write when it is still N. */
  revision: number;
  picks: ShotPick[];
}

/** A pick that is not applied: its shot changed, lost the take, or left the manifest. */
export interface StalePick {
  label: string;
  take: number;
  reason: string;
}

/** A write refused because the file changed since the writer read it. */
export class StalePicksError extends ShotlistError {
  constructor(file: string, expected: number, found: number) {
    super(
      `${path.basename(file)} changed since it was read (revision ${found}, expected ${expected})`,
      {
        code: 'stale_picks',
        exitCode: EXIT_CODES.badInput,
        fix: 'reload to see the current picks, then pick again',
      },
    );
  }
}

/** `campaign.yaml` -> `campaign.picks.yaml`, beside the manifest. */
export function picksFileOf(manifestFile: string): string {
  const ext = path.extname(manifestFile);
  const stem = /^\.ya?ml$/i.test(ext) ? manifestFile.slice(0, -ext.length) : manifestFile;
  return `${stem}.picks.yaml`;
}

/** The fingerprint of a take's request body: what a pick is valid for. */
export function bodyFingerprint(shot: Pick<PlannedShot, 'request'>): string {
  return createHash('sha256').update(canonicalJson(shot.request)).digest('hex').slice(0, 16);
}

/** One shot of one variant as a map key. */
export function pickKey(shot: string, variant: string | null): string {
  return `${shot}\u0000${variant ?? ''}`;
}

const isCount = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;

/** One entry as written, or undefined when it is not one (a hand edit gone wrong). */
function entryOf(value: unknown): ShotPick | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.shot !== 'string') return undefined;
  if (v.variant !== undefined && v.variant !== null && typeof v.variant !== 'string') return;
  if (v.take !== undefined && !(isCount(v.take) && v.take >= 1)) return undefined;
  return {
    shot: v.shot,
    variant: typeof v.variant === 'string' ? v.variant : null,
    ...(typeof v.take === 'number' ? { take: v.take } : {}),
    ...(typeof v.body === 'string' ? { body: v.body } : {}),
    ...(v.reroll === true ? { reroll: true } : {}),
    ...(typeof v.note === 'string' && v.note !== '' ? { note: v.note } : {}),
    ...(isCount(v.extra_takes) && v.extra_takes > 0 ? { extra_takes: v.extra_takes } : {}),
  };
}

/** Parses a picks file's text; a file that is not one is an error naming it. */
export function parsePicks(text: string, file: string): PicksFile {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new UsageError(
      `${file} is not valid YAML: ${(err as Error).message}`,
      'fix or delete it',
    );
  }
  if (doc === null || doc === undefined) return { revision: 0, picks: [] };
  const d = doc as { revision?: unknown; picks?: unknown };
  const raw = Array.isArray(d.picks) ? (d.picks as unknown[]) : [];
  const picks = raw.map(entryOf);
  const bad = picks.findIndex((p) => p === undefined);
  if (typeof doc !== 'object' || (d.picks !== undefined && !Array.isArray(d.picks)) || bad >= 0) {
    throw new UsageError(
      `${file} is not a picks file${bad >= 0 ? ` (picks[${bad}] needs a shot and a take >= 1)` : ''}`,
      'fix it by hand, or delete it and pick again',
    );
  }
  return { revision: isCount(d.revision) ? d.revision : 0, picks: picks as ShotPick[] };
}

/** The picks file of a manifest; none yet: revision 0, no picks. Links are refused. */
export async function readPicks(file: string): Promise<PicksFile> {
  try {
    if ((await lstat(file)).isSymbolicLink()) {
      throw new UsageError(`${file} is a symbolic link`, 'replace it with a regular file');
    }
    return parsePicks(await readFile(file, 'utf8'), file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { revision: 0, picks: [] };
    throw err;
  }
}

/** The file's text: a comment saying what it is, then the picks in a stable order. */
export function formatPicks(picks: PicksFile, manifestName: string): string {
  const sorted = [...picks.picks].sort(
    (a, b) =>
      (a.variant ?? '').localeCompare(b.variant ?? '') || a.shot.localeCompare(b.shot, 'en'),
  );
  const entries = sorted.map((p) => ({
    shot: p.shot,
    ...(p.variant !== null ? { variant: p.variant } : {}),
    ...(p.take !== undefined ? { take: p.take } : {}),
    ...(p.body !== undefined ? { body: p.body } : {}),
    ...(p.reroll ? { reroll: true } : {}),
    ...(p.note ? { note: p.note } : {}),
    ...(p.extra_takes ? { extra_takes: p.extra_takes } : {}),
  }));
  return (
    `# Takes picked for ${manifestName} (shotlist review, shotlist pick): stitch uses them.\n` +
    `# body: fingerprint of the shot's request when picked; once the shot changes, the pick is stale.\n` +
    (entries.some((e) => e.extra_takes)
      ? `# extra_takes: takes run --reroll added beyond the shot's takes; delete the line to drop them.\n`
      : '') +
    stringify({ version: 1, revision: picks.revision, picks: entries })
  );
}

/**
 * Writes the picks when the file is still at `expected` (the revision the writer read), with
 * the revision counted up; refuses with {@link StalePicksError} otherwise. Atomic.
 */
export async function writePicks(
  file: string,
  picks: readonly ShotPick[],
  expected: number,
): Promise<PicksFile> {
  const current = await readPicks(file);
  if (current.revision !== expected) throw new StalePicksError(file, expected, current.revision);
  const next = { revision: expected + 1, picks: [...picks] };
  const manifest = path.basename(file).replace(/\.picks\.yaml$/, '.yaml');
  await writeFileAtomic(path.dirname(file), path.basename(file), formatPicks(next, manifest));
  return next;
}

/**
 * Replaces (or adds) the entry of one shot of one variant; an empty entry is dropped. The
 * shot's extra takes are kept unless the entry sets them: they are renders, not a choice.
 */
export function withPick(picks: readonly ShotPick[], next: ShotPick): ShotPick[] {
  const key = pickKey(next.shot, next.variant);
  const old = picks.find((p) => pickKey(p.shot, p.variant) === key);
  const others = picks.filter((p) => pickKey(p.shot, p.variant) !== key);
  const extra = next.extra_takes ?? old?.extra_takes;
  const entry = { ...next, ...(extra ? { extra_takes: extra } : {}) };
  const empty = entry.take === undefined && !entry.reroll && !entry.note && !entry.extra_takes;
  return empty ? others : [...others, entry];
}

/** The extra takes each shot of each variant has had (re-rolls done). */
export function extraTakesOf(picks: readonly ShotPick[]): Map<string, number> {
  return new Map(
    picks.flatMap((p) => (p.extra_takes ? [[pickKey(p.shot, p.variant), p.extra_takes]] : [])),
  );
}

/** The shots of each variant marked for one more take ({@link pickKey}). */
export function rerollMarks(picks: readonly ShotPick[]): Set<string> {
  return new Set(picks.filter((p) => p.reroll).map((p) => pickKey(p.shot, p.variant)));
}

/** A re-roll that rendered: the shot now has `extra_takes` takes beyond the manifest's. */
export interface RerollDone {
  shot: string;
  variant: string | null;
  extra_takes: number;
}

/** The new take of a shot marked for re-roll, and the extra takes the shot has once it is done. */
export interface RerollTake extends RerollDone {
  take: number;
}

/**
 * Records finished re-rolls: each shot's mark cleared and its extra takes set. Written with
 * the revision check; a write that lost a race with the review page reads again and retries.
 */
export async function recordRerolls(file: string, done: readonly RerollDone[]): Promise<void> {
  if (done.length === 0) return;
  for (let attempt = 1; ; attempt++) {
    const current = await readPicks(file);
    let picks = current.picks;
    for (const d of done) {
      const old = picks.find((p) => pickKey(p.shot, p.variant) === pickKey(d.shot, d.variant));
      const entry: ShotPick = old ?? { shot: d.shot, variant: d.variant };
      const { reroll: _cleared, ...kept } = entry;
      // Never fewer than recorded: a take once rendered stays part of the shot.
      const extra = Math.max(d.extra_takes, old?.extra_takes ?? 0);
      picks = withPick(picks, { ...kept, extra_takes: extra });
    }
    try {
      await writePicks(file, picks, current.revision);
      return;
    } catch (err) {
      if (!(err instanceof StalePicksError) || attempt >= 3) throw err;
    }
  }
}

/**
 * The takes the picks file adds to each shot: its finished re-rolls and, in a re-roll run
 * (`reroll`), one more for each marked shot.
 */
export function extraTakesFrom(
  picks: readonly ShotPick[],
  reroll = false,
): Pick<PlanOptions, 'extraTakes'> {
  const extra = extraTakesOf(picks);
  const marked = reroll ? rerollMarks(picks) : new Set<string>();
  return {
    extraTakes: (shot, variant) => {
      const key = pickKey(shot, variant);
      return (extra.get(key) ?? 0) + (marked.has(key) ? 1 : 0);
    },
  };
}

/** A re-roll run plans the marked shots only (every take of each, the new one last). */
export function markedShotsOnly(picks: readonly ShotPick[]): Pick<PlanOptions, 'shotFilter'> {
  const marked = rerollMarks(picks);
  return { shotFilter: (shot, variant) => marked.has(pickKey(shot, variant)) };
}

export interface AppliedPicks {
  /** The take each shot of each variant uses ({@link pickKey}); absent: take 1. */
  takeOf: (shot: string, variant: string | null) => number;
  /** Picks applied: their labels and takes. */
  applied: { label: string; take: number }[];
  stale: StalePick[];
}

/**
 * Matches the picks against a plan: a pick counts when the plan still has that take of the
 * shot and its request is the body the pick was made for. Pure.
 */
export function applyPicks(plan: Pick<Plan, 'shots'>, picks: readonly ShotPick[]): AppliedPicks {
  const chosen = new Map<string, number>();
  const applied: AppliedPicks['applied'] = [];
  const stale: StalePick[] = [];
  const variants = new Set(plan.shots.map((s) => s.variant));
  for (const p of picks) {
    if (p.take === undefined || !variants.has(p.variant)) continue;
    const label = shotLabel({ id: p.shot, variant: p.variant, take: 1 });
    const takes = plan.shots.filter((s) => s.id === p.shot && s.variant === p.variant);
    const shot = takes.find((s) => s.take === p.take);
    let reason: string | undefined;
    if (takes.length === 0) reason = 'the shot is no longer in the manifest';
    else if (!shot) reason = `the shot has ${takes.length} take${takes.length === 1 ? '' : 's'}`;
    else if (p.body !== bodyFingerprint(shot)) reason = 'the shot changed since it was picked';
    if (reason) {
      stale.push({ label, take: p.take, reason });
      continue;
    }
    chosen.set(pickKey(p.shot, p.variant), p.take);
    applied.push({ label, take: p.take });
  }
  return {
    takeOf: (shot, variant) => chosen.get(pickKey(shot, variant)) ?? 1,
    applied,
    stale,
  };
}

/** The words for a stale pick, for logs and warnings. */
export function staleMessage(s: StalePick): string {
  return `pick of ${s.label} take ${s.take} is stale (${s.reason}): not applied, take 1 is used; pick again`;
}

/** The entries of a manifest's picks file (none yet: none). */
export async function manifestPicks(manifestFile: string): Promise<ShotPick[]> {
  return (await readPicks(picksFileOf(manifestFile))).picks;
}

/** The picks of a plan's manifest, matched against it. */
export async function picksOfPlan(plan: Pick<Plan, 'shots' | 'manifest'>): Promise<AppliedPicks> {
  const { picks } = await readPicks(picksFileOf(plan.manifest.file));
  return applyPicks(plan, picks);
}
