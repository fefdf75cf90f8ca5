"""Item pipelines: drop copies of articles already emitted, write the run's JSONL file, commit state."""

from __future__ import annotations

import json
import logging
import os

import redis
from scrapy.exceptions import DropItem

from crawler.distributed.outage import stop_for_outage
from crawler.state.sqlite import hash64
from crawler.state.writes import WRITE_ERRORS, error_text, stop_after_write_failure, write_whole

logger = logging.getLogger(__name__)


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
        try:
            match = state.claim(item.site, item.id, item.text, item.content_hash)
        except redis.RedisError as exc:  # not emitted: its lease expires and it is fetched again
            stop_for_outage(self.crawler, exc)
            self.crawler.stats.inc_value("newsmirror/outage/articles_not_done")
            raise DropItem(f"{item.url}: not done (Redis unavailable)", log_level="DEBUG") from None
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
    """Appends each article as one JSON line to ``<output>/<site>/<run-id>.jsonl``: one whole line at a
    time, unbuffered, in order. A write that fails (disk full, read-only) is cut back to the last complete
    line and stops the crawl; the article is dropped unemitted, so the next run fetches it.

    The file is created with the run's first article: a run that emits nothing leaves no file.
    """

    def __init__(self, crawler):
        super().__init__(crawler)
        self.file = None
        self.size = 0  # bytes of complete lines

    @property
    def path(self):
        spider = self.crawler.spider
        return spider.output_dir / spider.profile.id / f"{spider.run_name}.jsonl"

    def close_spider(self):
        if self.file is not None:
            self.file.close()

    def process_item(self, item):
        line = (json.dumps(item.record(), ensure_ascii=False) + "\n").encode("utf-8")
        try:
            if self.file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.file = open(self.path, "ab", buffering=0)
                self.size = self.file.seek(0, os.SEEK_END)
                self.crawler.stats.set_value("newsmirror/output", str(self.path))
            write_whole(self.file, line)
        except OSError as exc:
            self.cut_back()
            stop_after_write_failure(self.crawler, str(self.path), exc)
            raise DropItem(f"{item.url}: not written ({error_text(exc)})", log_level="DEBUG") from None
        self.size += len(line)
        self.crawler.stats.inc_value("newsmirror/articles/new")
        return item

    def cut_back(self) -> None:
        """Remove a partly written line: the file ends with its last complete line."""
        if self.file is not None:
            try:
                self.file.truncate(self.size)
            except OSError as exc:  # the file system refuses even that: readers skip a torn last line
                logger.warning("%s: could not cut back a partly written line: %s", self.path, error_text(exc))


class StateCommitter(CrawlerPipeline):
    """Records an article as emitted once its line is written, so later runs skip it. A state that cannot
    be written stops the crawl; the next run recovers the article from the run file."""

    def process_item(self, item):
        spider = self.crawler.spider
        try:
            spider.store.mark_emitted(item.record(), spider.run_id, spider.store.content_print(item.text, item.content_hash))
        except WRITE_ERRORS as exc:
            stop_after_write_failure(self.crawler, f"the state ({error_text(exc)})", exc)
        except redis.RedisError as exc:  # written, not committed: its claim is taken over, export keeps one record
            stop_for_outage(self.crawler, exc)
            self.crawler.stats.inc_value("newsmirror/outage/articles_not_committed")
        return item
