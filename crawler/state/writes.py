"""Write failures (a full disk, a read-only or forbidden output) end a crawl cleanly: one line naming the file
and the error, files consistent up to their last complete line, and a finish reason that ``newsmirror
crawl`` turns into exit status 74. Nothing is lost or doubled: what was not written was not emitted."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

from scrapy import signals
from twisted.internet import task

from crawler.reporting.stopping import WRITE_FAILED, stop_crawl

logger = logging.getLogger(__name__)

WRITE_ERRORS = (OSError, sqlite3.OperationalError)  # SQLite: "database or disk is full", "attempt to write a readonly database"


def error_text(error: BaseException) -> str:
    return getattr(error, "strerror", None) or str(error)


def stop_after_write_failure(crawler, what: str, error: BaseException | str) -> None:
    """Stop the crawl (exit 74) because ``what`` could not be written."""
    stop_crawl(crawler, WRITE_FAILED, f"cannot write {what}: {error if isinstance(error, str) else error_text(error)}",
               "stopping the crawl (what was written stands; free the space and run again)")


def write_whole(handle, data: bytes) -> None:
    """All of ``data`` to an unbuffered binary file, or OSError (after which the caller cuts the file back)."""
    view = memoryview(data)
    while view:
        written = handle.write(view)
        if not written:
            raise OSError(28, os.strerror(28))  # ENOSPC: nothing more could be written
        view = view[written:]


def not_writable(directory: Path) -> str | None:
    """Why files cannot be created in ``directory`` (made if missing), or None."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".write-check-"):
            pass
    except OSError as exc:
        return f"cannot write to {directory}: {error_text(exc)}"
    return None


def not_writable_file(path: Path) -> str | None:
    """Why the existing file ``path`` cannot be written (read-only, another user's), or None (also when missing)."""
    try:
        with open(path, "r+b"):
            pass
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot write {path}: {error_text(exc)}"
    return None


def space_problem(directory: Path, min_free_mb: float) -> str | None:
    """Why ``directory``'s file system is too full for a crawl (under ``min_free_mb`` free), or None."""
    existing = next((folder for folder in (directory, *directory.parents) if folder.exists()), Path("."))
    try:
        free = shutil.disk_usage(existing).free  # the output may not be made yet: its file system then
    except OSError:
        return None
    if min_free_mb > 0 and free < min_free_mb * 1048576:
        return f"only {free / 1048576:.1f} MiB free in {directory} (NEWSMIRROR_MIN_FREE_MB={min_free_mb:g})"
    return None


class DiskSpaceGuard:
    """Stops a crawl cleanly, before writes fail, when the output's file system has less than
    ``NEWSMIRROR_MIN_FREE_MB`` free (checked every few seconds; ``newsmirror crawl`` checks before it
    starts): a file system that runs full mid-write leaves Scrapy's own job-dir files half written.
    0 turns the guard off."""

    def __init__(self, crawler, directory: Path, min_free_mb: float, interval: float = 5.0):
        self.crawler, self.directory, self.min_free_mb, self.interval = crawler, directory, min_free_mb, interval
        self.task = None

    @classmethod
    def from_crawler(cls, crawler):
        guard = cls(crawler, Path(crawler.settings.get("NEWSMIRROR_OUTPUT") or "output"),
                    crawler.settings.getfloat("NEWSMIRROR_MIN_FREE_MB", 8.0))
        crawler.signals.connect(guard.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(guard.spider_closed, signal=signals.spider_closed)
        return guard

    def spider_opened(self) -> None:
        if self.min_free_mb > 0:
            self.task = task.LoopingCall(self.check)
            self.task.start(self.interval, now=False)

    def check(self) -> None:
        if problem := space_problem(self.directory, self.min_free_mb):
            stop_after_write_failure(self.crawler, f"{self.directory}/", problem)

    def spider_closed(self) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
