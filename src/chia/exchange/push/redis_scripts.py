"""The Lua scripts of the push exchange's Redis store: one per mailbox operation.

Each runs atomically in Redis, in one round trip; the key layout is described in
:mod:`chia.exchange.push.redis_store`. ``SOURCES`` maps an operation to its script.
"""

from __future__ import annotations

__all__ = ["SOURCES", "TERMINATED_ITEM"]

#: Queue item that a terminate leaves for a listener blocked on the queue (seq 0).
TERMINATED_ITEM = "0:"

# Helpers: check(box) returns an error code, or false when the mailbox is usable;
# requeue(q, inflight) puts unacknowledged messages back at the front, in order.
_CHECK: str = """
local function check(box)
  if redis.call('EXISTS', box) == 0 then return 'unknown_mailbox' end
  if redis.call('HGET', box, 'terminated') == '1' then return 'terminated' end
  return false
end
local function requeue(q, inflight)
  local items = redis.call('LRANGE', inflight, 0, -1)
  for i = #items, 1, -1 do redis.call('LPUSH', q, items[i]) end
  redis.call('DEL', inflight)
end
"""

# KEYS: box, agents. ARGV: uid, role, name ('' none), mro JSON ('' none).
_ENSURE = """
local box = KEYS[1]
if redis.call('EXISTS', box) == 1 then
  if redis.call('HGET', box, 'terminated') == '1' then return 'terminated' end
else
  redis.call('HSET', box, 'role', ARGV[2], 'next_seq', 0)
end
if ARGV[3] ~= '' then redis.call('HSET', box, 'name', ARGV[3]) end
if ARGV[4] ~= '' then
  redis.call('HSET', box, 'mro', ARGV[4], 'role', 'agent')
  redis.call('SADD', KEYS[2], ARGV[1])
end
return 'ok'
"""

# KEYS: dest box, dest queue, dest pending, src box, src pending. ARGV: kind, tag, msg, channel.
_SEND = """
local bad = check(KEYS[1])
if bad then return bad end
if ARGV[1] == 'request' then
  redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
  if redis.call('EXISTS', KEYS[4]) == 1 then redis.call('HINCRBY', KEYS[4], 'outgoing', 1) end
elseif redis.call('HDEL', KEYS[5], ARGV[2]) == 1 then
  redis.call('HINCRBY', KEYS[4], 'completions', 1)
end
local seq = redis.call('HINCRBY', KEYS[1], 'next_seq', 1)
redis.call('RPUSH', KEYS[2], seq .. ':' .. ARGV[3])
if redis.call('HEXISTS', KEYS[1], 'listener') == 1 then redis.call('PUBLISH', ARGV[4], 'w') end
return 'ok'
"""

# KEYS: box, queue, inflight. ARGV: token. Returns an error code or the queue's length.
_ATTACH = """
local bad = check(KEYS[1])
if bad then return bad end
requeue(KEYS[2], KEYS[3])
redis.call('HSET', KEYS[1], 'listener', ARGV[1])
return redis.call('LLEN', KEYS[2])
"""

# KEYS: box, queue, inflight. ARGV: token.
_DETACH = """
if redis.call('HGET', KEYS[1], 'listener') == ARGV[1] then
  redis.call('HDEL', KEYS[1], 'listener')
  requeue(KEYS[2], KEYS[3])
end
return 0
"""

# KEYS: box, queue, inflight. ARGV: token, window.
_TAKE = """
if redis.call('HGET', KEYS[1], 'listener') ~= ARGV[1] then return {} end
if redis.call('HGET', KEYS[1], 'terminated') == '1' then return {} end
local room = tonumber(ARGV[2]) - redis.call('LLEN', KEYS[3])
if room <= 0 then return {} end
local items = redis.call('LRANGE', KEYS[2], 0, room - 1)
if #items > 0 then
  redis.call('LTRIM', KEYS[2], #items, -1)
  redis.call('RPUSH', KEYS[3], unpack(items))
end
return items
"""

# KEYS: box, queue, inflight. ARGV: token, upto. Returns the queue's length (-1: not ours).
_ACK = """
if redis.call('HGET', KEYS[1], 'listener') ~= ARGV[1] then return -1 end
local upto = tonumber(ARGV[2])
while true do
  local head = redis.call('LINDEX', KEYS[3], 0)
  if not head or tonumber(string.match(head, '^(%d+):')) > upto then break end
  redis.call('LPOP', KEYS[3])
end
return redis.call('LLEN', KEYS[2])
"""

# KEYS: box. Heartbeats use Redis's clock, the one clock every server shares.
_HEARTBEAT = """
local bad = check(KEYS[1])
if bad then return bad end
local now = redis.call('TIME')
redis.call('HSET', KEYS[1], 'heartbeat', now[1] .. '.' .. string.format('%06d', now[2]))
return 'ok'
"""

# KEYS: box. Returns {state, age or ''}.
_STATUS = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing', ''} end
if redis.call('HGET', KEYS[1], 'terminated') == '1' then return {'terminated', ''} end
local beat = redis.call('HGET', KEYS[1], 'heartbeat')
if not beat then return {'active', ''} end
local now = redis.call('TIME')
return {'active', tostring(now[1] + now[2] / 1e6 - tonumber(beat))}
"""

# KEYS: box, queue, inflight, pending, agents. ARGV: uid, channel. Returns pending requests.
_TERMINATE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
if redis.call('HGET', KEYS[1], 'terminated') == '1' then return {} end
redis.call('HSET', KEYS[1], 'terminated', '1')
redis.call('HDEL', KEYS[1], 'listener')
local pending = redis.call('HVALS', KEYS[4])
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
redis.call('SREM', KEYS[5], ARGV[1])
redis.call('PUBLISH', ARGV[2], 't')
-- Wakes a listener blocked on the queue (BLMOVE, redis-fast); servers never take from
-- a terminated mailbox, so they never see it.
redis.call('RPUSH', KEYS[2], TERMINATED)
return pending
"""

# KEYS: queue, inflight. ARGV: raw "seq:json" items a listener that lost its mailbox
# holds, oldest first. Each still in flight goes back to the front of the queue, in order.
_GIVE_BACK = """
for i = #ARGV, 1, -1 do
  if redis.call('LREM', KEYS[2], 1, ARGV[i]) == 1 then redis.call('LPUSH', KEYS[1], ARGV[i]) end
end
return 0
"""


#: Operation -> Lua source (the helpers prepended where a script uses them).
SOURCES: dict[str, str] = {
    "ensure": _ENSURE,
    "send": _CHECK + _SEND,
    "attach": _CHECK + _ATTACH,
    "detach": _CHECK + _DETACH,
    "take": _TAKE,
    "ack": _ACK,
    "heartbeat": _CHECK + _HEARTBEAT,
    "status": _STATUS,
    "terminate": f"local TERMINATED = '{TERMINATED_ITEM}'\n" + _TERMINATE,
    "give_back": _GIVE_BACK,
}
