"""Stops redirects from a site's host to anywhere off the site (a seized or parked domain) before they are followed,
and reports each target as a mirror candidate."""

from __future__ import annotations

import logging
from urllib.parse import urljoin, urlsplit

from crawler.sites.signals import mirror_candidate
from crawler.sites.urls import SiteIndex

logger = logging.getLogger(__name__)


OFFSITE_REDIRECT = "newsmirror_offsite_redirect"  # meta: the off-site host a response redirected to
REDIRECT_STATUSES = {301, 302, 303, 307, 308}


class OffsiteRedirectMiddleware:
    """Stops a redirect from a site's host to anywhere off the site (a seized or parked domain) before it
    is followed; the failover middleware then counts it as a failure of the redirecting host. The target is
    sent as a ``mirror_candidate``: a site that moved redirects its old domain to its new one."""

    def __init__(self, sites: SiteIndex, signals=None):
        self.sites = sites
        self.signals = signals

    @classmethod
    def from_crawler(cls, crawler):
        return cls(SiteIndex.from_crawler(crawler), crawler.signals)

    def process_response(self, request, response):
        location = response.headers.get("Location")
        if response.status in REDIRECT_STATUSES and location and self.sites.lookup(request.url)[0] is not None:
            target = urljoin(request.url, location.decode("latin-1"))
            if self.sites.lookup(target)[0] is None:
                request.meta["dont_redirect"] = True
                request.meta[OFFSITE_REDIRECT] = urlsplit(target).hostname
                if self.signals is not None:
                    self.signals.send_catch_log(mirror_candidate, url=target, how="redirect", where=request.url)
        return response
