"""The item pipeline that keeps one record per article: a copy of an emitted article is dropped, its URLs kept."""

from __future__ import annotations

import redis
from scrapy.exceptions import DropItem

from crawler.dedup.identity import BY_ID, hash64
from crawler.reporting import stats as keys
from crawler.reporting.stopping import stop_for_outage
from crawler.run.pipeline import RunPipeline


class DuplicateArticleFilter(RunPipeline):
    """Drops an article that this run or an earlier one already emitted — the same id (mirror key or
    canonical link), the same clean text, or a near-identical text — and records its URLs there. An
    article fetched again whose text changed passes as its next revision."""

    def process_item(self, item):
        store = self.context.store
        try:
            copy = store.claim(item.site, item.id, item.text, item.content_hash)
        except redis.RedisError as exc:  # not emitted: its lease expires and it is fetched again
            stop_for_outage(self.crawler, exc)
            self.stats.inc_value(keys.OUTAGE_ARTICLES_NOT_DONE)
            raise DropItem(f"{item.url}: not done (Redis unavailable)", log_level="DEBUG") from None
        if copy is None:
            return item
        emitted = store.revision_of(item.id) if copy.layer == BY_ID else None  # None: claimed by another worker
        if emitted is not None and emitted.hash64 != hash64(item.content_hash):  # fetched again, text changed
            item.revision = emitted.revision + 1
            self.stats.inc_value(keys.ARTICLES_REVISED)
            return item
        store.record_urls(copy.original, item.mirror_urls)
        self.stats.inc_value(keys.ARTICLES_DUPLICATE)
        self.stats.inc_value(keys.duplicate_by(copy.layer))
        raise DropItem(f"{item.url} is a copy of article {copy.original} (same {copy.layer})", log_level="INFO")
