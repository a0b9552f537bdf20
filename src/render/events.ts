import type { TaskStatus } from '../api/types.js';
import type { AccountReport } from '../report/types.js';
import type { LimitReason } from './limiter.js';

/** Why an account of a pool was retired for the run: refused (`key`, `quota`) or `failing`. */
export type RetireReason = NonNullable<AccountReport['retired']>['reason'];

/** The error of a shot, as shown and reported. */
export interface ShotError {
  /** The API's `error.code` (e.g. `content_filter`), or ours (`rejected`, `unknown`, `download_failed`...). */
  code: string;
  message: string;
  /** The HTTP status, when the error came with one. */
  status?: number;
}

/** Which shot an event is about. */
export interface EventShot {
  /** {@link shotLabel} of the shot. */
  shot: string;
  key: string;
}

interface Base extends EventShot {
  /** Milliseconds since the epoch, from the injected clock. */
  at: number;
}

/** Everything the renderer reports while it works; `src/ui/` draws these. */
export type RenderEvent =
  | (Base & { type: 'queued'; resumed: boolean; cost: number | null })
  | (Base & { type: 'cached'; file: string })
  | (Base & { type: 'submitting' })
  | (Base & { type: 'submitted'; taskId: string; resumed: boolean; cost: number | null })
  | (Base & { type: 'status'; taskId: string; status: TaskStatus; progress: number | undefined })
  | (Base & { type: 'downloading'; taskId: string; bytes: number; total: number | undefined })
  | (Base & { type: 'downloaded'; taskId: string; file: string; bytes: number; sha256: string })
  | (Base & {
      type: 'done';
      taskId: string | undefined;
      file: string;
      elapsedMs: number;
      cached: boolean;
    })
  | (Base & { type: 'failed'; taskId: string | undefined; error: ShotError })
  | (Base & { type: 'unknown'; error: ShotError })
  | (Base & { type: 'pending'; taskId: string; reason: 'deadline' | 'interrupted' })
  | (Base & { type: 'skipped'; reason: 'interrupted' | 'unknown' | 'blocked'; detail?: string })
  /** The POST was answered 429 (nothing created): the shot is sent again after `waitMs`. */
  | (Base & { type: 'limited'; waitMs: number })
  /**
   * The account's adaptive concurrency moved (not about one shot: `shot` and `key` are empty):
   * `concurrency` tasks may be in flight now, of the run's `ceiling`; `account` names the
   * account of a pool (`--accounts`).
   */
  | (Base & {
      type: 'limit';
      concurrency: number;
      ceiling: number;
      reason: LimitReason;
      account?: string;
    })
  /**
   * An account of the pool was retired for the run (not about one shot): the API refused its
   * key or quota, or its submissions kept failing; `left` accounts still take submissions.
   */
  | (Base & {
      type: 'account';
      account: string;
      baseUrl: string;
      state: 'retired';
      reason: RetireReason;
      message: string;
      left: number;
    });

/** Omits keys from each member of a union, keeping it discriminated. */
type OmitEach<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** An event without its shot and time: what a phase of one shot says. */
export type ShotEventBody = OmitEach<RenderEvent, keyof Base>;

/** Stamps an event of one shot with the shot and the time. */
export function shotEvent(about: EventShot, at: number, body: ShotEventBody): RenderEvent {
  return { ...body, at, shot: about.shot, key: about.key };
}
