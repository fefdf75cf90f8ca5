"""One crawl of a site at a time on one state store: an advisory lock file next to the state."""

from __future__ import annotations

import fcntl
import os
from datetime import datetime, timezone
from pathlib import Path


class CrawlBusy(RuntimeError):
    """Another crawl of the same site holds the state; the message says which process and since when."""


class SiteLock:
    """``<state>.<site>.lock`` beside the state's real file (symlinks resolved, so two paths to one state
    take one lock), held (flock) for the whole crawl and released by the OS if the process dies."""

    def __init__(self, state_path: str | Path, site: str):
        self.path = Path(f"{Path(state_path).resolve()}.{site}.lock")
        self.handle = None

    def acquire(self) -> "SiteLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise CrawlBusy(f"another crawl holds {self.path} ({holder})") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {datetime.now(timezone.utc).isoformat(timespec='seconds')}\n")
        handle.flush()
        self.handle = handle
        return self

    def release(self) -> None:
        if self.handle is not None:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None
