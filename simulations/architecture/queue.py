"""A priority task queue on the real Redis with at-least-once delivery.

The pattern is the one Celery's Redis transport (kombu) uses, with the clock passed
in so a simulation can run it on virtual time:

* ``ready:<priority>`` lists hold task ids waiting to run; a fetch takes from
  ``high`` first, then ``normal``, then ``low``;
* a fetched task is *reserved*: its delivery tag goes into the ``unacked`` sorted
  set, scored by the moment its visibility timeout runs out;
* **ack** removes the tag; a worker that acknowledges late (``acks_late``) does so
  after the task has run, one that acknowledges early just before it starts;
* **restore**: a tag whose deadline has passed is put back at the head of its
  ready list and delivered again (a crashed worker's tasks, or a task that ran
  longer than the visibility timeout, which then runs twice);
* **retry**: a failed task is acknowledged and parked in ``scheduled`` until its
  back-off has passed.

Redis Streams give the same guarantees with XREADGROUP, XACK and XAUTOCLAIM, but a
pending entry's idle time is measured on Redis's own clock, which a simulation
whose minutes pass in milliseconds cannot use.

Every operation is one Lua script, atomic, and returns the ready lists' lengths so
the caller sees the depth by priority without asking again.  Redis commands take
no virtual time: the caller says what time it is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import redis

PRIORITIES = ("high", "normal", "low")
KEY_PREFIX = "llmops:queue"
REAL_TTL_S = 600  # a crashed run's keys go away on their own; a finished run deletes them

_DEPTHS = """
local function depths()
  return {redis.call('LLEN', KEYS[1]), redis.call('LLEN', KEYS[2]), redis.call('LLEN', KEYS[3])}
end
local function ready_key(priority)
  if priority == 'high' then return KEYS[1] elseif priority == 'normal' then return KEYS[2] end
  return KEYS[3]
end
"""
# KEYS: ready high, normal, low, tasks (hash id -> priority), unacked (zset tag -> deadline),
# scheduled (zset id -> due), deliveries (hash id -> count).
_ENQUEUE = _DEPTHS + """
redis.call('HSET', KEYS[4], ARGV[1], ARGV[2])
redis.call('RPUSH', ready_key(ARGV[2]), ARGV[1])
for i = 1, 7 do redis.call('EXPIRE', KEYS[i], tonumber(ARGV[3])) end
return depths()
"""
# ARGV: now, visibility timeout, how many to fetch, a task to publish first (id and priority,
# or two empty strings), then tags to acknowledge.  Publishing and fetching in one call is
# what a worker blocked on an empty queue sees: the task it was waiting for.
_FETCH = _DEPTHS + """
local now, visibility, want = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[4], ARGV[4], ARGV[5])
  redis.call('RPUSH', ready_key(ARGV[5]), ARGV[4])
  for i = 1, 7 do redis.call('EXPIRE', KEYS[i], 600) end
end
for i = 6, #ARGV do redis.call('ZREM', KEYS[5], ARGV[i]) end
-- Tasks whose back-off is over go to the back of their queue.
local due = redis.call('ZRANGEBYSCORE', KEYS[6], '-inf', now)
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[6], id)
  redis.call('RPUSH', ready_key(redis.call('HGET', KEYS[4], id)), id)
end
-- Reservations past their visibility timeout go back to the head of their queue.
local expired = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', now)
for _, tag in ipairs(expired) do
  redis.call('ZREM', KEYS[5], tag)
  local id = string.match(tag, '^(.*)#')
  redis.call('LPUSH', ready_key(redis.call('HGET', KEYS[4], id)), id)
