-- Reserve up to ARGV[2] send slots of one category for one process, in one atomic step on Redis's clock.
--
-- KEYS: 1 the category's state (hash: tat, blocked, count fields), 2 permits held per process (hash),
--       3 leases (sorted set: process -> expiry ms), 4 rates found without headers (hash: process -> rate),
--       5 the universal limit's state (hash: tat, count fields).
-- ARGV: 1 process id, 2 slots wanted, 3 permits the process holds now (unspent and in flight), 4 lease ms,
--       5 horizon ms (no slot further ahead), 6 spacing ms between the category's slots (0: none),
--       7 cap on the fleet's permits held at once (0: none), 8 the rate this process found (0: none),
--       9 spacing ms of the universal limit (0: none), 10 block ms to post (0: none), 11 key expiry ms,
--       12 of ARGV[3], the slots reserved and not yet spent,
--       13 n, then n pairs (window ms, limit) counted for the category, then m and m pairs for the universal.
-- Returns: {blocked ms left, live processes, ms until asking again is worth it when nothing was granted (-1:
--           once a slot is spent), the slots this process may book at once (0: no limit known), then each slot
--           as µs from now}.

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local state, held, leases, rates, universal = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local proc = ARGV[1]
local want = tonumber(ARGV[2])
local mine = tonumber(ARGV[3])
local horizon = tonumber(ARGV[5])

-- A process that stopped renewing its lease (killed, or cut off) no longer holds anything.
local dead = redis.call('ZRANGEBYSCORE', leases, '-inf', now)
for _, other in ipairs(dead) do
  redis.call('HDEL', held, other)
  redis.call('HDEL', rates, other)
end
if #dead > 0 then redis.call('ZREMRANGEBYSCORE', leases, '-inf', now) end
redis.call('ZADD', leases, now + tonumber(ARGV[4]), proc)
local live = redis.call('ZCARD', leases)

local others = 0
local holdings = redis.call('HGETALL', held)
for i = 1, #holdings, 2 do
  if holdings[i] ~= proc then others = others + tonumber(holdings[i + 1]) end
end

local found = tonumber(ARGV[8])
if found > 0 then redis.call('HSET', rates, proc, found) else redis.call('HDEL', rates, proc) end
local fleet_rate = 0
for _, rate in ipairs(redis.call('HVALS', rates)) do
  rate = tonumber(rate)
  if fleet_rate == 0 or rate < fleet_rate then fleet_rate = rate end
end
-- What one process learned from the server's headers holds for the processes that have not heard yet.
local spacing = tonumber(ARGV[6])
local cap = tonumber(ARGV[7])
if spacing > 0 then
  redis.call('HSET', state, 'spacing', spacing, 'cap', cap)
else
  spacing = tonumber(redis.call('HGET', state, 'spacing') or '0')
  cap = tonumber(redis.call('HGET', state, 'cap') or '0')
end
if fleet_rate > 0 then spacing = math.max(spacing, 1000 / fleet_rate) end
local uspacing = tonumber(ARGV[9])

local blocked = tonumber(redis.call('HGET', state, 'blocked') or '0')
local block = tonumber(ARGV[10])
if block > 0 and now + block > blocked then
  blocked = now + block
  redis.call('HSET', state, 'blocked', blocked)
end

-- How many more the process may hold: what it asked for, its share of the horizon when slots are spaced (so
-- that no process books the fleet's whole schedule), and the fleet's cap on permits held at once.
local share = 0
if spacing > 0 then share = math.max(1, math.floor(horizon / spacing / live)) end
if uspacing > 0 then
  local ushare = math.max(1, math.floor(horizon / uspacing / live))
  if share == 0 or ushare < share then share = ushare end
end
local room = want
if share > 0 then room = math.min(room, share - tonumber(ARGV[12])) end
local share_full = room <= 0
local capped = cap > 0 and others + mine + room > cap
if cap > 0 then room = math.min(room, cap - others - mine) end

-- Windows too long to space (a minute, a day): counted per fixed window, the previous one weighted by how much
-- of it a sliding window would still cover.
local count_fields = {}
local count_retry = 0
local function counted(key, at)
  local n = tonumber(ARGV[at])
  for i = 1, n do
    local window = tonumber(ARGV[at + 2 * i - 1])
    local limit = tonumber(ARGV[at + 2 * i])
    local index = math.floor(now / window)
    local field = 'n:' .. window .. ':' .. index
    local current = tonumber(redis.call('HGET', key, field) or '0')
    local previous = tonumber(redis.call('HGET', key, 'n:' .. window .. ':' .. (index - 1)) or '0')
    redis.call('HDEL', key, 'n:' .. window .. ':' .. (index - 2))
    local estimate = current + previous * (1 - (now - index * window) / window)
    if limit - estimate < 1 then count_retry = math.max(count_retry, math.min(1000, (index + 1) * window - now)) end
    room = math.min(room, math.floor(limit - estimate))
    count_fields[#count_fields + 1] = {key, field}
  end
  return at + 2 * n + 1
end
counted(universal, counted(state, 13))

local tat = math.max(now, blocked, tonumber(redis.call('HGET', state, 'tat') or '0'))
local utat = now
if uspacing > 0 then utat = math.max(now, tonumber(redis.call('HGET', universal, 'tat') or '0')) end
local reply = {0, live, 0, share}
local granted = 0
while granted < room do
  local slot = math.max(tat, utat)
  if slot > now + horizon then break end
  granted = granted + 1
  reply[4 + granted] = math.floor((slot - now) * 1000)
  tat = slot + spacing
  if uspacing > 0 then utat = slot + uspacing end
end
if granted > 0 then
  redis.call('HSET', state, 'tat', tat)
  if uspacing > 0 then redis.call('HSET', universal, 'tat', utat) end
  for _, entry in ipairs(count_fields) do redis.call('HINCRBY', entry[1], entry[2], granted) end
elseif want > 0 then
  if count_retry > 0 then
    reply[3] = math.ceil(count_retry)  -- a long window is full: it thins out as time passes
  elseif share_full then
    reply[3] = -1  -- the process holds its share of the schedule: spending it frees it
  elseif capped then
    reply[3] = 100  -- others hold the cap: their answers (or their leases lapsing) free it
  else
    -- the schedule is booked a horizon ahead: ask again when half a batch fits
    reply[3] = math.max(1, math.floor(math.max(tat, utat) - now - horizon + math.max(spacing, uspacing) * want / 2))
  end
end
redis.call('HSET', held, proc, mine + granted)
if blocked > now then reply[1] = math.floor(blocked - now) end
local idle = tonumber(ARGV[11])
for _, key in ipairs(KEYS) do redis.call('PEXPIRE', key, idle) end
return reply
