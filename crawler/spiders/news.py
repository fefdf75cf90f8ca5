"""NewsSpider: crawls one site on all its hosts through feeds, sitemaps and section pages."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from urllib.parse import urljoin, urlsplit, urlunsplit

import redis
import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, UsageError
from scrapy.http import TextResponse

from crawler.dedup.identity import article_id
from crawler.distributed.mode import use_redis
from crawler.extract.article import ExtractionError
from crawler.extract.dates import utc_now_iso
from crawler.extract.pool import ArticleExtractor
from crawler.fetch.archive_politeness import ARCHIVE, archive_meta
from crawler.fetch.archives import CdxError, Snapshot, cdx_bound, cdx_query, parse_cdx
from crawler.fetch.failover import ARCHIVE_FALLBACK
from crawler.fetch.fingerprint import PER_HOST
from crawler.fetch.gate import REFUSED
from crawler.state.found import LocalFoundArticles
from crawler.fetch.listings import ListingEntry, ListingError, is_xml_listing, older_than, parse_xml_listing, robots_sitemaps
from crawler.fetch.politeness import NOT_ASKED
from crawler.output.record import make_article, with_listing_dates
from crawler.reporting import stats as keys
from crawler.reporting.failures import failure_reason
from crawler.reporting.stopping import stop_for_outage
from crawler.run.context import RunContext
from crawler.sites.profiles import SiteProfile, profiles_from_settings
from crawler.sites.signals import admitted_mirrors_wanted, host_admitted, mirror_candidate
from crawler.sites.urls import legacy_mirror_key, mirror_key, path_and_query, site_host, strip_tracking
from crawler.spiders.archive_chain import ArchiveChain
from crawler.state.pending import RunLeftovers
from crawler.state.store import Revision
from crawler.state.writes import WRITE_ERRORS, error_text, stop_after_write_failure

GONE = ("HTTP 404", "HTTP 410", "Forbidden by robots.txt")  # such an article page is not left pending
LISTING_PRIORITY = 100
ARTICLE_PRIORITY = 0
PAGE_NUMBER = re.compile(r"^/?\d{1,4}/?$")


def as_utc(iso: str) -> datetime:
    """An ISO 8601 date or time as an aware UTC datetime (no offset given: UTC)."""
    moment = datetime.fromisoformat(iso)
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def listing_cutoff(since: str | None, max_age: float | None, today: date | None = None) -> str | None:
    """The first day (YYYY-MM-DD) whose listing entries are followed: ``--since`` or ``max_age`` days ago,
    whichever is later; None for no bound."""
    bounds = [since] if since else []
    if max_age is not None:
        bounds.append(((today or datetime.now(timezone.utc).date()) - timedelta(days=max_age)).isoformat())
    return max(bounds, default=None)


def is_pagination(listing_root: str, link_url: str, rel: str | None) -> bool:
    """A link to another page of the listing that starts at path ``listing_root``:
    rel=next, ``<root>/N`` or ``<root>?page=N``."""
    if rel and "next" in rel.lower().split():
        return True
    root, link = listing_root.rstrip("/"), urlsplit(link_url)
    if link.path.startswith(root + "/") and PAGE_NUMBER.match(link.path[len(root):]):
        return True
    return link.path.rstrip("/") == root and bool(re.search(r"(^|&)(page|p|pg)=\d+", link.query))


class NewsSpider(ArchiveChain, scrapy.Spider):
    """One incremental crawl of one site: ``scrapy crawl news -a site=SITE``.

    Two phases: feeds, sitemaps and section pages are read on every host first, collecting each
    article's URLs on all mirrors; when they are done (the spider is idle), each new article is
    fetched once, from the first host in profile order that listed it (primary-listed ones first).
    The run itself (state, lock, run files) is the run context's (``crawler.state.lifecycle``); mirror
    discovery is an extension beside the spider (``crawler.discovery.coordinator``).
    """

    name = "news"

    def __init__(self, site: str | None = None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.site = site

    @classmethod
    def update_settings(cls, settings):
        super().update_settings(settings)
        use_redis(settings)

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        profiles = profiles_from_settings(settings)
        if spider.site not in profiles:
            raise UsageError(f"unknown site {spider.site!r}; known sites: {', '.join(sorted(profiles))}")
        settings.set("NEWSMIRROR_SITE", spider.site, priority="spider")  # the run the lifecycle opens
        profile = profiles[spider.site]
        spider.allowed_domains = [*profile.hosts, *(urlsplit(archive).hostname for archive in profile.archives)]
        spider.extractor = ArticleExtractor.from_crawler(crawler)
        spider.update_window = timedelta(hours=settings.getfloat("NEWSMIRROR_UPDATE_WINDOW", 48))
        spider.candidate_hops = settings.getint("NEWSMIRROR_CANDIDATE_HOPS", 1)
        spider.fetches_robots = not settings.getbool("ROBOTSTXT_OBEY")  # else RobotsTxtMiddleware fetches robots.txt
        spider.from_archive = settings.getbool("NEWSMIRROR_FROM_ARCHIVE")
        spider.archive_window = (cdx_bound(settings.get("NEWSMIRROR_ARCHIVE_SINCE")),
                                 cdx_bound(settings.get("NEWSMIRROR_ARCHIVE_UNTIL")))
        spider.cdx_page_size = settings.getint("NEWSMIRROR_CDX_PAGE_SIZE", 1000)
        spider.max_listing_size = settings.getint("DOWNLOAD_MAXSIZE", 0)
        spider.fresh_validators: dict[str, tuple[str | None, str | None]] = {}
        spider.article_failures = 0
        spider.max_articles = settings.getint("NEWSMIRROR_MAX_ARTICLES", 0)  # 0: no limit
        spider.since = listing_cutoff(settings.get("NEWSMIRROR_SINCE"), profile.max_age)
        spider.leftovers = None  # RunLeftovers, once the run is open
        spider.robots_read: set[str] = set()  # hosts whose robots.txt sitemaps were queued
        crawler.signals.connect(spider.fetch_pending_articles, signal=signals.spider_idle)
        crawler.signals.connect(spider.read_robots_sitemaps, signal=signals.response_received)
        crawler.signals.connect(spider.join_mirror, signal=host_admitted)
        return spider

    @property
    def run(self) -> RunContext:
        """The run context (opened by the lifecycle extension, after the spider was made)."""
        return RunContext.of(self.crawler)

    @property
    def profile(self) -> SiteProfile:
        """The site with the mirrors admitted so far."""
        return self.run.profile

    def closed(self, reason: str) -> None:
        """Before the lifecycle ends the run: what the run did not get stays pending for a later run (and what
        earlier runs left and this one got is no longer pending); a complete run's feed validators are kept."""
        try:
            if self.leftovers is not None:
                why = ("not fetched: the run stopped first" if reason != "finished"
                       else f"not fetched: the run stopped at --max-articles {self.max_articles}")
                pending = self.leftovers.close(self.run.found, why, utc_now_iso())
            else:  # stopped before it started: what earlier runs left is still there
                pending = len(self.run.store.pending_articles(self.site))
            self.crawler.stats.set_value(keys.ARTICLES_PENDING, pending)
            if reason == "finished" and not self.article_failures:
                # a feed answered "not modified" next time lists nothing this run missed; after failures, it might
                self.run.store.save_validators(self.fresh_validators)
        except WRITE_ERRORS as exc:
            stop_after_write_failure(self.crawler, f"the state ({error_text(exc)})", exc)
        except redis.RedisError as exc:
            stop_for_outage(self.crawler, exc)

    # -- requests --------------------------------------------------------------------------------
    async def start(self):
        # With a JOBDIR, Scrapy's SpiderState pickles `self.state` when the spider closes and restores it on
        # resume: a local run's findings are kept there, so a paused run resumes with them.
        if self.crawler.stats.get_value(keys.STOPPED):  # stopped as it opened (the site is on hold): nothing to ask
            return
        saved = getattr(self, "state", None)
        if saved is not None and isinstance(self.run.found, LocalFoundArticles):
            self.run.found.keep_in(saved)
        earlier = self.run.store.pending_articles(self.site)
        self.leftovers = RunLeftovers(self.run.store, self.site, earlier)
        for key, entry in earlier.items():  # what earlier runs could not get is asked for again
            for url in entry["urls"]:
                self.note_article(url, listed=False)
            self.crawler.stats.inc_value(keys.ARTICLES_RETRIED)
        if self.from_archive:  # backfill: the archives' listings of every host, retired ones too
            for archive in self.profile.archives:
                for host in (*self.profile.hosts, *self.profile.retired):
                    yield self.archive_listing(archive, host)
            return
        self.recheck_recent_articles()
        for request in self.listing_requests_on(self.profile.hosts):
            yield request

    def listing_requests_on(self, hosts) -> list[scrapy.Request]:
        """The robots.txt (when Scrapy's middleware does not fetch it) and start listings of ``hosts``; start
        entries that are articles are noted instead."""
        requests = []
        if self.profile.robots_sitemaps and self.fetches_robots:
            requests += [scrapy.Request(f"{self.profile.scheme}://{host}/robots.txt", callback=self.parse_robots,
                                        errback=self.on_failure, priority=LISTING_PRIORITY, meta={PER_HOST: True})
                         for host in hosts]
        for url in self.profile.start_urls(hosts):
            if self.profile.is_article_path(urlsplit(url).path):
                self.note_article(url)
            else:
                requests.append(self.listing_request(url))
        return requests

    def join_mirror(self, site: str, host: str, fresh: bool) -> None:
        """``host_admitted``: an admitted mirror is one of the site's hosts: the offsite filter lets it through,
        and one this process verified just now is read like the other hosts (its articles join the next fetch
        wave; another worker's admission queued its listings already)."""
        if site != self.site or host in self.allowed_domains:
            return
        self.allowed_domains = [*self.allowed_domains, host]
        if fresh:
            for request in self.listing_requests_on([host]):
                self.crawler.engine.crawl(request)

    def listing_request(self, url: str, hops: int = 0, root: str | None = None) -> scrapy.Request:
        """A feed, sitemap or listing page: fetched on every host, so its identity keeps the host; asked
        conditionally (ETag, Last-Modified) when an earlier complete run read it."""
        etag, last_modified = self.run.store.validators(url)
        headers = {k: v for k, v in (("If-None-Match", etag), ("If-Modified-Since", last_modified)) if v}
        return scrapy.Request(
            url, callback=self.parse_listing, errback=self.on_failure, priority=LISTING_PRIORITY, headers=headers,
            meta={"hops": hops, "listing_root": root or urlsplit(url).path, PER_HOST: True,
                  "handle_httpstatus_list": [304]},
        )

    def on_site(self, url: str) -> str | None:
        """The URL with tracking removed and its host spelled as in the profile, or None if off-site."""
        parts = urlsplit(url)
        host = site_host(parts.hostname, self.profile)
        if host is None or parts.scheme not in ("http", "https"):
            return None
        netloc = host if parts.port is None else f"{host}:{parts.port}"
        return strip_tracking(urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")))

    def note_article(self, url: str, published: str | None = None, modified: str | None = None,
                     listed_in: tuple[str, str] | None = None, listed: bool = True) -> None:
        """Remember an article URL found on a listing (``listed``; else one that an earlier run left pending); new
        articles are queued for the fetch phase. An article URL on another host, listed ``listed_in`` (kind, URL)
        a feed or sitemap, is a mirror candidate. A listing entry dated before ``--since`` or the profile's
        ``max_age`` is not followed."""
        if listed and older_than(ListingEntry(url, published, modified), self.since):
            self.crawler.stats.inc_value(keys.ARTICLES_TOO_OLD)
            return
        clean = self.on_site(url)
        if clean is not None and listed and self.profile.is_article_path(urlsplit(clean).path) is False:
            self.crawler.stats.inc_value(keys.LINKS_NOT_ARTICLE)  # a feed's video page, or a site that moved its
            return  # articles to paths its article rule does not know (then the run is stale)
        if clean is None:
            self.crawler.stats.inc_value(keys.LINKS_OFFSITE)
            if listed_in is not None:  # mirror discovery judges it
                self.crawler.signals.send_catch_log(mirror_candidate, url=url, how=listed_in[0], where=listed_in[1],
                                                    listed=True)
            return
        key = mirror_key(clean, self.profile)
        found = self.run.found
        first_sighting = found.note(key, clean, published, modified)
        if listed:
            self.crawler.stats.inc_value(keys.ARTICLES_LISTED)
        identity = self.known_id(clean)
        if self.run.store.revision_of(identity) is not None:
            self.run.store.record_urls(identity, [clean])
            if first_sighting or found.is_pending(key):  # (another spelling may have hidden its old id)
                found.add_known(key)  # fetched again or not once discovery is done, on every listing's dates
            return
        if first_sighting:  # (a later spelling of a known article's URL leaves it known)
            found.add_pending(key)

    def known_id(self, url: str) -> str:
        """The id of the article at ``url`` (an article URL of the site), as the state knows it: a state written
        before URL paths were normalised keeps its ids (``legacy_mirror_key``), so nothing is emitted again."""
        identity = article_id(mirror_key(url, self.profile))
        legacy = article_id(legacy_mirror_key(url, self.profile))
        if legacy != identity and self.run.store.revision_of(identity) is None \
                and self.run.store.revision_of(legacy) is not None:
            return legacy
        return identity

    def recheck_if_changed(self, key: str, listing_dates: tuple[str | None, str | None]) -> bool:
        """Discovery is done: whether an emitted article the listings named is fetched again, judged on its
        listing dates merged over every listing and host (counted as rechecked or known)."""
        urls = self.run.found.urls(key)
        emitted = self.run.store.revision_of(self.known_id(urls[0]) if urls else article_id(key))
        changed = emitted is not None and self.may_have_changed(emitted, listing_dates[1])
        self.crawler.stats.inc_value(keys.ARTICLES_RECHECKED if changed else keys.ARTICLES_KNOWN)
        return changed

    def recheck_recent_articles(self) -> None:
        """Queue the articles younger than the update window for another fetch, whether or not a feed
        lists them again (an unchanged feed answers 304 and lists nothing)."""
        now = datetime.now(timezone.utc)
        day = (now - self.update_window - timedelta(days=1)).date().isoformat()
        for _, published, urls in self.run.store.published_since(self.profile.id, day):
            if urls and self.is_recent(published):
                key = mirror_key(urls[0], self.profile)
                for url in urls:
                    self.run.found.note(key, url)
                self.run.found.add_pending(key)
                self.crawler.stats.inc_value(keys.ARTICLES_RECHECKED)

    def may_have_changed(self, emitted: Revision, listed_modified: str | None) -> bool:
        """Whether an emitted article is worth fetching again: a feed or sitemap gives it a newer date than
        the one it had, or it is younger than the update window (news gets edited)."""
        published, modified = emitted.published, emitted.modified
        last_known = max(filter(None, (published, modified)), default=None)
        if listed_modified and last_known:
            if len(listed_modified) == 10:  # a bare date (sitemap lastmod): compare days, in the page's own zone
                if listed_modified > last_known[:10]:
                    return True
            elif as_utc(listed_modified) > as_utc(last_known):
                return True
        return bool(published) and self.is_recent(published)

    def is_recent(self, published: str) -> bool:
        """Younger than the update window: such an article is fetched again every run."""
        return datetime.now(timezone.utc) - as_utc(published) < self.update_window

    def fetch_pending_articles(self) -> None:
        """spider_idle: listings are done, so fetch pending articles from their best host, in waves by
        host rank: articles listed on the primary first, then those only a mirror listed (so that a copy
        on the primary wins over a mirror's copy under another slug). With several workers, a wave is taken
        when no worker has work left, and a worker stays open while another has."""
        found = self.run.found
        try:
            self.crawler.signals.send_catch_log(admitted_mirrors_wanted)  # other workers' mirrors rank in the wave
            budget = self.article_budget()
            wave = found.take_wave(self.profile, self.recheck_if_changed) if budget != 0 else []
            if budget is not None and len(wave) > budget:  # --max-articles: the rest stays pending
                wave = wave[:budget]
                self.crawler.stats.set_value(keys.MAX_ARTICLES_REACHED, self.max_articles)
            self.leftovers.taken.update(key for key, _ in wave)
            for key, url in wave:
                self.crawler.engine.crawl(
                    self.archive_lookup({"mirror_key": key}, found.urls(key), self.profile.archives)
                    if self.from_archive else scrapy.Request(
                        url, callback=self.parse_article, errback=self.on_failure, priority=ARTICLE_PRIORITY,
                        meta={"mirror_key": key, ARCHIVE_FALLBACK: bool(self.profile.archives)},
                    )
                )
            found.taken(wave)
            busy = bool(wave) or found.busy_elsewhere()
        except redis.RedisError as exc:  # a signal handler: one line, not a traceback per idle tick
            stop_for_outage(self.crawler, exc)
            return
        if busy:
            raise DontCloseSpider

    def article_budget(self) -> int | None:
        """How many more articles this run may fetch under ``--max-articles`` (None: no limit): the limit, less
        the articles emitted and those still on their way."""
        if not self.max_articles:
            return None
        spent = self.crawler.stats.get_value(keys.ARTICLES_NEW, 0) + self.leftovers.in_flight()
        if spent >= self.max_articles:
            self.crawler.stats.set_value(keys.MAX_ARTICLES_REACHED, self.max_articles)
        return max(0, self.max_articles - spent)

    def on_failure(self, failure):
        request = failure.request
        if failure.check(redis.RedisError):  # our Redis, not the news host: never counted against it
            stop_for_outage(self.crawler, failure.value)
            self.crawler.stats.inc_value(keys.OUTAGE_REQUESTS_NOT_DONE)
            return []
        if request.meta.get(NOT_ASKED):  # the site is on hold: left pending, not a failure of its hosts
            return []
        if request.meta.get(REFUSED):  # the web chose a target in the machine's own network: never fetched
            self.leftovers.got.add(request.meta.get("mirror_key"))
            return []
        host = urlsplit(request.url).hostname
        reason = failure_reason(failure.value)
        self.logger.warning("%s: %s, fetching %s", host, reason, request.url)
        self.crawler.stats.inc_value(keys.failed_request(host, reason))
        if "mirror_key" in request.meta:
            self.article_failures += 1
            if self.profile.archives:  # every live host failed it: the archives are the last mirror
                return self.archive_fallback({"mirror_key": request.meta["mirror_key"]}, request.url, self.profile)
            if reason in GONE:  # not there, or not ours to fetch: nothing to ask again
                self.leftovers.got.add(request.meta["mirror_key"])
            else:
                self.leftovers.fail(request.meta["mirror_key"], f"every host failed (last: {host}: {reason})")
        return []

    # -- web archives ----------------------------------------------------------------------------
    def archive_listing(self, archive: str, host: str, resume_key: str | None = None) -> scrapy.Request:
        """One page of an archive's CDX listing of everything it holds of ``host`` (one row per URL)."""
        since, until = self.archive_window
        query = cdx_query(archive, f"{host}/", prefix=True, collapse=True, since=since, until=until, resume_key=resume_key,
                          page_size=self.cdx_page_size)
        return scrapy.Request(query, callback=self.parse_archive_listing, errback=self.on_archive_listing_failure,
                              priority=LISTING_PRIORITY, meta={**archive_meta(archive), "archive_host": host})

    def parse_archive_listing(self, response):
        archive, host = response.meta[ARCHIVE], response.meta["archive_host"]
        try:
            page = parse_cdx(archive, response.body)
        except CdxError as exc:
            self.logger.warning("%s: skipped CDX listing of %s: %s", archive, host, exc)
            self.crawler.stats.inc_value(keys.ARCHIVE_BAD_CDX)
            return
        self.crawler.stats.inc_value(keys.LISTINGS_ARCHIVE)
        for snapshot in page.snapshots:
            if self.profile.is_article_path(path_and_query(snapshot.original)) is not False:
                self.note_article(snapshot.original)
        if page.resume_key:
            yield self.archive_listing(archive, host, page.resume_key)

    def on_archive_listing_failure(self, failure):
        request = failure.request
        self.logger.warning("%s: CDX listing of %s failed: %s", request.meta[ARCHIVE], request.meta["archive_host"],
                            failure_reason(failure.value))
        self.crawler.stats.inc_value(keys.ARCHIVE_LISTING_FAILED)
        self.article_failures += 1  # an incomplete listing: keep feeds' validators out of it

    async def extract_snapshot(self, article: dict, response, original: str) -> dict | None:
        return await self.extractor.extract(response.body, original, self.profile,
                                            response.headers.get("Content-Type", b"").decode("latin-1"))

    def archived_article(self, article: dict, extracted: dict, snapshot: Snapshot):
        key = article["mirror_key"]
        self.leftovers.got.add(key)
        fetched = self.on_site(snapshot.original) or snapshot.original
        identity, known_id = self.identity(key, fetched, extracted["canonical_url"])
        yield make_article(with_listing_dates(extracted, *self.run.found.dates(key)), self.profile,
                           [*self.run.found.urls(key), fetched], snapshot.url, utc_now_iso(), identity, known_id)

    def archive_exhausted(self, article: dict) -> None:
        key = article["mirror_key"]
        self.logger.warning("%s: unavailable: no live host and no archive has a good copy", self.run.found.urls(key)[:1] or key)
        self.crawler.stats.inc_value(keys.REQUESTS_LOST)
        self.leftovers.fail(key, "every host failed, and no archive has a good copy")

    def read_robots_sitemaps(self, response, request) -> None:
        """response_received: a host's robots.txt (fetched by Scrapy's RobotsTxtMiddleware, or by start()
        when robots.txt is not obeyed): its Sitemap: lines join the start URLs, read on that host with the
        same per-host identity as start paths; off-site sitemaps are counted and left out."""
        host = site_host(urlsplit(request.url).hostname, self.profile)
        if (not self.profile.robots_sitemaps or host is None or host in self.robots_read
                or urlsplit(request.url).path != "/robots.txt" or response.status != 200):
            return
        self.robots_read.add(host)
        for url in robots_sitemaps(response.body.decode("utf-8", "replace"), response.url):
            clean = self.on_site(url)
            if clean is None:
                self.crawler.stats.inc_value(keys.LINKS_OFFSITE)
                continue
            self.crawler.stats.inc_value(keys.LISTINGS_FROM_ROBOTS)
            self.crawler.engine.crawl(self.listing_request(clean))

    def parse_robots(self, response):
        """The robots.txt start() asked for: read on response_received, like the middleware's."""
        return []

    # -- callbacks ------------------------------------------------------------------------------
    def parse_listing(self, response):
        host = urlsplit(response.url).hostname
        if response.status == 304:
            self.crawler.stats.inc_value(keys.LISTINGS_NOT_MODIFIED)
            return
        validators = (response.headers.get("ETag"), response.headers.get("Last-Modified"))
        if any(validators):
            self.fresh_validators[response.request.url] = tuple(v.decode("latin-1") if v else None for v in validators)
        if is_xml_listing(response.body):
            try:
                listing = parse_xml_listing(response.body, response.url, self.max_listing_size)
            except ListingError as exc:
                self.logger.warning("%s: skipped feed/sitemap %s: %s", host, response.url, exc)
                self.crawler.stats.inc_value(keys.LISTINGS_MALFORMED)
                return
            self.crawler.stats.inc_value(keys.listings_read(listing.kind))
            if listing.kind == "sitemapindex":  # read every run: an unchanged index may list changed sitemaps
                self.fresh_validators.pop(response.request.url, None)
            if listing.recovered or listing.skipped:
                self.logger.warning("%s: %s%s: %d entries read, %d malformed entries skipped", host,
                                    "recovered malformed XML of " if listing.recovered else "", response.url,
                                    len(listing.entries) + len(listing.sitemaps), listing.skipped)
                self.crawler.stats.inc_value(keys.LISTINGS_RECOVERED, int(listing.recovered))
                self.crawler.stats.inc_value(keys.LISTINGS_BAD_ENTRIES, listing.skipped)
            for child in listing.children:
                if older_than(child, self.since):  # a sitemap last changed before --since lists nothing newer
                    self.crawler.stats.inc_value(keys.ARTICLES_TOO_OLD)
                    continue
                clean = self.on_site(child.url)
                if clean is not None:
                    yield self.listing_request(clean)
            for entry in listing.entries:
                self.note_article(entry.url, entry.published, entry.modified, (listing.kind, response.url))
            return
        if not isinstance(response, TextResponse):
            self.logger.warning("%s: skipped %s: neither a feed, a sitemap nor HTML", host, response.url)
            self.crawler.stats.inc_value(keys.LISTINGS_MALFORMED)
            return
        self.crawler.stats.inc_value(keys.listings_read("html"))
        yield from self.parse_html_listing(response)

    def parse_html_listing(self, response):
        hops = response.meta.get("hops", 0)
        root = response.meta.get("listing_root") or urlsplit(response.url).path
        for anchor in response.css("a[href]"):
            href = anchor.attrib.get("href", "").strip()
            if not href or href.startswith(("#", "javascript:", "mailto:")):
                continue
            url = self.on_site(response.urljoin(href))
            if url is None:
                continue
            is_article = self.profile.is_article_path(urlsplit(url).path)
            if is_article:
                self.note_article(url)
            elif is_pagination(root, url, anchor.attrib.get("rel")):
                yield self.listing_request(url, hops, root)
            elif is_article is None and hops < self.candidate_hops:
                self.note_article(url)

    async def parse_article(self, response):
        host = urlsplit(response.url).hostname
        key = response.meta.get("mirror_key") or mirror_key(response.url, self.profile)
        self.leftovers.got.add(key)
        if is_xml_listing(response.body):  # a feed linked from a page, not an article
            self.crawler.stats.inc_value(keys.PAGES_NOT_ARTICLE)
            return
        try:
            extracted = await self.extractor.extract(
                response.body, response.url, self.profile, response.headers.get("Content-Type", b"").decode("latin-1")
            )
        except ExtractionError as exc:
            self.logger.warning("%s: skipped page %s: %s", host, response.url, exc)
            self.crawler.stats.inc_value(keys.PAGES_SKIPPED)
            return
        if self.profile.article is None and not extracted["is_article"]:
            self.crawler.stats.inc_value(keys.PAGES_NOT_ARTICLE)
            return
        if extracted["no_article"]:  # a section front, a login, consent or error page, an empty page
            self.logger.warning("%s: skipped page %s: no article text found (%s)", host, response.url, extracted["no_article"])
            self.crawler.stats.inc_value(keys.PAGES_NOT_ARTICLE)
            return
        extracted = with_listing_dates(extracted, *self.run.found.dates(key))
        fetched = self.on_site(response.url) or response.url
        identity, known_id = self.identity(key, fetched, extracted["canonical_url"])
        yield make_article(extracted, self.profile, [*self.run.found.urls(key), fetched], response.url,
                           utc_now_iso(), identity, known_id)

    def identity(self, listed_key: str, fetched_url: str, canonical: str | None) -> tuple[str, str]:
        """The article's mirror key and id: its canonical link's when that is an article URL of this site (an AMP
        or slug variant names its original), else the URL that served it (after redirects), else the one it was
        listed under."""
        for url in (canonical, fetched_url):
            clean = self.on_site(urljoin(fetched_url, url)) if url else None
            if clean and urlsplit(clean).path not in ("", "/") and self.profile.is_article_path(urlsplit(clean).path) is not False:
                return mirror_key(clean, self.profile), self.known_id(clean)
        listed = self.run.found.urls(listed_key)
        return listed_key, self.known_id(listed[0]) if listed else article_id(listed_key)
