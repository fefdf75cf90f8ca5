"""Article extraction off the reactor thread: a process pool sized to the machine, awaited from callbacks.

``NEWSMIRROR_EXTRACT_WORKERS``: default one worker per core (the reactor's own work is a fraction of
extraction's on real pages, so it shares a core; see bench/crawl.py); 0 extracts in-process (same
function, same result).
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from scrapy import signals

from crawler.extract.article import ExtractionError, extract_article
from crawler.extract.engines import engine_from_settings
from crawler.reporting import stats as keys
from crawler.sites.profiles import SiteProfile

logger = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1  # prctl(2)
PARENT_WATCH_SECONDS = 1.0


WARM_UP_PAGE = (b"<html lang='en'><head><title>Warm-up</title></head><body><article><h1>Warm-up</h1>"
                + b"<p>The port authority said on Tuesday that the harbour would reopen to container traffic.</p>" * 4
                + b"</article></body></html>")


def exit_with_parent(parent_pid: int) -> None:
    """Pool initializer: a worker dies with the crawl that started it, whatever killed the crawl (kill -9,
    the OOM killer, a scheduler's timeout), instead of living on as an orphan. Linux delivers SIGKILL when
    the parent dies (PR_SET_PDEATHSIG); a watch on the parent's pid covers other systems and the moment
    before the signal was armed."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (AttributeError, OSError):  # not Linux: the watch alone
        pass
    if os.getppid() != parent_pid:
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_WATCH_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def warm_up(engine: str) -> int:
    """Runs in each new worker while the crawl discovers articles: imports and first-use caches are paid then."""
    extract_article(WARM_UP_PAGE, "http://warm-up.invalid/2026/1/1/1/warm-up", engine=engine)
    return os.getpid()


def extract_in_worker(body: bytes, url: str, profile: SiteProfile | None, content_type: str | None,
                      engine: str) -> tuple[int, dict[str, Any]]:
    """(worker pid, ``extract_article``'s result): the pid lets the crawl count work done elsewhere."""
    return os.getpid(), extract_article(body, url, profile, content_type, engine)


class ArticleExtractor:
    """``await extractor.extract(...)`` runs ``extract_article`` in the pool (or in-process), counted in stats."""

    def __init__(self, crawler, workers: int, engine: str):
        self.crawler = crawler
        self.workers = workers
        self.engine = engine
        self.executor: ProcessPoolExecutor | None = None

    @classmethod
    def from_crawler(cls, crawler) -> "ArticleExtractor":
        configured = crawler.settings.get("NEWSMIRROR_EXTRACT_WORKERS")
        workers = (os.cpu_count() or 1) if configured in (None, "") else int(configured)
        extractor = cls(crawler, workers, engine_from_settings(crawler.settings))
        crawler.signals.connect(extractor.start, signal=signals.spider_opened)
        crawler.signals.connect(extractor.close, signal=signals.spider_closed)
        return extractor

    def start(self) -> None:
        """Start the workers when the spider opens, not at the first article."""
        if self.workers > 0:
            for _ in range(self.workers):
                self._pool().submit(warm_up, self.engine)

    def _pool(self) -> ProcessPoolExecutor:
        if self.executor is None:
            # spawn, not fork: forking a process that runs the reactor and its threads is unsafe.
            self.executor = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                                initializer=exit_with_parent, initargs=(os.getpid(),))
        return self.executor

    async def extract(self, body: bytes, url: str, profile: SiteProfile | None, content_type: str | None) -> dict:
        """The page's article fields; raises ExtractionError like ``extract_article``."""
        stats = self.crawler.stats
        if self.workers <= 0:
            stats.inc_value(keys.EXTRACT_IN_PROCESS)
            return extract_article(body, url, profile, content_type, self.engine)
        try:
            pid, extracted = await asyncio.wrap_future(
                self._pool().submit(extract_in_worker, body, url, profile, content_type, self.engine))
        except BrokenProcessPool:
            logger.warning("extraction worker died on %s; restarting the pool", url)
            self.executor = None
            stats.inc_value(keys.EXTRACT_WORKER_DIED)
            raise ExtractionError("extraction worker died") from None
        stats.inc_value(keys.EXTRACT_IN_WORKER if pid != os.getpid() else keys.EXTRACT_IN_PROCESS)
        return extracted

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None
