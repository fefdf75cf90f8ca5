"""ScrapeSpider: fetches the URL targets of ``newsmirror scrape`` and extracts each into a record."""

from __future__ import annotations

import scrapy

from crawler.clean.pipelines import TextCleaner
from crawler.extract.article import ExtractionError, extract_article
from crawler.extract.dates import utc_now_iso
from crawler.extract.engines import engine_from_settings
from crawler.fetch.failures import failure_reason
from crawler.output.record import make_article
from crawler.sites.profiles import SiteProfile


class ScrapeSpider(scrapy.Spider):
    """Fetches ``targets`` [(index, url, profile)] and stores a record or an error per index in ``results``."""

    name = "scrape"
    custom_settings = {"ITEM_PIPELINES": {}}

    def __init__(self, targets: list[tuple[int, str, SiteProfile | None]], results: dict, cleaner: TextCleaner,
                 *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.targets = targets
        self.results = results
        self.cleaner = cleaner

    async def start(self):
        for index, url, profile in self.targets:
            yield scrapy.Request(
                url, callback=self.parse_target, errback=self.on_failure, dont_filter=True,
                cb_kwargs={"index": index, "target": url, "profile": profile},
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
        article = make_article(extracted, profile, [response.url], target, utc_now_iso())
        if response.url != target:  # served by a mirror (failover) or after a redirect: say which URL
            self.logger.warning("%s was served by %s", target, response.url)
            article.url = response.url
            article.mirror_urls = [response.url, *(u for u in article.mirror_urls if u != response.url)]
        self.results[index] = article

    def on_failure(self, failure):
        request = failure.request
        index = request.cb_kwargs["index"]
        if index in self.results:
            return
        self.results[index] = f"{failure_reason(failure.value)}, fetching {request.url}"
