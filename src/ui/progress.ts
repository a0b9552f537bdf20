import { accountEventFields, eventLine, renderEventFields, type ShotRef } from './events.js';
import { describeEvent } from './format.js';
import type { RendererName } from './renderer.js';
import type { ProgressInput, ProgressView } from './types.js';

export type { ProgressInput, ProgressView } from './types.js';

function clock(at: number): string {
  return new Date(at).toISOString().slice(11, 19);
}

/** One line per event, for logs and CI. Download progress is left out: it says little in a log. */
export function createPlainProgress(input: ProgressInput): ProgressView {
  return {
    onEvent(e) {
      if (e.type === 'downloading' || (e.type === 'status' && e.status !== 'in_progress')) return;
      const who = e.shot ? `${e.shot} ` : '';
      input.out.write(`${clock(e.at)} ${who}${describeEvent(e)}\n`);
    },
    close: async () => undefined,
  };
}

/**
 * The `--json` stream: one JSON object per event, for machines (docs/events.md), the shot as
 * `id`/`variant`/`take`, fields in snake_case. Never holds the key.
 */
export function createJsonProgress(input: ProgressInput): ProgressView {
  // By label: two shots with the same body share a key, never a label.
  const byLabel = new Map<string, ShotRef>();
  for (const s of input.shots)
    if (s.id !== undefined)
      byLabel.set(s.label, { id: s.id, variant: s.variant ?? null, take: s.take ?? 1 });
  return {
    onEvent(e) {
      const fields =
        e.type === 'limit'
          ? {
              concurrency: e.concurrency,
              ceiling: e.ceiling,
              reason: e.reason,
              ...(e.account !== undefined ? { account: e.account } : {}),
            }
          : e.type === 'account'
            ? accountEventFields(e)
            : renderEventFields(e, byLabel.get(e.shot));
      input.out.write(eventLine(e.type, fields, e.at));
    },
    close: async () => undefined,
  };
}

/** Creates the view `getRenderer` chose; the task list is loaded only when it is drawn. */
export async function createProgress(
  name: RendererName,
  input: ProgressInput,
): Promise<ProgressView> {
  if (name === 'json') return createJsonProgress(input);
  if (name === 'plain') return createPlainProgress(input);
  const { createListrProgress } = await import('./listr.js');
  return createListrProgress(input);
}
