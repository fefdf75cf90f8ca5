"""Crawl extensions: download failures in one log line each, and a crawl a person can watch (live
status line, periodic progress, a stats file per run)."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.logformatter import LogFormatter

from crawler.reporting.failures import failure_reason

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


def warnings_and_up(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING


def hide_scrapy_info() -> None:
    """Scrapy's own records below WARNING (start-up banner, enabled components, settings, the stats dump)
    are not shown; newsmirror's progress and summary lines are, and so are the dropped-article lines
    (DroppedItemsInOneLine's, which Scrapy's scraper logs). The stats stay in the run's stats file.
    Call it before and after starting a CrawlerProcess: starting resets the "scrapy" logger's level, not
    the filter on the logger of its banner."""
    banner = logging.getLogger("scrapy.utils.log")
    if warnings_and_up not in banner.filters:
        banner.addFilter(warnings_and_up)
    logging.getLogger("scrapy").setLevel(logging.WARNING)
    logging.getLogger("scrapy.core.scraper").setLevel(logging.INFO)
