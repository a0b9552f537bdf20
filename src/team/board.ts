/**
 * Team mode's side of a render: before a shot is submitted, the shared facts in Redis decide
 * which machine sends it (the first to claim its journal key), and that machine takes one of
 * the account's task slots and the shot's seconds of the team budget first. The others await
 * the same task and download the file themselves. Every entry the local journal gets is
 * mirrored into the facts, so they always say what the owner's journal says.
 */
import {
  failShot,
  record,
  type ShotContext,
  type TeamHook,
  type TeamTurn,
} from '../render/context.js';
import type { ShotError } from '../render/events.js';
import type { JournalEntry } from '../render/journal.js';
import type { AssessedShot } from '../render/state.js';
import type { ShotResult } from '../render/result.js';
import { notSent } from '../render/shot.js';
import { nextSubmission } from '../render/submit.js';
import { ShotlistError } from '../errors.js';
import type { TeamRedis } from './redis.js';
import {
  LEGACY_BUDGET_KEY,
  adoptFailed,
  adoptIntent,
  adoptUnknown,
  budgetKey,
  budgetScope,
  factKey,
  factOf,
  fields,
  leaseKey,
  pauseTurn,
  slotsKey,
  type Fact,
  othersTask,
  refuseFact,
  TaskOwners,
} from './facts.js';
import { ADMIT, CLAIM, FILE, OWNER_STEP, RENEW, SETTLE, TASK_END } from './scripts.js';

/** How long a lease lives unless renewed: a machine silent this long is taken for gone. */
export const DEFAULT_LEASE_MS = 10_000;
/**
 * How soon a waiting machine first asks again (for a slot, or for another's task id); each
 * further wait doubles, up to {@link MAX_WAIT_MS}, so a long wait costs Redis little.
 */
export const DEFAULT_WAIT_MS = 250;
export const MAX_WAIT_MS = 1_000;

export interface TeamBoardOptions {
  redis: TeamRedis;
  /** This machine's name in claims and leases: unique per process. */
  me: string;
  /** The account the task slots belong to (a hash, never the key itself). */
  account: string;
  /** Tasks in flight at once for the account, over the whole team. */
  cap: number;
  /** Seconds the whole team may reserve on this account (or campaign); absent: no budget. */
  budgetSeconds?: number;
  /** The campaign whose budget within the account this machine counts in (`--team-campaign`). */
  campaign?: string;
  /** The API base URL, shown beside the budget by `team status` (no credentials). */
  base?: string;
  /** The run's shots: the task ids their journal holds are theirs, never another shot's. */
  shots?: readonly AssessedShot[];
  leaseMs?: number;
  waitMs?: number;
}

