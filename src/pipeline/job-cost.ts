/** `shotlist cost` as a function: the job's output folder read for what it cost over every run. */
import path from 'node:path';
import { loadManifest } from '../manifest/load.js';
import { plan as makePlan } from '../plan/plan.js';
import type { Plan } from '../plan/types.js';
import { costLedger, pricesOf, type CostLedger } from '../render/cost.js';
import { SIMULATOR_BASE } from './base.js';
import { checkFolderApi } from './folder-api.js';
import { folderLookup, jobOutDir } from './job.js';
import type { RunOptions } from './types.js';

/** What a job has cost: the plan it is priced by, the ledger of its journal, and its API. */
export interface JobCost {
  plan: Plan;
  ledger: CostLedger;
  /** The folder renders for the simulator: its seconds were never billed. */
  simulated: boolean;
}

/**
 * The job's bill over every run its journal records, from the output folder a run with these
 * flags uses (`--out`, else the default one, `--simulate`'s own). Reads; sends nothing. Under
 * `simulate`, a folder of a real API is refused (exit 2), as status and stitch refuse it.
 */
export async function jobCost(
  file: string,
  options: Pick<RunOptions, 'cwd' | 'out' | 'simulate'>,
  note?: (line: string) => void,
): Promise<JobCost> {
  const cwd = options.cwd ?? process.cwd();
  const plan = makePlan(await loadManifest(path.resolve(cwd, file)), {});
  const outDir = await jobOutDir(plan.manifest, options, note);
  const { journal, base } = await folderLookup(outDir);
  // One folder, one API: a rehearsal's cost is never read from a real folder.
  if (options.simulate) await checkFolderApi(outDir, SIMULATOR_BASE, journal);
  const ledger = costLedger(journal.entries, pricesOf(plan.shots));
  return { plan, ledger, simulated: base === SIMULATOR_BASE };
}
