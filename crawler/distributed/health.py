"""Host health of a distributed crawl: ``HostHealth``'s circuit breakers in Redis, so a host one worker found
dead is skipped by every worker (and run)."""

from __future__ import annotations

import time
from typing import Callable

from crawler.distributed.client import register_script
from crawler.distributed.keys import host_health_key
from crawler.fetch.health import circuit_limits
from crawler.run.context import RunContext

# KEYS: the host's hash; ARGV: reason, threshold, cooldown, now. 1 when this failure (re)opened the circuit.
RECORD_FAILURE = """
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
redis.call('HSET', KEYS[1], 'last_reason', ARGV[1])
local opened = tonumber(redis.call('HGET', KEYS[1], 'opened_at') or '')
if failures >= tonumber(ARGV[2]) and (opened == nil or tonumber(ARGV[4]) - opened >= tonumber(ARGV[3])) then
  redis.call('HSET', KEYS[1], 'opened_at', ARGV[4])
  redis.call('HINCRBY', KEYS[1], 'trips', 1)
  return 1
end
return 0
"""


class RedisHostHealth:
    """The circuit breakers of ``HostHealth`` in Redis hashes (``newsmirror:host:<host>``), on wall-clock
    time, shared by every worker on every machine."""

    def __init__(self, client, threshold: int = 3, cooldown: float = 60.0, clock: Callable[[], float] = time.time):
        self.client, self.threshold, self.cooldown, self.clock = client, threshold, cooldown, clock
        self.record = register_script(client, RECORD_FAILURE)

    @classmethod
    def from_crawler(cls, crawler) -> "RedisHostHealth":
        return cls(RunContext.of(crawler).redis, **circuit_limits(crawler.settings))

    @staticmethod
    def key(host: str) -> str:
        return host_health_key(host)

    def available(self, host: str) -> bool:
        opened = self.client.hget(self.key(host), "opened_at")
        return opened is None or self.clock() - float(opened) >= self.cooldown

    def last_reason(self, host: str) -> str | None:
        reason = self.client.hget(self.key(host), "last_reason")
        return reason.decode() if reason else None

    def failures(self, host: str) -> int:
        return int(self.client.hget(self.key(host), "failures") or 0)

    def record_success(self, host: str) -> bool:
        recovered = self.client.hget(self.key(host), "opened_at") is not None
        self.client.hset(self.key(host), "failures", 0)
        self.client.hdel(self.key(host), "opened_at")
        return recovered

    def record_failure(self, host: str, reason: str) -> bool:
        return bool(self.record(keys=[self.key(host)], args=[reason, self.threshold, self.cooldown, self.clock()]))
