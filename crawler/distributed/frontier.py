"""The shared frontier of a distributed crawl: scrapy-redis's Scheduler with leased pops and mirror-aware
request fingerprints (chosen by ``crawler.distributed.mode.use_redis``)."""

from __future__ import annotations

import logging
import warnings

import redis
from scrapy import signals
from scrapy.exceptions import ScrapyDeprecationWarning
from scrapy.utils.request import request_from_dict
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler
from twisted.internet.task import LoopingCall

from crawler.distributed.outage import outage_safe
from crawler.reporting.stopping import stop_for_outage
from crawler.run.context import RunContext

logger = logging.getLogger(__name__)

LEASE = "newsmirror_lease"
WAKE = "newsmirror_wake"


class MirrorAwareDupeFilter(RFPDupeFilter):
    """scrapy-redis's duplicate filter keyed by the crawler's REQUEST_FINGERPRINTER_CLASS (the stock one
    hashes the canonical URL, so two mirrors of an article would be two requests), in the run's namespace."""

    def __init__(self, server, key, debug=False, fingerprinter=None):
        super().__init__(server, key, debug)
        self.fingerprinter = fingerprinter

    @classmethod
    def from_spider(cls, spider):  # scrapy-redis's scheduler builds its dupefilter from the spider
        run = RunContext.of(spider.crawler).redis_run
        return cls(run.client, run.key("dupefilter"), spider.settings.getbool("DUPEFILTER_DEBUG"),
                   spider.crawler.request_fingerprinter)

    def request_fingerprint(self, request) -> str:
        return self.fingerprinter.fingerprint(request).hex()


class LeasedQueue(PriorityQueue):
    """scrapy-redis's priority queue whose pop leases the request to this worker (``RedisRun.pop``) and
    whose push of a request that came back (failover, retry, redirect) ends the lease it carried."""

    def __init__(self, server, spider, key, serializer=None):
        super().__init__(server, spider, key, serializer)
        self.run = RunContext.of(spider.crawler).redis_run

    def push(self, request) -> None:
        lease = request.meta.get(LEASE)
        if lease:
            request = request.replace(meta={k: v for k, v in request.meta.items() if k != LEASE})
        self.run.push(-request.priority, self._encode_request(request), lease)

    def pop(self, timeout=0):
        popped = self.run.pop()
        if popped is None:
            return None
        lease, data = popped
        request = request_from_dict(self.serializer.loads(data), spider=self.spider)
        request.meta[LEASE] = lease
        return request


class LeasedScheduler(Scheduler):
    """The Redis scheduler in the run's namespace, keeping this worker alive and its leases current.

    Every ``lease/3`` seconds it renews the heartbeat and re-queues the leases of dead workers; twice a
    second it releases the leases of requests this worker has finished with (no longer downloading or
    being processed: seen so twice in a row, or once when the worker is idle). Leases die with the worker, not with time, so a
    slow page is never fetched twice while its worker lives.

    An idle engine looks at its scheduler only every 5 seconds; so that a worker waiting for the others
    starts on work they queue at once, it polls the queue twice a second while it has nothing in hand
    and hands what it pops to the engine (``engine.crawl``, which wakes it).
    """

    @classmethod
    def from_crawler(cls, crawler):
        """Without scrapy-redis's own client (``REDIS_URL``, one server's): the run's serves queue, dupefilter and
        leases (``open``), on one server or a cluster. Its stats argument is left out: scrapy-redis counts with a
        deprecated argument, so this scheduler counts itself."""
        settings = crawler.settings
        scheduler = cls(server=None, persist=settings.getbool("SCHEDULER_PERSIST"),
                        queue_cls=settings.get("SCHEDULER_QUEUE_CLASS"), dupefilter_cls=settings.get("DUPEFILTER_CLASS"))
        scheduler.crawler = crawler
        return scheduler

    def open(self, spider):
        self.run = RunContext.of(self.crawler).redis_run
        self.server = self.run.client  # one client for queue, dupefilter and leases: its timeouts and outage retry
        self.queue_key = self.run.key("requests")
        self.leased: dict[str, object] = {}
        self.finished_once: set[str] = set()
        self.woken: list = []
        with warnings.catch_warnings():  # scrapy-redis 0.9.1 logs "Resuming crawl" with the deprecated Spider.log
            warnings.simplefilter("ignore", ScrapyDeprecationWarning)
            super().open(spider)
        self.keeper = LoopingCall(self.keep)
        self.keeper.start(max(self.run.lease_seconds / 3, 0.2), now=True)
        self.waker = LoopingCall(self.wake)
        self.waker.start(0.5, now=False)
        self.crawler.signals.connect(self.on_idle, signal=signals.spider_idle)

    @outage_safe(fallback=False)
    def enqueue_request(self, request):
        if request.meta.pop(WAKE, False):
            self.woken.append(request)
            return True
        self.crawler.stats.inc_value("scheduler/enqueued/redis")
        return super().enqueue_request(request)

    @outage_safe()
    def next_request(self):
        request = self.woken.pop() if self.woken else super().next_request()
        if request is not None:
            self.crawler.stats.inc_value("scheduler/dequeued/redis")
            self.leased[request.meta[LEASE]] = request
        return request

    @outage_safe(fallback=False)
    def has_pending_requests(self) -> bool:
        return bool(self.woken) or super().has_pending_requests()

    @outage_safe()
    def wake(self) -> None:
        self.release_finished()
        if self.woken or self.in_progress():
            return
        request = self.queue.pop()
        if request is not None:
            request.meta[WAKE] = True
            self.crawler.engine.crawl(request)

    def in_progress(self) -> set:
        """Requests downloading, or downloaded and waiting for or in the spider and pipelines."""
        engine, slot = self.crawler.engine, self.crawler.engine.scraper.slot
        waiting = [request for _, request, _ in slot.queue] if slot else []
        return {*engine.downloader.active, *(slot.active if slot else ()), *waiting}

    def release_finished(self, idle: bool = False) -> None:
        busy = self.in_progress()
        done = {lease for lease, request in self.leased.items() if request not in busy}
        ripe = done if idle else done & self.finished_once
        self.finished_once = done - ripe
        self.run.release(ripe)
        for lease in ripe:
            del self.leased[lease]

    @outage_safe()
    def keep(self) -> None:
        """Heartbeat and dead workers' leases; a Redis that lost the run (restarted without persistence)
        stops this worker: what the run had queued and found is gone, so it cannot finish it."""
        if not self.run.is_current():
            stop_for_outage(self.crawler, "lost this run's keys (restarted without persistence?): the run is incomplete; "
                            "start the crawl again to finish it")
            return
        self.run.heartbeat()
        moved = self.run.requeue_expired()
        if moved:
            logger.warning("re-queued %d requests leased by workers that stopped answering", moved)

    def on_idle(self) -> None:  # a signal handler: called with the arguments its signature names
        try:
            self.release_finished(idle=True)
        except redis.RedisError as exc:
            stop_for_outage(self.crawler, exc)

    @outage_safe()
    def close(self, reason):
        for loop in (self.keeper, self.waker):
            if loop.running:
                loop.stop()
        for request in self.woken:  # popped but never started: back to the queue, ending its lease
            self.queue.push(request)
        if reason == "finished":
            self.release_finished(idle=True)
        else:  # cut short: what it held goes back to the queue for the others
            self.run.requeue_expired(self.run.worker)
        if self.run.leave(finished=reason == "finished"):
            logger.info("last worker of run %s: run finished, its keys deleted", self.run.run_id)
        super().close(reason)
