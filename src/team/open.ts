/**
 * Opens team mode for one run: connects to the team's Redis and names this machine and the
 * account whose task slots it shares. Imported lazily, only under `--team`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { TeamBoard } from './board.js';
import { legacyBudgetNote } from './budget.js';
import { Enqueuer } from './enqueuer.js';
import { openShotQueue } from './queue.js';
import { connectTeam } from './redis.js';
import type { AssessedShot } from '../render/state.js';

export { TeamBoard } from './board.js';
export { Enqueuer } from './enqueuer.js';

export interface OpenTeamOptions {
  url: URL;
  /** Only hashed, to name the account's slots: the key itself never reaches Redis. */
  apiKey: string;
  baseUrl: string;
  /** Tasks in flight at once for the account over the whole team. */
  cap: number;
  budgetSeconds?: number;
  /** The campaign whose budget within the account this machine counts in (`--team-campaign`). */
  campaign?: string;
  /** Told, with a budget, when Redis still holds the legacy counter of an older shotlist. */
  warn?: (line: string) => void;
  /** The run's shots: the task ids their journal holds are theirs, never another shot's. */
  shots?: readonly AssessedShot[];
}

/** The account's name in Redis: the same for every machine with the same key and API. */
export function accountId(apiKey: string, baseUrl: string): string {
  return createHash('sha256')
    .update(`shotlist-team\n${baseUrl.replace(/\/+$/, '')}\n${apiKey}`)
    .digest('hex')
    .slice(0, 32);
}

/** A base URL as Redis may hold it: no user or password, whatever the flag carried. */
export function shownBase(baseUrl: string): string {
  try {
    const url = new URL(baseUrl);
    return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
  } catch {
    return '';
  }
}

export async function openTeam(o: OpenTeamOptions): Promise<TeamBoard> {
  const redis = await connectTeam(o.url);
  if (o.budgetSeconds !== undefined && o.warn) {
    const note = await legacyBudgetNote(redis).catch(() => undefined);
    if (note) o.warn(note);
  }
  return new TeamBoard({
    redis,
    me: `${hostname()}:${process.pid}:${randomBytes(6).toString('hex')}`,
    account: accountId(o.apiKey, o.baseUrl),
    base: shownBase(o.baseUrl),
    cap: o.cap,
    ...(o.budgetSeconds !== undefined ? { budgetSeconds: o.budgetSeconds } : {}),
    ...(o.campaign !== undefined ? { campaign: o.campaign } : {}),
    ...(o.shots ? { shots: o.shots } : {}),
  });
}

/**
 * Opens an enqueuer's side of team mode (`shotlist enqueue`): puts `shots` whose bodies are
 * ready on the queue of the workers on `base`, and returns the hook that follows them.
 */
export async function openEnqueuer(o: {
  url: URL;
  base: string;
  shots: readonly AssessedShot[];
  /** The run has the team's key: the tasks the facts name are checked with the API. */
  verify: boolean;
  /** How long an unknown shot is still watched (`--wait-unknown`); 0 ends it at once. */
  waitUnknownMs?: number;
}): Promise<Enqueuer> {
  const redis = await connectTeam(o.url);
  const queue = await openShotQueue(o.url, o.base);
  const enqueuer = new Enqueuer({
    redis,
    queue,
    base: o.base,
    verify: o.verify,
    ...(o.waitUnknownMs ? { waitUnknownMs: o.waitUnknownMs } : {}),
  });
  try {
    await enqueuer.enqueue(o.shots);
  } catch (err) {
    await enqueuer.close().catch(() => undefined);
    throw err;
  }
  return enqueuer;
}
