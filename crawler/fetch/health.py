"""Host health: a circuit breaker per host, so a dead mirror costs a few requests, not one per article.

``HostHealth`` keeps it in the process; ``crawler.distributed.health.RedisHostHealth`` shares it between the
workers of a distributed crawl (``NEWSMIRROR_HOST_HEALTH`` says which).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable


def circuit_limits(settings) -> dict:
    """After how many consecutive failures a host's circuit opens, and for how many seconds."""
    return {"threshold": settings.getint("NEWSMIRROR_CIRCUIT_FAILURES", 3),
            "cooldown": settings.getfloat("NEWSMIRROR_CIRCUIT_COOLDOWN", 60.0)}


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

    @classmethod
    def from_crawler(cls, crawler) -> "HostHealth":
        return cls(**circuit_limits(crawler.settings))

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
