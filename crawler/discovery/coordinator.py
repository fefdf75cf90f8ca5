"""Mirror discovery during a crawl: candidates from what the crawl reads, their verification when the crawl is
idle, and admitted mirrors joining the site, as an extension beside the spider."""

from __future__ import annotations

import logging
from functools import partial
from urllib.parse import urlsplit

import redis
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.utils.defer import deferred_from_coro

from crawler.discovery.candidates import alternate_link_hosts, hosts_in_notice
from crawler.discovery.mirrors import ADMITTED, REJECTED, MirrorDiscovery
from crawler.discovery.verification import Verification
from crawler.discovery.verifier import MirrorVerifier
from crawler.fetch.archive_politeness import ARCHIVE
from crawler.reporting import stats as keys
from crawler.reporting.stopping import stop_for_outage
from crawler.run.context import RunContext
from crawler.sites.signals import admitted_mirrors_wanted, host_admitted, mirror_candidate
from crawler.sites.urls import site_host
from crawler.state.writes import WRITE_ERRORS, error_text, stop_after_write_failure

logger = logging.getLogger(__name__)


def count_verdict(stats, host: str, status: str, reason: str | None) -> None:
    """A verification's verdict in the stats (the run's summary names admitted and rejected hosts)."""
    if status == ADMITTED:
        stats.set_value(keys.mirror_verdict(ADMITTED, host), 1)
    else:
        stats.set_value(keys.mirror_verdict(REJECTED, host), reason)


class MirrorDiscoveryExtension:
    """Extension: the site's mirror discovery, off when the profile pins its hosts (``discover = false``) and
    for archive backfills.

    Candidates: the alternate-address notice and alternate links of each article page the crawl read (its
    response, once the item is out of the pipelines), and the hosts of the ``mirror_candidate`` signal
    (off-site redirects, listing entries on another host). When the crawl is idle, due candidates are
    verified (the crawl stays open meanwhile); an admitted host joins the site (``host_admitted``), and so
    do the mirrors earlier runs and other workers admitted.
    """

    def __init__(self, crawler, context: RunContext, mirrors: MirrorDiscovery, verifier: MirrorVerifier):
        self.crawler, self.stats, self.context, self.mirrors, self.verifier = crawler, crawler.stats, context, mirrors, verifier
        self.verifying: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler):
        context = RunContext.of(crawler)
        if not context.profile.discover or crawler.settings.getbool("NEWSMIRROR_FROM_ARCHIVE"):
            raise NotConfigured
        mirrors = MirrorDiscovery(context.profile, context.store, context.site_dir, report=partial(count_verdict, crawler.stats),
                                  retry_after=crawler.settings.getfloat("NEWSMIRROR_DISCOVERY_RETRY", 86400.0))
        extension = cls(crawler, context, mirrors, MirrorVerifier(crawler))
        for handler, signal in ((extension.join_admitted, signals.spider_opened), (extension.verify_due, signals.spider_idle),
                                (extension.read_page, signals.item_scraped), (extension.read_page, signals.item_dropped),
                                (extension.consider, mirror_candidate), (extension.learn_admitted, admitted_mirrors_wanted)):
            crawler.signals.connect(handler, signal=signal)
        return extension

    # -- candidates ----------------------------------------------------------------------------------
    def read_page(self, response) -> None:
        """An article page read (item scraped or dropped): the hosts its alternate-address notice lists (read from
        the raw page: the cleaner drops the notice) and its alternate links to the same path on another host."""
        if response is None or ARCHIVE in response.meta:
            return
        try:
            for host in hosts_in_notice(response.body, getattr(response, "encoding", "utf-8")):
                self.counted(self.mirrors.consider(host, "notice", response.url))
            for host in alternate_link_hosts(response.body, response.url):
                self.counted(self.mirrors.consider(host, "alternate link", response.url))
        except redis.RedisError as exc:
            stop_for_outage(self.crawler, exc)

    def consider(self, url: str, how: str, where: str, listed: bool = False) -> None:
        """``mirror_candidate``: another host named by a site host's redirect (not followed: the target may be the
        new domain) or by a listing entry on it."""
        if site_host(urlsplit(where).hostname, self.context.profile) is None:
            return
        self.counted(self.mirrors.consider_listed(url, how, where) if listed else self.mirrors.consider(url, how, where))

    def counted(self, host: str | None) -> None:
        if host is not None:
            self.stats.inc_value(keys.DISCOVERY_CANDIDATES)

    # -- verification ----------------------------------------------------------------------------------
    def verify_due(self) -> None:
        """spider_idle: start verifying the candidates that can be verified now (the site has emitted enough
        articles to compare); the crawl stays open while any verification runs."""
        try:
            self.learn_admitted()
            for host in self.mirrors.due():
                verification = self.mirrors.verification(host)
                if verification is not None:
                    self.verifying.add(host)
                    deferred_from_coro(self.verify(verification))
        except redis.RedisError as exc:  # a signal handler: one line, not a traceback per idle tick
            stop_for_outage(self.crawler, exc)
            return
        if self.verifying:
            raise DontCloseSpider

    async def verify(self, verification: Verification) -> None:
        host = verification.host
        try:
            problem = await self.verifier.address_problem(host, self.context.profile.scheme)
            if problem:
                self.mirrors.reject(host, problem)
                return
            await self.verifier.run(verification, self.context.profile)
            if self.mirrors.finish(verification) == ADMITTED:
                for identity, url in verification.matched_ids.items():  # its copies join their articles' URLs
                    self.context.store.record_urls(identity, [url])
                self.join(host, fresh=True)
        except redis.RedisError as exc:
            stop_for_outage(self.crawler, exc)
        except WRITE_ERRORS as exc:
            stop_after_write_failure(self.crawler, f"the state ({error_text(exc)})", exc)
        finally:
            self.verifying.discard(host)

    # -- admitted mirrors ------------------------------------------------------------------------------
    def join(self, host: str, fresh: bool) -> None:
        """An admitted mirror becomes one of the site's hosts for this crawl (``host_admitted``: the run
        context's profile, the spider's allowed domains, every component's SiteIndex)."""
        if host in self.context.profile.hosts:
            return
        self.stats.set_value(keys.mirror_verdict("joined", host), 1)
        self.crawler.signals.send_catch_log(host_admitted, site=self.context.site, host=host, fresh=fresh)

    def join_admitted(self) -> None:
        """spider_opened: the mirrors earlier runs (or other workers) admitted are hosts of the site from the start."""
        for host in self.mirrors.admitted():
            self.join(host, fresh=False)

    def learn_admitted(self) -> None:
        """Join the mirrors other workers admitted since this process last looked (the shared state's verdicts)."""
        try:
            for host in self.mirrors.refresh():
                self.join(host, fresh=False)
        except redis.RedisError as exc:
            stop_for_outage(self.crawler, exc)
