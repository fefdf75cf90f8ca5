"""What a run's listings found, in memory for one process (``LocalFoundArticles``), and the pure rules every
``FoundArticles`` follows: merging listing dates, and which articles to fetch next (waves by host rank)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from urllib.parse import urlsplit

from crawler.sites.profiles import SiteProfile
from crawler.sites.urls import on_host, order_by_hosts, site_host
from crawler.state.store import Dates, Wave


def host_rank(url: str, profile: SiteProfile) -> int:
    """Position of the URL's host in profile order (primary 0); hosts off the profile rank last."""
    host = site_host(urlsplit(url).hostname, profile)
    return profile.hosts.index(host) if host in profile.hosts else len(profile.hosts)


def live_url(url: str, profile: SiteProfile) -> str:
    """The URL itself, or for a URL on a retired host (never fetched live) the same path on the primary."""
    if site_host(urlsplit(url).hostname, profile) in profile.retired:
        return on_host(url, profile.primary, profile)
    return url


def next_wave(pending: dict[str, list[str]], profile: SiteProfile) -> Wave:
    """The articles to fetch next, from their best host: those whose best host ranks highest (articles
    listed on the primary first, then those only a mirror listed, so a primary copy wins)."""
    if not pending:
        return []
    best = {key: live_url(order_by_hosts(urls, profile)[0], profile) for key, urls in pending.items()}
    rank = {key: host_rank(url, profile) for key, url in best.items()}
    wave = min(rank.values())
    return [(key, best[key]) for key in pending if rank[key] == wave]


def date_order(value: str | None) -> str:
    """A listing date as a key that sorts by time: UTC ``YYYY-MM-DDTHH:MM:SS`` ('' for none; a bare date is
    its first moment, in UTC)."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return ""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def merged_dates(known: Dates, listed: Dates) -> Dates:
    """An article's listing dates merged over every listing and host that named it: the first published
    date given, and the newest modified date (so a sitemap's fresh <lastmod> is never hidden by an older
    one, or by a listing without dates that came first)."""
    published = known[0] or listed[0]
    modified = max((known[1], listed[1]), key=date_order) if known[1] and listed[1] else known[1] or listed[1]
    return published, modified


class LocalFoundArticles:
    """``FoundArticles`` of one process, in memory, pending articles in discovery order; ``known`` holds the
    already emitted articles the listings named, decided on (fetch again or not) once discovery is done."""

    def __init__(self):
        self.found: dict[str, list[str]] = {}
        self.listing_dates: dict[str, Dates] = {}
        self.pending: dict[str, None] = {}
        self.known: dict[str, None] = {}

    def keep_in(self, saved: dict) -> None:
        """Keep what is found in ``saved`` (a paused run's spider state, which Scrapy pickles into the job dir),
        taking over what it already holds: a resumed run goes on with its findings."""
        self.found = saved.setdefault("found", self.found)
        self.listing_dates = saved.setdefault("listing_dates", self.listing_dates)
        self.pending = saved.setdefault("pending", self.pending)
        self.known = saved.setdefault("known", self.known)

    def note(self, key: str, url: str, published: str | None = None, modified: str | None = None) -> bool:
        """Record a URL of an article (and its listing dates); True on the article's first sighting."""
        first_sighting = key not in self.found
        urls = self.found.setdefault(key, [])
        if url not in urls:
            urls.append(url)
        if published or modified:
            self.listing_dates[key] = merged_dates(self.listing_dates.get(key, (None, None)), (published, modified))
        return first_sighting

    def add_known(self, key: str) -> None:
        self.pending.pop(key, None)
        self.known.setdefault(key)

    def settle_known(self, may_have_changed: Callable[[str, Dates], bool]) -> None:
        """Discovery is done: each known article whose merged listing dates say it may have changed is pending."""
        for key in list(self.known):
            if key not in self.pending and may_have_changed(key, self.dates(key)):
                self.pending.setdefault(key)
            del self.known[key]

    def urls(self, key: str) -> list[str]:
        return self.found.get(key, [])

    def dates(self, key: str) -> Dates:
        return self.listing_dates.get(key, (None, None))

    def add_pending(self, key: str) -> None:
        self.pending.setdefault(key)

    def is_pending(self, key: str) -> bool:
        return key in self.pending

    def take_wave(self, profile: SiteProfile, may_have_changed) -> Wave:
        self.settle_known(may_have_changed)
        return next_wave({key: self.found[key] for key in self.pending}, profile)

    def taken(self, wave: Wave) -> None:
        """The wave's requests are scheduled: they are no longer pending."""
        for key, _ in wave:
            del self.pending[key]

    def busy_elsewhere(self) -> bool:
        return False

    def left_over(self, unfinished: set[str]) -> set[str]:
        """One process ends its run: what it never took, and ``unfinished``, is left for a later run."""
        return set(self.pending) | unfinished
