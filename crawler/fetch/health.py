"""Host health: a circuit breaker per host, so a dead mirror costs a few requests, not one per article.

``HostHealth`` keeps it in the process; ``RedisHostHealth`` shares it between the workers of a distributed
crawl (and their runs), so a host one worker found dead is skipped by all of them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class HostCircuit:
    failures: int = 0
    opened_at: float | None = None
    last_reason: str | None = None
    trips: int = 0


@dataclass
class HostHealth:
    """After ``threshold`` consecutive failures a host is skipped for ``cooldown`` seconds, then probed."""

    threshold: int = 3
    cooldown: float = 60.0
    clock: Callable[[], float] = time.monotonic
    circuits: dict[str, HostCircuit] = field(default_factory=dict)

    def _circuit(self, host: str) -> HostCircuit:
        return self.circuits.setdefault(host, HostCircuit())

    def available(self, host: str) -> bool:
        """Closed circuit, or open long enough that one probe may go through."""
        circuit = self.circuits.get(host)
        if circuit is None or circuit.opened_at is None:
            return True
        return self.clock() - circuit.opened_at >= self.cooldown

    def last_reason(self, host: str) -> str | None:
        circuit = self.circuits.get(host)
        return circuit.last_reason if circuit else None

    def failures(self, host: str) -> int:
        circuit = self.circuits.get(host)
        return circuit.failures if circuit else 0

    def record_success(self, host: str) -> bool:
        """Mark a success; True when this closed an open circuit (the host recovered)."""
        circuit = self._circuit(host)
        recovered = circuit.opened_at is not None
        circuit.failures, circuit.opened_at = 0, None
        return recovered

    def record_failure(self, host: str, reason: str) -> bool:
        """Mark a failure; True when this (re)opened the host's circuit."""
        circuit = self._circuit(host)
        circuit.failures += 1
        circuit.last_reason = reason
        if circuit.failures >= self.threshold and (circuit.opened_at is None or self.available(host)):
            circuit.opened_at = self.clock()
            circuit.trips += 1
            return True
        return False


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
        self.record = client.register_script(RECORD_FAILURE)

    @staticmethod
    def key(host: str) -> str:
        return f"newsmirror:host:{host}"

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
