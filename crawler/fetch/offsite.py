"""Stops redirects from a site's host to anywhere off the site (a seized or parked domain) before they are followed."""

from __future__ import annotations

import logging
from urllib.parse import urljoin, urlsplit

from crawler.sites.urls import SiteIndex

logger = logging.getLogger(__name__)


OFFSITE_REDIRECT = "newsmirror_offsite_redirect"  # meta: the off-site host a response redirected to
REDIRECT_STATUSES = {301, 302, 303, 307, 308}


class OffsiteRedirectMiddleware:
    """Stops a redirect from a site's host to anywhere off the site (a seized or parked domain) before it
    is followed; the failover middleware then counts it as a failure of the redirecting host."""

    def __init__(self, sites: SiteIndex):
        self.sites = sites

    @classmethod
    def from_crawler(cls, crawler):
        return cls(SiteIndex.from_settings(crawler.settings))

    def process_response(self, request, response):
        location = response.headers.get("Location")
        if response.status in REDIRECT_STATUSES and location and self.sites.lookup(request.url)[0] is not None:
            target = urljoin(request.url, location.decode("latin-1"))
            if self.sites.lookup(target)[0] is None:
                request.meta["dont_redirect"] = True
                request.meta[OFFSITE_REDIRECT] = urlsplit(target).hostname
        return response
