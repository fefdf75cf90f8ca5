"""How a run ended, for a person and for cron: the exit statuses, and each site run's status and summary line
decided from its stats (the keys of ``crawler.reporting.stats``)."""

from __future__ import annotations

from typing import NamedTuple

from crawler.reporting import stats as keys
from crawler.reporting.stopping import REDIS_UNAVAILABLE, WRITE_FAILED
from crawler.sites.profiles import SiteProfile

EXIT_OK = 0  # the run completed
EXIT_FAILED = 1  # a crawl failed (no host of a site reachable, crawl error), a scrape target or an export failed
EXIT_USAGE = 2  # usage or configuration error
EXIT_STATE = 65  # EX_DATAERR: the state is damaged, or missing beside run files; `state rebuild` mends it
EXIT_REDIS = 69  # EX_UNAVAILABLE: the distributed crawl's Redis could not be reached, or lost the run
EXIT_WRITE = 74  # EX_IOERR: output or state could not be written (disk full, read-only, forbidden)
EXIT_BUSY = 75  # EX_TEMPFAIL: another crawl of the site holds the state: try again later

EXIT_STATUSES = {
    EXIT_OK: "done",
    EXIT_FAILED: "a crawl failed (no host of a site reachable, crawl error), a scrape target failed, or export "
                 "found nothing to export or a corrupt run file",
    EXIT_USAGE: "usage or configuration error",
    EXIT_STATE: "the state is damaged, or missing while run files exist: run `newsmirror state rebuild`",
    EXIT_REDIS: "a distributed crawl's Redis is unreachable (at start, or longer than NEWSMIRROR_REDIS_OUTAGE) or "
                "lost the run",
    EXIT_WRITE: "the output or state could not be written (disk full, read-only, forbidden)",
    EXIT_BUSY: "another crawl of the site holds the state: try again later",
}
STOP_STATUSES = {WRITE_FAILED: EXIT_WRITE, REDIS_UNAVAILABLE: EXIT_REDIS}  # finish reasons of an early stop


def exit_statuses_help() -> str:
    """Every exit status in one paragraph, for ``--help``."""
    return "Exit status: " + "; ".join(f"{code} {meaning}" for code, meaning in EXIT_STATUSES.items()) + "."


class Outcome(NamedTuple):
    status: int  # the exit status this site's run calls for
    summary: str


def site_outcome(stats: dict, profile: SiteProfile, elapsed: float) -> Outcome:
    """The exit status and one-line summary of one site's run from what the run did: it failed when its crawl
    ended early, or when its hosts were asked and none answered. A run that asked nothing (a resumed run
    whose work was already done, a worker that found none left) did not fail."""
    reason = stats.get("finish_reason", "not started")
    joined = keys.hosts_under(stats, keys.mirror_verdict("joined", ""))
    hosts = [*profile.hosts, *(h for h in joined if h not in profile.hosts)]
    answered = [h for h in hosts if stats.get(keys.host_ok(h))]
    failed = {h: keys.host_failure_reasons(stats, h) for h in hosts}
    down = [f"{h} ({failed[h][0]})" for h in hosts if h not in answered and failed[h]]
    skipped = [h for h in hosts if h not in answered and stats.get(keys.host_skipped(h))]
    admitted = keys.hosts_under(stats, keys.mirror_verdict("admitted", ""))
    rejected = [f"{h} ({stats[keys.mirror_verdict('rejected', h)]})"
                for h in keys.hosts_under(stats, keys.mirror_verdict("rejected", ""))]
    mirrors = "".join(f"; {label}: {', '.join(names)}" for label, names in
                      (("mirrors admitted", admitted), ("mirror candidates rejected", rejected)) if names)
    summary = (
        f"{profile.id}: {stats.get(keys.ARTICLES_NEW, 0)} new articles, {stats.get(keys.ARTICLES_KNOWN, 0)} already known, "
        f"{stats.get(keys.PAGES_SKIPPED, 0)} pages skipped, {keys.total(stats, keys.FAILED)} failed requests, "
        f"{stats.get(keys.FAILOVERS, 0)} failovers, {stats.get(keys.REQUESTS_LOST, 0)} lost; "
        f"{len(answered)}/{len(hosts)} hosts answered{' (down: ' + ', '.join(down) + ')' if down else ''}{mirrors} "
        f"in {elapsed:.1f}s -> {stats.get(keys.OUTPUT, 'no new articles, no run file')}"
    )
    if reason in STOP_STATUSES:
        not_done = keys.total(stats, keys.OUTAGE)
        left = f"; {not_done} pages or articles left for the next run" if not_done else ""
        return Outcome(STOP_STATUSES[reason], f"{summary} [FAILED: {stats.get(keys.STOPPED)}{left}]")
    if reason != "finished":
        return Outcome(EXIT_FAILED, f"{summary} [FAILED: crawl ended with {reason}]")
    if not answered and (down or skipped) and all(failed[h] or h in skipped for h in profile.hosts):
        # every host of the profile failed (a worker of a distributed crawl may have asked only some of them)
        return Outcome(EXIT_FAILED, f"{summary} [FAILED: no host of {profile.id} reachable: {', '.join(hosts)}]")
    if not answered:
        return Outcome(EXIT_OK, f"{summary} (nothing left to fetch)")
    return Outcome(EXIT_OK, summary)


def worst(statuses) -> int:
    """The exit status of several site runs: an early stop's own status first, then failure, else 0."""
    statuses = list(statuses)
    special = [s for s in statuses if s not in (EXIT_OK, EXIT_FAILED)]
    if special:
        return special[-1]
    return EXIT_FAILED if EXIT_FAILED in statuses else EXIT_OK
