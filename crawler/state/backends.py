"""Where a crawl keeps its state and what discovery found: SQLite and memory for one process, Redis for
the workers of a distributed crawl (``NEWSMIRROR_REDIS``)."""

from __future__ import annotations

from dataclasses import dataclass

from crawler.distributed.frontier import redis_url
from crawler.distributed.outage import redis_client
from crawler.distributed.run import RedisRun, worker_name
from crawler.fetch.found import Discoveries, RedisDiscoveries
from crawler.state.redis_store import RedisState
from crawler.state.sqlite import CrawlState, state_path


@dataclass
class Backend:
    """A site crawl's run and stores. ``run_name`` names this process's run files (``<run-id>`` alone, or
    ``<run-id>-<worker>`` when several workers share the run). The state also holds the site's learned
    templates; host health is kept by the failover middleware (in Redis too, when the crawl is distributed)."""

    run_id: str
    run_name: str
    state: CrawlState | RedisState
    discoveries: Discoveries | RedisDiscoveries
    redis_run: RedisRun | None = None


def open_backend(settings, site: str, proposed_run_id: str) -> Backend:
    near_duplicate = settings.getfloat("NEWSMIRROR_NEAR_DUPLICATE", 0.5)
    url = redis_url(settings)
    if not url:
        state = CrawlState(state_path(settings), near_duplicate=near_duplicate)
        return Backend(proposed_run_id, proposed_run_id, state, Discoveries())
    worker = worker_name(settings.get("NEWSMIRROR_WORKER"))
    client = redis_client(url, settings.getfloat("NEWSMIRROR_REDIS_OUTAGE", 60.0))
    run = RedisRun.join(client, site, proposed_run_id, worker, settings.getfloat("NEWSMIRROR_LEASE", 30.0))
    state = RedisState(run.client, site, run, near_duplicate=near_duplicate)
    return Backend(run.run_id, f"{run.run_id}-{worker}", state, RedisDiscoveries(run), run)
