"""Item pipelines: drop articles already emitted, write the run's JSONL file, commit state."""

from __future__ import annotations

import json

from scrapy.exceptions import DropItem


class EmittedArticleFilter:
    """Drops an article that this run or an earlier one already emitted (keeping its new URLs)."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.emitted: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        state = self.crawler.spider.state
        if item.id in self.emitted or state.is_emitted(item.id):
            state.record_urls(item.id, item.mirror_urls)
            self.crawler.stats.inc_value("newsmirror/articles/duplicate")
            raise DropItem(f"article {item.id} already emitted ({item.url})")
        self.emitted.add(item.id)
        return item


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
        return spider.output_dir / spider.profile.id / f"{spider.run_id}.jsonl"

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
        spider.state.mark_emitted(
            item.id, item.site, item.url, item.content_hash, spider.run_id, item.fetched_at, item.mirror_urls
        )
        return item
