"""A crawl run's life, outside the spider: the run context is opened before any other component is built (the
site's lock, the state, the job dir, recovery of interrupted runs, the run's start) and ended when the spider
closes (the run's finish, the state closed, the lock released)."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from pathlib import Path

import redis
from scrapy import signals
from scrapy.exceptions import NotConfigured, UsageError
from scrapy.utils.misc import load_object

from crawler.extract.dates import utc_now_iso
from crawler.reporting import stats as keys
from crawler.reporting.outcome import hosts_of, run_summary, site_outcome
from crawler.reporting.stopping import stop_for_outage
from crawler.run.context import RunContext
from crawler.sites.profiles import profiles_from_settings
from crawler.sites.signals import host_admitted, run_recorded
from crawler.state.jobdir import prepare_job_dir
from crawler.state.writes import WRITE_ERRORS, error_text, stop_after_write_failure

logger = logging.getLogger(__name__)

STALE_LOOKBACK = 20  # earlier runs looked at for listings that named articles


def new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")


def staleness(stats: dict, profile, earlier_runs: list[dict]) -> str | None:
    """Why a finished run's site looks stale, or None: it answered, the listings it read in full (not "not
    modified", nor a paused run's resumption) named no article URL, and an earlier run's listings named some (the
    profile's article rule, or the site's listings, changed)."""
    if stats.get("finish_reason") != "finished" or stats.get(keys.ARTICLES_LISTED, 0):
        return None
    if not hosts_of(stats, profile).answered or not sum(stats.get(keys.listings_read(k), 0) for k in keys.LISTING_KINDS):
        return None
    found = next((run for run in earlier_runs if (run["summary"] or {}).get("listed") or (run["summary"] or {}).get("stale")),
                 None)  # the latest run that found articles, or was stale itself (then this one still is)
    if found is None:
        return None
    if found["summary"].get("stale") and not found["summary"].get("listed"):
        return found["summary"]["stale"]
    return (f"the site answered, but no listing named an article URL; run {found['run_id']} found "
            f"{found['summary']['listed']}: has the site moved its articles, or changed its listings? (check the "
            "profile's article rule against the site)")


class RunLifecycle:
    """Extension (first of all, so every component finds the run context in ``from_crawler``): opens the run of
    the site ``NEWSMIRROR_SITE`` (which ``NewsSpider`` sets from its ``site`` argument) on the backend
    ``NEWSMIRROR_BACKEND`` names, and ends it when the spider closes. A crawl with no site (``newsmirror
    scrape``) has no run."""

    def __init__(self, crawler, backend, context: RunContext):
        self.crawler, self.backend, self.context = crawler, backend, context
        self.started = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        site = settings.get("NEWSMIRROR_SITE")
        if not site:
            raise NotConfigured
        profile = profiles_from_settings(settings)[site]
        if settings.getbool("NEWSMIRROR_FROM_ARCHIVE") and not profile.archives:
            raise UsageError(f"{site}: --from-archive needs archives in the profile (key 'archives')")
        backend = load_object(settings["NEWSMIRROR_BACKEND"])(settings)
        context = backend.open(profile, settings.get("NEWSMIRROR_RUN_ID") or new_run_id(),
                               Path(settings.get("NEWSMIRROR_OUTPUT") or "output"))
        store = context.store
        prepare_job_dir(settings.get("JOBDIR"), store.last_run_status(site))
        recovered = store.recover_interrupted_runs(site, context.site_dir)
        if recovered:
            logger.warning("%s: recovered %d articles written by an interrupted run", site, recovered)
        store.start_run(context.run_id, site, utc_now_iso())
        context.attach(crawler)
        lifecycle = cls(crawler, backend, context)
        crawler.signals.connect(context.admit, signal=host_admitted)
        crawler.signals.connect(lifecycle.spider_closed, signal=signals.spider_closed)
        return lifecycle

    def spider_closed(self, reason: str) -> None:
        store, site = self.context.store, self.context.site
        try:
            stats = {**self.crawler.stats.get_stats(), "finish_reason": reason}
            if not self.crawler.settings.getbool("NEWSMIRROR_FROM_ARCHIVE"):
                if why := staleness(stats, self.context.profile, store.run_history(site, STALE_LOOKBACK)[1:]):
                    logger.warning("%s: %s", site, why)
                    self.crawler.stats.set_value(keys.STALE, why)
                    stats[keys.STALE] = why
            outcome = site_outcome(stats, self.context.profile, time.monotonic() - self.started)
            self.crawler.stats.set_value(keys.EXIT_STATUS, outcome.status)
            store.finish_run(self.context.run_id, utc_now_iso(), reason, run_summary(stats, self.context.profile, outcome))
            self.crawler.signals.send_catch_log(run_recorded, store=store)
            store.close()
        except WRITE_ERRORS as exc:  # the run stays unfinished: the next run recovers it from the run file
            stop_after_write_failure(self.crawler, f"the state ({error_text(exc)})", exc)
        except redis.RedisError as exc:  # the run's record stays open in Redis; the next run resumes it
            stop_for_outage(self.crawler, exc)
        finally:
            self.backend.close()
