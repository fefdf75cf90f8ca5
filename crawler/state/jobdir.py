"""Scrapy's job dir (a paused crawl's frontier and spider state): kept only to resume a paused run, and on a
disk that fills, its writes fail in one log line and stop the crawl, never half a file (a run stopped that way is
recovered from its run file)."""

from __future__ import annotations

import logging
import os
import pickle
import shutil
from pathlib import Path

from scrapy.core.scheduler import Scheduler
from scrapy.extensions.spiderstate import SpiderState

from crawler.state.writes import stop_after_write_failure

logger = logging.getLogger(__name__)


def readable_pickle(path: Path) -> bool:
    """Whether the job dir's saved spider state can be loaded (missing counts as readable: nothing saved)."""
    if not path.exists():
        return True
    try:
        with path.open("rb") as saved:
            pickle.load(saved)
    except Exception:  # EOFError, UnpicklingError, ...: a write cut short
        return False
    return True


def prepare_job_dir(job_dir: str | None, last_status: str | None) -> None:
    """Keep Scrapy's JOBDIR (frontier, seen requests) only to resume a paused run (Ctrl-C: 'shutdown').

    After a kill its queue index is stale while its seen-requests file is not, so resuming would
    skip articles the killed run never emitted: the job dir is discarded and the state's recovery
    (run files, then a fresh discovery) takes over. After a finished run there is nothing to resume.
    """
    if job_dir and (last_status != "shutdown" or not readable_pickle(Path(job_dir) / "spider.state")) \
            and Path(job_dir).exists():
        shutil.rmtree(job_dir)  # a spider.state cut short (a full disk) cannot resume either
    elif job_dir and last_status == "shutdown":
        logger.info("resuming the paused run from %s", job_dir)


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
