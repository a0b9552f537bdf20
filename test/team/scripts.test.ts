/**
 * The Lua scripts of team mode against a real redis-server: who gets a claim, what a dead
 * machine leaves behind, the account's slots and the team budget.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readTeamStatus } from '../../src/team/budget.js';
import { connectTeam, type TeamRedis } from '../../src/team/redis.js';
import {
  ADMIT,
  CLAIM,
  LOOK,
  MARK_RETRY,
  OWNER_STEP,
  SETTLE,
  TASK_END,
} from '../../src/team/scripts.js';
import { NO_REDIS, redisServerPath, startRedisServer, type RedisServer } from './redis-server.js';

const binary = redisServerPath();
if (!binary) console.warn(NO_REDIS);

const FACT = 'shotlist:shot:k1';
const LEASE = 'shotlist:lease:k1';
const SLOTS = `shotlist:slots:${'c'.repeat(32)}`;
/** The single team-wide counter of an older shotlist. */
const LEGACY = 'shotlist:budget:seconds';
/** A scoped budget (a hash: counted, used). */
const BUDGET = `shotlist:budget:${'a'.repeat(32)}`;
const LEASE_MS = 60_000;

describe.skipIf(!binary)('team scripts', () => {
  let server: RedisServer;
  let team: TeamRedis;
  let raw: Redis;

  beforeAll(async () => {
    server = await startRedisServer(binary!);
    team = await connectTeam(new URL(server.url));
    raw = new Redis(server.url);
  });
  afterAll(async () => {
    await team?.close();
    raw?.disconnect();
    await server?.stop();
  });
  beforeEach(async () => {
    await raw.flushdb();
  });

  const claim = (me: string, gen = 1, retry = '0') =>
    team.script(CLAIM, [FACT, LEASE, LEGACY], [me, gen, LEASE_MS, retry]);
  const admit = (key: string, me: string, cap: number, seconds: number, budget = -1) =>
    team.script(
      ADMIT,
      [SLOTS, `shotlist:shot:${key}`, BUDGET],
      [key, cap, LEASE_MS, seconds, budget, me, 'http://api', ''],
    );
  const step = (me: string, ...fields: string[]) =>
    team.script(OWNER_STEP, [FACT, LEASE], [me, fields[1] === 'intent' ? '1' : '0', ...fields]);
  const asFact = (reply: unknown) => {
    const list = reply as string[];
    return Object.fromEntries(list.flatMap((v, i) => (i % 2 ? [] : [[v, list[i + 1]]])));
  };

  it('LOOK (an enqueuer) claims nothing; an intent whose owner died reads unknown', async () => {
    const look = () => team.script(LOOK, [FACT, LEASE], []);
    expect(await look()).toEqual([]);
    expect(await raw.exists(FACT)).toBe(0);
    await claim('m1');
    await step('m1', 'state', 'intent', 'gen', '1');
    expect(asFact(await look())).toMatchObject({ state: 'intent', owner: 'm1' });
    await raw.del(LEASE);
    expect(asFact(await look())).toMatchObject({ state: 'unknown', owner: 'm1' });
    expect(asFact(await claim('m2'))).toMatchObject({ state: 'unknown' });
  });

  it('the first claim wins; the second machine sees it claimed by a live owner', async () => {
    expect(await claim('m1')).toEqual(['mine']);
    expect(asFact(await claim('m2'))).toMatchObject({ state: 'claimed', owner: 'm1', live: '1' });
  });

  it('an intent whose owner died is unknown for everyone, and taken again only when told', async () => {
    await claim('m1');
    expect(await step('m1', 'state', 'intent', 'idem', 'i-1')).toBe(1);
    await raw.del(LEASE);
    expect(asFact(await claim('m2'))).toMatchObject({ state: 'unknown', idem: 'i-1' });
    expect(asFact(await claim('m3'))).toMatchObject({ state: 'unknown' });
    expect(await claim('m2', 1, '1')).toEqual(['mine']);
  });

  it('a dead machine claim that sent nothing is taken over, its reserved seconds given back', async () => {
    await claim('m1');
    expect(await admit('k1', 'm1', 4, 5, 100)).toBe('ok');
    expect(await raw.hget(BUDGET, 'counted')).toBe('5');
    await raw.del(LEASE);
    expect(await claim('m2')).toEqual(['mine']);
    expect(await raw.hget(BUDGET, 'counted')).toBe('0');
    // The machine that lost its claim cannot record an intent any more.
    expect(await step('m1', 'state', 'intent')).toBe(0);
  });

  it('a task id the owner learns after its lease ran out is still recorded, not hidden as unknown', async () => {
    await claim('m1');
    await step('m1', 'state', 'intent');
    await raw.del(LEASE);
    expect(asFact(await claim('m2'))).toMatchObject({ state: 'unknown' });
    expect(await step('m1', 'state', 'task', 'task_id', 't1')).toBe(1);
    expect(asFact(await claim('m3'))).toMatchObject({ state: 'task', task_id: 't1' });
  });

  it('a finished task of an older generation may be rendered again; the same generation is followed', async () => {
    await claim('m1');
    await step('m1', 'state', 'task', 'task_id', 't1');
    await team.script(TASK_END, [FACT, SLOTS, LEGACY], ['k1', 't1', 'completed', 'url', 'u']);
    expect(asFact(await claim('m2', 1))).toMatchObject({ state: 'completed', task_id: 't1' });
    expect(await claim('m2', 2)).toEqual(['mine']);
  });

  it('the account slots hold at the cap until a task ends', async () => {
    for (const key of ['a', 'b', 'c']) {
      await raw.hset(
        `shotlist:shot:${key}`,
        'state',
        'claimed',
        'owner',
        'm1',
        'task_id',
        `t-${key}`,
      );
    }
    expect(await admit('a', 'm1', 2, 5)).toBe('ok');
    expect(await admit('b', 'm1', 2, 5)).toBe('ok');
    expect(await admit('c', 'm1', 2, 5)).toBe('full');
    await team.script(TASK_END, ['shotlist:shot:a', SLOTS, LEGACY], ['a', 't-a', 'completed']);
    expect(await admit('c', 'm1', 2, 5)).toBe('ok');
  });

  it('the budget refuses what it cannot hold; a failed task gives its seconds back once', async () => {
    await claim('m1');
    expect(await admit('k1', 'm1', 4, 8, 10)).toBe('ok');
    await step('m1', 'state', 'task', 'task_id', 't1');
    await raw.hset('shotlist:shot:k2', 'state', 'claimed', 'owner', 'm1');
    expect(await admit('k2', 'm1', 4, 8, 10)).toBe('over');
    for (let i = 0; i < 2; i++) {
      await team.script(TASK_END, [FACT, SLOTS, LEGACY], ['k1', 't1', 'failed', 'code', 'x']);
    }
    expect(await raw.hget(BUDGET, 'counted')).toBe('0');
    expect(await admit('k2', 'm1', 4, 8, 10)).toBe('ok');
  });

  it('settling a claim that never reached the POST withdraws it with its slot and seconds', async () => {
    await claim('m1');
    expect(await admit('k1', 'm1', 1, 5, 10)).toBe('ok');
    await team.script(SETTLE, [FACT, LEASE, SLOTS, LEGACY], ['m1', 'k1']);
    expect(await raw.exists(FACT, LEASE)).toBe(0);
    expect(await raw.zcard(SLOTS)).toBe(0);
    expect(await raw.hget(BUDGET, 'counted')).toBe('0');
  });

  it('budgets are per scope: another account is not refused; a completed task counts as used', async () => {
    const other = `shotlist:budget:${'b'.repeat(32)}`;
    await claim('m1');
    expect(await admit('k1', 'm1', 4, 8, 10)).toBe('ok');
    await raw.hset('shotlist:shot:k2', 'state', 'claimed', 'owner', 'm2');
    const admitOther = () =>
      team.script(
        ADMIT,
        [SLOTS, 'shotlist:shot:k2', other],
        ['k2', 4, LEASE_MS, 8, 10, 'm2', 'http://gw', ''],
      );
    expect(await admitOther()).toBe('ok');
    await step('m1', 'state', 'task', 'task_id', 't1');
    await team.script(TASK_END, [FACT, SLOTS, LEGACY], ['k1', 't1', 'completed']);
    expect(await raw.hgetall(BUDGET)).toMatchObject({ counted: '8', used: '8' });
    expect(await raw.hget(other, 'counted')).toBe('8');
    expect(await raw.exists(LEGACY)).toBe(0);
  });

  it('team status: seconds used and reserved per scope, slots in use, claims held', async () => {
    await claim('m1');
    expect(await admit('k1', 'm1', 4, 8, 20)).toBe('ok');
    await step('m1', 'state', 'task', 'task_id', 't1');
    await team.script(TASK_END, [FACT, SLOTS, LEGACY], ['k1', 't1', 'completed']);
    await raw.hset('shotlist:shot:k2', 'state', 'claimed', 'owner', 'm2');
    await raw.set('shotlist:lease:k2', 'm2', 'PX', LEASE_MS);
    expect(await admit('k2', 'm2', 4, 4, 20)).toBe('ok');
    await raw.set(LEGACY, '7');
    const st = await readTeamStatus(team);
    expect(st.budgets).toEqual([
      expect.objectContaining({ scope: 'a'.repeat(32), used: 8, reserved: 4, limit: 20 }),
    ]);
    expect(st.legacySeconds).toBe(7);
    expect(st.slots).toEqual([{ account: 'c'.repeat(32), inUse: 1 }]);
    expect(st.claims).toEqual({ held: 2, machines: 2 });
  });

  it('a fact of an older shotlist (no budget named) gives its seconds back to the legacy counter', async () => {
    await raw.set(LEGACY, '12');
    await raw.hset(FACT, 'state', 'task', 'owner', 'm1', 'task_id', 't1', 'reserved', '4');
    await team.script(TASK_END, [FACT, SLOTS, LEGACY], ['k1', 't1', 'failed']);
    expect(await raw.get(LEGACY)).toBe('8');
  });

  it('MARK_RETRY: an unknown shot is sent once more by a job of the marked generation, not by an older one', async () => {
    await claim('m1');
    await step('m1', 'state', 'intent', 'gen', '1');
    await raw.del(LEASE);
    expect(await team.script(MARK_RETRY, [FACT, LEASE], [2])).toBe(1);
    // The dead worker's own job (generation 1) comes back: it does not send.
    expect(asFact(await claim('m2', 1))).toMatchObject({ state: 'unknown', retry: '2' });
    expect(await claim('m2', 2)).toEqual(['mine']);
    // That attempt dies unknown in turn: it is not marked again by the same generation.
    await step('m2', 'state', 'intent', 'gen', '2');
    await raw.del(LEASE);
    expect(await team.script(MARK_RETRY, [FACT, LEASE], [2])).toBe(0);
    expect(asFact(await claim('m3', 2))).toMatchObject({ state: 'unknown' });
  });
});
