/**
 * `shotlist rebase`: moves an output folder to another API on purpose (a new gateway for the
 * same service). Done shots stay done (a clip is content, whichever gateway made it): each is
 * carried to its key for the new API, with no task and no bill there. Tasks still in flight
 * belong to the API that holds them, so the move waits until they are collected. Simulated
 * clips are placeholders: a simulated folder never moves to a real API, nor a real one to it.
 */
import path from 'node:path';
import { UsageError } from '../errors.js';
import { loadManifest } from '../manifest/load.js';
import { journalKey } from '../manifest/identity.js';
import { JOURNAL_FILE, openJournal, readJournal } from '../render/journal.js';
import { assessShots } from '../render/state.js';
import { SIMULATOR_BASE, chooseBase, sameBase } from './base.js';
import { foreignTasks } from './clips.js';
import { apiName, folderApi, recordFolderApi } from './folder-api.js';
import { renderedPlan } from './job.js';
import { acquireRunLock } from './lock.js';
import { defaultOutDir } from './out-dir.js';

export interface RebaseOptions {
  /** The API the folder moves to (normalised like `--base-url`). */
  toBaseUrl: string;
  cwd?: string;
  out?: string;
  allowOutside?: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface RebaseResult {
  outDir: string;
  /** The folder's API before, and after. */
  from: string;
  to: string;
  /** Done shots carried to the new API (already carried ones not counted again). */
  carried: number;
}

/** Moves the folder of `file` to `options.toBaseUrl`; sends nothing. */
export async function rebaseFolder(file: string, options: RebaseOptions): Promise<RebaseResult> {
  const cwd = options.cwd ?? process.cwd();
  const to = chooseBase({ baseUrl: options.toBaseUrl, env: {} }).journalBase;
  const loaded = await loadManifest(path.resolve(cwd, file), {
    allowOutside: options.allowOutside === true,
  });
  const outDir = path.resolve(
    cwd,
    options.out ?? defaultOutDir({ file: loaded.file, name: loaded.manifest.name }),
  );
  const lock = await acquireRunLock(outDir);
  try {
    const journal = await readJournal(path.join(outDir, JOURNAL_FILE));
    const folder = await folderApi(outDir, journal);
    if (folder === undefined) {
      throw new UsageError(`${outDir} names no API yet (no renders): nothing to move`, {
        kind: 'name_api_directly',
      });
    }
    const from = folder.base;
    if (from === SIMULATOR_BASE) {
      throw new UsageError(
        `${outDir} holds simulated renders (placeholders): they cannot move to ${apiName(to)}`,
        { kind: 'render_for_real' },
      );
    }
    if (sameBase(from, to)) return { outDir, from, to, carried: 0 };
    const open = foreignTasks(journal.shots, to).filter((f) => sameBase(f.base, from));
    if (open.length > 0) {
      const n = open.reduce((sum, f) => sum + f.tasks, 0);
      throw new UsageError(
        `${n} task${n === 1 ? ' is' : 's are'} still in flight with ${apiName(from, to)}: nothing was moved`,
        { kind: 'collect_first', manifest: file, api: apiName(from, to) },
      );
    }
    const { plan } = await renderedPlan(loaded, { outDir, base: from, env: options.env });
    const done = (
      await assessShots(plan, { outDir, baseUrl: from, journal: journal.shots })
    ).filter((a) => a.state === 'cached' && a.sharedWith === undefined);
    const writer = await openJournal(path.join(outDir, JOURNAL_FILE), journal.validLength);
    let carried = 0;
    try {
      for (const a of done) {
        const key = journalKey(a.shot.request, a.shot.take, to);
        if (journal.shots.get(key)?.phase === 'downloaded') continue;
        const shot = { id: a.shot.id, variant: a.shot.variant, take: a.shot.take };
        await writer.append({ type: 'carried', key, from: a.key, shot, base: to, at: Date.now() });
        carried++;
      }
    } finally {
      await writer.close();
    }
    await recordFolderApi(outDir, to);
    return { outDir, from, to, carried };
  } finally {
    await lock.release();
  }
}
