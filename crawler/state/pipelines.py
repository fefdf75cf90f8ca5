"""Item pipelines that make an article emitted: its line appended to the run file, then committed to the state."""

from __future__ import annotations

import json
import logging
import os

import redis
from scrapy.exceptions import DropItem

from crawler.reporting import stats as keys
from crawler.reporting.stopping import stop_for_outage
from crawler.run.pipeline import RunPipeline
from crawler.state.writes import WRITE_ERRORS, error_text, stop_after_write_failure, write_whole

logger = logging.getLogger(__name__)


class RunFileWriter(RunPipeline):
    """Appends each article as one JSON line to ``<output>/<site>/<run-name>.jsonl``: one whole line at a
    time, unbuffered, in order. A write that fails (disk full, read-only) is cut back to the last complete
    line and stops the crawl; the article is dropped unemitted, so the next run fetches it.

    The file is created with the run's first article: a run that emits nothing leaves no file.
    """

    def __init__(self, crawler, context):
        super().__init__(crawler, context)
        self.path = context.run_file(".jsonl")
        self.file = None
        self.size = 0  # bytes of complete lines

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
                self.stats.set_value(keys.OUTPUT, str(self.path))
            write_whole(self.file, line)
        except OSError as exc:
            self.cut_back()
            stop_after_write_failure(self.crawler, str(self.path), exc)
            raise DropItem(f"{item.url}: not written ({error_text(exc)})", log_level="DEBUG") from None
        self.size += len(line)
        self.stats.inc_value(keys.ARTICLES_NEW)
        return item

    def cut_back(self) -> None:
        """Remove a partly written line: the file ends with its last complete line."""
        if self.file is not None:
            try:
                self.file.truncate(self.size)
            except OSError as exc:  # the file system refuses even that: readers skip a torn last line
                logger.warning("%s: could not cut back a partly written line: %s", self.path, error_text(exc))


class StateCommitter(RunPipeline):
    """Records an article as emitted once its line is written, so later runs skip it. A state that cannot
    be written stops the crawl; the next run recovers the article from the run file."""

    def process_item(self, item):
        store = self.context.store
        try:
            store.mark_emitted(item.record(), self.context.run_id, store.content_print(item.text, item.content_hash))
        except WRITE_ERRORS as exc:
            stop_after_write_failure(self.crawler, f"the state ({error_text(exc)})", exc)
        except redis.RedisError as exc:  # written, not committed: its claim is taken over, export keeps one record
            stop_for_outage(self.crawler, exc)
            self.stats.inc_value(keys.OUTAGE_ARTICLES_NOT_COMMITTED)
        return item
