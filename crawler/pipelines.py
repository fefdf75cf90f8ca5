"""Item pipelines: drop copies of articles already emitted, write the run's JSONL file, commit state."""

from __future__ import annotations

import json

from scrapy.exceptions import DropItem


class DuplicateArticleFilter:
    """Drops an article that this run or an earlier one already emitted — the same id (mirror key or
    canonical link), the same clean text, or a near-identical text — and records its URLs there."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        state = self.crawler.spider.state
        match = state.claim(item.site, item.id, item.text, item.content_hash)
        if match is None:
            return item
        original, layer = match
        state.record_urls(original, item.mirror_urls)
        self.crawler.stats.inc_value("newsmirror/articles/duplicate")
        self.crawler.stats.inc_value(f"newsmirror/articles/duplicate/{layer}")
        raise DropItem(f"{item.url} is a copy of article {original} (same {layer})")


class RunFileWriter:
    """Appends each article as one JSON line to ``<output>/<site>/<run-id>.jsonl``, flushed per record.

    The file is created with the run's first article: a run that emits nothing leaves no file.
    """

    def __init__(self, crawler):
        self.crawler = crawler
        self.file = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

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


class StateCommitter:
    """Records an article as emitted once its line is written, so later runs skip it."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        spider = self.crawler.spider
        spider.state.mark_emitted(item.record(), spider.run_id, spider.state.content_print(item.text, item.content_hash))
        return item
