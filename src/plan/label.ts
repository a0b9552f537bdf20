import type { PlannedShot } from './types.js';

/**
 * The one name of a shot everywhere (task list, log, status, report, plan): `id`, then
 * `@variant` when it has one, then `#take` when the shot has several takes.
 */
export function shotLabel(
  shot: Pick<PlannedShot, 'id' | 'variant' | 'take'>,
  multiTake = shot.take > 1,
): string {
  return `${shot.id}${shot.variant ? `@${shot.variant}` : ''}${multiTake ? `#${shot.take}` : ''}`;
}
