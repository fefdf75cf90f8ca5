"""The run context: the site, the run's ids and paths, and the stores one crawl run of a site works with.

``RunLifecycle`` (``crawler.state.lifecycle``) opens it before any other component is built; every component
receives it in ``from_crawler`` through ``RunContext.of(crawler)``, never from the spider.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy.exceptions import NotConfigured

if TYPE_CHECKING:
    import redis

    from crawler.distributed.run import RedisRun
    from crawler.sites.profiles import SiteProfile
    from crawler.state.store import FoundArticles, StateStore

CRAWLER_ATTRIBUTE = "newsmirror_run"  # where the crawler carries its run context


@dataclass
class RunContext:
    """One crawl run of one site, as every component sees it.

    ``profile`` is the site as this run knows it: its profile's hosts plus the mirrors discovery admitted
    (``admit`` adds one). ``run_name`` names this process's files: the run id alone, or ``<run-id>-<worker>``
    when several workers share the run. ``redis`` is the distributed crawl's client (None on a local state).
    """

    profile: SiteProfile
    run_id: str
    run_name: str
    output_dir: Path
    store: StateStore
    found: FoundArticles
    redis: redis.Redis | None = None
    redis_run: RedisRun | None = None  # the run's workers and leases, in a distributed crawl

    @property
    def site(self) -> str:
        return self.profile.id

    @property
    def site_dir(self) -> Path:
        """``<output>/<site>``: the site's run files, stats files and WARC files."""
        return self.output_dir / self.profile.id

    def run_file(self, suffix: str) -> Path:
        """``<output>/<site>/<run-name><suffix>``: ``.jsonl`` (articles), ``.stats.json``, ``.warc.gz``."""
        return self.site_dir / f"{self.run_name}{suffix}"

    def admit(self, site: str, host: str) -> None:
        """Signal ``host_admitted``: a verified mirror is one of the site's hosts from now on."""
        if site == self.profile.id:
            self.profile = self.profile.with_host(host)

    def attach(self, crawler) -> None:
        setattr(crawler, CRAWLER_ATTRIBUTE, self)

    @classmethod
    def of(cls, crawler) -> "RunContext":
        """The crawler's run context; NotConfigured for a crawl that has none (``newsmirror scrape``), which
        disables a component that needs it."""
        context = cls.find(crawler)
        if context is None:
            raise NotConfigured("no crawl run (only `newsmirror crawl` and `scrapy crawl news` have one)")
        return context

    @classmethod
    def find(cls, crawler) -> "RunContext | None":
        """The crawler's run context, or None: for a component that serves ``newsmirror scrape`` too."""
        return getattr(crawler, CRAWLER_ATTRIBUTE, None)
