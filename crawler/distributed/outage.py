"""A Redis that goes away under a distributed crawl never raises into Scrapy's loops: components stop the
worker cleanly in one line naming the Redis URL (exit status 69), and nothing is blamed on a news host."""

from __future__ import annotations

import functools

import redis

from crawler.reporting import stats as keys
from crawler.reporting.stopping import stop_for_outage


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
            self.crawler.stats.inc_value(keys.OUTAGE_RESPONSES_NOT_DONE)
            return []
        return None
