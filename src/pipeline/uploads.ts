/** The upload phase of a run (and `shotlist upload`): local asset files to their URLs, journaled. */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { ApiClient } from '../api/client.js';
import { httpAssetTarget } from '../assets/http-target.js';
import { localAssets, type LocalAsset } from '../assets/local.js';
import { openUploadTarget, refuseUnallowedCommand, uploadCommandOf } from '../assets/open.js';
import type { UploadTarget } from '../assets/target.js';
import { uploadAssets, uploadSummaryLine, type UploadSummary } from '../assets/upload.js';
import { loadManifest } from '../manifest/load.js';
import { JOURNAL_FILE, liveJournal, readJournal, type LiveJournal } from '../render/journal.js';
import { jobOutDir } from './job.js';
import { accountsFileOf, loadAccounts } from './accounts.js';
import type { PreparedRun, RunOptions } from './types.js';

/** Uploads the assets to the manifest's target, recording each in the output folder's journal. */
export async function uploadToTarget(
  assets: readonly LocalAsset[],
  target: UploadTarget,
  outDir: string,
  options: {
    useJournal: boolean;
    log?: ((line: string) => void) | undefined;
    /** The run's journal, already read; default: read the output folder's. */
    journal?: LiveJournal | undefined;
  },
): Promise<UploadSummary> {
  await mkdir(outDir, { recursive: true });
  const file = path.join(outDir, JOURNAL_FILE);
  const live = options.journal ?? liveJournal(file, await readJournal(file));
  const known = new Map<string, string>();
  if (options.useJournal) {
    for (const e of live.entries) if (e.type === 'upload') known.set(e.key, e.url);
  }
  const journal = await live.open();
  try {
    const summary = await uploadAssets(assets, target, {
      known,
      record: (a) =>
        journal.append({
          type: 'upload',
          key: a.sha256,
          url: a.url,
          bytes: a.bytes,
          at: Date.now(),
        }),
    });
    options.log?.(uploadSummaryLine(summary));
    return summary;
  } finally {
    await journal.close();
    await target.close?.();
  }
}

/**
 * Before a run's first submission: every local asset file is put where its URL says (the
 * manifest's storage, or the simulator started for a simulated run; the bodies sent then name
 * the simulator's address, see render/wire.ts). The API key is never given to the upload target.
 */
export async function uploadRunAssets(
  run: {
    uploads?: PreparedRun['uploads'];
    simulated: boolean;
    outDir: string;
    live?: LiveJournal;
  },
  client: ApiClient,
  options: { env: NodeJS.ProcessEnv; log?: ((line: string) => void) | undefined },
): Promise<void> {
  const assets = run.uploads?.assets ?? [];
  if (assets.length === 0) return;
  // The simulator's files live in its state folder: asking it is as cheap as the journal.
  const target = run.simulated
    ? httpAssetTarget(client.baseUrl)
    : await openUploadTarget(run.uploads?.config, options.env, {
        allowCommand: false,
        ...run.uploads?.target,
      });
  await uploadToTarget(assets, target, run.outDir, {
    useJournal: !run.simulated,
    log: options.log,
    journal: run.live,
  });
}

/** What `shotlist upload` did. */
export interface UploadResult extends UploadSummary {
  assets: LocalAsset[];
}

/**
 * `shotlist upload` as a function: validates the manifest and uploads its local asset files
 * to the storage `uploads` names, journaled in the output folder like a run's. Renders nothing.
 */
export async function uploadManifest(
  file: string,
  options: Pick<RunOptions, 'cwd' | 'env' | 'out' | 'allowOutside' | 'allowCommand'> = {},
  log?: (line: string) => void,
): Promise<UploadResult> {
  const cwd = options.cwd ?? process.cwd();
  const loaded = await loadManifest(path.resolve(cwd, file), {
    allowOutside: options.allowOutside === true,
    missingUploads: 'error',
  });
  const allowCommand = options.allowCommand === true;
  refuseUnallowedCommand(loaded, allowCommand);
  const assets = await localAssets(loaded);
  const outDir = await jobOutDir({ file: loaded.file, name: loaded.manifest.name }, options);
  if (assets.length === 0) {
    log?.(uploadSummaryLine({ uploaded: 0, existing: 0 }));
    return { assets, uploaded: 0, existing: 0 };
  }
  const env = options.env ?? process.env;
  const secretVars = uploadCommandOf(loaded.manifest.uploads) ? await accountKeyVars(cwd, env) : [];
  const target = await openUploadTarget(loaded.manifest.uploads, env, {
    allowCommand,
    secretVars,
  });
  const summary = await uploadToTarget(assets, target, outDir, { useJournal: true, log });
  return { assets, ...summary };
}

/** The key variables of the accounts file `$SHOTLIST_ACCOUNTS` names: an upload command never sees them. */
async function accountKeyVars(cwd: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const file = accountsFileOf(undefined, env);
  if (file === undefined) return [];
  const pool = await loadAccounts(file, { cwd, env, needKeys: false });
  return pool.accounts.map((a) => a.keyEnv);
}
