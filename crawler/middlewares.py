"""Downloader middlewares: per-host request accounting (responses and failures by reason)."""

from __future__ import annotations

from urllib.parse import urlsplit

from .failures import failure_reason


class HostStatsMiddleware:
    """Counts responses by status and failures by exception class for each host in the crawl stats."""

    def __init__(self, stats):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def process_response(self, request, response):
        host = urlsplit(response.url).hostname
        self.stats.inc_value(f"newsmirror/host/{host}/responses")
        self.stats.inc_value(f"newsmirror/host/{host}/status/{response.status}")
        return response

    def process_exception(self, request, exception):
        host = urlsplit(request.url).hostname
        self.stats.inc_value(f"newsmirror/host/{host}/errors/{failure_reason(exception)}")
