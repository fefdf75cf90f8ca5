"""Mirror failover: a request whose host failed (down, 5xx, blocked, seized) is retried on the site's next host,
with a circuit breaker per host."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import redis
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.misc import load_object

from crawler.fetch.blockpages import detect_block
from crawler.fetch.fingerprint import PER_HOST
from crawler.fetch.health import HostHealth
from crawler.fetch.offsite import OFFSITE_REDIRECT
from crawler.reporting import stats as keys
from crawler.reporting.failures import failure_reason
from crawler.sites.profiles import SiteProfile
from crawler.sites.urls import SiteIndex, on_host, path_and_query

logger = logging.getLogger(__name__)

TRIED = "newsmirror_tried"  # meta: [(host, reason), ...] hosts that failed this request
ARCHIVE_FALLBACK = "newsmirror_archive_fallback"  # meta: the spider asks web archives when every host fails it
# a 429 is not a failure: the server asks to slow down (crawler.fetch.politeness), whichever host it is asked on
FAILED_STATUSES = {403: "HTTP 403 (blocked)", 451: "HTTP 451 (blocked for legal reasons)"}
RESTART_META = (OFFSITE_REDIRECT, "dont_redirect", "retry_times", "redirect_urls", "redirect_times", "redirect_reasons", "redirect_ttl")


def response_failure(status: int, content_type: str, body: bytes) -> str | None:
    """Why a response means its host failed (5xx, block status, block page served with 200), or None."""
    if status >= 500:
        return f"HTTP {status}"
    if status in FAILED_STATUSES:
        return FAILED_STATUSES[status]
    if status == 200 and (not content_type or "html" in content_type):
        verdict = detect_block(body)
        if verdict is not None:
            return verdict.label
    return None


def is_robots(request) -> bool:
    return urlsplit(request.url).path == "/robots.txt"


class MirrorFailoverMiddleware:
    """Re-issues a failed request on the site's next healthy host, in profile order.

    A host fails a request with a connection error, timeout, 5xx after retries, 403/451, a block or
    seizure page served with 200, or a redirect off the site. Hosts whose circuit is open are skipped
    before any request is sent. Feeds and listings (asked of every host anyway) do not fail over.
    """

    def __init__(self, stats, sites: SiteIndex, health: HostHealth):
        self.stats = stats
        self.sites = sites
        self.health = health

    @classmethod
    def from_crawler(cls, crawler):
        health = load_object(crawler.settings["NEWSMIRROR_HOST_HEALTH"]).from_crawler(crawler)
        return cls(crawler.stats, SiteIndex.from_crawler(crawler), health)

    def process_request(self, request):
        profile, host = self.sites.lookup(request.url)
        if profile is None or is_robots(request) or self.health.available(host):
            return None
        reason = f"circuit open after {self.health.last_reason(host)}"
        if request.meta.get(PER_HOST):
            self.stats.inc_value(keys.host_skipped(host))
            raise IgnoreRequest(f"skipped, {reason}")
        return self.failover(request, profile, host, reason, quiet=True)

    def process_response(self, request, response):
        profile, host = self.sites.lookup(request.url)
        if profile is None:
            return response
        content_type = response.headers.get("Content-Type", b"").decode("latin-1").lower()
        reason = response_failure(response.status, content_type, response.body)
        if request.meta.get(OFFSITE_REDIRECT):
            reason = f"redirected off the site to {request.meta[OFFSITE_REDIRECT]}"
        if reason is None:
            self.stats.inc_value(keys.host_ok(host))
            if self.health.record_success(host):
                logger.info("%s: answering again, back in use", host)
            return response
        self.note_failure(host, reason)
        if not is_robots(request):
            retry = self.failover(request, profile, host, reason)
            if retry is not None:
                return retry
        if response.status == 200 or request.meta.get(OFFSITE_REDIRECT):  # never passed on as content
            raise IgnoreRequest(reason)
        return response

    def process_exception(self, request, exception):
        profile, host = self.sites.lookup(request.url)
        if profile is None or isinstance(exception, (IgnoreRequest, redis.RedisError)):  # Redis's fault, not the host's
            return None
        reason = failure_reason(exception)
        self.note_failure(host, reason)
        if is_robots(request):
            return None
        return self.failover(request, profile, host, reason)

    def note_failure(self, host: str, reason: str) -> None:
        self.stats.inc_value(keys.host_failed(host, reason))
        if self.health.record_failure(host, reason):
            self.stats.inc_value(keys.host_circuit_trips(host))
            logger.warning("%s: %d consecutive failures (last: %s); skipping it for %.0fs", host,
                           self.health.failures(host), reason, self.health.cooldown)

    def failover(self, request, profile: SiteProfile, host: str, reason: str, quiet: bool = False):
        """The request on the next healthy untried host, or None (listing, or every host failed)."""
        if request.meta.get(PER_HOST):
            return None
        tried = [*request.meta.get(TRIED, []), (host, reason)]
        failed = {h for h, _ in tried}
        candidate = next((h for h in profile.hosts if h not in failed and self.health.available(h)), None)
        path = path_and_query(request.url)
        if candidate is None:
            hosts = "; ".join(f"{h}: {r}" for h, r in tried)
            if request.meta.get(ARCHIVE_FALLBACK):  # the spider asks the archives; lost only if they fail too
                logger.warning("%s: every host failed (%s); asking the archives", path, hosts)
            else:
                logger.warning("%s: lost, every host failed (%s)", path, hosts)
                self.stats.inc_value(keys.REQUESTS_LOST)
            return None
        if not quiet:
            logger.warning("%s: %s, failing over to %s for %s", host, reason, candidate, path)
        self.stats.inc_value(keys.FAILOVERS)
        self.stats.inc_value(keys.failovers_from(host))
        meta = {k: v for k, v in request.meta.items() if k not in RESTART_META}
        meta[TRIED] = tried
        return request.replace(url=on_host(request.url, candidate, profile), meta=meta, dont_filter=True)
