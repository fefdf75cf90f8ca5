"""Item pipelines: drop copies of articles already emitted, write the run's JSONL file, commit state."""

from __future__ import annotations

import json

from scrapy.exceptions import DropItem

from crawler.state.sqlite import hash64


class CrawlerPipeline:
    """Base of the pipelines here: keeps the crawler (stats, the spider's state and run)."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)


class DuplicateArticleFilter(CrawlerPipeline):
    """Drops an article that this run or an earlier one already emitted — the same id (mirror key or
    canonical link), the same clean text, or a near-identical text — and records its URLs there. An
    article fetched again whose text changed passes as its next revision."""

    def process_item(self, item):
        state = self.crawler.spider.store
        match = state.claim(item.site, item.id, item.text, item.content_hash)
        if match is None:
            return item
        original, layer = match
        if layer == "id":
            stored_hash, revision, _, _ = state.revision_of(item.id)
            if stored_hash != hash64(item.content_hash):  # fetched again and its text changed: a new revision
                item.revision = revision + 1
                self.crawler.stats.inc_value("newsmirror/articles/revised")
                return item
        state.record_urls(original, item.mirror_urls)
        self.crawler.stats.inc_value("newsmirror/articles/duplicate")
        self.crawler.stats.inc_value(f"newsmirror/articles/duplicate/{layer}")
        raise DropItem(f"{item.url} is a copy of article {original} (same {layer})", log_level="INFO")  # dedup at work


class RunFileWriter(CrawlerPipeline):
    """Appends each article as one JSON line to ``<output>/<site>/<run-id>.jsonl``, flushed per record.

    The file is created with the run's first article: a run that emits nothing leaves no file.
    """

    def __init__(self, crawler):
        super().__init__(crawler)
        self.file = None

    @property
    def path(self):
        spider = self.crawler.spider
        return spider.output_dir / spider.profile.id / f"{spider.run_name}.jsonl"

    def close_spider(self):
        if self.file is not None:
            self.file.close()

    def process_item(self, item):
        if self.file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.file = open(self.path, "a", encoding="utf-8")
            self.crawler.stats.set_value("newsmirror/output", str(self.path))
        self.file.write(json.dumps(item.record(), ensure_ascii=False) + "\n")
        self.file.flush()
        self.crawler.stats.inc_value("newsmirror/articles/new")
        return item


class StateCommitter(CrawlerPipeline):
    """Records an article as emitted once its line is written, so later runs skip it."""

    def process_item(self, item):
        spider = self.crawler.spider
        spider.store.mark_emitted(item.record(), spider.run_id, spider.store.content_print(item.text, item.content_hash))
        return item
