"""Distributed crawls: a worker about to download from a host it does not know asks the shared state whether
another worker admitted it as a mirror meanwhile."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from scrapy.exceptions import NotConfigured

from crawler.discovery.verifier import VERIFYING
from crawler.run.context import RunContext
from crawler.sites.signals import admitted_mirrors_wanted
from crawler.sites.urls import SiteIndex


class AdmittedMirrorsMiddleware:
    """Downloader middleware (before the offsite filter): a request for a host outside every known site — a
    mirror another worker admitted and queued the start pages of — makes mirror discovery reload the admitted
    mirrors (signal ``admitted_mirrors_wanted``), at most once per ``interval`` seconds for each such host (a
    host met for the first time is asked about at once). Only distributed crawls need it: one process
    learns its own admissions at once."""

    def __init__(self, signals, sites: SiteIndex, interval: float = 1.0):
        self.signals, self.sites, self.interval = signals, sites, interval
        self.last_refresh: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler):
        if RunContext.of(crawler).redis is None:  # a single process learns its admitted mirrors at once
            raise NotConfigured
        return cls(crawler.signals, SiteIndex.from_crawler(crawler))

    def process_request(self, request):
        if request.meta.get(VERIFYING) or self.sites.lookup(request.url)[0] is not None:
            return None
        host = urlsplit(request.url).hostname
        if time.monotonic() - self.last_refresh.get(host, float("-inf")) >= self.interval:
            self.last_refresh[host] = time.monotonic()
            self.signals.send_catch_log(admitted_mirrors_wanted)
        return None
