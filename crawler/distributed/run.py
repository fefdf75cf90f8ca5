"""One distributed crawl run in Redis: its key namespace, which workers are alive, and their leases.

Workers of a site join the site's current run (or start one), renew a heartbeat, lease each request they
pop, re-queue the leases of workers whose heartbeat expired, and the last one to finish deletes the run.
"""

from __future__ import annotations

import os
import socket

import redis

from crawler.distributed.client import register_script
from crawler.distributed.keys import run_key, site_pointer

# Server time in seconds (float), so that workers on machines with skewed clocks agree on expiry.
_NOW = "local t = redis.call('TIME') local now = tonumber(t[1]) + tonumber(t[2]) / 1000000 "

# KEYS: the site's run pointer, the workers of the run the caller expects; ARGV: that run's id, whether it is a
# new run to start when there is none ('1') or the current one, worker, lease seconds. Joins the run and returns
# its id, or returns the id of the run that is current instead (the caller asks again with its keys).
JOIN = _NOW + """
local current = redis.call('GET', KEYS[1])
if not current and ARGV[2] == '1' then redis.call('SET', KEYS[1], ARGV[1]) current = ARGV[1] end
if current ~= ARGV[1] then return current or '' end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[3])
return current
"""

# KEYS: workers; ARGV: worker, lease seconds.
HEARTBEAT = _NOW + "redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1]) return 1"

# KEYS: queue, inflight; ARGV: lease field. Pops the best request and leases it in one step.
POP = """
local item = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #item == 0 then return false end
redis.call('ZREM', KEYS[1], item[1])
redis.call('HSET', KEYS[2], ARGV[1], item[2] .. '|' .. item[1])
return item[1]
"""

# KEYS: queue, inflight; ARGV: score, request, lease field or ''. Queues a request and ends its old lease.
PUSH = """
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] ~= '' then redis.call('HDEL', KEYS[2], ARGV[3]) end
return 1
"""

# KEYS: workers, inflight, queue; ARGV: worker whose leases to re-queue now, or '' for the leases of every
# worker whose heartbeat expired or who is gone from the run.
REQUEUE = _NOW + """
local dead = {}
local function is_dead(worker)
  if ARGV[1] ~= '' then return worker == ARGV[1] end
  if dead[worker] == nil then
    local expiry = redis.call('ZSCORE', KEYS[1], worker)
    dead[worker] = (not expiry) or tonumber(expiry) <= now
  end
  return dead[worker]
end
local moved = 0
local leases = redis.call('HGETALL', KEYS[2])
for i = 1, #leases, 2 do
  local cut = string.find(leases[i], '|', 1, true)
  if cut and is_dead(string.sub(leases[i], 1, cut - 1)) then
    local value = leases[i + 1]
    local bar = string.find(value, '|', 1, true)
    redis.call('ZADD', KEYS[3], string.sub(value, 1, bar - 1), string.sub(value, bar + 1))
    redis.call('HDEL', KEYS[2], leases[i])
    moved = moved + 1
  end
end
if ARGV[1] == '' then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now) else redis.call('ZREM', KEYS[1], ARGV[1]) end
return moved
"""

# KEYS: workers, queue, inflight, pending, pointer, then every key of the run; ARGV: worker, run id, '1' when
# the worker finished its work. Returns 1 when the run is over and its keys were deleted.
LEAVE = _NOW + """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if ARGV[3] ~= '1' or redis.call('ZCARD', KEYS[1]) > 0 or redis.call('ZCARD', KEYS[2]) > 0
   or redis.call('HLEN', KEYS[3]) > 0 or redis.call('SCARD', KEYS[4]) > 0 then return 0 end
if redis.call('GET', KEYS[5]) == ARGV[2] then redis.call('DEL', KEYS[5]) end
for i = 6, #KEYS do redis.call('DEL', KEYS[i]) end
return 1
"""

RUN_KEYS = ("requests", "dupefilter", "inflight", "workers", "found", "dates", "pending", "known", "claims", "wave")


