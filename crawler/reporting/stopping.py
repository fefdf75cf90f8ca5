"""Ending a crawl early for a cause outside the site (a full disk, a lost Redis): one log line, the cause in
the stats, and the spider closed with a reason that the run's outcome turns into a distinct exit status."""

from __future__ import annotations

import logging

from scrapy.utils.defer import deferred_from_coro

from crawler.reporting.stats import STOPPED

logger = logging.getLogger(__name__)

WRITE_FAILED = "write_failed"  # exit 74: output or state could not be written
REDIS_UNAVAILABLE = "redis_unavailable"  # exit 69: the distributed crawl's Redis is gone
BANNED = "banned"  # exit 3: the site banned the crawler (or an earlier ban holds): what is left stays pending
THROTTLED = "throttled"  # exit 3: the site asked to wait longer than NEWSMIRROR_RETRY_AFTER_MAX


def stop_crawl(crawler, reason: str, message: str, consequence: str) -> None:
    """Log ``message; consequence`` once (the first cause wins), keep it in the stats, close the spider."""
    if crawler.stats.get_value(STOPPED):
        return
    logger.error("%s; %s", message, consequence)
    crawler.stats.set_value(STOPPED, message)

    def close() -> None:  # once the current callback (maybe the spider's opening) is done
        if crawler.engine is not None and crawler.engine.spider is not None:
            closing = deferred_from_coro(crawler.engine.close_spider_async(reason=reason))
            closing.addErrback(lambda failure: failure.trap(RuntimeError))  # already closed: nothing to stop

    from twisted.internet import reactor  # the one Scrapy installed (importing it earlier would install another)

    reactor.callLater(0, close)


def stop_for_outage(crawler, error: BaseException | str) -> None:
    """Stop this worker (exit 69): Redis is gone for longer than NEWSMIRROR_REDIS_OUTAGE, or lost the run."""
    outage = crawler.settings.getfloat("NEWSMIRROR_REDIS_OUTAGE", 60.0)
    cause = error if isinstance(error, str) else f"unreachable for {outage:g} s ({error})"
    stop_crawl(crawler, REDIS_UNAVAILABLE, f"Redis at {crawler.settings.get('NEWSMIRROR_REDIS')}: {cause}",
               "stopping this worker (its run file is complete to the last line; its leases expire and other "
               "workers, or the next run, take over what it held)")
