/**
 * The report describes the folder's renders: a shot rendered again (`--force`) whose new
 * attempt failed, or may have made a task nobody saw, still has the clip it had, and the report
 * shows that clip as done (with a warning), never the shot as lost.
 */
import type { ShotResult } from '../render/result.js';
import type { AssessedShot } from '../render/state.js';
import { regularFile } from '../safe-fs.js';

/** This run's results with each earlier clip still on disk kept; `notes` says which. */
export async function withKeptClips(
  results: readonly ShotResult[],
  assessed: readonly AssessedShot[],
  outDir: string,
): Promise<{ shots: ShotResult[]; notes: string[] }> {
  const before = new Map(assessed.map((a) => [a.shot, a] as const));
  const notes: string[] = [];
  const shots = await Promise.all(
    results.map(async (r): Promise<ShotResult> => {
      const a = before.get(r.shot);
      const file = a?.journal?.phase === 'downloaded' ? a.journal.file : undefined;
      if (r.status === 'done' || r.status === 'pending' || !a || !file) return r;
      const info = await regularFile(outDir, a.clip);
      if (info?.size !== file.bytes) return r;
      const { error, ...rest } = r;
      notes.push(
        `${r.label}: rendering it again did not succeed (${error?.message ?? r.status}); its earlier clip is kept`,
      );
      return { ...rest, status: 'done', cached: true, file };
    }),
  );
  return { shots, notes };
}
