/**
 * The Redis limiter's Lua scripts. Each runs atomically on the server, so a check across every
 * scope of a request and its charge cannot interleave with another process's. Time is Redis's
 * `TIME`, never a caller's clock: processes with skewed clocks agree on the slots. (Since Redis 5
 * scripts replicate their effects, so calling TIME in a script that writes is allowed.)
 *
 * State per scope (the same as `SlidingWindowCounter` in memory, see `limiter.ts`):
 * - a hash `<prefix>:w:<scope>` with `cursor` (newest slot reached), `rt`/`tt` (request/token
 *   totals in the window), `rn`/`tn` (newest charged slot, for the reset header) and one field
 *   per live slot, `r:<slot>` / `t:<slot>`. Its TTL is (slots + 2) × slotMs after each write,
 *   which outlives every slot in it.
 * - a sorted set `<prefix>:c:<scope>` of ticket ids scored by lease expiry (ms). Expired leases
 *   are purged before counting, so a crashed process's slots come back after `leaseMs`.
 *
 * Numbers cross as decimal strings; slot numbers stay below 2^53 and print exactly with Lua's
 * "%.14g" for any slotMs ≥ 1 until the year 5138.
 */

const shared = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local slotMs = tonumber(ARGV[1])
local k = tonumber(ARGV[2])
local slot = math.floor(now / slotMs)

