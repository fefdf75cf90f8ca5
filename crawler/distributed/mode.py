"""Distributed mode: with a Redis URL configured (``NEWSMIRROR_REDIS``, ``crawl --redis``), the crawl's
frontier, state, findings, host health and archive turns are the Redis implementations, chosen here by
settings the way Scrapy chooses its scheduler."""

from __future__ import annotations

from crawler.distributed.client import redis_url

REDIS_COMPONENTS = {
    "SCHEDULER": "crawler.distributed.frontier.LeasedScheduler",
    "SCHEDULER_QUEUE_CLASS": "crawler.distributed.frontier.LeasedQueue",
    "DUPEFILTER_CLASS": "crawler.distributed.frontier.MirrorAwareDupeFilter",
    "NEWSMIRROR_BACKEND": "crawler.distributed.backend.RedisBackend",
    "NEWSMIRROR_HOST_HEALTH": "crawler.distributed.health.RedisHostHealth",
    "NEWSMIRROR_ARCHIVE_PACE": "crawler.distributed.pacing.RedisArchivePace",
    "NEWSMIRROR_SITE_PACE": "crawler.distributed.pacing.RedisSitePace",
}


def use_redis(settings) -> None:
    """Switch a crawl's settings to the Redis components when a Redis URL is configured.

    ``SCHEDULER_PERSIST``: a worker that finishes must not delete the queue other workers still use;
    the last worker deletes the run's keys itself (``RedisRun.leave``).
    """
    url = redis_url(settings)
    if not url:
        return
    settings.set("NEWSMIRROR_REDIS", url, "cmdline")
    for name, component in REDIS_COMPONENTS.items():
        settings.set(name, component, "cmdline")
    settings.set("SCHEDULER_PERSIST", True, "cmdline")
