/**
 * What another party with write access to the team's Redis can plant there: a shot's facts and
 * queued jobs. Tests plant them to check that the CLI takes them as hints, nothing more.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadManifest } from '../../src/manifest/load.js';
import { plan } from '../../src/plan/plan.js';
import type { PlannedShot } from '../../src/plan/types.js';
import { journalKey } from '../../src/manifest/identity.js';
import { factKey } from '../../src/team/facts.js';
import { openShotQueue, type ShotJob } from '../../src/team/queue.js';
import { connectTeam } from '../../src/team/redis.js';

/** The planned shots of a manifest with their journal keys for the API at `base`. */
export async function plannedShots(
  manifest: string,
  base: string,
): Promise<{ shot: PlannedShot; key: string }[]> {
  const shots = plan(await loadManifest(manifest)).shots;
  return shots.map((shot) => ({ shot, key: journalKey(shot.request, shot.take, base) }));
}

/** Writes a shot's fact hash as it is, over whatever was there. */
export async function plantFact(
  team: string,
  key: string,
  fields: Record<string, string>,
): Promise<void> {
  const redis = await connectTeam(new URL(team));
  try {
    await redis.script(
      "redis.call('DEL', KEYS[1]); return redis.call('HSET', KEYS[1], unpack(ARGV))",
      [factKey(key)],
      Object.entries(fields).flat(),
    );
  } finally {
    await redis.close();
  }
}

/** Puts a job on the queue of the workers on `base`, under the job id `job.key`. */
export async function plantJob(team: string, base: string, job: ShotJob): Promise<void> {
  const queue = await openShotQueue(new URL(team), base);
  try {
    await queue.add([job]);
  } finally {
    await queue.close();
  }
}

/** A server on another host name than the API's, counting the requests it gets. */
export async function foreignServer(): Promise<{
  url: string;
  requests: () => number;
  close: () => Promise<void>;
}> {
  let requests = 0;
  const server: Server = createServer((req, res) => {
    requests++;
    res.writeHead(200, { 'content-type': 'video/mp4' });
    res.end(Buffer.alloc(2048, 7));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.2:${port}`,
    requests: () => requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
