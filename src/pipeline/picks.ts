/**
 * Picks: which take of each shot the finals use, plus re-roll marks and notes, kept in a
 * sidecar `<manifest>.picks.yaml` meant to be committed with the manifest. Each pick names
 * the body it was made for, so a pick whose shot changed since is reported stale, not applied.
 * A simulated run is an API of its own: its picks live apart, in `<manifest>.simulated.picks.yaml`,
 * so a rehearsal never changes the takes, re-roll marks or extra takes of the real film.
 */
import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, parseDocument, stringify } from 'yaml';
import {
  EXIT_CODES,
  ManifestError,
  ShotlistError,
  optionText,
  type Diagnostic,
} from '../errors.js';
import { MAX_MANIFEST_BYTES } from '../manifest/load.js';
import { SourceMap, type Position } from '../manifest/positions.js';
import { MAX_TAKES } from '../manifest/schema.js';
import { writeFileAtomic } from '../safe-fs.js';
import { bodyFingerprint, pickKey, shotLabel } from '../manifest/identity.js';
import { SIMULATOR_BASE } from './base.js';
import type { PlanOptions } from '../plan/plan.js';
import type { Plan } from '../plan/types.js';

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

/**
 * The picks file of the takes of the API `base` (a journal base; undefined: a real API),
 * beside the manifest: `campaign.yaml` -> `campaign.picks.yaml`, or, for the simulator's
 * takes, `campaign.simulated.picks.yaml`.
 */
export function picksFileOf(manifestFile: string, base?: string): string {
  const ext = path.extname(manifestFile);
  const stem = /^\.ya?ml$/i.test(ext) ? manifestFile.slice(0, -ext.length) : manifestFile;
  return base === SIMULATOR_BASE ? `${stem}.simulated.picks.yaml` : `${stem}.picks.yaml`;
}

/** The manifest a picks file belongs to, by name: `campaign(.simulated).picks.yaml` -> `campaign.yaml`. */
function manifestNameOf(picksFile: string): string {
  return path.basename(picksFile).replace(/(\.simulated)?\.picks\.yaml$/, '.yaml');
}

const isCount = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;

/**
 * Where each entry read from a picks file is written, for errors about it found later (a
 * shot whose takes and re-rolls together exceed the bound): the file and the entry's place.
 */
const writtenAt = new WeakMap<ShotPick, { file: string; at: Position }>();

/** A problem of a picks file, at `file:line:col`, as a manifest problem is (exit 2). */
function picksProblem(file: string, at: Position, message: string, fix: string): Diagnostic {
  return { severity: 'error', file, line: at.line, col: at.col, path: '', message, fix };
}

const PICKS_FIX = 'fix it by hand, or delete it and pick again';
/** The fix of a bad `extra_takes`, naming the re-roll option as the reader calls it. */
const extraTakesFix = () =>
  `extra_takes counts the takes run ${optionText('reroll')} added: a whole number, at most ${MAX_TAKES} minus the shot's takes in the manifest (${MAX_TAKES} takes in all); delete the line to drop them`;

/** One entry as written, or a problem saying why it is not one (a hand edit gone wrong). */
function entryOf(value: unknown, index: number): ShotPick | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return `picks[${index}] is not an entry`;
  const v = value as Record<string, unknown>;
  if (typeof v.shot !== 'string') return `picks[${index}] needs a shot`;
  if (v.variant !== undefined && v.variant !== null && typeof v.variant !== 'string')
    return `picks[${index}].variant is not a name`;
  if (v.take !== undefined && !(isCount(v.take) && v.take >= 1))
    return `picks[${index}] needs a take >= 1`;
  if (v.extra_takes !== undefined && !(isCount(v.extra_takes) && v.extra_takes < MAX_TAKES))
    return `picks[${index}].extra_takes is ${JSON.stringify(v.extra_takes)}: a shot has at most ${MAX_TAKES} takes, re-rolls included`;
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

/** The YAML of a picks file with positions; a file that is not YAML is an error at its place. */
function parseWithPositions(text: string, file: string): { doc: unknown; source: SourceMap } {
  const lines = new LineCounter();
  const yaml = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const source = new SourceMap(yaml, lines);
  const error = yaml.errors[0];
  if (error) {
    const at = source.position(error.pos[0]);
    throw new ManifestError([
      picksProblem(file, at, `not valid YAML: ${error.message.split('\n')[0]}`, PICKS_FIX),
    ]);
  }
  try {
    return { doc: yaml.toJS({ maxAliasCount: 100 }), source };
  } catch (err) {
    const at = { line: 1, col: 1 };
    throw new ManifestError([
      picksProblem(file, at, `cannot be read: ${(err as Error).message}`, PICKS_FIX),
    ]);
  }
}

/**
 * Parses a picks file's text; a file that is not one is an error at `file:line:col` naming
 * every bad entry (exit 2).
 */
