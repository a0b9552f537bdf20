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
 * A fact's reservation, in the budget it was taken from: a hash (`counted`: seconds used or
 * reserved, `used`: seconds of completed tasks) named in the fact's `budget` field. A fact
 * from before budgets had scopes names none: its seconds go back to the legacy counter `lkey`
 * (the one team-wide string), as that shotlist counted them there.
 */
const BUDGET_FNS = `
local function budget_of(fact)
  local b = redis.call('HGET', fact, 'budget')
  if not b then return nil end
  if string.sub(b, 1, 16) ~= 'shotlist:budget:' then return false end
  if redis.call('EXISTS', b) == 1 and redis.call('TYPE', b).ok ~= 'hash' then return false end
  return b
end
local function give_back(fact, lkey)
  local reserved = tonumber(redis.call('HGET', fact, 'reserved') or '0') or 0
  if reserved <= 0 then return end
  local b = budget_of(fact)
  if b then redis.call('HINCRBY', b, 'counted', -reserved)
  elseif b == nil and redis.call('TYPE', lkey).ok == 'string' then redis.call('DECRBY', lkey, reserved) end
  redis.call('HDEL', fact, 'reserved')
end`;

/**
 * KEYS: fact, lease, legacy budget. ARGV: me, gen, lease ms, retry unknown (`1` or `0`).
 * Takes the claim when there is no fact, when the fact is a finished task of an older
 * generation (a deliberate re-render), when its owner's lease ran out before it sent
 * anything (its budget reservation is given back), or, when it is `unknown`, if told to retry
 * or if an enqueuer marked it to be sent again (`retry`: the generation to send, see
 * {@link MARK_RETRY}) and this submission is of that generation or later. An intent whose
 * owner is gone becomes `unknown`: the POST may have created a task, so nobody sends it again
 * unless told. The reservation of an `unknown` attempt stays counted: it may have been billed.
 * Returns `{'mine'}` or the fact as a flat list of fields and values.
 */
export const CLAIM = `
${BUDGET_FNS}
local state = redis.call('HGET', KEYS[1], 'state')
local live = redis.call('EXISTS', KEYS[2]) == 1
if state then
  local gen = tonumber(redis.call('HGET', KEYS[1], 'gen') or '0')
  local free = (state == 'failed' or state == 'completed') and gen < tonumber(ARGV[2])
  if state == 'claimed' and not live then
    free = true
    give_back(KEYS[1], KEYS[3])
  end
  if state == 'intent' and not live then
    redis.call('HSET', KEYS[1], 'state', 'unknown')
    state = 'unknown'
  end
  local marked = tonumber(redis.call('HGET', KEYS[1], 'retry') or '')
  if state == 'unknown' and (ARGV[4] == '1' or (marked and tonumber(ARGV[2]) >= marked)) then
    free = true
  end
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
 * KEYS: slots (a sorted set of shot keys scored by lease expiry), fact, budget (the hash of
 * this account's, or campaign's, budget). ARGV: shot key, cap, lease ms, seconds, budget
 * (-1: none), me, base URL and campaign (shown by \`team status\`).
 * Takes a task slot of the account and reserves the shot's seconds of its team budget, both
 * or neither; the fact names the budget its seconds came from. Returns `ok`, `full` (wait
 * and ask again) or `over` (the budget cannot hold it), or `lost` when this machine no longer
 * holds the claim.
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
  local counted = tonumber(redis.call('HGET', KEYS[3], 'counted') or '0') or 0
  if counted + seconds > budget then return 'over' end
  redis.call('HINCRBY', KEYS[3], 'counted', seconds)
  redis.call('HSET', KEYS[3], 'limit', budget, 'base', ARGV[7], 'campaign', ARGV[8])
  redis.call('HSET', KEYS[2], 'reserved', seconds, 'budget', KEYS[3])
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
 * KEYS: fact, slots, legacy budget. ARGV: shot key, task id, state (`completed` or `failed`),
 * fields and values...
 * A task of the fact ended (seen by any machine): its slot is free; a failed task gives its
 * reserved seconds back, once; a completed one counts them as used. A fact that moved on to
 * another task is left alone.
 */
export const TASK_END = `
${BUDGET_FNS}
if redis.call('HGET', KEYS[1], 'task_id') ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'failed' or state == 'completed' then return 0 end
if ARGV[3] == 'failed' then give_back(KEYS[1], KEYS[3]) end
if ARGV[3] == 'completed' then
  local reserved = tonumber(redis.call('HGET', KEYS[1], 'reserved') or '0') or 0
  local b = budget_of(KEYS[1])
  if b and reserved > 0 then redis.call('HINCRBY', b, 'used', reserved) end
