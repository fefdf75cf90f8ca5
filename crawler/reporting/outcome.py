"""How a run ended, for a person and for cron: the exit statuses, and each site run's status, summary line and
stored summary, decided from its stats (the keys of ``crawler.reporting.stats``)."""

from __future__ import annotations

from typing import NamedTuple

from crawler.reporting import stats as keys
from crawler.reporting.stopping import BANNED, REDIS_UNAVAILABLE, THROTTLED, WRITE_FAILED
from crawler.sites.profiles import SiteProfile

EXIT_OK = 0  # the run completed
EXIT_FAILED = 1  # a crawl failed (no host of a site reachable, crawl error), a scrape target or an export failed
EXIT_USAGE = 2  # usage or configuration error
EXIT_INCOMPLETE = 3  # finished, but left articles pending or lost, or was banned or throttled into stopping
EXIT_STALE = 4  # a site answered, but no listing named an article URL where earlier runs found some
EXIT_STATE = 65  # EX_DATAERR: the state is damaged, or missing beside run files; `state rebuild` mends it
EXIT_REDIS = 69  # EX_UNAVAILABLE: the distributed crawl's Redis could not be reached, or lost the run
EXIT_WRITE = 74  # EX_IOERR: output or state could not be written (disk full, read-only, forbidden)
EXIT_BUSY = 75  # EX_TEMPFAIL: another crawl of the site holds the state: try again later

EXIT_STATUSES = {
    EXIT_OK: "done",
    EXIT_FAILED: "a crawl failed (no host of a site reachable, crawl error), a scrape target failed, export "
                 "found nothing to export or a corrupt run file, or runs found no run",
    EXIT_USAGE: "usage or configuration error",
    EXIT_INCOMPLETE: "the run finished but left articles pending for the next run (every host failed them, or "
                     "it stopped at --max-articles or a time limit), or the site banned it or asked it to wait "
                     "too long (it is not asked again before then)",
    EXIT_STALE: "stale: a site answered, but no listing named an article URL while earlier runs found some "
                "(its article rule or its listings changed)",
    EXIT_STATE: "the state is damaged, or missing while run files exist: run `newsmirror state rebuild`",
    EXIT_REDIS: "a distributed crawl's Redis is unreachable (at start, or longer than NEWSMIRROR_REDIS_OUTAGE) or "
                "lost the run",
    EXIT_WRITE: "the output or state could not be written (disk full, read-only, forbidden)",
    EXIT_BUSY: "another crawl of the site holds the state: try again later",
}
EXIT_LABELS = {EXIT_OK: "done", EXIT_FAILED: "failed", EXIT_USAGE: "usage error", EXIT_INCOMPLETE: "incomplete",
               EXIT_STALE: "stale", EXIT_STATE: "state damaged", EXIT_REDIS: "Redis lost", EXIT_WRITE: "write failed",
               EXIT_BUSY: "busy"}  # a word for each, in tables
STOP_STATUSES = {WRITE_FAILED: EXIT_WRITE, REDIS_UNAVAILABLE: EXIT_REDIS}  # finish reasons of an early stop
HELD = (BANNED, THROTTLED)  # finish reasons of a site that pushed back: the rest waits for a later run
SEVERITY = (EXIT_OK, EXIT_INCOMPLETE, EXIT_STALE, EXIT_FAILED)  # for several sites: the last one found wins


def exit_statuses_help() -> str:
    """Every exit status in one paragraph, for ``--help``."""
    return "Exit status: " + "; ".join(f"{code} {meaning}" for code, meaning in EXIT_STATUSES.items()) + "."


class Outcome(NamedTuple):
    status: int  # the exit status this site's run calls for
    summary: str


class Hosts(NamedTuple):
    """What the site's hosts did this run: every host asked (profile's, then mirrors joined), those that
    answered with content, and those that did not, with why."""

    all: list[str]
    answered: list[str]
    down: dict[str, str]  # host -> its first failure
    skipped: list[str]  # circuit open from the start