def worker_name(configured: str | None) -> str:
    """The worker's name in leases and run file names: as configured (``NEWSMIRROR_WORKER``), else
    ``<host>-<pid>``, unique among the workers of a run; ``|`` and ``/`` are replaced."""
    name = configured or f"{socket.gethostname().split('.')[0]}-{os.getpid()}"
    return name.replace("|", "-").replace("/", "-")


class RedisRun:
    """A run's keys (``newsmirror:{<site>}:<run>:<name>``) and its workers' heartbeats and leases.

    A lease is a field ``<worker>|<n>`` of the run's ``inflight`` hash holding the popped request; it
    lasts as long as its worker's heartbeat (``workers`` sorted set, scored by expiry in server time).
    """

    def __init__(self, client: redis.Redis, site: str, run_id: str, worker: str, lease_seconds: float):
        self.client, self.site, self.run_id, self.worker = client, site, run_id, worker
        self.lease_seconds = lease_seconds
        self.scripts = {name: register_script(client, body) for name, body in
                        (("heartbeat", HEARTBEAT), ("pop", POP), ("push", PUSH), ("requeue", REQUEUE), ("leave", LEAVE))}
        self.leases_taken = 0

    @classmethod
    def join(cls, client: redis.Redis, site: str, proposed_run_id: str, worker: str, lease_seconds: float) -> "RedisRun":
        """Join the site's current run, or start ``proposed_run_id`` when there is none: the script must be given
        the run's keys, so it is asked with the run expected until that is the current one."""
        join = register_script(client, JOIN)
        current = client.get(site_pointer(site))
        while True:
            expected = current.decode() if current else proposed_run_id
            current = join(keys=[site_pointer(site), run_key(site, expected, "workers")],
                           args=[expected, "0" if current else "1", worker, lease_seconds])
            if current.decode() == expected:
                return cls(client, site, expected, worker, lease_seconds)
            current = current or None

    def key(self, name: str) -> str:
        return run_key(self.site, self.run_id, name)

    def is_current(self) -> bool:
        """Whether Redis still names this run as the site's (a Redis restarted without persistence forgot it)."""
        current = self.client.get(site_pointer(self.site))
        return current is not None and current.decode() == self.run_id

    # -- liveness and leases ---------------------------------------------------------------------
    def heartbeat(self) -> None:
        self.scripts["heartbeat"](keys=[self.key("workers")], args=[self.worker, self.lease_seconds])

    def pop(self) -> tuple[str, bytes] | None:
        """(lease field, encoded request) of the best queued request, now leased to this worker."""
        self.leases_taken += 1
        lease = f"{self.worker}|{self.leases_taken}"
        data = self.scripts["pop"](keys=[self.key("requests"), self.key("inflight")], args=[lease])
        return None if data is None else (lease, data)

    def push(self, score: float, data: bytes, lease: str | None) -> None:
        self.scripts["push"](keys=[self.key("requests"), self.key("inflight")], args=[score, data, lease or ""])

    def release(self, leases) -> None:
        leases = list(leases)
        if leases:
            self.client.hdel(self.key("inflight"), *leases)

    def requeue_expired(self, worker: str = "") -> int:
        """Put the leased requests of dead workers (or of ``worker``) back in the queue; how many."""
        return self.scripts["requeue"](
            keys=[self.key("workers"), self.key("inflight"), self.key("requests")], args=[worker])

    def busy_elsewhere(self) -> bool:
        """Queued requests, or requests leased by another worker (asked when this worker is idle, so
        whatever it leased itself is finished)."""
        if self.client.zcard(self.key("requests")):
            return True
        mine = f"{self.worker}|".encode()
        return any(not field.startswith(mine) for field in self.client.hkeys(self.key("inflight")))

    def leave(self, finished: bool) -> bool:
        """This worker stops; True when it was the last and the finished run's keys were deleted."""
        keys = [self.key("workers"), self.key("requests"), self.key("inflight"), self.key("pending"),
                site_pointer(self.site), *(self.key(name) for name in RUN_KEYS)]
        return bool(self.scripts["leave"](keys=keys, args=[self.worker, self.run_id, "1" if finished else "0"]))
