/**
 * Opens team mode for one run: connects to the team's Redis and names this machine and the
 * account whose task slots it shares. Imported lazily, only under `--team`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { TeamBoard } from './board.js';
import { connectTeam } from './redis.js';

export { TeamBoard } from './board.js';

export interface OpenTeamOptions {
  url: URL;
  /** Only hashed, to name the account's slots: the key itself never reaches Redis. */
  apiKey: string;
  baseUrl: string;
  /** Tasks in flight at once for the account over the whole team. */
  cap: number;
  budgetSeconds?: number;
}

/** The account's name in Redis: the same for every machine with the same key and API. */
export function accountId(apiKey: string, baseUrl: string): string {
  return createHash('sha256')
    .update(`shotlist-team\n${baseUrl.replace(/\/+$/, '')}\n${apiKey}`)
    .digest('hex')
    .slice(0, 32);
}

export async function openTeam(o: OpenTeamOptions): Promise<TeamBoard> {
  const redis = await connectTeam(o.url);
  return new TeamBoard({
    redis,
    me: `${hostname()}:${process.pid}:${randomBytes(6).toString('hex')}`,
    account: accountId(o.apiKey, o.baseUrl),
    cap: o.cap,
    ...(o.budgetSeconds !== undefined ? { budgetSeconds: o.budgetSeconds } : {}),
  });
}
