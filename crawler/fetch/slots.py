"""One download slot per site: a site's mirrors share a server, so politeness applies per site; the slot's pace
and the headers the site is asked with come from its profile."""

from __future__ import annotations

from scrapy.settings import SETTINGS_PRIORITIES

from crawler.sites.profiles import SiteProfile
from crawler.sites.urls import SiteIndex


SITE_SLOT_PREFIX = "site:"


def site_slot(site: str) -> str:
    """The download slot every host of a site shares."""
    return f"{SITE_SLOT_PREFIX}{site}"


def slot_settings(profile: SiteProfile, settings) -> dict:
    """The site's slot: ``delay`` seconds between two requests and ``concurrency`` at once, from the profile,
    unless ``-s DOWNLOAD_DELAY`` or ``CONCURRENT_REQUESTS_PER_DOMAIN`` says otherwise for this run, else the
    project's defaults (1 s, one at a time, as Scrapy's project template). No jitter: a delay a site asked
    for (robots.txt's Crawl-delay) is a minimum, which a random variation would undercut."""
    def chosen(key: str, setting: str, value):
        cmdline = (settings.getpriority(setting) or 0) >= SETTINGS_PRIORITIES["cmdline"]
        return {"delay": settings.getfloat, "concurrency": settings.getint}[key](setting) if cmdline or value is None else value

    return {"delay": chosen("delay", "DOWNLOAD_DELAY", profile.delay),
            "concurrency": chosen("concurrency", "CONCURRENT_REQUESTS_PER_DOMAIN", profile.concurrency), "jitter": 0.0}


class SiteDownloadSlotMiddleware:
    """Puts all of a site's hosts in one download slot: mirrors usually share servers, so politeness
    (concurrency, delay, AutoThrottle, Retry-After) applies per site, not per host. The slot is given the
    site's ``slot_settings`` before its first request."""

    def __init__(self, crawler, sites: SiteIndex):
        self.crawler, self.sites = crawler, sites

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler, SiteIndex.from_crawler(crawler))

    def process_request(self, request):
        profile, _ = self.sites.lookup(request.url)
        if profile is not None:
            slot = request.meta.setdefault("download_slot", site_slot(profile.id))
            self.crawler.engine.downloader.per_slot_settings.setdefault(slot, slot_settings(profile, self.crawler.settings))


class SiteHeadersMiddleware:
    """Asks each site with its profile's ``user_agent`` and ``headers`` (before Scrapy's default headers and
    user agent, which only fill in what is not set)."""

    def __init__(self, sites: SiteIndex):
        self.sites = sites

    @classmethod
    def from_crawler(cls, crawler):
        return cls(SiteIndex.from_crawler(crawler))

    def process_request(self, request):
        profile, _ = self.sites.lookup(request.url)
        if profile is None:
            return
        if profile.user_agent:
            request.headers.setdefault(b"User-Agent", profile.user_agent)
        for name, value in profile.headers:
            request.headers.setdefault(name, value)
