/**
 * A throwaway `redis-server` for tests: Debian's binary on a free loopback port, in a temporary
 * folder, with no persistence. Tests call {@link redisServerPath} first and skip with
 * {@link NO_REDIS} when there is none (scripts/setup.sh installs it where apt-get is usable).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { EVENT_DEADLINE_MS } from '../helpers/wait.js';

export const NO_REDIS =
  'redis-server is not installed (scripts/setup.sh installs it where apt-get is usable): team mode tests skipped';

/** The redis-server binary: $REDIS_SERVER, else Debian's, else none. */
export function redisServerPath(): string | undefined {
  const candidates = [
    process.env.REDIS_SERVER,
    '/usr/bin/redis-server',
    '/usr/local/bin/redis-server',
  ];
  return candidates.find((c): c is string => !!c && existsSync(c));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface RedisServer {
  /** `redis://127.0.0.1:PORT/0` */
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** Starts a redis-server and waits until it accepts connections. */
export async function startRedisServer(binary: string): Promise<RedisServer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'shotlist-redis-'));
  const port = await freePort();
  const child: ResultPromise = execa(
    binary,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
    ],
    { reject: false, stdio: 'ignore', cleanup: true },
  );
  // Until it listens or has ended: minutes on a loaded machine are a backstop, not a wait.
  const end = Date.now() + EVENT_DEADLINE_MS;
  while (Date.now() < end && !(await accepts(port))) {
    if (child.exitCode !== null && child.exitCode !== undefined) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!(await accepts(port))) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`redis-server did not start on port ${port}`);
  }
  return {
    url: `redis://127.0.0.1:${port}/0`,
    port,
    async stop() {
      child.kill('SIGTERM');
      await child;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A redis-server for the `describe` block that calls it (started before its tests, stopped
 * after them) and a temporary folder: `team(db)` is a URL of database `db`, `dir(name)` a new
 * folder in it.
 */
export function useTeamRedis(prefix: string, binary: string) {
  const tmp = tempDir(prefix);
  let redis: RedisServer | undefined;
  let n = 0;
  beforeAll(async () => {
    redis = await startRedisServer(binary);
  });
  afterAll(async () => {
    await redis?.stop();
    tmp.cleanup();
  });
  return {
    team: (db: number) => redis!.url.replace(/\/0$/, `/${db}`),
    dir: (name: string) => {
      const d = path.join(tmp.dir, `${name}-${++n}`);
      mkdirSync(d, { recursive: true });
      return d;
    },
  };
}
