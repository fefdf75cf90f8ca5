"""Politeness toward a site that pushes back: a Retry-After honoured by every host of the site (its download
slot), a pace that slows down after a 429 and recovers gradually, robots.txt's Crawl-delay and Request-rate,
and bans (a run of 403s or challenge pages from hosts that served pages moments ago) respected by stopping."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import redis
from protego import Protego
from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.misc import load_object
from twisted.internet import task

from crawler.fetch.blockpages import detect_block
from crawler.fetch.retry_after import parse_retry_after
from crawler.fetch.slots import SITE_SLOT_PREFIX
from crawler.reporting import stats as keys
from crawler.reporting.stopping import BANNED, THROTTLED, stop_crawl, stop_for_outage
from crawler.run.context import RunContext
from crawler.sites.urls import SiteIndex

logger = logging.getLogger(__name__)

THROTTLES = "newsmirror_throttles"  # meta: how many times this request was answered "slow down"
NOT_ASKED = "newsmirror_not_asked"  # meta: the request was not sent, the site being on hold
SLOW_DOWN, FIRST_STEP, MARGIN, RECOVERY, FORGETTING = 2.0, 0.5, 1.25, 0.05, 0.002
UNSAID_WAIT = 10.0  # seconds to wait after a 429 that gives no (readable) Retry-After
NETWORK_MARGIN = 0.05  # seconds added to robots.txt's delay: the site sees arrivals, which the network jitters
KEEP_INTERVAL = 0.25  # seconds between two looks at the sites' pace (a distributed crawl's other workers pause it)


@dataclass
class Pace:
    """A site's pace, pure: after a "slow down" (429, or 503 with Retry-After) nothing goes to the site before
    the wait ends, and its delay doubles (at least ``FIRST_STEP``), the delay that was too fast remembered with a
    margin; each good answer takes ``RECOVERY`` of the way back down, but not below what was too fast (itself
    forgotten slowly, so the site is probed again in time). ``base``: the least delay (robots.txt)."""

    base: float = 0.0
    delay: float = 0.0
    too_fast: float = 0.0
    paused_until: float = 0.0

    def throttled(self, now: float, wait: float) -> None:
        """A "slow down": the pause, and (once for the requests that were in flight together, which all come
        back during the pause) a slower pace."""
        if now >= self.paused_until:
            self.too_fast = max(self.too_fast, self.delay * MARGIN)
            self.delay = max(self.delay * SLOW_DOWN, FIRST_STEP, self.base)
        self.paused_until = max(self.paused_until, now + wait)

    def succeeded(self) -> None:
        self.too_fast *= 1 - FORGETTING
        least = max(self.base, self.too_fast)
        self.delay = max(least, self.delay - (self.delay - least) * RECOVERY)

    def pause_left(self, now: float) -> float:
        return max(0.0, self.paused_until - now)

    @property
    def floor(self) -> float:
        return max(self.base, self.delay)


@dataclass
class SitePace:
    """Every site's ``Pace`` in this process (``crawler.distributed.pacing.RedisSitePace`` shares them between
    the workers of a distributed crawl; ``NEWSMIRROR_SITE_PACE`` says which)."""

    paces: dict[str, Pace] = field(default_factory=dict)
    clock: object = time.monotonic

    @classmethod
    def from_crawler(cls, crawler):
        return cls()

    def of(self, site: str) -> Pace:
        return self.paces.setdefault(site, Pace())

    def set_base(self, site: str, base: float) -> None:
        pace = self.of(site)
        pace.base = max(pace.base, base)

    def throttled(self, site: str, wait: float) -> float:
        """Slow the site down and pause it for ``wait`` seconds; its new delay."""
        pace = self.of(site)
        pace.throttled(self.clock(), wait)
        return pace.floor

    def succeeded(self, site: str) -> None:
        self.of(site).succeeded()

    def state(self, site: str) -> tuple[float, float]:
        """(seconds the site is still paused, its least delay between two requests)."""
        pace = self.of(site)
        return pace.pause_left(self.clock()), pace.floor


def robots_pace(robots_txt: str, user_agent: str) -> float:
    """The least delay between two requests that a robots.txt asks of ``user_agent``: its Crawl-delay, or the
    interval of its Request-rate (``1/5``: one request every five seconds), whichever is longer; 0 for none."""
    rules = Protego.parse(robots_txt)
    rate = rules.request_rate(user_agent)
    return max(rules.crawl_delay(user_agent) or 0.0, rate.seconds / rate.requests if rate and rate.requests else 0.0)


def iso_after(seconds: float) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).isoformat(timespec="seconds")


class SitePolitenessMiddleware:
    """Downloader middleware (between the retry middleware and the downloader, so it sees a 429 first).

    A 429, or a 503 with Retry-After, from any host of a site is the server asking to slow down: it is not a
    host failure and never fails over. Every request to the site waits the Retry-After (``NEWSMIRROR_RETRY_AFTER
    _MAX`` at most; a longer one stops the run and holds the site until then), on Scrapy's download slot the
    site's hosts share; the site's pace slows down; and the same request is asked again
    (``NEWSMIRROR_THROTTLE_RETRIES`` times at most, then it is left pending). robots.txt's Crawl-delay and
    Request-rate set the least delay. ``NEWSMIRROR_BAN_AFTER`` 403s or challenge pages in a row from hosts that
    answered in the last ``NEWSMIRROR_BAN_WINDOW`` seconds is a ban: the run stops, and the site is held for
    ``NEWSMIRROR_BAN_COOLDOWN`` seconds (later runs do not ask it before then); what was left is pending.
    """

    def __init__(self, crawler, sites: SiteIndex, pace, context: RunContext | None):
        self.crawler, self.stats, self.sites, self.pace, self.context = crawler, crawler.stats, sites, pace, context
        settings = crawler.settings
        self.max_wait = settings.getfloat("NEWSMIRROR_RETRY_AFTER_MAX", 300.0)
        self.max_throttles = settings.getint("NEWSMIRROR_THROTTLE_RETRIES", 10)
        self.ban_after = settings.getint("NEWSMIRROR_BAN_AFTER", 3)
        self.ban_window = settings.getfloat("NEWSMIRROR_BAN_WINDOW", 600.0)
        self.ban_cooldown = settings.getfloat("NEWSMIRROR_BAN_COOLDOWN", 3600.0)
        self.user_agent = settings.get("USER_AGENT")
        self.answered: dict[str, float] = {}  # host -> when it last served content
        self.refusals: dict[str, list[str]] = {}  # site -> the ban-like answers in a row ("host: HTTP 403")
        self.held: str | None = None  # why the site is not asked (from this run or an earlier one)
        self.keeper: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler):
        pace = load_object(crawler.settings["NEWSMIRROR_SITE_PACE"]).from_crawler(crawler)
        middleware = cls(crawler, SiteIndex.from_crawler(crawler), pace, RunContext.find(crawler))
        crawler.signals.connect(middleware.read_robots, signal=signals.response_received)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_opened(self) -> None:
        """A site an earlier run left on hold (banned, or asked to wait past the cap) is not asked before then.
        Sites' slots are kept to their pace four times a second: another worker may have paused a site."""
        self.keeper = task.LoopingCall(self.keep_slots)
        self.keeper.start(KEEP_INTERVAL, now=False)
        if self.context is None:
            return
        hold = self.context.store.site_hold(self.context.site)
        if hold and hold["until"] > datetime.now(timezone.utc).isoformat(timespec="seconds"):
            self.hold(hold)

    def spider_closed(self) -> None:
        if self.keeper is not None and self.keeper.running:
            self.keeper.stop()

    def keep_slots(self) -> None:
        """Every site slot Scrapy has open gets its site's current pause and floor."""
        try:
            for key in list(self.crawler.engine.downloader.slots):
                if key.startswith(SITE_SLOT_PREFIX):
                    self.keep_pace(key, *self.pace.state(key[len(SITE_SLOT_PREFIX):]))
        except redis.RedisError as exc:  # a distributed crawl's Redis is gone: one line, the worker stops
            stop_for_outage(self.crawler, exc)
            self.spider_closed()

    def hold(self, hold: dict) -> None:
        """Stop asking the site (this run ends, ``hold["reason"]`` its finish reason) and say why, until when."""
        self.held = f"{hold['why']} since {hold['since']}; not asked again before {hold['until']}"
        self.stats.set_value(keys.ON_HOLD, self.held)
        self.stats.set_value(keys.host_held(hold["host"]), hold["reason"])
        stop_crawl(self.crawler, hold["reason"], f"{self.context.site}: {self.held}",
                   "stopping; what is left stays pending for a later run")

    async def process_request(self, request):
        profile, _ = self.sites.lookup(request.url)
        if profile is None:
            return None
        if self.held is not None:
            request.meta[NOT_ASKED] = True
            raise IgnoreRequest(f"not asked: {self.held}")
        wait, floor = self.pace.state(profile.id)
        self.keep_pace(request.meta.get("download_slot"), wait, floor)
        if wait > 0:
            await asyncio.sleep(wait)
        return None

    def keep_pace(self, key: str | None, wait: float, floor: float) -> None:
        """The site's slot ``key`` (Scrapy's) keeps the pace: its delay at least the site's floor, and nothing
        leaves it before a pause ends (requests already queued in it included)."""
        downloader = self.crawler.engine.downloader
        slot = downloader.slots.get(key)
        if slot is None or not (floor or wait):
            return
        configured = downloader.per_slot_settings.get(key, {}).get("delay", slot.delay)
        slot.delay = max(slot.delay if self.crawler.settings.getbool("AUTOTHROTTLE_ENABLED") else configured, floor)
        if wait > 0 and slot.delay > 0:
            slot.lastseen = max(slot.lastseen, time.monotonic() + wait)  # Scrapy waits slot.delay after lastseen

    def process_response(self, request, response):
        profile, host = self.sites.lookup(request.url)
        if profile is None:
            return response
        if response.status == 429 or (response.status == 503 and b"Retry-After" in response.headers):
            return self.slow_down(request, response, profile.id, host)
        content_type = response.headers.get("Content-Type", b"").decode("latin-1").lower()
        verdict = detect_block(response.body) if response.status == 200 and "html" in content_type else None
        if response.status == 403 or (verdict is not None and verdict.kind == "challenge"):
            self.refused(profile.id, host, f"HTTP {response.status}" if verdict is None else verdict.label)
        elif response.status < 400 and verdict is None:
            self.answered[host] = time.monotonic()
            self.refusals.pop(profile.id, None)
            self.pace.succeeded(profile.id)
        return response

    def slow_down(self, request, response, site: str, host: str):
        said = parse_retry_after(response.headers.get("Retry-After"))
        wait = UNSAID_WAIT if said is None else said
        self.stats.inc_value(keys.THROTTLED)
        self.stats.inc_value(keys.throttled_by(host))
        if wait > self.max_wait and self.context is not None:
            hold = {"why": f"throttled by {host} (HTTP {response.status}, Retry-After {wait:.0f} s)", "reason": THROTTLED,
                    "host": host, "status": response.status, "since": iso_after(0), "until": iso_after(wait)}
            self.context.store.save_site_hold(site, hold)
            self.hold(hold)
            return response
        throttles = request.meta.get(THROTTLES, 0)
        if throttles >= self.max_throttles or wait > self.max_wait:
            return response  # given up for this run: the article is left pending
        delay = self.pace.throttled(site, wait)
        self.stats.set_value(keys.PACE, delay)
        logger.info("%s: HTTP %d, every request to %s waits %.1f s (Retry-After); its pace is now %.2f s a request",
                    host, response.status, site, wait, delay)
        self.keep_pace(request.meta.get("download_slot"), wait, delay)
        return request.replace(dont_filter=True, meta={**request.meta, THROTTLES: throttles + 1})

    def refused(self, site: str, host: str, what: str) -> None:
        """A 403 or a challenge page: a ban when enough come in a row from hosts that were serving pages."""
        if self.held is not None or time.monotonic() - self.answered.get(host, float("-inf")) > self.ban_window:
            return  # held already; or a host that never served (geo-blocked, say) has failed: failover deals with it
        run = self.refusals.setdefault(site, [])
        run.append(f"{host}: {what}")
        if len(run) < self.ban_after or self.context is None:
            return
        hold = {"why": f"banned by {host} ({what}, {len(run)} in a row)", "reason": BANNED, "host": host, "status": what,
                "since": iso_after(0), "until": iso_after(self.ban_cooldown)}
        self.context.store.save_site_hold(site, hold)
        self.hold(hold)

    def read_robots(self, response, request) -> None:
        """response_received: a site host's robots.txt sets the site's least delay (Crawl-delay, Request-rate)."""
        profile, host = self.sites.lookup(request.url)
        if profile is None or urlsplit(request.url).path != "/robots.txt" or response.status != 200:
            return
        least = robots_pace(response.body.decode("utf-8", "replace"), self.user_agent)
        if least > 0:
            self.pace.set_base(profile.id, least + NETWORK_MARGIN)
            logger.info("%s: robots.txt asks for %.2f s between requests; every host of %s keeps it", host, least,
                        profile.id)
