"""Pacing shared by every worker of a distributed crawl, in Redis: a site's pace and Retry-After pause, and web
archives' turns (at most one request per ``ARCHIVE_DELAY`` to an archive from all workers together) and back-off."""

from __future__ import annotations

import asyncio

from crawler.distributed.client import register_script
from crawler.distributed.keys import slot_key, state_key
from crawler.fetch.archive_politeness import archive_slot
from crawler.fetch.politeness import Pace
from crawler.run.context import RunContext


TURN_MARGIN = 1.25  # a turn lasts this much longer than the delay: a busy worker may send its request late

# KEYS: the site's pause, its pace; the pause's milliseconds left and the pace's base and delay, in one step.
SITE_STATE = "return {redis.call('PTTL', KEYS[1]), redis.call('HMGET', KEYS[2], 'base', 'delay')}"


class RedisArchivePace:
    """``ArchivePace`` in Redis: a ``turn`` key (set by the worker whose turn it is, for ``ARCHIVE_DELAY`` and a
    margin, so that the moment a busy worker's request actually leaves does not bring it closer than the delay
    to the next worker's) and a ``backoff`` key (set for the Retry-After of a 429) per archive. The turn is the
    only spacing: the worker's own slot for the archive adds no delay and holds no request back behind a slow
    answer (``SLOT``), since a request that waited there after its turn would leave beside another worker's."""

    SLOT = {"concurrency": 4, "delay": 0.0}

    def __init__(self, crawler, client, delay: float):
        self.crawler, self.client, self.delay = crawler, client, delay * TURN_MARGIN

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler, RunContext.of(crawler).redis, crawler.settings.getfloat("ARCHIVE_DELAY", 1.0))

    async def turn(self, archive: str) -> None:
        slot = archive_slot(archive)
        self.crawler.engine.downloader.per_slot_settings.setdefault(slot, dict(self.SLOT))
        while True:  # the back-off after a 429, then this worker's turn: at most one request per ARCHIVE_DELAY
            backoff = self.client.pttl(slot_key(slot, "backoff"))
            if backoff > 0:
                await asyncio.sleep(backoff / 1000)
            elif self.client.set(slot_key(slot, "turn"), 1, nx=True, px=max(int(self.delay * 1000), 1)):
                return
            else:
                await asyncio.sleep(max(self.client.pttl(slot_key(slot, "turn")), 10) / 1000)

    def back_off(self, archive: str, seconds: float) -> None:
        key = slot_key(archive_slot(archive), "backoff")
        if seconds > 0 and self.client.pttl(key) < seconds * 1000:
            self.client.set(key, 1, px=int(seconds * 1000))


class RedisSitePace:
    """``SitePace`` in Redis: the site's ``Pace`` (its delays) in hash ``newsmirror:{<site>}:pace``, applied by the
    same rules, and its pause as key ``newsmirror:{<site>}:pause``, which expires when the Retry-After ends."""

    def __init__(self, client):
        self.client = client
        self.site_state = register_script(client, SITE_STATE)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(RunContext.of(crawler).redis)

    def pace(self, site: str) -> Pace:
        fields = {k.decode(): float(v) for k, v in self.client.hgetall(state_key(site, "pace")).items()}
        return Pace(**fields)

    def save(self, site: str, pace: Pace) -> None:
        """Workers update a site's pace at once now and then: the last write stands (a pace is a rate, not a count)."""
        self.client.hset(state_key(site, "pace"), mapping={"base": pace.base, "delay": pace.delay, "too_fast": pace.too_fast})

    def set_base(self, site: str, base: float) -> None:
        pace = self.pace(site)
        if base > pace.base:
            pace.base = base
            self.save(site, pace)

    def throttled(self, site: str, wait: float) -> float:
        pause = state_key(site, "pause")
        left = max(self.client.pttl(pause), 0) / 1000
        pace = self.pace(site)
        pace.paused_until = left  # on a clock that is 0 now: the rules see whether a pause is on
        pace.throttled(0.0, wait)
        self.save(site, pace)
        if wait > left:
            self.client.set(pause, 1, px=max(1, int(wait * 1000)))
        return pace.floor

    def succeeded(self, site: str) -> None:
        pace = self.pace(site)
        if pace.delay > pace.base or pace.too_fast:
            pace.succeeded()
            self.save(site, pace)

    def state(self, site: str) -> tuple[float, float]:
        pause, (base, delay) = self.site_state(keys=[state_key(site, "pause"), state_key(site, "pace")])
        return max(pause, 0) / 1000, max(float(base or 0), float(delay or 0))
