"""The one way to a Redis client: every call has a timeout, and a lost connection is retried with backoff for
``NEWSMIRROR_REDIS_OUTAGE`` seconds in all, counted once for the whole client, after which every call fails at
once (the worker stops; see ``crawler.reporting.stopping.stop_for_outage``)."""

from __future__ import annotations

import os
import time

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

RETRIED_ERRORS = (redis.ConnectionError, redis.TimeoutError, TimeoutError, ConnectionError)
CONNECT_TIMEOUT, ANSWER_TIMEOUT = 2.0, 10.0


def redis_url(settings) -> str | None:
    """The Redis URL of a distributed crawl: setting ``NEWSMIRROR_REDIS``, else the environment variable."""
    return settings.get("NEWSMIRROR_REDIS") or os.environ.get("NEWSMIRROR_REDIS") or None


class OutageRetry(Retry):
    """redis-py's Retry bounded by time, not by count, and one for the whole client: redis-py gives every
    connection a deep copy of its Retry, which would count the outage afresh on each connection, so copies
    are this object. Calls retry with backoff until the outage has lasted ``outage`` seconds; from then on
    every call fails at once, without trying, so a worker that stops does not wait on each call it makes
    while closing."""

    def __init__(self, outage: float, clock=time.monotonic):
        super().__init__(ExponentialBackoff(cap=4.0, base=0.25), retries=-1, supported_errors=RETRIED_ERRORS)
        self.outage, self.clock = outage, clock
        self.down_since: float | None = None
        self.gave_up: BaseException | None = None

    def __deepcopy__(self, memo):
        return self

    def call_with_retry(self, do, fail, is_retryable=None, with_failure_count=False):
        if self.gave_up is not None:
            raise redis.ConnectionError(f"gave up after an outage of {self.outage:g} s: {self.gave_up}")
        failures = 0
        while True:
            try:
                result = do()
            except self._supported_errors as error:
                if is_retryable and not is_retryable(error):
                    raise
                failures += 1
                fail(error, failures) if with_failure_count else fail(error)
                now = self.clock()
                self.down_since = self.down_since or now
                left = self.down_since + self.outage - now
                if left <= 0:
                    self.gave_up = error
                    raise
                time.sleep(min(self._backoff.compute(failures), left))
            else:
                self.down_since = None
                return result


def redis_client(url: str, outage: float) -> redis.Redis:
    """A client whose calls time out (2 s to connect, 10 s to answer) and ride out an outage of ``outage`` s."""
    return redis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=ANSWER_TIMEOUT,
                                retry=OutageRetry(outage), retry_on_error=list(RETRIED_ERRORS))


def client_from_settings(settings) -> redis.Redis:
    """The crawl's client on ``NEWSMIRROR_REDIS`` with its outage window ``NEWSMIRROR_REDIS_OUTAGE``."""
    return redis_client(redis_url(settings), settings.getfloat("NEWSMIRROR_REDIS_OUTAGE", 60.0))


def unreachable(url: str) -> str | None:
    """Why the Redis at ``url`` cannot be used now (one ping, no waiting out an outage), or None."""
    try:
        redis_client(url, 0).ping()
    except (redis.RedisError, ValueError) as exc:
        return f"cannot reach Redis at {url}: {exc}"
    return None