-- Reads a scope's window and advances it to the current slot. Also reads the current slot's two
-- cells, so a charge there is written by save()'s one HSET instead of extra HINCRBYs.
local function load(key)
  local v = redis.call('HMGET', key, 'cursor', 'rt', 'tt', 'rn', 'tn', 'r:' .. slot, 't:' .. slot)
  local s = { cursor = tonumber(v[1]), rt = tonumber(v[2]) or 0, tt = tonumber(v[3]) or 0,
              rn = tonumber(v[4]) or -1, tn = tonumber(v[5]) or -1,
              rc = tonumber(v[6]) or 0, tc = tonumber(v[7]) or 0, fresh = false, cells = false }
  if s.cursor == nil then
    s.cursor = slot
    s.fresh = true
    return s
  end
  if slot <= s.cursor then return s end
  if slot - s.cursor > k then
    redis.call('DEL', key)
    s.rt = 0; s.tt = 0; s.rc = 0; s.tc = 0
    s.fresh = true
  else
    local fields = {}
    for j = s.cursor - k, slot - k - 1 do
      fields[#fields + 1] = 'r:' .. j
      fields[#fields + 1] = 't:' .. j
    end
    local values = redis.call('HMGET', key, unpack(fields))
    for i = 1, #fields, 2 do
      s.rt = s.rt - (tonumber(values[i]) or 0)
      s.tt = s.tt - (tonumber(values[i + 1]) or 0)
    end
    redis.call('HDEL', key, unpack(fields))
  end
  s.cursor = slot
  return s
end

-- Adds to the cursor slot's cell of 'r' or 't' and to its total.
local function charge(key, s, prefix, amount)
  if s.cursor == slot then
    if prefix == 'r' then s.rc = s.rc + amount else s.tc = s.tc + amount end
    s.cells = true
  else -- Redis TIME went backwards: the cursor slot's cell was not read
    redis.call('HINCRBY', key, prefix .. ':' .. s.cursor, amount)
  end
  if prefix == 'r' then
    s.rt = s.rt + amount; s.rn = s.cursor
  else
    s.tt = s.tt + amount; s.tn = s.cursor
  end
  s.charged = true
end

-- Writes the totals (and charged cells). The TTL only needs renewing when something was charged
-- (every charge must outlive its slot) or the hash is new; refunds and advances need none.
local function save(key, s)
  if s.cells then
    redis.call('HSET', key, 'cursor', s.cursor, 'rt', s.rt, 'tt', s.tt, 'rn', s.rn, 'tn', s.tn,
               'r:' .. slot, s.rc, 't:' .. slot, s.tc)
  else
    redis.call('HSET', key, 'cursor', s.cursor, 'rt', s.rt, 'tt', s.tt, 'rn', s.rn, 'tn', s.tn)
  end
  if s.charged or s.fresh then redis.call('PEXPIRE', key, (k + 2) * slotMs) end
end
`;

/**
 * KEYS: per scope i, KEYS[2i-1] = window hash, KEYS[2i] = concurrency set.
 * ARGV: slotMs, slots, estimatedTokens, ticketId, leaseMs, then per scope rpm, tpm, concurrency
 * (-1 = no limit). Returns { allowed (0/1), then per scope 11 numbers: chargedSlot,
 * rLimit, rUsed, rResetMs, rWait, tLimit, tUsed, tResetMs, tWait, cLimit, cInUse } where a wait
 * is -1 (not blocking), -2 (can never fit) or ms until it fits; limits are -1 when absent.
 */
export const admitScript = `${shared}
local estimated = tonumber(ARGV[3])
local ticket = ARGV[4]
local leaseMs = tonumber(ARGV[5])
local need = math.max(estimated, 1)
local n = #KEYS / 2

local function wait(key, s, prefix, used, amount, limit)
  if amount > limit then return -2 end
  local fields = {}
  for j = s.cursor - k, s.cursor do fields[#fields + 1] = prefix .. ':' .. j end
  local values = redis.call('HMGET', key, unpack(fields))
  local freed = 0
  for i = 1, #fields do
    freed = freed + (tonumber(values[i]) or 0)
    if used - freed + amount <= limit then return (s.cursor + i) * slotMs - now end
  end
  return (s.cursor + k + 1) * slotMs - now
end

local function reset(newest, used)
  if used > 0 and newest >= 0 then return (newest + k + 1) * slotMs - now end
  return 0
end

local scopes = {}
local allowed = true
for i = 1, n do
  local base = 5 + (i - 1) * 3
  local e = { w = KEYS[2 * i - 1], c = KEYS[2 * i], rpm = tonumber(ARGV[base + 1]),
              tpm = tonumber(ARGV[base + 2]), conc = tonumber(ARGV[base + 3]), inUse = -1 }
  if e.rpm >= 0 or e.tpm >= 0 then
    e.s = load(e.w)
    if e.rpm >= 0 and e.s.rt + 1 > e.rpm then allowed = false end
    if e.tpm >= 0 and e.s.tt + need > e.tpm then allowed = false end
  end
  if e.conc >= 0 then
    -- Leases that expired (a crashed holder) do not count; they are purged on a refusal.
    e.inUse = redis.call('ZCOUNT', e.c, '(' .. now, '+inf')
    if e.inUse >= e.conc then allowed = false end
  end
  scopes[i] = e
end

local out = { allowed and 1 or 0 }
for i = 1, n do
  local e = scopes[i]
  local s = e.s
  local rWait, tWait = -1, -1
  if allowed then
    if e.rpm >= 0 then charge(e.w, s, 'r', 1) end
    if e.tpm >= 0 and estimated > 0 then charge(e.w, s, 't', estimated) end
    if e.conc >= 0 then
      redis.call('ZADD', e.c, now + leaseMs, ticket)
      redis.call('PEXPIRE', e.c, leaseMs)
      e.inUse = e.inUse + 1
    end
  else
    if e.conc >= 0 and e.inUse >= e.conc then redis.call('ZREMRANGEBYSCORE', e.c, '-inf', now) end
    if s and e.rpm >= 0 and s.rt + 1 > e.rpm then rWait = wait(e.w, s, 'r', s.rt, 1, e.rpm) end
    if s and e.tpm >= 0 and s.tt + need > e.tpm then tWait = wait(e.w, s, 't', s.tt, need, e.tpm) end
  end
  if s then save(e.w, s) end
  local cursor = s and s.cursor or slot
  out[#out + 1] = cursor
  out[#out + 1] = e.rpm
  out[#out + 1] = s and s.rt or 0
  out[#out + 1] = s and reset(s.rn, s.rt) or 0
  out[#out + 1] = rWait
  out[#out + 1] = e.tpm
  out[#out + 1] = s and s.tt or 0
  out[#out + 1] = s and reset(s.tn, s.tt) or 0
  out[#out + 1] = tWait
  out[#out + 1] = e.conc
  out[#out + 1] = e.inUse
end
return out
`;

/**
 * KEYS as for admit. ARGV: slotMs, slots, ticketId, delta (actual - reserved tokens), then per
 * scope: tokenSlot (-1 = no token reservation) and 1/0 for a held concurrency slot. The delta
 * goes to the reservation's slot while it is live (never below zero); once that slot has left
 * the window a positive delta is charged to the current slot and a refund is dropped.
 */
export const settleScript = `${shared}
local ticket = ARGV[3]
local delta = tonumber(ARGV[4])
local n = #KEYS / 2
for i = 1, n do
  local w = KEYS[2 * i - 1]
  local tokenSlot = tonumber(ARGV[4 + (i - 1) * 2 + 1])
  local holds = ARGV[4 + (i - 1) * 2 + 2] == '1'
  if tokenSlot >= 0 and delta ~= 0 then
    local s = load(w)
    if tokenSlot >= s.cursor - k and tokenSlot <= s.cursor then
      local field = 't:' .. tokenSlot
      local after = redis.call('HINCRBY', w, field, delta)
      local change = delta
      if after <= 0 then -- clamp at zero: the refund took back at most what the cell held
        redis.call('HDEL', w, field)
        change = delta - after
      end
      s.tt = math.max(0, s.tt + change)
    elseif delta > 0 then
      charge(w, s, 't', delta)
    end
    save(w, s)
  end
  if holds then redis.call('ZREM', KEYS[2 * i], ticket) end
end
return 1
`;
