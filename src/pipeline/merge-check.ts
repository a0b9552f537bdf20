/**
 * `merge --manifest`: each shard folder must hold only the requests of the shard it says it
 * rendered, as the manifest assigns shots to shards (shard.ts). A folder says its shard in
 * `shard.json` (shard-mark.ts), else by a name ending in `shard-<i>-of-<n>`. The folders and
 * their journals are untrusted: every string shown from them is cleaned.
 */
import { stripControls } from '../api/redact.js';
import { localAssets } from '../assets/local.js';
import { loadManifest } from '../manifest/load.js';
import { shotLabel } from '../manifest/identity.js';
import { plan as makePlan } from '../plan/plan.js';
import type { PlannedShot } from '../plan/types.js';
import { checkTotalBudget } from '../plan/budget.js';
import type { BudgetVerdict } from '../plan/types.js';
import { costLedger, pricesOf, type CostLedger } from '../render/cost.js';
import { foldJournal, type JournalEntry } from '../render/journal.js';
import path from 'node:path';
import { manifestPicks } from './picks.js';
import { planOptionsOf } from './plan-options.js';
import { inShard, shardName, sharedGroups, type ShardSpec } from './shard.js';
import { readShardMark, shardOfFolderName } from './shard-mark.js';

/** The shard a folder says it holds, or why it says none. */
async function claimedShard(dir: string): Promise<ShardSpec | string> {
  try {
    return (
      (await readShardMark(dir)) ??
      shardOfFolderName(dir) ??
      'it does not say which shard it holds (no shard.json, no name ending in shard-<i>-of-<n>)'
    );
  } catch (err) {
    return `its shard.json cannot be read (${stripControls(String((err as Error).message)).slice(0, 200)})`;
  }
}

/**
 * The manifest's shots (with the extra takes of the picks file of the folders' API), by id,
 * variant and take.
 */
async function manifestShots(file: string, cwd: string, base: string | undefined) {
  const loaded = await loadManifest(path.resolve(cwd, file), { missingUploads: 'ignore' });
  // Only which shots exist and which share a body matter here, not where assets live.
  const assets = await localAssets(loaded, { simulate: true });
  const picks = await manifestPicks(loaded.file, base);
  const whole = makePlan(loaded, { ...planOptionsOf({}, picks), assets });
  return { whole, groupOf: sharedGroups(whole) };
}

/** The planned shot an intent names: the same take, else another take of the same shot. */
function plannedShot(shots: readonly PlannedShot[], ref: unknown): PlannedShot | undefined {
  const r = (ref ?? {}) as { id?: unknown; variant?: unknown; take?: unknown };
  const variant = typeof r.variant === 'string' ? r.variant : null;
  const take = Number(r.take);
  if (typeof r.id !== 'string' || !Number.isSafeInteger(take) || take < 1) return undefined;
  const sameShot = shots.filter((s) => s.id === r.id && s.variant === variant);
  const found = sameShot.find((s) => s.take === take);
  return found ?? (sameShot[0] ? { ...sameShot[0], take } : undefined);
}

/**
 * Every request of a shard folder that the manifest does not put in the shard the folder
 * holds (or the folder itself, when it says no shard or the folders disagree on n), one a line.
 */
export async function misplacedRequests(
  manifest: string,
  shards: readonly { dir: string; entries: readonly JournalEntry[] }[],
  at: { cwd?: string | undefined; base: string | undefined },
): Promise<string[]> {
  const { base } = at;
  const cwd = at.cwd ?? process.cwd();
  const { whole, groupOf } = await manifestShots(manifest, cwd, base);
  const found: string[] = [];
  let count: number | undefined;
  for (const shard of shards) {
    const dir = stripControls(shard.dir);
    const spec = await claimedShard(shard.dir);
    if (typeof spec === 'string') {
      found.push(`${dir}: ${spec}`);
      continue;
    }
    if (count !== undefined && spec.count !== count) {
      found.push(`${dir} says ${shardName(spec)}, another folder says a shard of ${count}`);
      continue;
    }
    count = spec.count;
    for (const e of shard.entries) {
      if (e.type !== 'intent') continue;
      const shot = plannedShot(whole.shots, e.shot);
      const request = `request ${stripControls(e.key.slice(0, 12))}`;
      if (!shot) {
        const id = stripControls(String((e.shot as { id?: unknown } | undefined)?.id)).slice(0, 80);
        found.push(`${id} (${request}) in ${dir}: no such shot in the manifest`);
      } else if (!inShard(shot, spec, groupOf)) {
        found.push(
          `${stripControls(shotLabel(shot))} (${request}) in ${dir}, which says ${shardName(spec)}: the manifest puts it in another shard`,
        );
      }
    }
  }
  return [...new Set(found)];
}

/** What the merged folder's journal says the campaign cost, and what is left to do. */
export interface MergedSpend {
  currency: string | null;
  ledger: CostLedger;
  /** Shots of the manifest (one per request) without a completed task in the merged journal. */
  unfinished: string[];
  shots: number;
  /** The manifest's total limits against billed + at risk: ok, or why not. */
  budget: BudgetVerdict;
}

/**
 * The spend of the merged journal (billed, failed, at risk: `costLedger`, priced with the
 * manifest) and the shots of the manifest it holds no finished task for; the total budget
 * (`max_total_cost`, `max_total_seconds`) checked against what was billed and may have been.
 */
export async function mergedSpend(
  manifest: string,
  entries: readonly JournalEntry[],
  at: { cwd?: string | undefined; base: string | undefined },
): Promise<MergedSpend> {
  const { whole } = await manifestShots(manifest, at.cwd ?? process.cwd(), at.base);
  const currency = whole.totals.currency;
  const ledger = costLedger(entries, pricesOf(whole.shots));
  const done = new Set<string>();
  for (const s of foldJournal(entries).values())
    if (s.phase === 'completed' || s.phase === 'downloaded')
      done.add(shotLabel({ ...s.shot, variant: s.shot.variant ?? null }));
  const rendered = whole.shots.filter((s) => s.shared_with === undefined);
  const unfinished = rendered.map((s) => shotLabel(s)).filter((label) => !done.has(label));
  const limits = {
    ...(whole.budget.max_total_cost != null ? { max_total_cost: whole.budget.max_total_cost } : {}),
    ...(whole.budget.max_total_seconds != null
      ? { max_total_seconds: whole.budget.max_total_seconds }
      : {}),
  };
  const budget = checkTotalBudget(
    { max_cost: null, max_seconds: null, ok: true, reason: null },
    limits,
    {
      billed: ledger.billed,
      at_risk: ledger.atRisk,
      this_run: { seconds: 0, cost: null },
      unpriced_seconds: ledger.unpricedSeconds,
    },
    currency,
  );
  return { currency, ledger, unfinished, shots: rendered.length, budget };
}
