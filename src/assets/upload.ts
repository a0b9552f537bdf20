/** Uploads local asset files once each: a journal hit or an object already there is skipped. */
import pLimit from 'p-limit';
import type { LocalAsset } from './local.js';
import type { UploadTarget } from './target.js';

/** Files uploaded at once. */
export const UPLOAD_CONCURRENCY = 8;

export interface UploadSummary {
  uploaded: number;
  /** Found in the journal or at the target: not sent again. */
  existing: number;
}

export interface UploadOptions {
  /** URLs the journal says were uploaded, by sha256. */
  known?: ReadonlyMap<string, string>;
  /** Records an upload (or a file found there) before the run goes on. */
  record?: (asset: LocalAsset) => Promise<void>;
  onProgress?: (summary: UploadSummary, total: number) => void;
  concurrency?: number;
}

/**
 * Makes every asset available at its URL: skips those the journal knows under the same URL,
 * then asks the target (HEAD by key), and uploads the rest, `UPLOAD_CONCURRENCY` at a time.
 * The first failure rejects; files already uploaded stay recorded.
 */
export async function uploadAssets(
  assets: readonly LocalAsset[],
  target: UploadTarget,
  options: UploadOptions = {},
): Promise<UploadSummary> {
  const summary: UploadSummary = { uploaded: 0, existing: 0 };
  const limit = pLimit(options.concurrency ?? UPLOAD_CONCURRENCY);
  const one = async (asset: LocalAsset) => {
    if (options.known?.get(asset.sha256) === asset.url) {
      summary.existing++;
    } else {
      if ((await target.exists(asset)) === true) summary.existing++;
      else {
        await target.put(asset);
        summary.uploaded++;
      }
      await options.record?.(asset);
    }
    options.onProgress?.(summary, assets.length);
  };
  await Promise.all(assets.map((a) => limit(() => one(a))));
  return summary;
}

/** The line a run or `shotlist upload` prints. */
export function uploadSummaryLine(summary: UploadSummary): string {
  return `uploaded ${summary.uploaded}, already there ${summary.existing}`;
}
