"""The local backend: one process crawls a site on the SQLite state, holding the site's lock, its findings in
memory (``NEWSMIRROR_BACKEND``; distributed crawls use ``crawler.distributed.backend.RedisBackend``)."""

from __future__ import annotations

from pathlib import Path

from scrapy.exceptions import UsageError

from crawler.state.found import LocalFoundArticles
from crawler.run.context import RunContext
from crawler.sites.profiles import SiteProfile
from crawler.state.locking import CrawlBusy, SiteLock
from crawler.state.sqlite import SqliteState, state_path


class LocalBackend:
    """Opens a run on the SQLite state: one crawl of a site at a time (``newsmirror crawl`` takes the site's
    lock itself and says so with ``NEWSMIRROR_LOCK_HELD``; ``scrapy crawl`` gets it here)."""

    def __init__(self, settings):
        self.settings = settings
        self.lock: SiteLock | None = None

    def open(self, profile: SiteProfile, proposed_run_id: str, output_dir: Path) -> RunContext:
        path = state_path(self.settings)
        if not self.settings.getbool("NEWSMIRROR_LOCK_HELD"):
            try:
                self.lock = SiteLock(path, profile.id).acquire()
            except CrawlBusy as exc:
                raise UsageError(f"{profile.id}: {exc}") from None
        store = SqliteState(path, near_duplicate=self.settings.getfloat("NEWSMIRROR_NEAR_DUPLICATE", 0.5))
        return RunContext(profile, proposed_run_id, proposed_run_id, output_dir, store, LocalFoundArticles())

    def close(self) -> None:
        if self.lock is not None:
            self.lock.release()
            self.lock = None