end
local fetched = {}
for p = 1, 3 do
  while #fetched < want do
    local id = redis.call('LPOP', KEYS[p])
    if not id then break end
    local n = redis.call('HINCRBY', KEYS[7], id, 1)
    local tag = id .. '#' .. n
    redis.call('ZADD', KEYS[5], now + visibility, tag)
    fetched[#fetched + 1] = tag
  end
end
return {fetched, depths(), #due, #expired}
"""
# ARGV: tag to acknowledge, id, due time.
_RETRY = _DEPTHS + """
redis.call('ZREM', KEYS[5], ARGV[1])
redis.call('ZADD', KEYS[6], tonumber(ARGV[3]), ARGV[2])
return depths()
"""
# ARGV: tags handed back by a worker shutting down gracefully (not started, not lost).
_REQUEUE = _DEPTHS + """
for i = #ARGV, 1, -1 do
  if redis.call('ZREM', KEYS[5], ARGV[i]) == 1 then
    local id = string.match(ARGV[i], '^(.*)#')
    redis.call('LPUSH', ready_key(redis.call('HGET', KEYS[4], id)), id)
  end
end
return depths()
"""


@dataclass(frozen=True)
class Delivery:
    """One delivery of a task: the same task delivered twice has two tags."""

    tag: str

    @property
    def task_id(self) -> str:
        return self.tag.rsplit("#", 1)[0]

    @property
    def number(self) -> int:
        return int(self.tag.rsplit("#", 1)[1])


@dataclass(frozen=True)
class Fetched:
    deliveries: list[Delivery]
    depths: dict[str, int]
    promoted: int  # retries whose back-off ended
    restored: int  # reservations past their visibility timeout, put back


class ReliableQueue:
    """The queue of one run, under ``llmops:queue:<namespace>:``.

    ``keys()`` lists every key it uses, so the run deletes them without a SCAN.
    """

    def __init__(self, client: redis.Redis, namespace: str, visibility_timeout_s: float) -> None:
        self.client = client
        prefix = f"{KEY_PREFIX}:{namespace}:"
        self._keys = [prefix + f"ready:{p}" for p in PRIORITIES] + [
            prefix + name for name in ("tasks", "unacked", "scheduled", "deliveries")]
        self.visibility_timeout_s = visibility_timeout_s
        self._enqueue = client.register_script(_ENQUEUE)
        self._fetch = client.register_script(_FETCH)
        self._retry = client.register_script(_RETRY)
        self._requeue = client.register_script(_REQUEUE)

    def keys(self) -> list[str]:
        return list(self._keys)

    def enqueue(self, task_id: str, priority: str) -> dict[str, int]:
        """Publish a task; returns the depth of each ready list afterwards."""
        if priority not in PRIORITIES:
            raise ValueError(f"priority must be one of {PRIORITIES}, got {priority!r}")
        return _depths(self._enqueue(keys=self._keys, args=[task_id, priority, REAL_TTL_S]))

    def fetch(self, now_s: float, count: int, ack: list[Delivery] = (),
              publish: tuple[str, str] | None = None) -> Fetched:
        """Publish ``publish`` (task id, priority) if given, acknowledge ``ack``, restore what is
        overdue, then reserve up to ``count`` tasks by priority: one atomic call."""
        if publish is not None and publish[1] not in PRIORITIES:
            raise ValueError(f"priority must be one of {PRIORITIES}, got {publish[1]!r}")
        reply = self._fetch(keys=self._keys, args=[repr(now_s), repr(self.visibility_timeout_s), count,
                                                   *(publish or ("", "")), *(d.tag for d in ack)])
        tags, depths, promoted, restored = reply
        return Fetched([Delivery(_text(t)) for t in tags], _depths(depths), int(promoted), int(restored))

    def ack(self, now_s: float, deliveries: list[Delivery]) -> Fetched:
        """Acknowledge without taking more work (an early ack, or a worker winding down)."""
        return self.fetch(now_s, 0, deliveries)

    def retry(self, delivery: Delivery, due_s: float) -> dict[str, int]:
        """Acknowledge this delivery and run the task again at ``due_s``."""
        return _depths(self._retry(keys=self._keys, args=[delivery.tag, delivery.task_id, repr(due_s)]))

    def requeue(self, deliveries: list[Delivery]) -> dict[str, int]:
        """Hand reserved, unstarted tasks back (a graceful shutdown), in their order."""
        if not deliveries:
            return {}
        return _depths(self._requeue(keys=self._keys, args=[d.tag for d in deliveries]))

    def state(self) -> dict[str, int]:
        """Ready per priority, reserved and scheduled counts (one round trip)."""
        pipe = self.client.pipeline(transaction=False)
        for key in self._keys[:3]:
            pipe.llen(key)
        pipe.zcard(self._keys[4])
        pipe.zcard(self._keys[5])
        *ready, reserved, scheduled = pipe.execute()
        return {**dict(zip(PRIORITIES, ready)), "reserved": reserved, "scheduled": scheduled}

    def drop(self) -> None:
        self.client.delete(*self._keys)


def _depths(values: list) -> dict[str, int]:
    return dict(zip(PRIORITIES, (int(v) for v in values)))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def celery_settings(acks_late: bool, prefetch_multiplier: int, visibility_timeout_s: float,
                    time_limit_s: float) -> str:
    """The same semantics written as Celery settings (shown beside the result)."""
    return json.dumps({
        "task_acks_late": acks_late,
        "task_reject_on_worker_lost": acks_late,
        "worker_prefetch_multiplier": prefetch_multiplier,
        "task_time_limit": time_limit_s,
        "broker_transport_options": {"visibility_timeout": visibility_timeout_s,
                                     "queue_order_strategy": "priority"},
    }, indent=2)
