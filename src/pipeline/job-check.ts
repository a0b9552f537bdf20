/** `shotlist check` as a function: the preflight of a job's references, alone. */
import { preflight, type PreflightResult } from '../assets/preflight.js';
import { loadManifest } from '../manifest/load.js';
import { plan as makePlan, type PlanOptions } from '../plan/plan.js';
import type { Diagnostic } from '../errors.js';
import { jobOutDir } from './job.js';
import type { RunOptions } from './types.js';

/**
 * Asks every http(s) reference of every planned shot what `run` would ask before it sends
 * anything, keeping what ffprobe found in the output folder a run with these flags uses
 * (`--out`, else the default one, `--simulate`'s own). Sends nothing to the API.
 */
export async function checkJob(
  file: string,
  options: Pick<RunOptions, 'cwd' | 'env' | 'out' | 'simulate' | 'allowOutside'> & {
    planOptions: PlanOptions;
    timeoutMs?: number | undefined;
    signal?: AbortSignal | undefined;
  },
  warn?: (diagnostic: Diagnostic) => void,
): Promise<PreflightResult> {
  const cwd = options.cwd ?? process.cwd();
  const loaded = await loadManifest(file, { cwd, allowOutside: options.allowOutside === true });
  const planned = makePlan(loaded, options.planOptions);
  for (const w of planned.warnings) warn?.(w);
  const outDir = await jobOutDir(planned.manifest, options);
  return preflight(planned.shots, {
    ...(options.env !== undefined ? { env: options.env } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
    outDir,
    loopbackOnly: options.simulate === true,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  });
}
