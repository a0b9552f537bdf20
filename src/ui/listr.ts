/** The live task list on a terminal: one line per shot under a header with counts and spend. */
import { Listr, type ListrTaskWrapper } from 'listr2';
import type { RenderEvent } from '../render/events.js';
import { describeEvent, formatMoney } from './format.js';
import type { ProgressInput, ProgressView } from './types.js';

type Ending =
  { kind: 'done' } | { kind: 'failed'; reason: string } | { kind: 'skip'; reason: string };

interface Line {
  label: string;
  // listr2's wrapper type carries renderer generics we do not need to spell out.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  task?: ListrTaskWrapper<any, any, any>;
  title: string;
  end: Promise<Ending>;
  finish: (ending: Ending) => void;
}

/** The header line above the shots: counts, and the spend so far (or what it would cost). */
export function progressHeader(
  input: Pick<ProgressInput, 'shots' | 'currency' | 'simulated'>,
  counts: { done: number; running: number; failed: number },
  spent: number | null,
  limit?: { concurrency: number; ceiling: number },
): string {
  const money = formatMoney(spent ?? 0, input.currency);
  // Shown once the API has pushed back: how many tasks the account takes now.
  const limited =
    limit && limit.concurrency < limit.ceiling
      ? `, concurrency ${limit.concurrency} of ${limit.ceiling} (429)`
      : '';
  return `Rendering ${input.shots.length} shots: ${counts.done} done, ${counts.running} running, ${counts.failed} failed${limited}, ${input.simulated ? `simulated, would cost ${money}` : `spent ${money}`}`;
}

/** Creates the listr2 task list and starts drawing it. */
export function createListrProgress(input: ProgressInput): ProgressView {
  const lines = new Map<string, Line>();
  for (const s of input.shots) {
    let finish!: (ending: Ending) => void;
    const end = new Promise<Ending>((resolve) => (finish = resolve));
    lines.set(s.label, { label: s.label, title: s.label, end, finish });
  }
  const counts = { done: 0, running: 0, failed: 0 };
  let spent: number | null = null;
  const running = new Set<string>();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let header: ListrTaskWrapper<any, any, any> | undefined;
  let limit: { concurrency: number; ceiling: number } | undefined;
  const headerTitle = () =>
    progressHeader(input, { ...counts, running: running.size }, spent, limit);

  const list = new Listr(
    [
      {
        title: headerTitle(),
        task: (_ctx, task) => {
          header = task;
          return task.newListr(
            [...lines.values()].map((line) => ({
              title: line.title,
              task: async (_c: unknown, t: NonNullable<Line['task']>) => {
                line.task = t;
                t.title = line.title;
                const ending = await line.end;
                if (ending.kind === 'failed') throw new Error(ending.reason);
                if (ending.kind === 'skip') t.skip(ending.reason);
              },
            })),
            { concurrent: true, exitOnError: false },
          );
        },
      },
    ],
    { concurrent: false, exitOnError: false, registerSignalListeners: false, collectErrors: false },
  );
  const drawn = list.run().catch(() => undefined);

  return {
    onEvent(e: RenderEvent) {
      if (e.type === 'limit') {
        limit = { concurrency: e.concurrency, ceiling: e.ceiling };
        if (header) header.title = headerTitle();
        return;
      }
      const line = lines.get(e.shot);
      if (!line) return;
      line.title = `${line.label}  ${describeEvent(e)}`;
      if (line.task) line.task.title = line.title;
      if (e.type === 'submitting' || e.type === 'submitted') running.add(e.shot);
      if (e.type === 'submitted' && e.cost !== null && e.cost > 0) spent = (spent ?? 0) + e.cost;
      const ended =
        e.type === 'done' ||
        e.type === 'failed' ||
        e.type === 'unknown' ||
        e.type === 'pending' ||
        e.type === 'skipped';
      if (ended) {
        running.delete(e.shot);
        if (e.type === 'done') counts.done++;
        if (e.type === 'failed') counts.failed++;
        line.finish(
          e.type === 'done'
            ? { kind: 'done' }
            : e.type === 'failed'
              ? { kind: 'failed', reason: line.title }
              : { kind: 'skip', reason: line.title },
        );
      }
      if (header) header.title = headerTitle();
    },
    async close() {
      // Shots that never reported an end (a stopped run) are closed as skipped.
      for (const line of lines.values())
        line.finish({ kind: 'skip', reason: `${line.label}  not finished` });
      await drawn;
    },
  };
}
