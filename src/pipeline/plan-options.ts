import type { PlanOptions } from '../plan/plan.js';
import type { RunOptions } from './types.js';

/** The plan a run (or its status) looks at: the variant, the shots and the flags' overrides. */
export function planOptionsOf(
  options: Pick<RunOptions, 'variant' | 'only' | 'overrides' | 'maxCost'>,
): PlanOptions {
  return {
    ...(options.variant !== undefined ? { variant: options.variant } : {}),
    ...(options.only !== undefined ? { only: options.only } : {}),
    ...(options.overrides !== undefined ? { overrides: options.overrides } : {}),
    ...(options.maxCost !== undefined ? { budget: { max_cost: options.maxCost } } : {}),
  };
}
