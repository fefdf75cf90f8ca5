"""Distributed crawls: a worker about to download from a host it does not know asks the shared state whether
another worker admitted it as a mirror meanwhile."""

from __future__ import annotations

import time

from scrapy.exceptions import NotConfigured

from crawler.discovery.verifier import VERIFYING
from crawler.distributed.frontier import redis_url
from crawler.sites.urls import SiteIndex


class AdmittedMirrorsMiddleware:
    """Downloader middleware (before the offsite filter): a request for a host outside every known site — a
    mirror another worker admitted and queued the start pages of — makes the spider reload the admitted
    mirrors, at most once per ``interval`` seconds. Only distributed crawls need it: one process learns its
    own admissions at once."""

    def __init__(self, crawler, sites: SiteIndex, interval: float = 1.0):
        self.crawler, self.sites, self.interval = crawler, sites, interval
        self.last_refresh = float("-inf")

    @classmethod
    def from_crawler(cls, crawler):
        if not redis_url(crawler.settings):  # a single process learns its admitted mirrors at once
            raise NotConfigured
        return cls(crawler, SiteIndex.from_crawler(crawler))

    def process_request(self, request):
        if request.meta.get(VERIFYING) or self.sites.lookup(request.url)[0] is not None:
            return None
        learn = getattr(self.crawler.spider, "learn_admitted_mirrors", None)
        if learn is not None and time.monotonic() - self.last_refresh >= self.interval:
            self.last_refresh = time.monotonic()
            learn()
        return None
