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

A publisher that does not wait for an answer can hand its tasks over with the next
call instead of a call of its own (``publish_later``), as a pipelined client does:
each script first pushes those tasks, in their order, then does its own work.  Only
these scripts change the ready lists, so nothing can tell the two apart, and the
depths a deferred publish reports (the last ones seen, plus one) are the ones Redis
would have answered.
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
-- Tasks published since the last call, in their order: ARGV[first] is how many, then
-- id and priority of each.  Returns the index of the first argument after them.
local function publish_pending(first)
  local n = tonumber(ARGV[first])
  for i = 0, n - 1 do
    local id, priority = ARGV[first + 1 + 2 * i], ARGV[first + 2 + 2 * i]
    redis.call('HSET', KEYS[4], id, priority)
    redis.call('RPUSH', ready_key(priority), id)
  end
  if n > 0 then
    for i = 1, 7 do redis.call('EXPIRE', KEYS[i], 600) end
  end
  return first + 1 + 2 * n
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
# ARGV: now, visibility timeout, how many to fetch, the tasks to publish first (a count,
# then id and priority of each), then tags to acknowledge.  Publishing and fetching in one
# call is what a worker blocked on an empty queue sees: the task it was waiting for.
_FETCH = _DEPTHS + """
local now, visibility, want = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
for i = publish_pending(4), #ARGV do redis.call('ZREM', KEYS[5], ARGV[i]) end
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
# ARGV: the tasks to publish first (as in _FETCH), then tag to acknowledge, id, due time.
_RETRY = _DEPTHS + """
local a = publish_pending(1)
redis.call('ZREM', KEYS[5], ARGV[a])
redis.call('ZADD', KEYS[6], tonumber(ARGV[a + 2]), ARGV[a + 1])
return depths()
"""
# ARGV: the tasks to publish first (as in _FETCH), then the tags handed back by a worker
# shutting down gracefully (not started, not lost).
_REQUEUE = _DEPTHS + """
local first = publish_pending(1)
for i = #ARGV, first, -1 do
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
        self._pending: list[str] = []  # id, priority, ... of tasks published later
        self._depths = dict.fromkeys(PRIORITIES, 0)  # as of the last answer, plus what is pending

    def keys(self) -> list[str]:
        return list(self._keys)

    def enqueue(self, task_id: str, priority: str) -> dict[str, int]:
        """Publish a task now; returns the depth of each ready list afterwards."""
        _check(priority)
        self.flush()
        return self._saw(self._enqueue(keys=self._keys, args=[task_id, priority, REAL_TTL_S]))

    def publish_later(self, task_id: str, priority: str) -> dict[str, int]:
        """Publish a task with the next call (no round trip of its own); returns the depths
        of the ready lists once it is in, which are the ones :meth:`enqueue` would answer."""
        _check(priority)
        self._pending += [task_id, priority]
        self._depths[priority] += 1
        return dict(self._depths)

    def fetch(self, now_s: float, count: int, ack: list[Delivery] = (),
              publish: tuple[str, str] | None = None) -> Fetched:
        """Publish ``publish`` (task id, priority) if given, after any published later,
        acknowledge ``ack``, restore what is overdue, then reserve up to ``count`` tasks by
        priority: one atomic call."""
        if publish is not None:
            self.publish_later(*publish)
        reply = self._fetch(keys=self._keys, args=[repr(now_s), repr(self.visibility_timeout_s), count,
                                                   *self._pending_args(), *(d.tag for d in ack)])
        tags, depths, promoted, restored = reply
        return Fetched([Delivery(_text(t)) for t in tags], self._saw(depths), int(promoted), int(restored))

    def ack(self, now_s: float, deliveries: list[Delivery]) -> Fetched:
        """Acknowledge without taking more work (an early ack, or a worker winding down)."""
        return self.fetch(now_s, 0, deliveries)

    def retry(self, delivery: Delivery, due_s: float) -> dict[str, int]:
        """Acknowledge this delivery and run the task again at ``due_s``."""
        return self._saw(self._retry(keys=self._keys, args=[*self._pending_args(), delivery.tag,
                                                             delivery.task_id, repr(due_s)]))

    def requeue(self, deliveries: list[Delivery]) -> dict[str, int]:
        """Hand reserved, unstarted tasks back (a graceful shutdown), in their order."""
        if not deliveries:
            return {}
        return self._saw(self._requeue(keys=self._keys, args=[*self._pending_args(), *(d.tag for d in deliveries)]))

    def flush(self) -> None:
        """Send what was published later now (nothing to do when nothing waits)."""
        if self._pending:
            self._saw(self._requeue(keys=self._keys, args=self._pending_args()))  # hands nothing back

    def state(self) -> dict[str, int]:
        """Ready per priority, reserved and scheduled counts (one round trip)."""
        self.flush()
        pipe = self.client.pipeline(transaction=False)
        for key in self._keys[:3]:
            pipe.llen(key)
        pipe.zcard(self._keys[4])
        pipe.zcard(self._keys[5])
        *ready, reserved, scheduled = pipe.execute()
        return {**dict(zip(PRIORITIES, ready)), "reserved": reserved, "scheduled": scheduled}

    def drop(self) -> None:
        self._pending.clear()
        self._depths = dict.fromkeys(PRIORITIES, 0)
        self.client.delete(*self._keys)

    def _pending_args(self) -> list[str | int]:
        """The count, then id and priority of each task published later; they go with this call."""
        args: list[str | int] = [len(self._pending) // 2, *self._pending]
        self._pending.clear()
        return args

    def _saw(self, values: list) -> dict[str, int]:
        self._depths = _depths(values)
        return dict(self._depths)


def _check(priority: str) -> None:
    if priority not in PRIORITIES:
        raise ValueError(f"priority must be one of {PRIORITIES}, got {priority!r}")


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
