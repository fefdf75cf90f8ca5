"""Crawl extensions: download failures in one log line each, and a crawl a person can watch (live
status line, periodic progress, a stats file per run)."""

from __future__ import annotations

import json
import logging
import sys
import time

from urllib.parse import urlsplit

from scrapy import signals
from scrapy.logformatter import LogFormatter
from twisted.internet import task

from .failures import failure_reason

logger = logging.getLogger(__name__)

NOISY_LOGGERS = ("scrapy.downloadermiddlewares.robotstxt", "scrapy.core.scraper", "scrapy.downloadermiddlewares.retry")


class DroppedItemsInOneLine(LogFormatter):
    """Logs a dropped article as its reason alone (which names the URL and, for a copy, the article it
    copies), not followed by the whole article: Scrapy's default puts every dropped text in the log."""

    def dropped(self, item, exception, response, spider):
        entry = super().dropped(item, exception, response, spider)
        return {**entry, "msg": "Dropped: %(exception)s", "args": {"exception": exception}}


class OneLineDownloadErrors(logging.Filter):
    """Drops the traceback of download-failure log records (a dead host is an event, not a bug), and
    Scrapy's "Gave up retrying" lines: the spider logs each failed request once, with host and reason."""

    DOWNLOAD_ERRORS = ("Error downloading",)
    REPEATED = ("Gave up retrying",)

    def __init__(self):
        super().__init__()
        self.loggers = [logging.getLogger(name) for name in NOISY_LOGGERS]

    @classmethod
    def from_crawler(cls, crawler):
        extension = cls()
        for logger in extension.loggers:
            logger.addFilter(extension)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith(self.REPEATED):
            return False
        if isinstance(record.msg, str) and record.msg.startswith(self.DOWNLOAD_ERRORS):
            record.exc_info = None
            record.exc_text = None
            if record.name.endswith("robotstxt") and isinstance(record.args, dict) and "request" in record.args:
                record.msg = "%s: robots.txt unreachable (%s); crawling it as if it allowed everything"
                record.args = (urlsplit(record.args["request"].url).hostname, failure_reason(record.args["f_exception"]))
                record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True

    def spider_closed(self) -> None:
        for logger in self.loggers:
            logger.removeFilter(self)


def progress_line(site: str, stats: dict, elapsed: float) -> str:
    """One line on a running crawl: pages, articles new/duplicate/failed, failovers, rate, elapsed time."""
    pages = stats.get("response_received_count", 0)
    failed = sum(v for k, v in stats.items() if k.startswith("newsmirror/failed/"))
    minutes, seconds = divmod(int(elapsed), 60)
    return (f"{site}: {pages} pages, {stats.get('newsmirror/articles/new', 0)} new, "
            f"{stats.get('newsmirror/articles/duplicate', 0)} duplicate, {failed} failed, "
            f"{stats.get('newsmirror/failovers', 0)} failovers, {pages / elapsed if elapsed else 0:.1f} pages/s, "
            f"{minutes}:{seconds:02d}")


class CrawlProgress:
    """A live status line on a terminal (every second), a progress log line otherwise (every
    NEWSMIRROR_PROGRESS_INTERVAL seconds), and ``<output>/<site>/<run-id>.stats.json`` at the end."""

    def __init__(self, crawler, interval: float, live: bool):
        self.crawler = crawler
        self.interval = interval
        self.live = live
        self.started = None
        self.task = None

    @classmethod
    def from_crawler(cls, crawler):
        live = crawler.settings.getbool("NEWSMIRROR_LIVE_STATUS", sys.stderr.isatty())
        extension = cls(crawler, crawler.settings.getfloat("NEWSMIRROR_PROGRESS_INTERVAL", 60.0), live)
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
        line = progress_line(self.crawler.spider.name if not hasattr(self.crawler.spider, "profile")
                             else self.crawler.spider.profile.id, self.crawler.stats.get_stats(),
                             time.monotonic() - self.started)
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
        spider = self.crawler.spider
        if not hasattr(spider, "run_id"):
            return
        path = spider.output_dir / spider.profile.id / f"{spider.run_name}.stats.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        stats = {**self.crawler.stats.get_stats(), "finish_reason": reason, "run_id": spider.run_id,
                 "site": spider.profile.id}
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(stats, default=str, indent=1, sort_keys=True), encoding="utf-8")
        temporary.replace(path)
        self.crawler.stats.set_value("newsmirror/stats_file", str(path))
