import { createHash } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FfmpegFeatures } from '../media/locate.js';
import { contactSheet, thumbnail } from '../media/thumbnail.js';
import { renderReportHtml } from './html.js';
import type { RunReport, ShotReport } from './types.js';

export interface WriteReportDeps {
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Make thumbnails and the contact sheet (needs ffmpeg). Default true. */
  media?: boolean;
  /** Called for each problem that does not stop the report (a thumbnail that failed). */
  onWarning?: (message: string) => void;
  /** Passed to the media functions; detected when absent. */
  features?: FfmpegFeatures;
}

export interface WriteReportResult {
  /** The report as written, with thumbnails and the contact sheet filled in. */
  report: RunReport;
  files: { json: string; html: string; contactSheet: string | null };
  warnings: string[];
}

/** A file name for a shot key that any file system takes, unique per key. */
export function thumbnailName(key: string): string {
  const safe = key.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
  if (safe === key) return `${safe}.jpg`;
  return `${safe}-${createHash('sha256').update(key).digest('hex').slice(0, 8)}.jpg`;
}

function sheetLabel(shot: ShotReport): string {
  const parts = [shot.id];
  if (shot.variant) parts.push(shot.variant);
  if (shot.take > 1) parts.push(`take ${shot.take}`);
  return parts.join(' ');
}

async function isFresh(derived: string, source: string): Promise<boolean> {
  const [d, s] = await Promise.all([
    stat(derived).catch(() => null),
    stat(source).catch(() => null),
  ]);
  return !!d && !!s && d.size > 0 && d.mtimeMs >= s.mtimeMs;
}

/** Writes a file under a temporary name in the same folder, then renames it into place. */
export async function writeFileAtomic(file: string, data: string): Promise<void> {
  const tmp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${Date.now().toString(36)}.tmp`,
  );
  try {
    await writeFile(tmp, data, 'utf8');
    await rename(tmp, file);
  } finally {
    await rm(tmp, { force: true });
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
  const mediaDeps = { env: deps.env, signal: deps.signal, features: deps.features };
  const report: RunReport = {
    ...input,
    shots: input.shots.map((s) => ({ ...s })),
    warnings: [...(input.warnings ?? [])],
  };
  await mkdir(outDir, { recursive: true });

  let sheetFile: string | null = null;
  if (deps.media !== false) {
    const done = report.shots.filter((s) => s.status === 'done' && s.file);
    if (done.length > 0) await mkdir(path.join(outDir, 'thumbs'), { recursive: true });
    for (const shot of done) {
      const clip = path.resolve(outDir, shot.file!);
      const relative = `thumbs/${thumbnailName(shot.key)}`;
      const out = path.join(outDir, relative);
      try {
        if (!(await isFresh(out, clip))) await thumbnail(clip, out, mediaDeps);
        shot.thumbnail = relative;
      } catch (cause) {
        shot.thumbnail = null;
        warn(`no thumbnail for ${shot.key}: ${(cause as Error).message}`);
      }
    }
    const items = report.shots
      .filter((s) => s.thumbnail)
      .map((s) => ({ image: path.join(outDir, s.thumbnail!), label: sheetLabel(s) }));
    if (items.length > 0) {
      const file = path.join(outDir, 'contact-sheet.jpg');
      try {
        const sheet = await contactSheet(items, file, mediaDeps);
        sheet.warnings.forEach(warn);
        sheetFile = file;
        report.contact_sheet = 'contact-sheet.jpg';
      } catch (cause) {
        report.contact_sheet = null;
        warn(`no contact sheet: ${(cause as Error).message}`);
      }
    }
  }
  report.warnings = [...(report.warnings ?? []), ...warnings];

  const json = path.join(outDir, 'report.json');
  const html = path.join(outDir, 'report.html');
  await writeFileAtomic(json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFileAtomic(html, renderReportHtml(report));
  return { report, files: { json, html, contactSheet: sheetFile }, warnings };
}
