"""The Redis backend of a distributed crawl: each worker joins the site's current run (or starts one), and the
run's state, findings and leases are shared in Redis (``NEWSMIRROR_BACKEND``, set by ``use_redis``)."""

from __future__ import annotations

from pathlib import Path

from crawler.distributed.client import client_from_settings
from crawler.distributed.found import RedisFoundArticles
from crawler.distributed.run import RedisRun, worker_name
from crawler.distributed.store import RedisState
from crawler.run.context import RunContext
from crawler.sites.profiles import SiteProfile


class RedisBackend:
    """Opens this worker's part of a distributed run: one client (timeouts, outage retries) for the run, its
    state and its findings; the run's files are named ``<run-id>-<worker>``."""

    def __init__(self, settings):
        self.settings = settings

    def open(self, profile: SiteProfile, proposed_run_id: str, output_dir: Path) -> RunContext:
        client = client_from_settings(self.settings)
        worker = worker_name(self.settings.get("NEWSMIRROR_WORKER"))
        run = RedisRun.join(client, profile.id, proposed_run_id, worker, self.settings.getfloat("NEWSMIRROR_LEASE", 30.0))
        store = RedisState(client, profile.id, run, near_duplicate=self.settings.getfloat("NEWSMIRROR_NEAR_DUPLICATE", 0.5))
        return RunContext(profile, run.run_id, f"{run.run_id}-{worker}", output_dir, store, RedisFoundArticles(run),
                          redis=client, redis_run=run)

    def close(self) -> None:
        """The run's keys outlive this worker (the last one to leave deletes them: ``RedisRun.leave``)."""
