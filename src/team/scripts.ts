/**
 * The Lua scripts of team mode. Each runs atomically in Redis, so two machines deciding about
 * the same shot, slot or second of budget at the same moment see one order of events. Times
 * come from Redis's own clock (`TIME`): the machines' clocks need not agree.
 *
 * Keys of one shot: `fact` (a hash: state, owner, gen, idem, task_id, url, seconds, sha256,
 * bytes, reserved) and `lease` (the owner's id, with an expiry the owner keeps renewing).
 * States: `claimed` (an owner is waiting for a slot; nothing sent), `intent` (the POST may be
 * under way), `task`, `completed`, `failed`, `unknown`.
 */

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * KEYS: fact, lease, budget. ARGV: me, gen, lease ms, retry unknown (`1` or `0`).
 * Takes the claim when there is no fact, when the fact is a finished task of an older
 * generation (a deliberate re-render), when its owner's lease ran out before it sent
 * anything (its budget reservation is given back), or, told to retry, when it is `unknown`.
 * An intent whose owner is gone becomes `unknown`: the POST may have created a task, so
 * nobody sends it again unless told.
 * Returns `{'mine'}` or the fact as a flat list of fields and values.
 */
export const CLAIM = `
local state = redis.call('HGET', KEYS[1], 'state')
local live = redis.call('EXISTS', KEYS[2]) == 1
if state then
  local gen = tonumber(redis.call('HGET', KEYS[1], 'gen') or '0')
  local free = (state == 'failed' or state == 'completed') and gen < tonumber(ARGV[2])
  if state == 'claimed' and not live then
    free = true
    local reserved = tonumber(redis.call('HGET', KEYS[1], 'reserved') or '0')
    if reserved > 0 then redis.call('DECRBY', KEYS[3], reserved) end
  end
  if state == 'intent' and not live then
    redis.call('HSET', KEYS[1], 'state', 'unknown')
    state = 'unknown'
  end
  if state == 'unknown' and ARGV[4] == '1' then free = true end
  if not free then
    local fact = redis.call('HGETALL', KEYS[1])
    table.insert(fact, 'live')
    table.insert(fact, live and '1' or '0')
    return fact
  end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'state', 'claimed', 'owner', ARGV[1], 'gen', ARGV[2])
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[3])
return {'mine'}
`;

/**
 * KEYS: slots (a sorted set of shot keys scored by lease expiry), fact, budget.
 * ARGV: shot key, cap, lease ms, seconds, budget (-1: none), me.
 * Takes a task slot of the account and reserves the shot's seconds of the team budget, both
 * or neither. Returns `ok`, `full` (wait and ask again) or `over` (the budget cannot hold it),
 * or `lost` when this machine no longer holds the claim.
 */
export const ADMIT = `
${NOW}
if redis.call('HGET', KEYS[2], 'owner') ~= ARGV[6] or redis.call('HGET', KEYS[2], 'state') ~= 'claimed' then
  return 'lost'
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local held = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not held and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 'full' end
local seconds = tonumber(ARGV[4])
local budget = tonumber(ARGV[5])
if budget >= 0 then
  local used = tonumber(redis.call('GET', KEYS[3]) or '0')
  if used + seconds > budget then return 'over' end
  redis.call('INCRBY', KEYS[3], seconds)
  redis.call('HSET', KEYS[2], 'reserved', seconds)
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
return 'ok'
`;

/**
 * KEYS: fact, lease. ARGV: me, lease needed (`1` or `0`), fields and values...
 * Records a step of the owner's submission: the intent only while this machine still holds
 * its lease (else another may have taken the claim over); what came of the POST (`task`,
 * `unknown`, a refusal) whenever it is still the owner, even late: a task id is never hidden.
 * Returns 1, or 0 when the step was not this machine's to record.
 */
export const OWNER_STEP = `
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
if ARGV[2] == '1' and redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
local fields = {}
for i = 3, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
return 1
`;

/**
 * KEYS: fact, slots, budget. ARGV: shot key, task id, state (`completed` or `failed`),
 * fields and values...
 * A task of the fact ended (seen by any machine): its slot is free; a failed task gives its
 * reserved seconds back, once. A fact that moved on to another task is left alone.
 */
export const TASK_END = `
if redis.call('HGET', KEYS[1], 'task_id') ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'failed' or state == 'completed' then return 0 end
if ARGV[3] == 'failed' then
  local reserved = tonumber(redis.call('HGET', KEYS[1], 'reserved') or '0')
  if reserved > 0 then redis.call('DECRBY', KEYS[3], reserved) end
  redis.call('HDEL', KEYS[1], 'reserved')
end
local fields = {}
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], 'state', ARGV[3], unpack(fields))
return 1
`;

/**
 * KEYS: fact, lease, slots, budget. ARGV: me, shot key.
 * This machine is done with the shot. A claim that never reached the POST (interrupted, or
 * refused by the budget) is withdrawn with its slot and reservation, so another machine can
 * take it; a refused submission (`failed` without a task) gives its seconds back too.
 */
export const SETTLE = `
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
local state = redis.call('HGET', KEYS[1], 'state')
local refused = state == 'failed' and not redis.call('HGET', KEYS[1], 'task_id')
if state ~= 'claimed' and not refused then return 0 end
redis.call('ZREM', KEYS[3], ARGV[2])
local reserved = tonumber(redis.call('HGET', KEYS[1], 'reserved') or '0')
if reserved > 0 then redis.call('DECRBY', KEYS[4], reserved) end
if state == 'claimed' then redis.call('DEL', KEYS[1]) else redis.call('HDEL', KEYS[1], 'reserved') end
return 1
`;

/**
 * KEYS: slots, then the leases of this machine's claims. ARGV: lease ms, me, then the shot
 * keys it is awaiting. Keeps this machine's leases and the slots of the tasks it watches alive.
 */
export const RENEW = `
${NOW}
local ms = tonumber(ARGV[1])
for i = 2, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[2] then redis.call('PEXPIRE', KEYS[i], ms) end
end
for i = 3, #ARGV do redis.call('ZADD', KEYS[1], 'XX', now + ms, ARGV[i]) end
return 1
`;

/** KEYS: fact. ARGV: task id, sha256, bytes. The first verified file of the fact's task. */
export const FILE = `
if redis.call('HGET', KEYS[1], 'task_id') ~= ARGV[1] then return 0 end
redis.call('HSETNX', KEYS[1], 'sha256', ARGV[2])
redis.call('HSETNX', KEYS[1], 'bytes', ARGV[3])
return 1
`;

/**
 * KEYS: fact, lease. What a machine that never sends the shot (an enqueuer) sees of it: the
 * fact as a flat list of fields and values (empty: nobody has claimed it). An intent whose
 * owner is gone becomes `unknown`, as in {@link CLAIM}.
 */
export const LOOK = `
if redis.call('HGET', KEYS[1], 'state') == 'intent' and redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('HSET', KEYS[1], 'state', 'unknown')
end
return redis.call('HGETALL', KEYS[1])
`;
