"""Metrics for monitoring: every site's run history in Prometheus text format (``crawl --metrics FILE``), written
atomically with prometheus-client for node_exporter's textfile collector (docs/operations.md, "Metrics")."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from prometheus_client import CollectorRegistry, write_to_textfile
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from scrapy.exceptions import NotConfigured

from crawler.reporting.history import history_rows, moment
from crawler.reporting.outcome import HOST_STATES
from crawler.sites.signals import run_recorded

logger = logging.getLogger(__name__)

RECENT_RUNS = 100  # runs read per site for its latest that ended (the counters come from ``run_totals``)
LAST_RUN_ARTICLES = ("new", "known", "revised", "pending", "lost")
COUNTED_ARTICLES = ("new", "revised", "lost")
RUN_COUNTERS = (("failovers", "failovers", "Requests re-issued on another host of the site."),
                ("archive_fetches", "archive_fetches", "Articles fetched from a web archive because every host failed them."),
                ("throttled_requests", "throttled", "Answers asking to slow down (429, 503 with Retry-After)."),
                ("failed_requests", "failed_requests", "Requests given up on a host (after failover)."))


class SiteRuns(NamedTuple):
    """What the metrics of a site come from: its latest stored runs (newest first, as ``run_history`` gives them)
    and the totals over every run (``StateStore.run_totals``)."""

    recent: list[dict]
    totals: dict


def timestamp(text: str | None) -> float:
    when = moment(text)
    return when.timestamp() if when else 0.0


def metric_families(sites: dict[str, SiteRuns]) -> Iterator[Metric]:
    """Every site's metrics: gauges of its latest run that ended, counters over every run that kept its counts."""
    def gauge(name, text, labels=("site",)):
        return GaugeMetricFamily(f"newsmirror_{name}", text, labels=labels)

    def counter(name, text, labels=("site",)):
        return CounterMetricFamily(f"newsmirror_{name}", f"{text} Over every recorded run.", labels=labels)

    last_run = gauge("last_run_timestamp_seconds", "When the site's latest run ended.")
    last_success = gauge("last_success_timestamp_seconds",
                         "When the site's latest run with exit status 0 ended (0: none did).")
    duration = gauge("last_run_duration_seconds", "How long the site's latest run took.")
    exit_status = gauge("last_run_exit_status", "The exit status of the site's latest run (3 incomplete, 4 stale...).")
    articles = gauge("last_run_articles", "Articles of the site's latest run: new, known (listed, emitted before), "
                     "revised, pending (left for the next run), lost (every host and archive failed).", ("site", "kind"))
    hosts = gauge("last_run_hosts", "The site's hosts in each state in its latest run.", ("site", "state"))
    host_up = gauge("host_up", "1 when the host served content in its site's latest run.", ("site", "host"))
    host_state = gauge("host_state", "1 for the host's state in its site's latest run.", ("site", "host", "state"))
    runs = counter("runs", "Runs of the site that ended and kept their counts.")
    counted = counter("articles", "Articles: new, revised, lost.", ("site", "kind"))
    counters = [(counter(name, text), field) for name, field, text in RUN_COUNTERS]
    for site, (recent, totals) in sites.items():
        runs.add_metric([site], totals["runs"])
        for kind in COUNTED_ARTICLES:
            counted.add_metric([site, kind], totals[kind])
        for family, field in counters:
            family.add_metric([site], totals[field])
        last_success.add_metric([site], timestamp(totals["last_success"]))
        latest = next((row for row in reversed(history_rows(site, recent)) if row["exit_status"] is not None), None)
        if latest is None:
            continue
        last_run.add_metric([site], timestamp(latest["finished_at"]))
        duration.add_metric([site], latest["duration_seconds"] or 0.0)
        exit_status.add_metric([site], latest["exit_status"])
        for kind in LAST_RUN_ARTICLES:
            articles.add_metric([site, kind], latest[kind] or 0)
        states = latest["hosts"]
        for state in HOST_STATES:
            hosts.add_metric([site, state], sum(1 for s in states.values() if s == state))
        for host, state in states.items():
            host_up.add_metric([site, host], 1 if state == "up" else 0)
            for each in HOST_STATES:
                host_state.add_metric([site, host, each], 1 if each == state else 0)
    yield from (last_run, last_success, duration, exit_status, articles, hosts, host_up, host_state, runs, counted,
                *(family for family, _ in counters))


class RunHistoryCollector(Collector):
    """The metrics of ``sites`` for a prometheus-client registry."""

    def __init__(self, sites: dict[str, SiteRuns]):
        self.sites = sites

    def collect(self) -> Iterator[Metric]:
        return metric_families(self.sites)


def write_metrics(path: Path, sites: dict[str, SiteRuns]) -> None:
    """The metrics file, written under a temporary name beside it and renamed (prometheus-client's
    ``write_to_textfile``): node_exporter never reads half a file."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RunHistoryCollector(sites))
    write_to_textfile(str(path), registry)


class MetricsFile:
    """Extension: once a run is recorded in the state, ``NEWSMIRROR_METRICS`` (``crawl --metrics FILE``) is
    rewritten with every site the state has runs of, so several sites' crawls and cron jobs share one file."""

    def __init__(self, path: Path):
        self.path = path

    @classmethod
    def from_crawler(cls, crawler):
        path = crawler.settings.get("NEWSMIRROR_METRICS")
        if not path:
            raise NotConfigured
        extension = cls(Path(path))
        crawler.signals.connect(extension.run_recorded, signal=run_recorded)
        return extension

    def run_recorded(self, store) -> None:
        sites = {site: SiteRuns(store.run_history(site, RECENT_RUNS), store.run_totals(site)) for site in store.sites_with_runs()}
        try:
            write_metrics(self.path, sites)
        except OSError as exc:
            logger.error("cannot write the metrics file %s: %s; the run itself is recorded", self.path, exc.strerror or exc)
            return
        logger.info("metrics of %d sites written to %s", len(sites), self.path)
