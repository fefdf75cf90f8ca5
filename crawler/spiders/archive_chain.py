"""ArchiveChain: the spiders' way to an article through the web archives when every live host failed it —
CDX queries for its URLs, archive by archive, then the snapshots found, newest first, until one holds it."""

from __future__ import annotations

import scrapy

from crawler.extract.article import ExtractionError
from crawler.fetch.archive_politeness import ARCHIVE, archive_meta
from crawler.fetch.archives import CdxError, Snapshot, cdx_query, parse_cdx
from crawler.fetch.blockpages import detect_block
from crawler.reporting import stats as keys
from crawler.reporting.failures import failure_reason
from crawler.sites.profiles import SiteProfile
from crawler.sites.urls import path_and_query

ARCHIVE_FOR = "newsmirror_archive_for"  # meta: the spider's own word on which article a chain request is for


class ArchiveChain:
    """Spider mixin. The spider may set ``archive_priority`` (its requests' priority) and says what the chain
    is for in three methods: ``extract_snapshot`` (an archived page's article),
    ``archived_article`` (what to yield for a good snapshot) and ``archive_exhausted`` (no archive had a
    good copy). Each gets the ``article`` dict the chain was started with (which article this is); the
    chain's own state travels in the requests' meta, so a distributed frontier can carry it."""

    archive_priority = 0

    def archive_fallback(self, article: dict, url: str, profile: SiteProfile) -> list[scrapy.Request]:
        """The chain for an article every live host failed at ``url``: its path on every host the site was
        ever on, retired ones too, in the profile's archives."""
        path = path_and_query(url)
        step = self.archive_lookup(article, [f"{host}{path}" for host in (*profile.hosts, *profile.retired)],
                                   profile.archives)
        return [step] if step else []

    def archive_lookup(self, article: dict, urls: list[str], archives: tuple[str, ...]) -> scrapy.Request | None:
        """The chain's first request for the article at ``urls`` (scheme ignored), or None when there is
        nothing to ask (``archive_exhausted`` is then called)."""
        bare = list(dict.fromkeys(url.split("://", 1)[-1] for url in urls))
        newest = self.settings.getint("NEWSMIRROR_ARCHIVE_SNAPSHOTS", 5)  # snapshots asked per URL
        queries = [(archive, cdx_query(archive, url, newest=newest)) for archive in archives for url in bare]
        return self.next_archive_step(article, queries, [])

    def next_archive_step(self, article: dict, queries: list[tuple[str, str]],
                          snapshots: list[tuple[str, str, str]]) -> scrapy.Request | None:
        meta = {ARCHIVE_FOR: article, "archive_queries": queries}
        if snapshots:
            archive, timestamp, original = snapshots[0]
            return scrapy.Request(Snapshot(archive, timestamp, original).url, callback=self.parse_snapshot,
                                  errback=self.on_archive_failure, priority=self.archive_priority, dont_filter=True,
                                  meta={**meta, **archive_meta(archive), "archive_snapshots": snapshots})
        if queries:
            (archive, query), rest = queries[0], queries[1:]
            return scrapy.Request(query, callback=self.parse_archive_index, errback=self.on_archive_failure,
                                  priority=self.archive_priority, meta={**meta, **archive_meta(archive), "archive_queries": rest})
        self.archive_exhausted(article)
        return None

    def parse_archive_index(self, response):
        try:
            page = parse_cdx(response.meta[ARCHIVE], response.body)
        except CdxError as exc:
            self.logger.warning("%s: %s", response.url, exc)
            self.crawler.stats.inc_value(keys.ARCHIVE_BAD_CDX)
            page = None
        newest_first = [(s.archive, s.timestamp, s.original) for s in reversed(page.snapshots)] if page else []
        step = self.next_archive_step(response.meta[ARCHIVE_FOR], response.meta["archive_queries"], newest_first)
        return [step] if step else []

    def on_archive_failure(self, failure):
        request = failure.request
        self.logger.info("%s: %s", request.url, failure_reason(failure.value))
        self.crawler.stats.inc_value(keys.ARCHIVE_FAILED)
        step = self.next_archive_step(request.meta[ARCHIVE_FOR], request.meta["archive_queries"],
                                      request.meta.get("archive_snapshots", [])[1:])
        return [step] if step else []

    async def parse_snapshot(self, response):
        """An archived page: a block page, an archive's error page or a page without article text is skipped
        for the next older snapshot."""
        article, snapshots = response.meta[ARCHIVE_FOR], response.meta["archive_snapshots"]
        snapshot = Snapshot(*snapshots[0])
        verdict = detect_block(response.body)
        extracted = None
        if verdict is None:
            try:
                extracted = await self.extract_snapshot(article, response, snapshot.original)
            except ExtractionError:
                extracted = None
        if extracted is None or extracted["no_article"]:
            self.logger.info("%s: %s; trying an older snapshot", response.url, verdict.label if verdict else "no article text")
            self.crawler.stats.inc_value(keys.ARCHIVE_SNAPSHOTS_SKIPPED)
            step = self.next_archive_step(article, response.meta["archive_queries"], snapshots[1:])
            if step:
                yield step
            return
        self.crawler.stats.inc_value(keys.ARTICLES_FROM_ARCHIVE)
        for item in self.archived_article(article, {**extracted, "archived_at": snapshot.archived_at}, snapshot):
            yield item

    async def extract_snapshot(self, article: dict, response, original: str) -> dict | None:
        """The article fields of an archived page first served at ``original``; may raise ExtractionError."""
        raise NotImplementedError

    def archived_article(self, article: dict, extracted: dict, snapshot: Snapshot):
        """What the spider yields for the article found in ``snapshot`` (``extracted`` has its ``archived_at``)."""
        raise NotImplementedError

    def archive_exhausted(self, article: dict) -> None:
        """No archive had a good copy of the article."""
        raise NotImplementedError
