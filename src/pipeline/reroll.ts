/**
 * `run --reroll`: one new take of each shot marked for re-roll in the picks file. The new take
 * is the shot's next take index, so its journal key is new and no old take is sent again; the
 * run's plan holds every take of the marked shots (the older ones cached) so clip names stay
 * those of a shot with several takes. Once the take is done, the mark is cleared and the shot
 * keeps the take (`extra_takes`), so every later plan, status, review and stitch lists it.
 */
import path from 'node:path';
import { UsageError, optionText, type OptionName } from '../errors.js';
import { pickKey, takeKey } from '../manifest/identity.js';
import type { Plan } from '../plan/types.js';
import type { AssessedShot } from '../render/state.js';
import { SIMULATOR_BASE } from './base.js';
import {
  extraTakesOf,
  picksFileOf,
  recordRerolls,
  type RerollTake,
  type ShotPick,
} from './picks.js';
import type { PreparedRun, RunOptions, RunResult } from './types.js';

/** The new take of each marked shot of a re-roll run's plan: the last take of the shot. */
export function rerollTakes(plan: Pick<Plan, 'shots'>, picks: readonly ShotPick[]): RerollTake[] {
  const extra = extraTakesOf(picks);
  const last = new Map<string, number>();
  for (const s of plan.shots) {
    const key = pickKey(s.id, s.variant);
    last.set(key, Math.max(last.get(key) ?? 0, s.take));
  }
  return plan.shots
    .filter((s) => s.take === last.get(pickKey(s.id, s.variant)))
    .map((s) => ({
      shot: s.id,
      variant: s.variant,
      take: s.take,
      extra_takes: (extra.get(pickKey(s.id, s.variant)) ?? 0) + 1,
    }));
}

/**
 * The picks with the re-roll marks of the shots of `plan` only: a mark outside a re-roll run
 * (`--only`, `--variant`) adds no take to the report and finals of that run.
 */
export function marksIn(plan: Pick<Plan, 'shots'>, picks: readonly ShotPick[]): ShotPick[] {
  const inRun = new Set(plan.shots.map((s) => pickKey(s.id, s.variant)));
  return picks.map(({ reroll, ...p }) =>
    reroll && inRun.has(pickKey(p.shot, p.variant)) ? { ...p, reroll } : p,
  );
}

/** Flags that decide what a run sends and that a re-roll run cannot honour. */
export function checkRerollFlags(options: RunOptions): void {
  if (!options.reroll) return;
  const given: [OptionName, unknown][] = [
    ['force', options.force],
    ['shard', options.shard],
    ['plan', options.savedPlan],
  ];
  const clash = given.filter(([, value]) => value !== undefined).map(([name]) => name);
  if (clash.length > 0) {
    throw new UsageError(
      `${optionText('reroll')} renders one new take of each marked shot; it does not take ${clash.map((o) => optionText(o)).join(', ')}`,
      { kind: 'reroll_clash', options: clash },
    );
  }
}

/**
 * A re-roll run sends the new takes only: an older take of a marked shot that would be sent
 * (never rendered, or failed) is refused, so `--reroll` never pays for more than it says.
 */
export function refuseOldTakes(assessed: readonly AssessedShot[], rerolls: readonly RerollTake[]) {
  const fresh = new Set(rerolls.map((r) => takeKey({ id: r.shot, ...r })));
  const old = assessed.filter((a) => a.submits && !fresh.has(takeKey(a.shot)));
  if (old.length === 0) return;
  throw new UsageError(
    `${optionText('reroll')} would also send ${old.map((a) => `${a.label} (${a.state})`).join(', ')}, not rendered yet; nothing was sent`,
    { kind: 'render_before_reroll' },
  );
}

/** Said when a re-roll run finds no marked shot (among `--only`/`--variant`): it sends nothing. */
export function nothingToRerollMessage(
  manifestFile: string,
  options: Pick<RunOptions, 'only' | 'variant' | 'simulate'>,
): string {
  const among =
    options.only !== undefined || options.variant !== undefined
      ? ` among the shots of ${optionText('only')} / ${optionText('variant')}`
      : '';
  return `no shot is marked for re-roll in ${path.basename(picksFileOf(manifestFile, options.simulate ? SIMULATOR_BASE : undefined))}${among}: nothing to send (mark one with key r in shotlist review, or shotlist pick <manifest> SHOT=reroll)`;
}

/**
 * After a re-roll run: each shot whose new take is done loses its mark and keeps the take; a
 * take not done keeps its mark, so the same `run --reroll` resumes it (same take, same key).
 */
export async function recordDoneRerolls(run: PreparedRun, result: RunResult): Promise<void> {
  if (!run.rerolls || !result.render) return;
  const done = new Set(
    result.render.shots.filter((s) => s.status === 'done').map((s) => takeKey(s.shot)),
  );
  const finished = run.rerolls.filter((r) => done.has(takeKey({ id: r.shot, ...r })));
  await recordRerolls(picksFileOf(run.manifestFile, run.base.journalBase), finished);
}
