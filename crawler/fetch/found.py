"""What a crawl's discovery phase found: every article's URLs on all hosts, listing dates, articles still
to fetch, and which of them to fetch next (waves by host rank). In memory for one process; in Redis
(``RedisDiscoveries``) for the workers of a distributed run."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from urllib.parse import urlsplit

from crawler.sites.profiles import SiteProfile
from crawler.sites.urls import on_host, order_by_hosts, site_host

Wave = list[tuple[str, str]]  # (mirror key, URL to fetch it from)


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


def merged_dates(known: tuple[str | None, str | None], listed: tuple[str | None, str | None]) -> tuple[str | None, str | None]:
    """An article's listing dates merged over every listing and host that named it: the first published
    date given, and the newest modified date (so a sitemap's fresh <lastmod> is never hidden by an older
    one, or by a listing without dates that came first)."""
    published = known[0] or listed[0]
    modified = max((known[1], listed[1]), key=date_order) if known[1] and listed[1] else known[1] or listed[1]
    return published, modified


class Discoveries:
    """One process's discoveries, in memory, pending articles in discovery order; ``known`` holds the
    already emitted articles the listings named, decided on (fetch again or not) once discovery is done."""

    def __init__(self):
        self.found: dict[str, list[str]] = {}
        self.listing_dates: dict[str, tuple[str | None, str | None]] = {}
        self.pending: dict[str, None] = {}
        self.known: dict[str, None] = {}

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
        self.known.setdefault(key)

    def settle_known(self, may_have_changed: Callable[[str, tuple[str | None, str | None]], bool]) -> None:
        """Discovery is done: each known article whose merged listing dates say it may have changed is pending."""
        for key in list(self.known):
            if key not in self.pending and may_have_changed(key, self.dates(key)):
                self.pending.setdefault(key)
            del self.known[key]

    def urls(self, key: str) -> list[str]:
        return self.found.get(key, [])

    def dates(self, key: str) -> tuple[str | None, str | None]:
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


# KEYS: dates; ARGV: mirror key, published, modified, modified's date_order ('' for none). Keeps the first
# published date and the newest modified one (merged_dates, atomically across workers).
MERGE_DATES = """
local published, modified, order = ARGV[2], ARGV[3], ARGV[4]
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old then
  local known = cjson.decode(old)
  if known[1] ~= '' then published = known[1] end
  if known[3] ~= '' and known[3] >= order then modified, order = known[2], known[3] end
end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode({published, modified, order}))
"""

# KEYS: found; ARGV: mirror key, URL. Appends the URL to the key's list unless there; 1 on first sighting.
APPEND_UNIQUE = """
local urls = redis.call('HGET', KEYS[1], ARGV[1])
if not urls then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) return 1 end
if string.find('\\n' .. urls .. '\\n', '\\n' .. ARGV[2] .. '\\n', 1, true) == nil then
  redis.call('HSET', KEYS[1], ARGV[1], urls .. '\\n' .. ARGV[2])
end
return 0
"""


class RedisDiscoveries:
    """The discoveries of every worker of a run, in the run's Redis keys (``found``, ``dates``,
    ``pending``). A wave is taken when no worker has anything queued or in flight, by one worker at a
    time (``wave`` lock); it stays pending until its requests are in the shared queue, whose duplicate
    filter drops them if a worker dies in between and another takes the wave again."""

    def __init__(self, run, wave_lock_seconds: float = 30.0):
        self.run = run
        self.client = run.client
        self.append = self.client.register_script(APPEND_UNIQUE)
        self.merge_dates = self.client.register_script(MERGE_DATES)
        self.wave_lock_ms = int(wave_lock_seconds * 1000)

    def note(self, key: str, url: str, published: str | None = None, modified: str | None = None) -> bool:
        if published or modified:
            self.merge_dates(keys=[self.run.key("dates")], args=[key, published or "", modified or "", date_order(modified)])
        return bool(self.append(keys=[self.run.key("found")], args=[key, url]))

    def urls(self, key: str) -> list[str]:
        return split_urls(self.client.hget(self.run.key("found"), key))

    def dates(self, key: str) -> tuple[str | None, str | None]:
        value = self.client.hget(self.run.key("dates"), key)
        published, modified, _ = json.loads(value) if value else ("", "", "")
        return published or None, modified or None

    def add_known(self, key: str) -> None:
        self.client.sadd(self.run.key("known"), key)

    def settle_known(self, may_have_changed: Callable[[str, tuple[str | None, str | None]], bool]) -> None:
        """Discovery is done (the caller holds the wave lock and no worker is busy): each known article whose
        merged listing dates say it may have changed becomes pending; a key leaves ``known`` once decided."""
        for raw in self.client.smembers(self.run.key("known")):
            key = raw.decode()
            if not self.is_pending(key) and may_have_changed(key, self.dates(key)):
                self.add_pending(key)
            self.client.srem(self.run.key("known"), key)

    def add_pending(self, key: str) -> None:
        self.client.sadd(self.run.key("pending"), key)

    def is_pending(self, key: str) -> bool:
        return bool(self.client.sismember(self.run.key("pending"), key))

    def take_wave(self, profile: SiteProfile, may_have_changed) -> Wave:
        if self.run.busy_elsewhere() or not self.client.set(self.run.key("wave"), self.run.worker, nx=True,
                                                            px=self.wave_lock_ms):
            return []
        self.settle_known(may_have_changed)
        keys = sorted(key.decode() for key in self.client.smembers(self.run.key("pending")))
        found = self.client.hmget(self.run.key("found"), keys) if keys else []
        return next_wave({key: split_urls(urls) for key, urls in zip(keys, found)}, profile)

    def taken(self, wave: Wave) -> None:
        if wave:
            self.client.srem(self.run.key("pending"), *(key for key, _ in wave))
        if self.client.get(self.run.key("wave")) == self.run.worker.encode():
            self.client.delete(self.run.key("wave"))

    def busy_elsewhere(self) -> bool:
        return (self.run.busy_elsewhere() or bool(self.client.scard(self.run.key("pending")))
                or bool(self.client.scard(self.run.key("known"))))


def split_urls(value: bytes | None) -> list[str]:
    return value.decode().split("\n") if value else []
