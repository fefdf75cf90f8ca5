"""Scrapy's job dir (a paused crawl's frontier and spider state) on a disk that fills: its writes fail in one
log line and stop the crawl, never half a file; a run stopped that way is recovered from its run file."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from scrapy.core.scheduler import Scheduler
from scrapy.extensions.spiderstate import SpiderState

from crawler.state.writes import stop_after_write_failure


class JobDirScheduler(Scheduler):
    """Scrapy's scheduler; a request its disk queue cannot take stays in memory, and a job dir that cannot
    be written stops the crawl instead of failing every few seconds."""

    def _dqpush(self, request) -> bool:
        try:
            return super()._dqpush(request)
        except OSError as exc:
            stop_after_write_failure(self.crawler, f"the job dir {self.dqdir}", exc)
            return False

    def close(self, reason: str):
        try:
            return super().close(reason)
        except OSError as exc:  # the job dir is discarded on the next run unless the run was paused
            stop_after_write_failure(self.crawler, f"the job dir {self.dqdir}", exc)
            return None


class AtomicSpiderState(SpiderState):
    """Scrapy's SpiderState, saved under a temporary name and renamed: a full disk leaves the previous
    state (or none), never a file cut short."""

    def spider_closed(self, spider) -> None:
        if not self.jobdir:
            return
        partial = Path(f"{self.statefn}.partial")
        try:
            with partial.open("wb") as saved:
                pickle.dump(spider.state, saved, protocol=4)
            os.replace(partial, self.statefn)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            stop_after_write_failure(spider.crawler, self.statefn, exc)
