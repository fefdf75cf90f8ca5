"""One download slot per site: a site's mirrors share a server, so politeness applies per site."""

from __future__ import annotations

import logging

from crawler.sites.urls import SiteIndex

logger = logging.getLogger(__name__)


class SiteDownloadSlotMiddleware:
    """Puts all of a site's hosts in one download slot: mirrors usually share servers, so politeness
    (concurrency, delay, AutoThrottle) applies per site, not per host."""

    def __init__(self, sites: SiteIndex):
        self.sites = sites

    @classmethod
    def from_crawler(cls, crawler):
        return cls(SiteIndex.from_crawler(crawler))

    def process_request(self, request):
        profile, _ = self.sites.lookup(request.url)
        if profile is not None:
            request.meta.setdefault("download_slot", f"site:{profile.id}")
