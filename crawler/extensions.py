"""Crawl extensions: keep download failures in the log to one line each (host and reason, no traceback)."""

from __future__ import annotations

import logging

from scrapy import signals

NOISY_LOGGERS = ("scrapy.downloadermiddlewares.robotstxt", "scrapy.core.scraper")


class OneLineDownloadErrors(logging.Filter):
    """Drops the traceback of download-failure log records: a dead host is an event, not a bug."""

    DOWNLOAD_ERRORS = ("Error downloading",)

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
        if isinstance(record.msg, str) and record.msg.startswith(self.DOWNLOAD_ERRORS):
            record.exc_info = None
            record.exc_text = None
        return True

    def spider_closed(self) -> None:
        for logger in self.loggers:
            logger.removeFilter(self)
