"""What a distributed run's listings found (``FoundArticles``), shared by its workers in the run's Redis keys."""

from __future__ import annotations

import json
from collections.abc import Callable

from crawler.distributed.client import register_script, set_once
from crawler.distributed.url_lists import APPEND_UNIQUE, split_urls
from crawler.state.found import date_order, next_wave
from crawler.sites.profiles import SiteProfile
from crawler.state.store import Dates, Wave

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

# KEYS: from, to (sets); ARGV: member. Moves it in one step.
MOVE = "redis.call('SREM', KEYS[1], ARGV[1]) redis.call('SADD', KEYS[2], ARGV[1]) return 1"


class RedisFoundArticles:
    """``FoundArticles`` of every worker of a run, in the run's Redis keys (``found``, ``dates``,
    ``pending``). A wave is taken when no worker has anything queued or in flight, by one worker at a
    time (``wave`` lock); it stays pending until its requests are in the shared queue, whose duplicate
    filter drops them if a worker dies in between and another takes the wave again."""

    def __init__(self, run, wave_lock_seconds: float = 30.0):
        self.run = run
        self.client = run.client
        self.append = register_script(self.client, APPEND_UNIQUE)
        self.merge_dates = register_script(self.client, MERGE_DATES)
        self.move = register_script(self.client, MOVE)
        self.wave_lock_ms = int(wave_lock_seconds * 1000)

    def note(self, key: str, url: str, published: str | None = None, modified: str | None = None) -> bool:
        if published or modified:
            self.merge_dates(keys=[self.run.key("dates")], args=[key, published or "", modified or "", date_order(modified)])
        return bool(self.append(keys=[self.run.key("found")], args=[key, url]))

    def urls(self, key: str) -> list[str]:
        return split_urls(self.client.hget(self.run.key("found"), key))

    def dates(self, key: str) -> Dates:
        value = self.client.hget(self.run.key("dates"), key)
        published, modified, _ = json.loads(value) if value else ("", "", "")
        return published or None, modified or None

    def add_known(self, key: str) -> None:
        self.move(keys=[self.run.key("pending"), self.run.key("known")], args=[key])

    def settle_known(self, may_have_changed: Callable[[str, Dates], bool]) -> None:
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
        if self.run.busy_elsewhere() or not set_once(self.client, self.run.key("wave"), self.run.worker,
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

    def left_over(self, unfinished: set[str]) -> set[str]:
        """Nothing: a distributed run's findings, queue and leases outlive its workers, and the next worker
        resumes the run where it stopped."""
        return set()