def hosts_of(stats: dict, profile: SiteProfile) -> Hosts:
    joined = keys.hosts_under(stats, keys.mirror_verdict("joined", ""))
    hosts = [*profile.hosts, *(h for h in joined if h not in profile.hosts)]
    answered = [h for h in hosts if stats.get(keys.host_ok(h))]
    failed = {h: keys.host_failure_reasons(stats, h) for h in hosts}
    down = {h: failed[h][0] for h in hosts if h not in answered and failed[h]}
    skipped = [h for h in hosts if h not in answered and stats.get(keys.host_skipped(h))]
    return Hosts(hosts, answered, down, skipped)


# What a host did in a run, for its availability timeline: from the best to the worst, then never asked.
NOT_ASKED = "not asked"
HOST_STATES = ("up", "throttled", "down", "seized", "banned", NOT_ASKED)
SEIZED = "seizure notice"  # the label of crawler/fetch/blockpages.toml's [seizure] pages


def host_states(stats: dict, profile: SiteProfile) -> dict[str, str]:
    """Each host's state in the run (``HOST_STATES``): ``banned`` or ``throttled`` when the site was held because
    of it, ``throttled`` when it asked the run to slow down, ``up`` when it served content, ``seized`` when it
    served a seizure notice and nothing else, ``down`` when it failed (or its circuit was open from the start),
    ``not asked`` otherwise (the run was held, or had nothing left to ask)."""
    hosts = hosts_of(stats, profile)

    def state(host: str) -> str:
        if held := stats.get(keys.host_held(host)):
            return held
        if stats.get(keys.throttled_by(host)):
            return "throttled"
        if host in hosts.answered:
            return "up"
        if SEIZED in keys.host_failure_reasons(stats, host):
            return "seized"
        return "down" if host in hosts.down or host in hosts.skipped else NOT_ASKED

    return {host: state(host) for host in hosts.all}


def site_outcome(stats: dict, profile: SiteProfile, elapsed: float) -> Outcome:
    """The exit status and one-line summary of one site's run from what the run did: it failed when its crawl
    ended early, or when its hosts were asked and none answered; it is incomplete when it left articles for a
    later run; stale when its site answered but named no article. A run that asked nothing (a resumed run
    whose work was already done, a worker that found none left) did not fail."""
    reason = stats.get("finish_reason", "not started")
    hosts = hosts_of(stats, profile)
    admitted = keys.hosts_under(stats, keys.mirror_verdict("admitted", ""))
    rejected = [f"{h} ({stats[keys.mirror_verdict('rejected', h)]})"
                for h in keys.hosts_under(stats, keys.mirror_verdict("rejected", ""))]
    mirrors = "".join(f"; {label}: {', '.join(names)}" for label, names in
                      (("mirrors admitted", admitted), ("mirror candidates rejected", rejected)) if names)
    pending, lost, throttled = (stats.get(key, 0) for key in (keys.ARTICLES_PENDING, keys.REQUESTS_LOST, keys.THROTTLED))
    down = f" (down: {', '.join(f'{h} ({why})' for h, why in hosts.down.items())})" if hosts.down else ""
    summary = (
        f"{profile.id}: {stats.get(keys.ARTICLES_NEW, 0)} new articles, {stats.get(keys.ARTICLES_KNOWN, 0)} already known, "
        f"{stats.get(keys.PAGES_SKIPPED, 0)} pages skipped, {keys.total(stats, keys.FAILED)} failed requests, "
        f"{stats.get(keys.FAILOVERS, 0)} failovers, {lost} lost, {pending} pending"
        f"{f', {throttled} throttled' if throttled else ''}; "
        f"{len(hosts.answered)}/{len(hosts.all)} hosts answered{down}{mirrors} "
        f"in {elapsed:.1f}s -> {stats.get(keys.OUTPUT, 'no new articles, no run file')}"
    )
    left = f"; {pending} articles pending for the next run" if pending else ""
    if reason in STOP_STATUSES:
        not_done = keys.total(stats, keys.OUTAGE)
        undone = f"; {not_done} pages or articles left for the next run" if not_done else ""
        return Outcome(STOP_STATUSES[reason], f"{summary} [FAILED: {stats.get(keys.STOPPED)}{undone}]")
    if reason in HELD:
        return Outcome(EXIT_INCOMPLETE, f"{summary} [INCOMPLETE: {stats.get(keys.ON_HOLD) or stats.get(keys.STOPPED)}{left}]")
    if reason.startswith("closespider_"):
        return Outcome(EXIT_INCOMPLETE, f"{summary} [INCOMPLETE: stopped by a limit ({reason}){left}]")
    if reason != "finished":
        return Outcome(EXIT_FAILED, f"{summary} [FAILED: crawl ended with {reason}]")
    if not hosts.answered and (hosts.down or hosts.skipped) and all(h in hosts.down or h in hosts.skipped for h in profile.hosts):
        # every host of the profile failed (a worker of a distributed crawl may have asked only some of them)
        return Outcome(EXIT_FAILED, f"{summary} [FAILED: no host of {profile.id} reachable: {', '.join(hosts.all)}]")
    if stats.get(keys.STALE):
        return Outcome(EXIT_STALE, f"{summary} [STALE: {stats[keys.STALE]}]")
    if stats.get(keys.MAX_ARTICLES_REACHED):
        return Outcome(EXIT_INCOMPLETE, f"{summary} [INCOMPLETE: stopped at --max-articles "
                                        f"{stats[keys.MAX_ARTICLES_REACHED]}{left}]")
    if pending or lost:
        why = f"{lost} articles every host failed" if lost else "articles not fetched"
        return Outcome(EXIT_INCOMPLETE, f"{summary} [INCOMPLETE: {why}{left}]")
    if not hosts.answered:
        return Outcome(EXIT_OK, f"{summary} (nothing left to fetch)")
    return Outcome(EXIT_OK, summary)


