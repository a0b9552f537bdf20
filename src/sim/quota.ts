/**
 * The simulator's accounts: several keys, each with its own quota of seconds and a cap on the
 * tasks it may have queued or running, refused the way a gateway refuses them (403 once the
 * quota is spent, 429 with `Retry-After` at the cap). Tasks remember their account by a digest
 * of its key, so a restarted simulator knows what each key has spent; the key itself is never
 * stored.
 */
import { createHash } from 'node:crypto';
import { UsageError } from '../errors.js';

/** Seconds of video each key may still be billed, by key. */
export type Quotas = Record<string, number>;

/** A refusal, in the shape the server sends every error. */
export interface AccountRefusal {
  status: 403 | 429;
  code: string;
  type: string;
  message: string;
  headers?: Record<string, string>;
}

/** A task as the accounts see it. */
export interface AccountTask {
  account: string | undefined;
  seconds: number;
  /** Still queued or running. */
  open: boolean;
}

/** How long a client at the cap is asked to wait, in seconds. */
export const CAP_RETRY_AFTER_SECONDS = 1;

/** The name a task records for the key that sent it: a digest, never the key. */
export function accountOf(key: string): string {
  return `acct_${createHash('sha256').update(`shotlist-sim:${key}`).digest('hex').slice(0, 16)}`;
}

/**
 * Parses `KEY=SECONDS` entries (each one given on its own, or several joined by commas) into
 * quotas. Throws a UsageError naming the bad entry and the accepted form, without the key.
 */
export function parseQuotas(text: string | readonly string[]): Quotas {
  const quotas: Quotas = {};
  const parts = (typeof text === 'string' ? [text] : text).flatMap((t) => t.split(','));
  for (const [i, part] of parts.entries()) {
    const eq = part.lastIndexOf('=');
    const key = eq < 0 ? '' : part.slice(0, eq).trim();
    const seconds = Number(eq < 0 ? NaN : part.slice(eq + 1).trim() || NaN);
    const fix = { kind: 'quota_format' } as const;
    if (key === '') throw new UsageError(`quota entry ${i + 1} has no KEY=`, fix);
    if (!Number.isFinite(seconds) || seconds < 0) {
      throw new UsageError(`quota entry ${i + 1} is not a number of seconds (0 or more)`, fix);
    }
    if (quotas[key] !== undefined) {
      throw new UsageError(`quota entry ${i + 1} names a key given before`, 'give each key once');
    }
    quotas[key] = seconds;
  }
  return quotas;
}

/** The quota and cap of every key; keys without a quota may spend without limit. */
export class Accounts {
  private readonly quotas = new Map<string, number>();

  constructor(
    quotas: Quotas,
    private readonly cap: number,
  ) {
    for (const [key, seconds] of Object.entries(quotas)) this.quotas.set(accountOf(key), seconds);
  }

  /**
   * Whether `account` may have one more task of `seconds`, given every task so far: spent
   * seconds count every task accepted (a gateway takes the money up front).
   */
  admit(
    account: string,
    seconds: number,
    tasks: Iterable<AccountTask>,
  ): AccountRefusal | undefined {
    const quota = this.quotas.get(account);
    let spent = 0;
    let open = 0;
    for (const t of tasks) {
      if (t.account !== account) continue;
      spent += t.seconds;
      if (t.open) open++;
    }
    if (quota !== undefined && spent + seconds > quota) {
      return {
        status: 403,
        code: 'insufficient_user_quota',
        type: 'insufficient_quota',
        message: `quota exhausted: this key has ${Math.max(0, quota - spent)} s of its ${quota} s left, the task needs ${seconds} s`,
      };
    }
    if (open >= this.cap) {
      return {
        status: 429,
        code: 'concurrency_limit_exceeded',
        type: 'rate_limit_error',
        message: `this key already has ${open} tasks queued or running (limit ${this.cap}); retry after ${CAP_RETRY_AFTER_SECONDS} s`,
        headers: { 'retry-after': String(CAP_RETRY_AFTER_SECONDS) },
      };
    }
    return undefined;
  }

  /** Whether `key` is one of the keys given a quota. */
  knows(key: string): boolean {
    return this.quotas.has(accountOf(key));
  }

  /** Whether any key has a quota. */
  get keyed(): boolean {
    return this.quotas.size > 0;
  }
}
