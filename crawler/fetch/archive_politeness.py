"""Politeness toward web archives, which rate-limit hard: one download slot per archive with
``ARCHIVE_DELAY`` between requests, and a 429's Retry-After honoured by every request to that archive."""

from __future__ import annotations

import asyncio
import logging
import time
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

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
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), within sane bounds."""
    text = (value or b"").decode("latin-1").strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(text).timestamp() - (now or time.time())
        except (TypeError, ValueError, IndexError):
            seconds = DEFAULT_RETRY_AFTER
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


class ArchivePolitenessMiddleware:
    """Downloader middleware for requests to archives (``archive_meta``): one request at a time and
    ``ARCHIVE_DELAY`` (default 1 s) between two; a 429 makes every request to that archive wait its
    Retry-After, then the request is asked again (at most MAX_BACKOFFS times, then it fails like any error
    page). In a distributed crawl the turn and the back-off are kept in Redis, shared by every worker."""

    def __init__(self, crawler, delay: float):
        self.crawler, self.delay = crawler, delay
        self.not_before: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler, crawler.settings.getfloat("ARCHIVE_DELAY", 1.0))

    def shared(self):
        """The Redis client of a distributed crawl, else None."""
        run = getattr(self.crawler.spider, "redis_run", None)
        return run.client if run is not None else None

    async def process_request(self, request):
        archive = request.meta.get(ARCHIVE)
        if archive is None:
            return None
        client = self.shared()
        if client is None:
            slots = self.crawler.engine.downloader.per_slot_settings
            slots.setdefault(archive_slot(archive), {"concurrency": 1, "delay": self.delay})
            wait = self.not_before.get(archive, 0.0) - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            return None
        key = f"newsmirror:{archive_slot(archive)}"
        while True:  # the back-off after a 429, then this worker's turn: at most one request per ARCHIVE_DELAY
            backoff = client.pttl(f"{key}:backoff")
            if backoff > 0:
                await asyncio.sleep(backoff / 1000)
            elif client.set(f"{key}:turn", 1, nx=True, px=max(int(self.delay * 1000), 1)):
                return None
            else:
                await asyncio.sleep(max(client.pttl(f"{key}:turn"), 10) / 1000)

    def process_response(self, request, response):
        archive = request.meta.get(ARCHIVE)
        if archive is None or response.status != 429 or request.meta.get(BACKOFFS, 0) >= MAX_BACKOFFS:
            return response
        wait = retry_after(response.headers.get("Retry-After"))
        client = self.shared()
        if client is None:
            self.not_before[archive] = max(self.not_before.get(archive, 0.0), time.monotonic() + wait)
        elif wait > 0:
            key = f"newsmirror:{archive_slot(archive)}:backoff"
            if client.pttl(key) < wait * 1000:
                client.set(key, 1, px=int(wait * 1000))
        self.crawler.stats.inc_value("newsmirror/archive/rate_limited")
        logger.info("%s: rate limited (429); every request to it waits %.0f s (Retry-After)", archive, wait)
        return request.replace(dont_filter=True, meta={**request.meta, BACKOFFS: request.meta.get(BACKOFFS, 0) + 1})
