import { createHash } from 'node:crypto';
import { lstat, readFile } from 'node:fs/promises';
import { detectFeatures, locateTool, type FfmpegFeatures } from '../media/locate.js';
import type { ProbeCache } from '../media/probe.js';
import {
  contactSheet,
  thumbnails,
  type ContactSheetItem,
  type ThumbnailJob,
  type ThumbnailOptions,
} from '../media/thumbnail.js';
import { renderReportHtml } from './html.js';
import type { RunReport } from './types.js';
import { ensureDir, insideRoot, refuseLink, regularFile, writeFileAtomic } from '../safe-fs.js';
import { shotLabel, thumbnailName } from '../manifest/identity.js';

export interface WriteReportDeps {
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Make thumbnails and the contact sheet (needs ffmpeg). Default true. */
  media?: boolean;
  /** Called for each problem that does not stop the report (a thumbnail that failed). */
  onWarning?: (message: string) => void;
  /** Passed to the media functions; detected when absent. */
  features?: FfmpegFeatures;
  /** The probes of the job writing the report. */
  probes?: ProbeCache;
}

export interface WriteReportResult {
  /** The report as written, with thumbnails and the contact sheet filled in. */
  report: RunReport;
  files: { json: string; html: string; contactSheet: string | null };
  warnings: string[];
}

/** Whether a thumbnail (a plain file, never a link) is newer than its clip. */
async function isFresh(outDir: string, derived: string, source: string): Promise<boolean> {
  const [d, s] = await Promise.all([regularFile(outDir, derived), lstat(source).catch(() => null)]);
  return !!d && !!s && d.size > 0 && d.mtimeMs >= s.mtimeMs;
}

/**
 * Fills in each done shot's `thumbnail`: kept when newer than its clip, else taken (all the
 * stale ones together, see {@link thumbnails}); null with a warning when it cannot be had.
 */
async function thumbnailsOf(
  outDir: string,
  done: RunReport['shots'],
  mediaDeps: ThumbnailOptions,
  warn: (message: string) => void,
): Promise<void> {
  const problems = new Map<RunReport['shots'][number], unknown>();
  const stale: { shot: RunReport['shots'][number]; job: ThumbnailJob }[] = [];
  for (const shot of done) {
    const relative = `thumbs/${thumbnailName(shot.key)}`;
    try {
      const clip = await refuseLink(outDir, shot.file!);
      const out = insideRoot(outDir, relative);
      shot.thumbnail = relative;
      if (!(await isFresh(outDir, relative, clip))) stale.push({ shot, job: { clip, out } });
    } catch (cause) {
      problems.set(shot, cause);
    }
  }
  const taken = await thumbnails(
    stale.map((s) => s.job),
    mediaDeps,
  );
  stale.forEach(({ shot }, i) => taken[i] && problems.set(shot, taken[i]));
  for (const shot of done) {
    if (!problems.has(shot)) continue;
    shot.thumbnail = null;
    warn(`no thumbnail for ${shot.key}: ${(problems.get(shot) as Error).message}`);
  }
}

/** Where the inputs of the last contact sheet are recorded (see {@link sheetOf}). */
const SHEET_INPUTS = 'thumbs/.contact-sheet.json';

/**
 * Makes `contact-sheet.jpg` from the thumbnails, unless the sheet there was made from the same
 * ones: same files (size and time), same labels, same ffmpeg. Its inputs and warnings are
 * recorded beside the thumbnails, so an unchanged run does not draw it again.
 */
async function sheetOf(
  outDir: string,
  items: ContactSheetItem[],
  mediaDeps: ThumbnailOptions,
  warn: (message: string) => void,
): Promise<string> {
  const env = mediaDeps.env ?? process.env;
  const features = mediaDeps.features ?? (await detectFeatures(locateTool('ffmpeg', env), env));
  const stamps = await Promise.all(items.map((i) => lstat(i.image)));
  const inputs = createHash('sha256')
    .update(
      JSON.stringify([
        features.path,
        features.version,
        ...items.map((item, n) => [item.image, item.label, stamps[n]!.size, stamps[n]!.mtimeMs]),
      ]),
    )
    .digest('hex');
  // Written under a temporary name and renamed: a link there is replaced, never followed.
  const file = insideRoot(outDir, 'contact-sheet.jpg');
  const recorded = await readRecord(outDir);
  if (recorded?.inputs === inputs && (await regularFile(outDir, 'contact-sheet.jpg'))) {
    recorded.warnings.forEach(warn);
    return file;
  }
  const sheet = await contactSheet(items, file, { ...mediaDeps, features });
  sheet.warnings.forEach(warn);
  await writeFileAtomic(outDir, SHEET_INPUTS, JSON.stringify({ inputs, warnings: sheet.warnings }));
  return file;
}

/** The recorded inputs of the last sheet, when the record is there and well formed. */
async function readRecord(
  outDir: string,
): Promise<{ inputs: string; warnings: string[] } | undefined> {
  try {
    if (!(await regularFile(outDir, SHEET_INPUTS))) return undefined;
    const record = JSON.parse(await readFile(insideRoot(outDir, SHEET_INPUTS), 'utf8')) as {
      inputs?: unknown;
      warnings?: unknown;
    };
    const { inputs, warnings } = record;
    return typeof inputs === 'string' &&
      Array.isArray(warnings) &&
      warnings.every((w) => typeof w === 'string')
      ? { inputs, warnings: warnings as string[] }
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Writes `report.json` and `report.html` into `outDir`, after making a thumbnail (middle
 * frame) for every done shot under `thumbs/` and `contact-sheet.jpg` from them. A thumbnail
 * that cannot be made is a warning, not a failure: the report matters more than its pictures.
 */
export async function writeReport(
  outDir: string,
  input: RunReport,
  deps: WriteReportDeps = {},
): Promise<WriteReportResult> {
  const warnings: string[] = [];
  const warn = (message: string): void => {
    warnings.push(message);
    deps.onWarning?.(message);
  };
  const mediaDeps = {
    env: deps.env,
    signal: deps.signal,
    features: deps.features,
    ...(deps.probes ? { cache: deps.probes } : {}),
  };
  const report: RunReport = {
    ...input,
    shots: input.shots.map((s) => ({ ...s })),
    warnings: [...(input.warnings ?? [])],
  };
  await ensureDir(outDir, '.');

  let sheetFile: string | null = null;
  if (deps.media !== false) {
    const done = report.shots.filter((s) => s.status === 'done' && s.file);
    // A link at thumbs/ is refused: thumbnails are never written through it.
    if (done.length > 0) await ensureDir(outDir, 'thumbs');
    await thumbnailsOf(outDir, done, mediaDeps, warn);
    const items = report.shots
      .filter((s) => s.thumbnail)
      .map((s) => ({ image: insideRoot(outDir, s.thumbnail!), label: shotLabel(s) }));
    if (items.length > 0) {
      try {
        sheetFile = await sheetOf(outDir, items, mediaDeps, warn);
        report.contact_sheet = 'contact-sheet.jpg';
      } catch (cause) {
        report.contact_sheet = null;
        warn(`no contact sheet: ${(cause as Error).message}`);
      }
    }
  }
  report.warnings = [...(report.warnings ?? []), ...warnings];

  const json = await writeFileAtomic(outDir, 'report.json', `${JSON.stringify(report, null, 2)}\n`);
  const html = await writeFileAtomic(outDir, 'report.html', renderReportHtml(report));
  return { report, files: { json, html, contactSheet: sheetFile }, warnings };
}
