"""Web archives' turns and back-off shared by every worker of a distributed crawl, in Redis: at most one
request per ``ARCHIVE_DELAY`` to an archive from all workers together, and a 429's back-off for all."""

from __future__ import annotations

import asyncio

from crawler.distributed.keys import slot_key
from crawler.fetch.archive_politeness import archive_slot
from crawler.run.context import RunContext


TURN_MARGIN = 1.25  # a turn lasts this much longer than the delay: a busy worker may send its request late


class RedisArchivePace:
    """``ArchivePace`` in Redis: a ``turn`` key (set by the worker whose turn it is, for ``ARCHIVE_DELAY`` and a
    margin, so that the moment a busy worker's request actually leaves does not bring it closer than the delay
    to the next worker's) and a ``backoff`` key (set for the Retry-After of a 429) per archive."""

    def __init__(self, client, delay: float):
        self.client, self.delay = client, delay * TURN_MARGIN

    @classmethod
    def from_crawler(cls, crawler):
        return cls(RunContext.of(crawler).redis, crawler.settings.getfloat("ARCHIVE_DELAY", 1.0))

    async def turn(self, archive: str) -> None:
        slot = archive_slot(archive)
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