export function parsePicks(text: string, file: string): PicksFile {
  const { doc, source } = parseWithPositions(text, file);
  if (doc === null || doc === undefined) return { revision: 0, picks: [] };
  const d = doc as { revision?: unknown; picks?: unknown };
  if (
    typeof doc !== 'object' ||
    Array.isArray(doc) ||
    (d.picks !== undefined && !Array.isArray(d.picks))
  ) {
    throw new ManifestError([
      picksProblem(
        file,
        source.locate(['picks']),
        'is not a picks file (picks: a list of entries)',
        PICKS_FIX,
      ),
    ]);
  }
  const raw = Array.isArray(d.picks) ? (d.picks as unknown[]) : [];
  const problems: Diagnostic[] = [];
  const picks: ShotPick[] = [];
  for (const [i, value] of raw.entries()) {
    const entry = entryOf(value, i);
    if (typeof entry === 'string') {
      const field = /\]\.(\w+)/.exec(entry)?.[1];
      const fix = field === 'extra_takes' ? extraTakesFix() : PICKS_FIX;
      problems.push(
        picksProblem(file, source.locate(['picks', i, ...(field ? [field] : [])]), entry, fix),
      );
      continue;
    }
    const field = entry.extra_takes !== undefined ? ['extra_takes'] : [];
    writtenAt.set(entry, { file, at: source.locate(['picks', i, ...field]) });
    picks.push(entry);
  }
  if (problems.length > 0) throw new ManifestError(problems);
  return { revision: isCount(d.revision) ? d.revision : 0, picks };
}

/**
 * The picks file of a manifest; none yet: revision 0, no picks. Links are refused, and so
 * is a file larger than a manifest may be, before it is read.
 */
export async function readPicks(file: string): Promise<PicksFile> {
  try {
    const info = await lstat(file);
    if (info.isSymbolicLink()) {
      throw new ManifestError([
        picksProblem(
          file,
          { line: 1, col: 1 },
          'is a symbolic link',
          'replace it with a regular file',
        ),
      ]);
    }
    if (info.size > MAX_MANIFEST_BYTES) {
      throw new ManifestError([
        picksProblem(
          file,
          { line: 1, col: 1 },
          `is ${(info.size / 1048576).toFixed(1)} MB; the limit is ${MAX_MANIFEST_BYTES / 1048576} MB`,
          'a picks file holds one short entry per shot: delete it and pick again',
        ),
      ]);
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
      ? `# extra_takes: takes re-roll runs added beyond the shot's takes; delete the line to drop them.\n`
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
  await writeFileAtomic(
    path.dirname(file),
    path.basename(file),
    formatPicks(next, manifestNameOf(file)),
  );
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

/** A shot whose takes and re-rolls exceed the bound: an error at its entry of the picks file. */
function tooManyTakes(
  entry: ShotPick | undefined,
  label: string,
  counts: { takes: number; extra: number; marked: boolean },
): ShotlistError {
  const total = counts.takes + counts.extra + (counts.marked ? 1 : 0);
  const message = `${label} would have ${total} takes (takes: ${counts.takes} in the manifest, extra_takes: ${counts.extra}${counts.marked ? ', and one more re-roll' : ''}); a shot has at most ${MAX_TAKES}`;
  const room = Math.max(0, MAX_TAKES - counts.takes - (counts.marked ? 1 : 0));
  const fix = `lower extra_takes to ${room}${counts.marked ? ' or drop the re-roll mark' : ''} (the takes rendered stay in the output folder), or lower takes in the manifest`;
  const where = entry ? writtenAt.get(entry) : undefined;
  return new ManifestError([
    picksProblem(where?.file ?? 'the picks file', where?.at ?? { line: 1, col: 1 }, message, fix),
  ]);
}

/**
 * The takes the picks file adds to each shot: its finished re-rolls and, in a re-roll run
 * (`reroll`), one more for each marked shot. A shot never has more than the schema's bound on
 * `takes` in all: beyond it, planning stops with an error at the shot's entry (exit 2).
 */
export function extraTakesFrom(
  picks: readonly ShotPick[],
  reroll = false,
): Pick<PlanOptions, 'extraTakes' | 'extraTakesFrom'> {
  const extra = extraTakesOf(picks);
  const marked = reroll ? rerollMarks(picks) : new Set<string>();
  const entries = new Map(picks.map((p) => [pickKey(p.shot, p.variant), p]));
  const file = picks.map((p) => writtenAt.get(p)?.file).find((f) => f !== undefined);
  return {
    extraTakes: (shot, variant, takes) => {
      const key = pickKey(shot, variant);
      const counts = { takes, extra: extra.get(key) ?? 0, marked: marked.has(key) };
      const n = counts.extra + (counts.marked ? 1 : 0);
      if (takes + n > MAX_TAKES)
        throw tooManyTakes(entries.get(key), shotLabel({ id: shot, variant, take: 1 }), counts);
      return n;
    },
    ...(file !== undefined ? { extraTakesFrom: path.basename(file) } : {}),
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
 * Why a pick whose request is no longer the take's is not applied. Not always an edit: the
 * request also names the addresses its local files and the frames it starts from are read at
 * (a frame of another take of the shot before it, a picks file written under `--simulate` by
 * an earlier release, which kept simulated picks in the real file).
 */
const BODY_CHANGED =
  "the take's request is not the one picked: the shot was edited, or a local file or frame it reads is at another address";

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
    else if (p.body !== bodyFingerprint(shot)) reason = BODY_CHANGED;
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

/** The entries of a manifest's picks file for the takes of `base` (none yet: none). */
export async function manifestPicks(manifestFile: string, base?: string): Promise<ShotPick[]> {
  return (await readPicks(picksFileOf(manifestFile, base))).picks;
}

/** The picks of a plan's manifest for the takes of `base`, matched against it. */
export async function picksOfPlan(
  plan: Pick<Plan, 'shots' | 'manifest'>,
  base?: string,
): Promise<AppliedPicks> {
  const { picks } = await readPicks(picksFileOf(plan.manifest.file, base));
  return applyPicks(plan, picks);
}
