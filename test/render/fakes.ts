/** A per-shot context on fakes: a scripted API client, a journal in memory, a clock that only moves when slept. */
import type { SubmitResult } from '../../src/api/client.js';
import type { VideoTask } from '../../src/api/types.js';
import type { RenderClient, ShotContext } from '../../src/render/context.js';
import type { RenderEvent } from '../../src/render/events.js';
import type { JournalEntry, JournalShot } from '../../src/render/journal.js';
import { DEFAULT_POLL_TUNING, DurationModel } from '../../src/render/poll.js';
import { startResult } from '../../src/render/result.js';
import type { AssessedShot, ShotState } from '../../src/render/state.js';
import type { PlannedShot } from '../../src/plan/types.js';

export const KEY = 'a'.repeat(64);

export function plannedShot(): PlannedShot {
  return {
    id: 's01',
    variant: null,
    take: 1,
    mode: 'text_to_video',
    model: 'seedance-2-official',
    size: '480p',
    ratio: '16:9',
    seconds: 4,
    audio: true,
    prompt: '镜头 1',
    unit_price: 1,
    cost: 4,
    currency: 'CNY',
    request: {
      model: 'seedance-2-official',
      prompt: '镜头 1',
      duration: 4,
      size: '480p',
      metadata: { ratio: '16:9' },
    },
    source: { file: 'm.yaml', line: 1, col: 1 },
  };
}

export function assessed(state: ShotState = 'new', journal?: JournalShot): AssessedShot {
  const shot = plannedShot();
  const submits = state === 'new' || state === 'retry' || state === 'forced';
  return {
    shot,
    key: KEY,
    label: 's01',
    clip: 'clips/s01.mp4',
    state,
    failures: journal?.failedTasks ?? 0,
    submits,
    cost: submits ? shot.cost : 0,
    journal,
  };
}

/** Every method throws unless the test scripts it. */
export function fakeClient(methods: Partial<RenderClient> = {}): RenderClient {
  const unexpected = (name: string) => () => {
    throw new Error(`unexpected ${name}`);
  };
  return {
    baseUrl: 'https://api.example.test',
    submit: unexpected('submit') as () => Promise<SubmitResult>,
    getTask: unexpected('getTask') as () => Promise<VideoTask>,
    download: unexpected('download') as RenderClient['download'],
    ...methods,
  };
}

export interface Fake {
  ctx: ShotContext;
  entries: JournalEntry[];
  durable: boolean[];
  events: RenderEvent[];
  /** Every wait the context asked for, in ms. */
  sleeps: number[];
  halted: Error[];
  stop: AbortController;
  /** Aborted by a refused submission only. */
  submitStop: AbortController;
  clock: { t: number };
}

/** A shot context whose clock starts at 1000 and moves only by the waits it is asked for. */
export function fakeContext(
  client: RenderClient,
  a: AssessedShot = assessed(),
  extra: Partial<ShotContext> = {},
): Fake {
  const clock = { t: 1000 };
  const entries: JournalEntry[] = [];
  const durable: boolean[] = [];
  const events: RenderEvent[] = [];
  const sleeps: number[] = [];
  const halted: Error[] = [];
  const stop = new AbortController();
  const submitStop = new AbortController();
  const ctx: ShotContext = {
    client,
    journal: {
      append: (entry, options) => {
        entries.push(entry);
        durable.push(options?.durable ?? true);
        return Promise.resolve();
      },
    },
    now: () => clock.t,
    sleep: (ms, signal) => {
      if (signal?.aborted) return Promise.reject(new Error('aborted'));
      sleeps.push(ms);
      clock.t += ms;
      return Promise.resolve();
    },
    random: () => 0.5,
    emit: (e) => events.push(e),
    signal: stop.signal,
    halt: (err) => {
      halted.push(err);
      stop.abort(err);
    },
    submissions: submitStop.signal,
    refuseSubmissions: (err) => {
      halted.push(err);
      submitStop.abort(err);
    },
    outDir: '/nonexistent',
    journalBase: 'https://api.example.test',
    deadlineMs: 30 * 60 * 1000,
    tuning: DEFAULT_POLL_TUNING,
    model: new DurationModel(),
    shot: a,
    result: startResult(a, 'skipped'),
    ...extra,
  };
  return { ctx, entries, durable, events, sleeps, halted, stop, submitStop, clock };
}
