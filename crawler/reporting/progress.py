"""A crawl a person can watch: a live status line on a terminal, periodic progress in logs, a stats file per run."""

from __future__ import annotations

import json
import logging
import sys
import time

from scrapy import signals
from twisted.internet import task

from crawler.reporting import stats as keys
from crawler.reporting.stopping import WRITE_FAILED, stop_crawl
from crawler.run.context import RunContext

logger = logging.getLogger(__name__)


def progress_line(site: str, stats: dict, elapsed: float) -> str:
    """One line on a running crawl: pages, articles new/duplicate/failed, failovers, rate, elapsed time."""
    pages = stats.get("response_received_count", 0)
    minutes, seconds = divmod(int(elapsed), 60)
    return (f"{site}: {pages} pages, {stats.get(keys.ARTICLES_NEW, 0)} new, "
            f"{stats.get(keys.ARTICLES_DUPLICATE, 0)} duplicate, {keys.total(stats, keys.FAILED)} failed, "
            f"{stats.get(keys.FAILOVERS, 0)} failovers, {pages / elapsed if elapsed else 0:.1f} pages/s, "
            f"{minutes}:{seconds:02d}")


class CrawlProgress:
    """A live status line on a terminal (every second), a progress log line otherwise (every
    NEWSMIRROR_PROGRESS_INTERVAL seconds)."""

    def __init__(self, crawler, label: str, interval: float, live: bool):
        self.crawler = crawler
        self.label = label
        self.interval = interval
        self.live = live
        self.started = None
        self.task = None

    @classmethod
    def from_crawler(cls, crawler):
        live = crawler.settings.getbool("NEWSMIRROR_LIVE_STATUS", sys.stderr.isatty())
        label = crawler.settings.get("NEWSMIRROR_SITE") or crawler.spidercls.name  # the site, or "scrape"
        extension = cls(crawler, label, crawler.settings.getfloat("NEWSMIRROR_PROGRESS_INTERVAL", 60.0), live)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self) -> None:
        self.started = time.monotonic()
        self.task = task.LoopingCall(self.report)
        self.task.start(1.0 if self.live else self.interval, now=False)
        if self.live:  # a log line first clears the status line; the next tick redraws it
            for handler in logging.getLogger().handlers:
                handler.addFilter(self.clear_status_line)

    @staticmethod
    def clear_status_line(record: logging.LogRecord) -> bool:
        sys.stderr.write("\r\x1b[K")
        return True

    def report(self) -> None:
        line = progress_line(self.label, self.crawler.stats.get_stats(), time.monotonic() - self.started)
        if self.live:
            sys.stderr.write(f"\r\x1b[K{line}")
            sys.stderr.flush()
        else:
            logger.info(line)

    def spider_closed(self, reason: str) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
        if self.live:
            sys.stderr.write("\r\x1b[K")
            for handler in logging.getLogger().handlers:
                handler.removeFilter(self.clear_status_line)


class RunStatsFile:
    """``<output>/<site>/<run-name>.stats.json`` when the run ends, written atomically: its stats with every counter
    (``crawler.reporting.stats.every_counter``), finish reason, run id and site (docs/operations.md, "The stats
    file")."""

    def __init__(self, crawler, context: RunContext):
        self.crawler, self.context = crawler, context

    @classmethod
    def from_crawler(cls, crawler):
        extension = cls(crawler, RunContext.of(crawler))
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_closed(self, reason: str) -> None:
        path = self.context.run_file(".stats.json")
        path.parent.mkdir(parents=True, exist_ok=True)
        stats = {**keys.every_counter(self.crawler.stats.get_stats(), self.context.profile.hosts),
                 "finish_reason": reason, "run_id": self.context.run_id, "site": self.context.site,
                 "stats_layout": keys.STATS_LAYOUT}
        temporary = path.with_suffix(".tmp")
        try:
            temporary.write_text(json.dumps(stats, default=str, indent=1, sort_keys=True), encoding="utf-8")
            temporary.replace(path)
        except OSError as exc:  # a full disk: no half-written stats file is left behind
            temporary.unlink(missing_ok=True)
            stop_crawl(self.crawler, WRITE_FAILED, f"cannot write {path}: {exc.strerror or exc}", "the run's stats stay in the log")
            return
        self.crawler.stats.set_value(keys.STATS_FILE, str(path))
