"""ScrapeSpider: fetches the URL targets of ``newsmirror scrape`` and extracts each into a record; a target that
every live host of its site fails comes from the site's web archives."""

from __future__ import annotations

import scrapy

from crawler.clean.pipelines import TextCleaner
from crawler.extract.article import ExtractionError, extract_article
from crawler.extract.dates import utc_now_iso
from crawler.extract.engines import engine_from_settings
from crawler.extract.verdict import missing_article
from crawler.fetch.archives import Snapshot
from crawler.fetch.failover import ARCHIVE_FALLBACK
from crawler.fetch.gate import REFUSED
from crawler.reporting.failures import failure_reason
from crawler.output.record import make_article
from crawler.sites.profiles import SiteProfile
from crawler.spiders.archive_chain import ArchiveChain


class ScrapeSpider(ArchiveChain, scrapy.Spider):
    """Fetches ``targets`` [(index, url, profile)] and stores a record or an error per index in ``results``;
    when every host of a target's site fails it, the newest good snapshot in the profile's ``archives``."""

    name = "scrape"
    custom_settings = {"ITEM_PIPELINES": {}}

    def __init__(self, targets: list[tuple[int, str, SiteProfile | None]], results: dict, cleaner: TextCleaner,
                 *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.targets = targets
        self.profiles = {index: profile for index, _, profile in targets}
        self.results = results
        self.cleaner = cleaner

    async def start(self):
        for index, url, profile in self.targets:
            yield scrapy.Request(
                url, callback=self.parse_target, errback=self.on_failure, dont_filter=True,
                cb_kwargs={"index": index, "target": url, "profile": profile},
                meta={ARCHIVE_FALLBACK: bool(profile and profile.archives)},
            )

    def parse_target(self, response, index: int, target: str, profile: SiteProfile | None):
        try:
            extracted = extract_article(
                response.body, response.url, profile, response.headers.get("Content-Type", b"").decode("latin-1"),
                engine_from_settings(self.settings),
            )
        except ExtractionError as exc:
            self.results[index] = f"{response.url}: {exc}"
            return
        extracted = self.cleaner.clean(extracted, profile)
        if problem := missing_article(extracted):
            self.results[index] = f"{response.url}: {problem}"
            return
        article = make_article(extracted, profile, [response.url], target, utc_now_iso())
        if response.url != target:  # served by a mirror (failover) or after a redirect: say which URL
            self.logger.warning("%s was served by %s", target, response.url)
            article.url = response.url
            article.mirror_urls = [response.url, *(u for u in article.mirror_urls if u != response.url)]
        self.results[index] = article

    def on_failure(self, failure):
        request = failure.request
        index, profile = request.cb_kwargs["index"], request.cb_kwargs["profile"]
        if index in self.results:
            return []
        if request.meta.get(REFUSED):  # the web chose a target in the machine's own network: no archive helps
            self.results[index] = request.meta[REFUSED]
            return []
        failed = f"{failure_reason(failure.value)}, fetching {request.url}"
        if profile is None or not profile.archives:
            self.results[index] = failed
            return []
        return self.archive_fallback({"index": index, "target": request.cb_kwargs["target"], "failed": failed},
                                     request.url, profile)

    async def extract_snapshot(self, article: dict, response, original: str) -> dict | None:
        return extract_article(response.body, original, self.profiles[article["index"]],
                               response.headers.get("Content-Type", b"").decode("latin-1"), engine_from_settings(self.settings))

    def archived_article(self, article: dict, extracted: dict, snapshot: Snapshot):
        profile = self.profiles[article["index"]]
        self.logger.warning("%s was served by the archive: %s", article["target"], snapshot.url)
        extracted = self.cleaner.clean(extracted, profile)
        problem = missing_article(extracted)
        self.results[article["index"]] = f"{snapshot.url}: {problem}" if problem else make_article(
            extracted, profile, [article["target"], snapshot.original], article["target"], utc_now_iso())
        return []

    def archive_exhausted(self, article: dict) -> None:
        self.results[article["index"]] = f"{article['failed']}; no archive has a good copy"
