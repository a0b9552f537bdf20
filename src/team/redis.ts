/**
 * The connection to the team's Redis. `ioredis` is imported here, lazily, and this module is
 * itself imported only under `--team`: a run without it loads no Redis code.
 */
import { createHash } from 'node:crypto';
import { ShotlistError } from '../errors.js';
import { describeTeamUrl } from './url.js';

/** The commands team mode sends; the rest of ioredis stays behind this seam. */
export interface TeamRedis {
  /** Runs a Lua script (by its sha1, sent whole once per connection). */
  script(
    source: string,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown>;
  /** Lua calls sent so far: the figure the bench reports per shot. */
  calls(): number;
  close(): Promise<void>;
}

/** Connects, or throws an error that names the server and the fix. */
export async function connectTeam(url: URL): Promise<TeamRedis> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url.href, {
    lazyConnect: true,
    maxRetriesPerRequest: 2,
    connectTimeout: 5000,
    // A refused connection is reported once, by connect(), not logged on every retry.
    retryStrategy: (times) => (times > 3 ? null : 200 * times),
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    throw new ShotlistError(
      `could not reach the team's Redis at ${describeTeamUrl(url)}: ${(err as Error).message}`,
      {
        code: 'team_unreachable',
        exitCode: 2,
        advice: { kind: 'fix_team_url' },
        cause: err,
      },
    );
  }
  const shas = new Map<string, string>();
  let calls = 0;
  return {
    async script(source, keys, args) {
      calls++;
      let sha = shas.get(source);
      if (!sha) {
        sha = createHash('sha1').update(source).digest('hex');
        shas.set(source, sha);
      }
      try {
        return await redis.evalsha(sha, keys.length, ...keys, ...args);
      } catch (err) {
        if (!/NOSCRIPT/.test((err as Error).message)) throw err;
        return redis.eval(source, keys.length, ...keys, ...args);
      }
    },
    calls: () => calls,
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