/** The {@link TeamHook} of one machine; `close()` stops its lease renewals. */
export class TeamBoard implements TeamHook {
  private readonly owned = new Set<string>();
  private readonly watched = new Set<string>();
  private readonly owners: TaskOwners;
  private readonly slotsKey: string;
  private readonly budgetKey: string;
  private readonly leaseMs: number;
  private readonly waitMs: number;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly o: TeamBoardOptions) {
    this.slotsKey = slotsKey(o.account);
    this.budgetKey = budgetKey(budgetScope(o.account, o.campaign));
    this.leaseMs = o.leaseMs ?? DEFAULT_LEASE_MS;
    this.waitMs = o.waitMs ?? DEFAULT_WAIT_MS;
    this.timer = setInterval(() => void this.renew(), Math.floor(this.leaseMs / 3));
    this.timer.unref();
    this.owners = new TaskOwners(o.shots);
  }

  async turn(ctx: ShotContext): Promise<TeamTurn> {
    const a = ctx.shot;
    const { gen } = nextSubmission(a);
    // --retry-unknown on this machine is the one thing that may send an unknown shot again.
    const retry = a.state === 'unknown' && a.submits ? '1' : '0';
    for (let waits = 0; ; waits++) {
      if (ctx.submissions.aborted) return { kind: 'ended', result: notSent(ctx) };
      const fact = factOf(
        await this.o.redis.script(
          CLAIM,
          [factKey(a.key), leaseKey(a.key), LEGACY_BUDGET_KEY],
          [this.o.me, gen, this.leaseMs, retry],
        ),
      );
      if (fact === 'mine') {
        this.owned.add(a.key);
        const admitted = await this.admit(ctx);
        if (admitted) return admitted;
        continue;
      }
      if ((fact.state === 'task' || fact.state === 'completed') && fact.task_id) {
        return this.follow(ctx, fact, fact.task_id);
      }
      if (fact.state === 'unknown') return { kind: 'ended', result: await adoptUnknown(ctx, fact) };
      if (fact.state === 'failed') return { kind: 'ended', result: await adoptFailed(ctx, fact) };
      // Claimed or being sent by a live machine: its task id will come.
      if (!(await this.pause(ctx, waits))) return { kind: 'ended', result: notSent(ctx) };
    }
  }

  /**
   * A job this machine will not send (see job.ts): nothing is sent; when the shot's claim is
   * free, the refusal becomes its `failed` fact, so the enqueuer that waits for it says why.
   * A shot another machine holds or has ended is left as it is.
   */
  async refuse(ctx: ShotContext, error: ShotError): Promise<ShotResult> {
    const a = ctx.shot;
    if (!a.key) return failShot(ctx, error);
    const fact = factOf(
      await this.o.redis.script(
        CLAIM,
        [factKey(a.key), leaseKey(a.key), LEGACY_BUDGET_KEY],
        [this.o.me, nextSubmission(a).gen, this.leaseMs, '0'],
      ),
    );
    if (fact !== 'mine') return failShot(ctx, error);
    this.owned.add(a.key);
    const entry = { type: 'failed' as const, key: a.key, ...error, at: ctx.now() };
    return failShot(ctx, error, entry);
  }

  /** Waits for a slot and the budget; `undefined` when the claim was lost meanwhile. */
  private async admit(ctx: ShotContext): Promise<TeamTurn | undefined> {
    const a = ctx.shot;
    const seconds = Math.ceil(a.shot.seconds);
    const budget = this.o.budgetSeconds ?? -1;
    this.watched.add(a.key);
    for (let waits = 0; ; waits++) {
      const verdict = await this.o.redis.script(
        ADMIT,
        [this.slotsKey, factKey(a.key), this.budgetKey],
        [
          ...[a.key, this.o.cap, this.leaseMs, seconds, budget, this.o.me],
          ...[this.o.base ?? '', this.o.campaign ?? ''],
        ],
      );
      if (verdict === 'ok') return { kind: 'submit' };
      if (verdict === 'lost') {
        this.owned.delete(a.key);
        return undefined;
      }
      if (verdict === 'over') {
        const error = {
          code: 'team_budget',
          message: `the team budget of ${budget} s cannot hold this shot's ${seconds} s; nothing sent`,
        };
        return { kind: 'ended', result: await failShot(ctx, error) };
      }
      if (!(await this.pause(ctx, waits))) return { kind: 'ended', result: notSent(ctx) };
    }
  }

  /** Sleeps the `waits`-th wait; false when the run stopped sending meanwhile. */
  private pause(ctx: ShotContext, waits: number): Promise<boolean> {
    return pauseTurn(ctx, waits, this.waitMs, MAX_WAIT_MS);
  }

  private async follow(ctx: ShotContext, fact: Fact, taskId: string): Promise<TeamTurn> {
    // A task this folder or this run holds for another shot: its clip is not this shot's.
    if (this.owners.othersThan(taskId, ctx.shot.key))
      return { kind: 'ended', result: await refuseFact(ctx, othersTask(taskId)) };
    this.owners.note(taskId, ctx.shot.key);
    await adoptIntent(ctx, fact);
    await record(ctx, { type: 'task', key: ctx.shot.key, task_id: taskId, at: ctx.now() });
    this.watched.add(ctx.shot.key);
    ctx.result.taskId = taskId;
    ctx.result.submittedAt = ctx.now();
    return { kind: 'follow', taskId };
  }

  async mirror(e: JournalEntry): Promise<void> {
    if (e.type === 'task') this.owners.note(e.task_id, e.key);
    const keys = [factKey(e.key), leaseKey(e.key)];
    const own = this.owned.has(e.key);
    const step = async (values: Record<string, string | number | undefined>) => {
      const strict = e.type === 'intent' ? '1' : '0';
      const ok = await this.o.redis.script(OWNER_STEP, keys, [
        this.o.me,
        strict,
        ...fields(values),
      ]);
      if (ok === 1 || e.type !== 'intent') return;
      // Another machine took the shot over while this one stalled: it must not send it too.
      throw new ShotlistError('this machine lost its claim on the shot; nothing was sent', {
        code: 'team_claim_lost',
      });
    };
    // An end left unmirrored errs on the safe side: the slot is held until its lease runs
    // out, a failed task's seconds stay reserved, and the others ask the API themselves.
    const ended = (
      taskId: string,
      state: string,
      values: Record<string, string | number | undefined>,
    ) =>
      this.o.redis
        .script(
          TASK_END,
          [factKey(e.key), this.slotsKey, LEGACY_BUDGET_KEY],
          [e.key, taskId, state, ...fields(values)],
        )
        .catch(() => undefined);
    switch (e.type) {
      case 'intent':
        if (own) await step({ state: 'intent', gen: e.gen, idem: e.idem });
        return;
      case 'task':
        if (own) await step({ state: 'task', task_id: e.task_id });
        return;
      case 'unknown':
        if (own) await step({ state: 'unknown', message: e.message });
        return;
      case 'failed':
        if (e.task_id !== undefined)
          await ended(e.task_id, 'failed', { code: e.code, message: e.message });
        // A 429 created nothing and the shot is sent again after it: the claim stands.
        else if (own && e.code === 'rate_limited') await step({ state: 'claimed' });
        else if (own) await step({ state: 'failed', code: e.code, message: e.message });
        return;
      case 'completed':
        await ended(e.task_id, 'completed', { url: e.url, seconds: e.seconds });
        return;
      case 'file':
        await this.o.redis
          .script(FILE, [factKey(e.key)], [e.task_id, e.sha256, e.bytes])
          .catch(() => undefined);
        return;
      default:
        return;
    }
  }

  async settle(ctx: ShotContext): Promise<void> {
    const key = ctx.shot.key;
    if (!this.owned.has(key) && !this.watched.has(key)) return;
    this.watched.delete(key);
    if (!this.owned.delete(key)) return;
    // The shot's outcome is decided; if Redis cannot hear it now, the lease runs out instead.
    await this.o.redis
      .script(
        SETTLE,
        [factKey(key), leaseKey(key), this.slotsKey, LEGACY_BUDGET_KEY],
        [this.o.me, key],
      )
      .catch(() => undefined);
  }

  /** Keeps this machine's claims and the slots of the tasks it awaits alive. */
  private async renew(): Promise<void> {
    if (this.owned.size + this.watched.size === 0) return;
    const leases = [...this.owned].map(leaseKey);
    // A missed renewal only shortens a lease; the next tick tries again.
    await this.o.redis
      .script(RENEW, [this.slotsKey, ...leases], [this.leaseMs, this.o.me, ...this.watched])
      .catch(() => undefined);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.o.redis.close();
  }
}
