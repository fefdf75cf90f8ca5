"""Politeness toward web archives, which rate-limit hard: one download slot per archive with
``ARCHIVE_DELAY`` between requests, and a 429's Retry-After honoured by every request to that archive."""

from __future__ import annotations

import asyncio
import logging
import time
from urllib.parse import urlsplit

from scrapy.utils.misc import load_object

from crawler.fetch.retry_after import parse_retry_after
from crawler.reporting import stats as keys

logger = logging.getLogger(__name__)

ARCHIVE = "newsmirror_archive"  # meta: the archive's base URL, on every request to an archive
BACKOFFS = "newsmirror_archive_backoffs"  # meta: how many 429s this request met
MAX_BACKOFFS = 5
DEFAULT_RETRY_AFTER, MAX_RETRY_AFTER = 60.0, 900.0


def archive_meta(archive: str) -> dict:
    """Meta for a request to ``archive``: its own slot, a delay AutoThrottle leaves alone."""
    return {ARCHIVE: archive, "download_slot": archive_slot(archive), "autothrottle_dont_adjust_delay": True}


def archive_slot(archive: str) -> str:
    return f"archive:{urlsplit(archive).netloc}"


def retry_after(value: bytes | None, now: float | None = None) -> float:
    """Seconds an archive's 429 asks to wait (``parse_retry_after``), within sane bounds."""
    seconds = parse_retry_after(value, now)
    return min(DEFAULT_RETRY_AFTER if seconds is None else seconds, MAX_RETRY_AFTER)


class ArchivePace:
    """Each archive's turns and back-off in this process: its download slot takes one request at a time with
    ``ARCHIVE_DELAY`` between two (Scrapy's own slot delay), and after a 429 nothing goes to it before the
    back-off ends. (``crawler.distributed.pacing.RedisArchivePace`` shares both between workers.)"""

    def __init__(self, crawler, delay: float):
        self.crawler, self.delay = crawler, delay
        self.not_before: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler, crawler.settings.getfloat("ARCHIVE_DELAY", 1.0))

    async def turn(self, archive: str) -> None:
        """Wait until a request may go to ``archive``."""
        slots = self.crawler.engine.downloader.per_slot_settings
        slots.setdefault(archive_slot(archive), {"concurrency": 1, "delay": self.delay})
        wait = self.not_before.get(archive, 0.0) - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    def back_off(self, archive: str, seconds: float) -> None:
        """Nothing goes to ``archive`` for ``seconds`` (a longer back-off already set stands)."""
        self.not_before[archive] = max(self.not_before.get(archive, 0.0), time.monotonic() + seconds)


class ArchivePolitenessMiddleware:
    """Downloader middleware for requests to archives (``archive_meta``): each waits its archive's turn
    (``NEWSMIRROR_ARCHIVE_PACE``: this process's, or shared by every worker through Redis); a 429 makes every
    request to that archive wait its Retry-After, then the request is asked again (at most MAX_BACKOFFS times,
    then it fails like any error page)."""

    def __init__(self, crawler, pace):
        self.crawler, self.pace = crawler, pace

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler, load_object(crawler.settings["NEWSMIRROR_ARCHIVE_PACE"]).from_crawler(crawler))

    async def process_request(self, request):
        archive = request.meta.get(ARCHIVE)
        if archive is not None:
            await self.pace.turn(archive)
        return None

    def process_response(self, request, response):
        archive = request.meta.get(ARCHIVE)
        if archive is None or response.status != 429 or request.meta.get(BACKOFFS, 0) >= MAX_BACKOFFS:
            return response
        wait = retry_after(response.headers.get("Retry-After"))
        self.pace.back_off(archive, wait)
        self.crawler.stats.inc_value(keys.ARCHIVE_RATE_LIMITED)
        logger.info("%s: rate limited (429); every request to it waits %.0f s (Retry-After)", archive, wait)
        return request.replace(dont_filter=True, meta={**request.meta, BACKOFFS: request.meta.get(BACKOFFS, 0) + 1})
