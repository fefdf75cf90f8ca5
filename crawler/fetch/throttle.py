"""Scrapy's AutoThrottle, per site: a slot's delay never goes below the delay its site is configured with (the
profile's ``delay``), where Scrapy's own stops at the project-wide ``DOWNLOAD_DELAY``."""

from __future__ import annotations

from scrapy.extensions.throttle import AutoThrottle


class SiteAutoThrottle(AutoThrottle):
    """AutoThrottle (``AUTOTHROTTLE_*`` settings) whose least delay for a request is its download slot's
    configured delay (``crawler.fetch.slots.slot_settings``); slots without one keep ``DOWNLOAD_DELAY``."""

    def _response_downloaded(self, response, request, spider) -> None:
        configured = self.crawler.engine.downloader.per_slot_settings.get(request.meta.get("download_slot"), {})
        self.mindelay = configured.get("delay", self._min_delay())
        super()._response_downloaded(response, request, spider)
