"""What a site's mirror discovery knows: each candidate host with how, where and when it was found, and the
verdict of its verification. Kept in the state store (SQLite or Redis), so every run and worker shares it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from crawler.discovery.candidates import host_of, refusal
from crawler.discovery.verification import Sample, Verification
from crawler.sites.profiles import SiteProfile
from crawler.sites.urls import path_and_query, site_host
from crawler.state.runfile import recent_records

logger = logging.getLogger(__name__)

CANDIDATE, ADMITTED, REJECTED = "candidate", "admitted", "rejected"


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, timezone.utc).isoformat(timespec="seconds")


def is_open(entry: dict | None, now: float) -> bool:
    """Whether a host with this entry may become a candidate now: unknown, or rejected and due for a retry."""
    return entry is None or (entry["status"] == REJECTED and entry.get("retry_at", 0) <= now)


class MirrorDiscovery:
    """A site's discovered hosts and the decisions about them, for one crawl.

    ``consider`` notes a candidate (refusing IP addresses and excluded hosts at once), ``due`` names the
    candidates to verify now, ``verification`` picks the emitted articles to ask a candidate for, and
    ``conclude`` stores the verdict: admitted hosts join the site; rejected ones wait ``retry_after`` seconds
    before they are verified again.
    """

    def __init__(self, profile: SiteProfile, store, site_dir: Path, retry_after: float = 86400.0, samples: int = 3,
                 needed: int = 2, clock: Callable[[], float] = time.time,
                 report: Callable[[str, str, str | None], None] | None = None):
        self.profile, self.store, self.site_dir, self.report = profile, store, site_dir, report
        self.retry_after, self.samples, self.needed, self.clock = retry_after, samples, needed, clock
        self.entries: dict[str, dict] = store.discovered_hosts(profile.id)
        self.archive_hosts = {urlsplit(base).hostname for base in profile.archives}
        self.checking: set[str] = set()
        self.decided: dict[str, str] = {}  # this run's verdicts: host -> "admitted" or the rejection reason

    def admitted(self) -> list[str]:
        """The site's admitted mirrors, in the order they were admitted (excluded ones never)."""
        hosts = [(entry.get("verified_at") or "", host) for host, entry in self.entries.items()
                 if entry["status"] == ADMITTED and refusal(host, self.profile) is None]
        return [host for _, host in sorted(hosts)]

    def refresh(self) -> list[str]:
        """Reload what other workers decided; the hosts admitted since this crawl last looked."""
        before = set(self.admitted())
        self.entries = self.store.discovered_hosts(self.profile.id)
        return [host for host in self.admitted() if host not in before]

    def consider(self, value: str, how: str, where: str) -> str | None:
        """Note a candidate host named by ``value`` (a host name or URL) found ``how`` (notice, alternate link,
        feed, sitemap, redirect) at ``where``. Returns the host when it is new to the site."""
        host = host_of(value)
        if (host is None or site_host(host, self.profile) is not None or host in self.archive_hosts
                or host in self.profile.hosts or host in self.checking):
            return None
        now = self.clock()
        if not is_open(self.entries.get(host), now):
            return None
        shared = self.store.discovered_hosts(self.profile.id).get(host)  # another worker may have found or judged it
        if not is_open(shared, now):  # since this crawl last looked: its entry stands, not overwritten by a candidate
            self.entries[host] = shared
            return None
        entry = {"status": CANDIDATE, "found_how": how, "found_where": where, "found_at": iso(now)}
        problem = refusal(host, self.profile)
        if problem:  # never fetched
            self.conclude(host, entry, REJECTED, problem)
            return host
        if not self.store.add_discovered_host(self.profile.id, host, entry, shared):  # another worker wrote one since
            written = self.store.discovered_hosts(self.profile.id).get(host)
            if written is not None:
                self.entries[host] = written
            return None
        self.entries[host] = entry
        return host

    def consider_listed(self, url: str, how: str, where: str) -> str | None:
        """A feed or sitemap entry on another host: a candidate when its path is an article path of the site."""
        return self.consider(url, how, where) if self.profile.is_article_path(urlsplit(url).path) else None

    def due(self) -> list[str]:
        """Candidates waiting for verification (found in this run or an earlier one)."""
        return [host for host, entry in self.entries.items()
                if entry["status"] == CANDIDATE and host not in self.checking and refusal(host, self.profile) is None]

    def verification(self, host: str) -> Verification | None:
        """Start verifying ``host``: the articles to ask it for, or None when the site has emitted too few
        articles to compare yet (it stays a candidate) or another worker is verifying it. The texts come from the
        run files this process can read (the state keeps none): on a shared output directory, every worker's."""
        samples = []
        for record in recent_records(self.site_dir, self.samples * 4):
            own = [url for url in record.get("mirror_urls") or [] if site_host(urlsplit(url).hostname, self.profile) is not None]
            text = record.get("text")
            if own and text and self.profile.is_article_path(urlsplit(own[0]).path) is not False:
                samples.append(Sample(record["id"], f"{self.profile.scheme}://{host}{path_and_query(own[0])}", text))
            if len(samples) == self.samples:
                break
        if len(samples) < self.needed or not self.store.claim_host_check(self.profile.id, host, 600):
            return None
        current = self.store.discovered_hosts(self.profile.id).get(host)
        if current is not None and current["status"] != CANDIDATE:  # another worker concluded since this one looked
            self.store.release_host_check(self.profile.id, host)
            self.entries[host] = current
            return None
        self.checking.add(host)
        return Verification(host, samples, self.needed)

    def reject(self, host: str, reason: str) -> None:
        """A candidate refused before verification (its address): remembered like a failed verification."""
        self.checking.discard(host)
        self.conclude(host, self.entries.get(host, {}), REJECTED, reason)

    def finish(self, verification: Verification) -> str:
        """Store a verification's verdict with its evidence; returns the verdict."""
        host, verdict = verification.host, verification.verdict or REJECTED
        self.checking.discard(host)
        evidence = {"matched": verification.matched, "missed": verification.missed}
        self.conclude(host, {**self.entries.get(host, {}), "evidence": evidence}, verdict,
                      None if verdict == ADMITTED else verification.reason)
        return verdict

    def conclude(self, host: str, entry: dict, status: str, reason: str | None) -> None:
        now = self.clock()
        entry = {**entry, "status": status, "verified_at": iso(now)}
        entry.pop("reason", None)
        entry.pop("retry_at", None)
        if status == REJECTED:
            entry.update(reason=reason, retry_at=now + self.retry_after)
        self.entries[host] = entry
        self.decided[host] = status if status == ADMITTED else reason
        self.store.save_discovered_host(self.profile.id, host, entry)
        self.store.release_host_check(self.profile.id, host)  # after the verdict: nobody verifies it again meanwhile
        found = f"found by {entry.get('found_how')} on {entry.get('found_where')}"
        if status == ADMITTED:
            logger.info("%s: admitted %s as a mirror (%s; %d articles served with the stored text)", self.profile.id,
                        host, found, len(entry.get("evidence", {}).get("matched", ())))
        else:
            logger.warning("%s: rejected mirror candidate %s: %s (%s); not tried again before %s", self.profile.id,
                           host, reason, found, iso(entry["retry_at"]))
        if self.report is not None:
            self.report(host, status, reason)
