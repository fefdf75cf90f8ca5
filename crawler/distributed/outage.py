"""A Redis that goes away under a distributed crawl: every call has a timeout, a lost connection is retried
with backoff for ``NEWSMIRROR_REDIS_OUTAGE`` seconds in all, then the worker stops cleanly in one line
naming the Redis URL (exit status 69), and nothing is blamed on a news host."""

from __future__ import annotations

import functools
import time

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from crawler.reporting.stopping import REDIS_UNAVAILABLE, stop_crawl

RETRIED_ERRORS = (redis.ConnectionError, redis.TimeoutError, TimeoutError, ConnectionError)


class OutageRetry(Retry):
    """redis-py's Retry bounded by time, not by count, and shared by every call of a client: calls retry
    with backoff until the outage has lasted ``outage`` seconds; after that each call fails at once, so
    a worker that stops does not wait again on every call it makes while closing."""

    def __init__(self, outage: float):
        super().__init__(ExponentialBackoff(cap=4.0, base=0.25), retries=-1, supported_errors=RETRIED_ERRORS)
        self.outage = outage
        self.down_since: float | None = None

    def call_with_retry(self, do, fail, is_retryable=None, with_failure_count=False):
        failures = 0
        while True:
            try:
                result = do()
            except self._supported_errors as error:
                if is_retryable and not is_retryable(error):
                    raise
                failures += 1
                fail(error, failures) if with_failure_count else fail(error)
                now = time.monotonic()
                self.down_since = self.down_since or now
                left = self.down_since + self.outage - now
                if left <= 0:
                    raise
                time.sleep(min(self._backoff.compute(failures), left))
            else:
                self.down_since = None
                return result


def redis_client(url: str, outage: float) -> redis.Redis:
    """A client whose calls time out (2 s to connect, 10 s to answer) and ride out an outage of ``outage`` s."""
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10, retry=OutageRetry(outage),
                                retry_on_error=list(RETRIED_ERRORS))


def unreachable(url: str) -> str | None:
    """Why the Redis at ``url`` cannot be used now (one ping, no retry), or None."""
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5).ping()
    except (redis.RedisError, ValueError) as exc:
        return f"cannot reach Redis at {url}: {exc}"
    return None


def stop_for_outage(crawler, error: BaseException | str) -> None:
    """Stop this worker (exit 69): Redis is gone for longer than NEWSMIRROR_REDIS_OUTAGE, or lost the run."""
    outage = crawler.settings.getfloat("NEWSMIRROR_REDIS_OUTAGE", 60.0)
    cause = error if isinstance(error, str) else f"unreachable for {outage:g} s ({error})"
    stop_crawl(crawler, REDIS_UNAVAILABLE, f"Redis at {crawler.settings.get('NEWSMIRROR_REDIS')}: {cause}",
               "stopping this worker (its run file is complete to the last line; its leases expire and other "
               "workers, or the next run, take over what it held)")


def outage_safe(fallback=None):
    """Decorator for a method of a component that holds ``self.crawler``: a Redis error stops the worker
    (``stop_for_outage``) and the method returns ``fallback`` instead of raising into Scrapy's loops."""
    def decorate(method):
        @functools.wraps(method)
        def safe(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except redis.RedisError as exc:
                stop_for_outage(self.crawler, exc)
                return fallback
        return safe
    return decorate


class RedisOutageMiddleware:
    """Spider middleware: a Redis error raised in a spider callback stops the worker in one line instead
    of a traceback per response (the page is not lost: its lease expires and it is fetched again)."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_spider_exception(self, response, exception):
        if isinstance(exception, redis.RedisError):
            stop_for_outage(self.crawler, exception)
            self.crawler.stats.inc_value("newsmirror/outage/responses_not_done")
            return []
        return None