def run_summary(stats: dict, profile: SiteProfile, outcome: Outcome) -> dict:
    """What the state keeps of a run (``runs`` reads it back; docs/operations.md documents the layout): counts,
    hosts up and down, each host's state, and the exit status."""
    hosts = hosts_of(stats, profile)
    return {
        "listed": stats.get(keys.ARTICLES_LISTED, 0), "new": stats.get(keys.ARTICLES_NEW, 0),
        "known": stats.get(keys.ARTICLES_KNOWN, 0), "revised": stats.get(keys.ARTICLES_REVISED, 0),
        "duplicates": stats.get(keys.ARTICLES_DUPLICATE, 0), "pending": stats.get(keys.ARTICLES_PENDING, 0),
        "lost": stats.get(keys.REQUESTS_LOST, 0), "throttled": stats.get(keys.THROTTLED, 0),
        "failed_requests": keys.total(stats, keys.FAILED), "failovers": stats.get(keys.FAILOVERS, 0),
        "archive_fetches": stats.get(keys.ARTICLES_FROM_ARCHIVE, 0), "hosts_up": hosts.answered,
        "hosts_down": hosts.down, "mirrors_admitted": keys.hosts_under(stats, keys.mirror_verdict("admitted", "")),
        "hosts": host_states(stats, profile), "on_hold": stats.get(keys.ON_HOLD), "stale": stats.get(keys.STALE),
        "exit_status": outcome.status,
    }


RUN_TOTALS = ("new", "revised", "lost", "failovers", "archive_fetches", "throttled", "failed_requests")


def run_totals(runs: list[dict]) -> dict:
    """``StateStore.run_totals`` from stored runs (``run_history``'s entries): how many kept their counts, each
    count of ``RUN_TOTALS`` added up over them, and when the latest with exit status 0 ended (None: none did)."""
    counted = [run for run in runs if run["summary"]]
    successes = [run["finished_at"] for run in counted if run["summary"].get("exit_status") == EXIT_OK and run["finished_at"]]
    return {"runs": len(counted), **{name: sum(run["summary"].get(name) or 0 for run in counted) for name in RUN_TOTALS},
            "last_success": max(successes, default=None)}


def worst(statuses) -> int:
    """The exit status of several site runs: an early stop's own status first, then failure, stale, incomplete."""
    statuses = list(statuses)
    special = [s for s in statuses if s not in SEVERITY]
    if special:
        return special[-1]
    return max(statuses, key=SEVERITY.index, default=EXIT_OK)
