/**
 * An account pool: several API keys of one API, each with its own client (and request gate)
 * and its own adaptive window ({@link Limiter}). A submission goes to the account with the
 * most room; an account the API refuses (its key, its quota) or whose submissions keep ending
 * unknown is retired for the run and the others carry on. Once every account is retired, the
 * run stops submitting as a single refused key does (tasks already sent are still collected).
 */
import type { ApiClient, ClientStats } from '../api/client.js';
import { ApiError, EXIT_CODES } from '../errors.js';
import type { AccountReport } from '../report/types.js';
import type { RenderClient } from './context.js';
import type { RenderEvent, RetireReason } from './events.js';
import { Limiter } from './limiter.js';

/** One account handed to the render: its name, API and client (owning its key and gate). */
export interface PoolMember {
  name: string;
  baseUrl: string;
  client: RenderClient & Pick<ApiClient, 'stats'>;
  /** The most tasks it may hold at once: its window's ceiling. */
  concurrency: number;
}

/** An account of the running pool. */
export interface PoolAccount {
  readonly name: string;
  readonly baseUrl: string;
  readonly client: RenderClient;
  readonly limiter: Limiter;
}

interface Member extends PoolAccount {
  readonly client: PoolMember['client'];
  submitted: number;
  /** Submissions in a row that ended unknown. */
  failing: number;
  retired?: { reason: RetireReason; message: string };
}

/** What the choice sees of one account. */
export interface AccountRoom {
  /** Places free in its window now. */
  free: number;
  /** Tasks (and POSTs) it holds for the run. */
  held: number;
  retired: boolean;
}

/**
 * The account the next submission goes to: the one with the most free places (so work spreads
 * in proportion to each account's room), then the one holding fewest tasks, then the first in
 * the file. Undefined when none has room now.
 */
export function chooseAccount(rooms: readonly AccountRoom[]): number | undefined {
  let best: number | undefined;
  for (const [i, r] of rooms.entries()) {
    if (r.retired || r.free <= 0) continue;
    const b = best === undefined ? undefined : rooms[best]!;
    if (!b || r.free > b.free || (r.free === b.free && r.held < b.held)) best = i;
  }
  return best;
}

/** Submissions in a row ending unknown (the account answers 5xx, times out) before it is retired. */
export const MAX_FAILING = 3;

/** What the pool needs of the run. */
export interface PoolHooks {
  emit: (event: RenderEvent) => void;
  now: () => number;
  /** Every account is retired: the run sends nothing more (its tasks are still collected). */
  refuseAll: (err: ApiError) => void;
}

export class AccountPool {
  private readonly members: Member[];
  private waiters: (() => void)[] = [];

  constructor(
    members: readonly PoolMember[],
    private readonly hooks: PoolHooks,
  ) {
    this.members = members.map((m) => ({
      name: m.name,
      baseUrl: m.baseUrl,
      client: m.client,
      submitted: 0,
      failing: 0,
      limiter: new Limiter(
        m.concurrency,
        (change) =>
          hooks.emit({
            type: 'limit',
            at: hooks.now(),
            shot: '',
            key: '',
            concurrency: change.window,
            ceiling: change.ceiling,
            reason: change.reason,
            account: m.name,
          }),
        () => this.wake(),
      ),
    }));
  }

  /** The account of that name (the one the journal says holds a task), if the pool has it. */
  byName(name: string): PoolAccount | undefined {
    return this.members.find((m) => m.name === name);
  }

  /**
   * Waits for an account with room ({@link chooseAccount}) and takes a place in its window.
   * Undefined when submissions stop first (the signal aborts, or every account is retired).
   */
  async acquire(signal: AbortSignal): Promise<PoolAccount | undefined> {
    for (;;) {
      if (signal.aborted) return undefined;
      const i = chooseAccount(
        this.members.map((m) => ({
          free: m.limiter.window - m.limiter.inFlight,
          held: m.limiter.inFlight,
          retired: m.retired !== undefined,
        })),
      );
      if (i !== undefined) {
        const chosen = this.members[i]!;
        // Immediate: the pool is the only one taking places, and the account has room.
        await chosen.limiter.acquire(signal);
        return chosen;
      }
      await this.changed(signal);
    }
  }

  /** A task was created with `account`: its failing streak ends. */
  created(account: PoolAccount): void {
    const m = this.member(account);
    m.submitted++;
    m.failing = 0;
  }

  /** A submission to `account` ended unknown: after {@link MAX_FAILING} in a row it is retired. */
  failed(account: PoolAccount, message: string): void {
    const m = this.member(account);
    if (++m.failing >= MAX_FAILING) {
      this.retire(account, 'failing', `${MAX_FAILING} submissions in a row failed: ${message}`);
    }
  }

  /** The API refused `account` (its key, its quota): no more submissions go to it this run. */
  refused(account: PoolAccount, err: ApiError): void {
    const why = err.code === 'quota_exhausted' ? 'quota' : 'key';
    this.retire(account, why, err.serverMessage ?? err.message);
  }

  /** What each account did in this run. */
  outcomes(): AccountReport[] {
    return this.members.map((m) => ({
      name: m.name,
      base_url: m.baseUrl,
      submitted: m.submitted,
      ...(m.retired ? { retired: { ...m.retired } } : {}),
    }));
  }

  /** The requests of every account's client, added up. */
  stats(): ClientStats {
    const total: ClientStats = { requests: { submit: 0, poll: 0, download: 0 }, retries: 0 };
    for (const m of this.members) {
      const s = m.client.stats();
      for (const k of Object.keys(total.requests) as (keyof ClientStats['requests'])[])
        total.requests[k] += s.requests[k];
      total.retries += s.retries;
    }
    return total;
  }

  private retire(account: PoolAccount, reason: RetireReason, message: string): void {
    const m = this.member(account);
    if (m.retired) return;
    m.retired = { reason, message };
    const left = this.members.filter((x) => !x.retired).length;
    this.hooks.emit({
      type: 'account',
      at: this.hooks.now(),
      shot: '',
      key: '',
      account: m.name,
      baseUrl: m.baseUrl,
      state: 'retired',
      reason,
      message,
      left,
    });
    if (left === 0) this.hooks.refuseAll(this.allRefused());
    this.wake();
  }

  /** The run's stop once no account is left: exit 4 like a single refused key. */
  private allRefused(): ApiError {
    const said = this.members.map((m) => `${m.name} (${m.retired!.reason}: ${m.retired!.message})`);
    const quota = this.members.some((m) => m.retired!.reason === 'quota');
    return new ApiError(`the API refused every account of the pool: ${said.join('; ')}`, {
      code: quota ? 'quota_exhausted' : 'unauthorized',
      exitCode: EXIT_CODES.accountRefused,
      fix: 'add quota to an account (or fix its key variable), then run the same command again: the tasks already sent are kept, the shots not sent yet are sent then',
    });
  }

  private member(account: PoolAccount): Member {
    return account as Member;
  }

  /** Resolves at the next change of any account's room, or when `signal` aborts. */
  private changed(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.waiters.push(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private wake(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) w();
  }
}
