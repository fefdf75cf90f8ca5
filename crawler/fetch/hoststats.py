"""Per-host request accounting: responses by status and download errors by reason, in the crawl stats."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from crawler.reporting import stats as keys
from crawler.reporting.failures import failure_reason

logger = logging.getLogger(__name__)


class HostStatsMiddleware:
    """Counts responses by status and download errors by reason for each host in the crawl stats."""

    def __init__(self, stats):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def process_response(self, request, response):
        host = urlsplit(response.url).hostname
        self.stats.inc_value(keys.host_responses(host))
        self.stats.inc_value(keys.host_status(host, response.status))
        return response

    def process_exception(self, request, exception):
        host = urlsplit(request.url).hostname
        self.stats.inc_value(keys.host_errors(host, failure_reason(exception)))