end
local fields = {}
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], 'state', ARGV[3], unpack(fields))
return 1
`;

/**
 * KEYS: fact, lease, slots, legacy budget. ARGV: me, shot key.
 * This machine is done with the shot. A claim that never reached the POST (interrupted, or
 * refused by the budget) is withdrawn with its slot and reservation, so another machine can
 * take it; a refused submission (`failed` without a task) gives its seconds back too.
 */
export const SETTLE = `
${BUDGET_FNS}
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
local state = redis.call('HGET', KEYS[1], 'state')
local refused = state == 'failed' and not redis.call('HGET', KEYS[1], 'task_id')
if state ~= 'claimed' and not refused then return 0 end
redis.call('ZREM', KEYS[3], ARGV[2])
give_back(KEYS[1], KEYS[4])
if state == 'claimed' then redis.call('DEL', KEYS[1]) end
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

/**
 * KEYS: fact, lease. ARGV: the generation to send. An enqueuer told `--retry-unknown` marks a
 * shot left `unknown` by an older generation, so that the first worker to take its job with
 * that generation or a later one sends it once more (see {@link CLAIM}). The claim clears the
 * mark: an attempt of the marked generation that ends unknown in turn is not sent again.
 * Returns 1 when the fact is (now) marked, else 0.
 */
export const MARK_RETRY = `
if redis.call('HGET', KEYS[1], 'state') == 'intent' and redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('HSET', KEYS[1], 'state', 'unknown')
end
if redis.call('HGET', KEYS[1], 'state') ~= 'unknown' then return 0 end
if (tonumber(redis.call('HGET', KEYS[1], 'gen') or '0') or 0) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'retry', ARGV[1])
return 1
`;

/**
 * ARGV: the legacy budget key. What `team status` shows, as JSON: every scoped budget (its
 * key and fields), the legacy counter, the task slots of each account still leased, and the
 * claims held (the live leases, by owner). A look at everything: for a person, not a hot path.
 */
export const STATUS = `
${NOW}
local function scan(pattern, fn)
  local cursor = '0'
  repeat
    local r = redis.call('SCAN', cursor, 'MATCH', pattern, 'COUNT', 1000)
    cursor = r[1]
    for _, k in ipairs(r[2]) do fn(k) end
  until cursor == '0'
end
local out = { budgets = {}, slots = {}, leases = {} }
scan('shotlist:budget:*', function(k)
  if k ~= ARGV[1] and redis.call('TYPE', k).ok == 'hash' then
    out.budgets[#out.budgets + 1] = { k, redis.call('HGETALL', k) }
  end
end)
if redis.call('TYPE', ARGV[1]).ok == 'string' then out.legacy = redis.call('GET', ARGV[1]) end
scan('shotlist:slots:*', function(k)
  if redis.call('TYPE', k).ok == 'zset' then
    out.slots[#out.slots + 1] = { k, redis.call('ZCOUNT', k, now, '+inf') }
  end
end)
scan('shotlist:lease:*', function(k)
  if redis.call('TYPE', k).ok == 'string' then out.leases[#out.leases + 1] = redis.call('GET', k) end
end)
return cjson.encode(out)
`;

/**
 * KEYS: a scoped budget. Forgets the seconds its completed tasks used; the seconds reserved by
 * tasks in flight (or at risk) stay counted, so their ends still add up. Returns the seconds
 * forgotten and those still counted.
 */
export const RESET_BUDGET = `
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then return {0, 0} end
local used = tonumber(redis.call('HGET', KEYS[1], 'used') or '0') or 0
local counted = redis.call('HINCRBY', KEYS[1], 'counted', -used)
redis.call('HSET', KEYS[1], 'used', 0)
return {used, counted}
`;

/** KEYS: the legacy budget. Deletes it; returns the seconds it held. */
export const RESET_LEGACY = `
if redis.call('TYPE', KEYS[1]).ok ~= 'string' then return 0 end
local held = tonumber(redis.call('GET', KEYS[1])) or 0
redis.call('DEL', KEYS[1])
return held
`;

/** KEYS: the legacy budget. The seconds it holds, or false when there is none. */
export const LEGACY_LOOK = `
if redis.call('TYPE', KEYS[1]).ok ~= 'string' then return false end
return redis.call('GET', KEYS[1])
`;
