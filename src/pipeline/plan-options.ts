import type { PlanOptions } from '../plan/plan.js';
import { extraTakesFrom, markedShotsOnly, type ShotPick } from './picks.js';
import type { RunOptions } from './types.js';

/**
 * The plan a run (or its status) looks at: the variant, the shots, the flags' overrides and,
 * from the picks file, the takes re-rolls added. With `reroll`, the marked shots only, each
 * with one more take.
 */
export function planOptionsOf(
  options: Pick<RunOptions, 'variant' | 'only' | 'overrides' | 'maxCost' | 'reroll'>,
  picks: readonly ShotPick[],
): PlanOptions {
  return {
    ...(options.variant !== undefined ? { variant: options.variant } : {}),
    ...(options.only !== undefined ? { only: options.only } : {}),
    ...(options.overrides !== undefined ? { overrides: options.overrides } : {}),
    ...(options.maxCost !== undefined ? { budget: { max_cost: options.maxCost } } : {}),
    ...extraTakesFrom(picks, options.reroll),
    ...(options.reroll ? markedShotsOnly(picks) : {}),
  };
}
