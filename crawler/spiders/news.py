"""NewsSpider: crawls one site on all its hosts through feeds, sitemaps and section pages."""

from __future__ import annotations

import pickle
import re
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

import redis
import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, UsageError
from scrapy.http import TextResponse
from scrapy.utils.defer import deferred_from_coro

from crawler.discovery.candidates import alternate_link_hosts, hosts_in_notice
from crawler.discovery.mirrors import ADMITTED, MirrorDiscovery
from crawler.discovery.verification import Verification
from crawler.discovery.verifier import MirrorVerifier
from crawler.distributed.frontier import redis_url, use_redis_frontier
from crawler.distributed.outage import stop_for_outage
from crawler.extract.article import ExtractionError
from crawler.extract.dates import utc_now_iso
from crawler.extract.pool import ArticleExtractor
from crawler.fetch.archive_politeness import ARCHIVE, archive_meta
from crawler.fetch.archives import CdxError, Snapshot, cdx_bound, cdx_query, parse_cdx
from crawler.fetch.failover import ARCHIVE_FALLBACK
from crawler.fetch.failures import failure_reason
from crawler.fetch.fingerprint import PER_HOST
from crawler.fetch.found import Discoveries
from crawler.fetch.listings import ListingError, is_xml_listing, parse_xml_listing, robots_sitemaps
from crawler.output.record import make_article, with_listing_dates
from crawler.sites.profiles import SiteProfile, profiles_from_settings
from crawler.sites.signals import host_admitted, mirror_candidate
from crawler.sites.urls import article_id, mirror_key, path_and_query, site_host, strip_tracking
from crawler.spiders.archive_chain import ArchiveChain
from crawler.state.backends import open_backend
from crawler.state.locking import CrawlBusy, SiteLock
from crawler.state.sqlite import state_path
from crawler.state.writes import WRITE_ERRORS, error_text, stop_after_write_failure

LISTING_PRIORITY = 100
ARTICLE_PRIORITY = 0
PAGE_NUMBER = re.compile(r"^/?\d{1,4}/?$")


def as_utc(iso: str) -> datetime:
    """An ISO 8601 date or time as an aware UTC datetime (no offset given: UTC)."""
    moment = datetime.fromisoformat(iso)
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def readable_pickle(path: Path) -> bool:
    """Whether the job dir's saved spider state can be loaded (missing counts as readable: nothing saved)."""
    if not path.exists():
        return True
    try:
        with path.open("rb") as saved:
            pickle.load(saved)
    except Exception:  # EOFError, UnpicklingError, ...: a write cut short
        return False
    return True


def new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")


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
    """

    name = "news"

    def __init__(self, site: str | None = None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.site = site

    @classmethod
    def update_settings(cls, settings):
        super().update_settings(settings)
        use_redis_frontier(settings)

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        profiles = profiles_from_settings(crawler.settings)
        if spider.site not in profiles:
            raise UsageError(f"unknown site {spider.site!r}; known sites: {', '.join(sorted(profiles))}")
        spider.bind(crawler.settings, profiles[spider.site])
        spider.extractor = ArticleExtractor.from_crawler(crawler)
        spider.verifier = MirrorVerifier(crawler, spider.extractor)
        crawler.signals.connect(spider.fetch_pending_articles, signal=signals.spider_idle)
        crawler.signals.connect(spider.read_robots_sitemaps, signal=signals.response_received)
        crawler.signals.connect(spider.join_admitted_mirrors, signal=signals.spider_opened)
        crawler.signals.connect(spider.note_redirect_target, signal=mirror_candidate)
        return spider

    def bind(self, settings, profile: SiteProfile) -> None:
        if settings.getbool("NEWSMIRROR_FROM_ARCHIVE") and not profile.archives:
            raise UsageError(f"{profile.id}: --from-archive needs archives in the profile (key 'archives')")
        self.profile = profile
        self.allowed_domains = [*profile.hosts, *(urlsplit(archive).hostname for archive in profile.archives)]
        self.output_dir = Path(settings.get("NEWSMIRROR_OUTPUT") or "output")
        self.lock = None
        # one crawl of a site at a time on a local state (`newsmirror crawl` takes the lock itself); the
        # workers of a distributed crawl share their run through Redis instead
        if not settings.getbool("NEWSMIRROR_LOCK_HELD") and not redis_url(settings):
            try:
                self.lock = SiteLock(state_path(settings), profile.id).acquire()
            except CrawlBusy as exc:
                raise UsageError(f"{profile.id}: {exc}") from None
        backend = open_backend(settings, profile.id, settings.get("NEWSMIRROR_RUN_ID") or new_run_id())
        self.run_id, self.run_name, self.redis_run = backend.run_id, backend.run_name, backend.redis_run
        self.store, self.discoveries = backend.state, backend.discoveries
        self.update_window = timedelta(hours=settings.getfloat("NEWSMIRROR_UPDATE_WINDOW", 48))
        self.fresh_validators: dict[str, tuple[str | None, str | None]] = {}
        self.article_failures = 0
        self.prepare_job_dir(settings.get("JOBDIR"), self.store.last_run_status(profile.id))
        recovered = self.store.recover_interrupted_runs(profile.id, self.output_dir / profile.id)
        if recovered:
            self.logger.warning("recovered %d articles written by an interrupted run", recovered)
        self.candidate_hops = settings.getint("NEWSMIRROR_CANDIDATE_HOPS", 1)
        self.fetches_robots = not settings.getbool("ROBOTSTXT_OBEY")  # else RobotsTxtMiddleware fetches robots.txt
        self.robots_read: set[str] = set()  # hosts whose robots.txt sitemaps were queued
        self.from_archive = settings.getbool("NEWSMIRROR_FROM_ARCHIVE")
        self.archive_window = (cdx_bound(settings.get("NEWSMIRROR_ARCHIVE_SINCE")),
                               cdx_bound(settings.get("NEWSMIRROR_ARCHIVE_UNTIL")))
        self.archive_priority = ARTICLE_PRIORITY
        self.cdx_page_size = settings.getint("NEWSMIRROR_CDX_PAGE_SIZE", 1000)
        self.max_listing_size = settings.getint("DOWNLOAD_MAXSIZE", 0)
        # mirror discovery: off when the profile pins its hosts (discover = false) and for archive backfills
        self.mirrors = MirrorDiscovery(
            profile, self.store, retry_after=settings.getfloat("NEWSMIRROR_DISCOVERY_RETRY", 86400.0),
            report=self.report_mirror_verdict) if profile.discover and not self.from_archive else None
        self.verifying: set[str] = set()
        self.store.start_run(self.run_id, profile.id, utc_now_iso())

    def prepare_job_dir(self, job_dir: str | None, last_status: str | None) -> None:
        """Keep Scrapy's JOBDIR (frontier, seen requests) only to resume a paused run (Ctrl-C: 'shutdown').

        After a kill its queue index is stale while its seen-requests file is not, so resuming would
        skip articles the killed run never emitted: the job dir is discarded and the state's recovery
        (run files, then a fresh discovery) takes over. After a finished run there is nothing to resume.
        """
        if job_dir and (last_status != "shutdown" or not readable_pickle(Path(job_dir) / "spider.state")) \
                and Path(job_dir).exists():
            shutil.rmtree(job_dir)  # a spider.state cut short (a full disk) cannot resume either
        elif job_dir and last_status == "shutdown":
            self.logger.info("resuming the paused run from %s", job_dir)

    def closed(self, reason: str) -> None:
        try:
            if reason == "finished" and not self.article_failures:
                # a feed answered "not modified" next time lists nothing this run missed; after failures, it might
                self.store.save_validators(self.fresh_validators)
            self.store.finish_run(self.run_id, utc_now_iso(), reason)
            self.store.close()
        except WRITE_ERRORS as exc:  # the run stays unfinished: the next run recovers it from the run file
            stop_after_write_failure(self.crawler, f"the state ({error_text(exc)})", exc)
        except redis.RedisError as exc:  # the run's record stays open in Redis; the next run resumes it
            stop_for_outage(self.crawler, exc)
        finally:
            if self.lock is not None:
                self.lock.release()

    # -- requests --------------------------------------------------------------------------------
    async def start(self):
        # With a JOBDIR, Scrapy's SpiderState pickles `self.state` when the spider closes and restores it on
        # resume: keep the discovery phase's findings there, so a paused run resumes with them.
        saved = getattr(self, "state", None)
        if saved is not None and isinstance(self.discoveries, Discoveries):
            found = self.discoveries
            found.found = saved.setdefault("found", found.found)
            found.listing_dates = saved.setdefault("listing_dates", found.listing_dates)
            found.pending = saved.setdefault("pending", found.pending)
            found.known = saved.setdefault("known", found.known)
        if self.from_archive:  # backfill: the archives' listings of every host, retired ones too
            for archive in self.profile.archives:
                for host in (*self.profile.hosts, *self.profile.retired):
                    yield self.archive_listing(archive, host)
            return
        self.recheck_recent_articles()
        if self.profile.robots_sitemaps and self.fetches_robots:
            for host in self.profile.hosts:
                yield scrapy.Request(f"{self.profile.scheme}://{host}/robots.txt", callback=self.parse_robots,
                                     errback=self.on_failure, priority=LISTING_PRIORITY, meta={PER_HOST: True})
        for url in self.profile.start_urls():
            if self.profile.is_article_path(urlsplit(url).path):
                self.note_article(url)
            else:
                yield self.listing_request(url)

    def listing_request(self, url: str, hops: int = 0, root: str | None = None) -> scrapy.Request:
        """A feed, sitemap or listing page: fetched on every host, so its identity keeps the host; asked
        conditionally (ETag, Last-Modified) when an earlier complete run read it."""
        etag, last_modified = self.store.validators(url)
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
                     listed_in: tuple[str, str] | None = None) -> None:
        """Remember an article URL found on a listing; new articles are queued for the fetch phase. An
        article URL on another host, listed ``listed_in`` (kind, URL) a feed or sitemap, is a mirror candidate."""
        clean = self.on_site(url)
        if clean is None:
            self.crawler.stats.inc_value("newsmirror/links/offsite")
            if listed_in is not None and self.mirrors is not None:
                self.note_candidate(self.mirrors.consider_listed(url, *listed_in))
            return
        key = mirror_key(clean, self.profile)
        first_sighting = self.discoveries.note(key, clean, published, modified)
        identity = article_id(key)
        if self.store.revision_of(identity) is not None:
            self.store.record_urls(identity, [clean])
            if first_sighting:  # fetched again or not once discovery is done, on every listing's dates
                self.discoveries.add_known(key)
            return
        self.discoveries.add_pending(key)

    def recheck_if_changed(self, key: str, listing_dates: tuple[str | None, str | None]) -> bool:
        """Discovery is done: whether an emitted article the listings named is fetched again, judged on its
        listing dates merged over every listing and host (counted as rechecked or known)."""
        emitted = self.store.revision_of(article_id(key))
        changed = emitted is not None and self.may_have_changed(emitted, listing_dates[1])
        self.crawler.stats.inc_value("newsmirror/articles/rechecked" if changed else "newsmirror/articles/known")
        return changed

    def recheck_recent_articles(self) -> None:
        """Queue the articles younger than the update window for another fetch, whether or not a feed
        lists them again (an unchanged feed answers 304 and lists nothing)."""
        now = datetime.now(timezone.utc)
        day = (now - self.update_window - timedelta(days=1)).date().isoformat()
        for _, published, urls in self.store.published_since(self.profile.id, day):
            if urls and self.is_recent(published):
                key = mirror_key(urls[0], self.profile)
                for url in urls:
                    self.discoveries.note(key, url)
                self.discoveries.add_pending(key)
                self.crawler.stats.inc_value("newsmirror/articles/rechecked")

    def may_have_changed(self, emitted: tuple, listed_modified: str | None) -> bool:
        """Whether an emitted article is worth fetching again: a feed or sitemap gives it a newer date than
        the one it had, or it is younger than the update window (news gets edited)."""
        _, _, published, modified = emitted
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
        try:
            verifying = self.verify_mirror_candidates()
            wave = self.discoveries.take_wave(self.profile, self.recheck_if_changed)
            for key, url in wave:
                self.crawler.engine.crawl(
                    self.archive_lookup({"mirror_key": key}, self.discoveries.urls(key), self.profile.archives)
                    if self.from_archive else scrapy.Request(
                        url, callback=self.parse_article, errback=self.on_failure, priority=ARTICLE_PRIORITY,
                        meta={"mirror_key": key, ARCHIVE_FALLBACK: bool(self.profile.archives)},
                    )
                )
            self.discoveries.taken(wave)
            busy = bool(wave) or verifying or self.discoveries.busy_elsewhere()
        except redis.RedisError as exc:  # a signal handler: one line, not a traceback per idle tick
            stop_for_outage(self.crawler, exc)
            return
        if busy:
            raise DontCloseSpider

    def on_failure(self, failure):
        request = failure.request
        if failure.check(redis.RedisError):  # our Redis, not the news host: never counted against it
            stop_for_outage(self.crawler, failure.value)
            self.crawler.stats.inc_value("newsmirror/outage/requests_not_done")
            return []
        host = urlsplit(request.url).hostname
        reason = failure_reason(failure.value)
        self.logger.warning("%s: %s, fetching %s", host, reason, request.url)
        self.crawler.stats.inc_value(f"newsmirror/failed/{host}/{reason}")
        if "mirror_key" in request.meta:
            self.article_failures += 1
            if self.profile.archives:  # every live host failed it: the archives are the last mirror
                return self.archive_fallback({"mirror_key": request.meta["mirror_key"]}, request.url, self.profile)
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
            self.crawler.stats.inc_value("newsmirror/archive/bad_cdx")
            return
        self.crawler.stats.inc_value("newsmirror/listings/archive")
        for snapshot in page.snapshots:
            if self.profile.is_article_path(path_and_query(snapshot.original)) is not False:
                self.note_article(snapshot.original)
        if page.resume_key:
            yield self.archive_listing(archive, host, page.resume_key)

    def on_archive_listing_failure(self, failure):
        request = failure.request
        self.logger.warning("%s: CDX listing of %s failed: %s", request.meta[ARCHIVE], request.meta["archive_host"],
                            failure_reason(failure.value))
        self.crawler.stats.inc_value("newsmirror/archive/listing_failed")
        self.article_failures += 1  # an incomplete listing: keep feeds' validators out of it

    async def extract_snapshot(self, article: dict, response, original: str) -> dict | None:
        return await self.extractor.extract(response.body, original, self.profile,
                                            response.headers.get("Content-Type", b"").decode("latin-1"))

    def archived_article(self, article: dict, extracted: dict, snapshot: Snapshot):
        key = article["mirror_key"]
        fetched = self.on_site(snapshot.original) or snapshot.original
        identity = self.identity_key(key, fetched, extracted["canonical_url"])
        yield make_article(with_listing_dates(extracted, *self.discoveries.dates(key)), self.profile,
                           [*self.discoveries.urls(key), fetched], snapshot.url, utc_now_iso(), identity)

    def archive_exhausted(self, article: dict) -> None:
        key = article["mirror_key"]
        self.logger.warning("%s: unavailable: no live host and no archive has a good copy", self.discoveries.urls(key)[:1] or key)
        self.crawler.stats.inc_value("newsmirror/requests/lost")

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
                self.crawler.stats.inc_value("newsmirror/links/offsite")
                continue
            self.crawler.stats.inc_value("newsmirror/listings/from_robots")
            self.crawler.engine.crawl(self.listing_request(clean))

    def parse_robots(self, response):
        """The robots.txt start() asked for: read on response_received, like the middleware's."""
        return []

    # -- callbacks ------------------------------------------------------------------------------
    def parse_listing(self, response):
        host = urlsplit(response.url).hostname
        if response.status == 304:
            self.crawler.stats.inc_value("newsmirror/listings/not_modified")
            return
        validators = (response.headers.get("ETag"), response.headers.get("Last-Modified"))
        if any(validators):
            self.fresh_validators[response.request.url] = tuple(v.decode("latin-1") if v else None for v in validators)
        if is_xml_listing(response.body):
            try:
                listing = parse_xml_listing(response.body, response.url, self.max_listing_size)
            except ListingError as exc:
                self.logger.warning("%s: skipped feed/sitemap %s: %s", host, response.url, exc)
                self.crawler.stats.inc_value("newsmirror/listings/malformed")
                return
            self.crawler.stats.inc_value(f"newsmirror/listings/{listing.kind}")
            if listing.kind == "sitemapindex":  # read every run: an unchanged index may list changed sitemaps
                self.fresh_validators.pop(response.request.url, None)
            if listing.recovered or listing.skipped:
                self.logger.warning("%s: %s%s: %d entries read, %d malformed entries skipped", host,
                                    "recovered malformed XML of " if listing.recovered else "", response.url,
                                    len(listing.entries) + len(listing.sitemaps), listing.skipped)
                self.crawler.stats.inc_value("newsmirror/listings/recovered", int(listing.recovered))
                self.crawler.stats.inc_value("newsmirror/listings/bad_entries", listing.skipped)
            for child in listing.sitemaps:
                clean = self.on_site(child)
                if clean is not None:
                    yield self.listing_request(clean)
            for entry in listing.entries:
                self.note_article(entry.url, entry.published, entry.modified, (listing.kind, response.url))
            return
        if not isinstance(response, TextResponse):
            self.logger.warning("%s: skipped %s: neither a feed, a sitemap nor HTML", host, response.url)
            self.crawler.stats.inc_value("newsmirror/listings/malformed")
            return
        self.crawler.stats.inc_value("newsmirror/listings/html")
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
        if is_xml_listing(response.body):  # a feed linked from a page, not an article
            self.crawler.stats.inc_value("newsmirror/pages/not_article")
            return
        try:
            extracted = await self.extractor.extract(
                response.body, response.url, self.profile, response.headers.get("Content-Type", b"").decode("latin-1")
            )
        except ExtractionError as exc:
            self.logger.warning("%s: skipped page %s: %s", host, response.url, exc)
            self.crawler.stats.inc_value("newsmirror/pages/skipped")
            return
        if self.profile.article is None and not extracted["is_article"]:
            self.crawler.stats.inc_value("newsmirror/pages/not_article")
            return
        if extracted["no_article"]:  # a section front, a login, consent or error page, an empty page
            self.logger.warning("%s: skipped page %s: no article text found (%s)", host, response.url, extracted["no_article"])
            self.crawler.stats.inc_value("newsmirror/pages/not_article")
            return
        extracted = with_listing_dates(extracted, *self.discoveries.dates(key))
        fetched = self.on_site(response.url) or response.url
        identity = self.identity_key(key, fetched, extracted["canonical_url"])
        yield make_article(extracted, self.profile, [*self.discoveries.urls(key), fetched], response.url,
                           utc_now_iso(), identity)
        self.look_for_mirrors(response)  # after the article is out: nothing here can cost it

    # -- mirror discovery --------------------------------------------------------------------------
    def look_for_mirrors(self, response) -> None:
        """An article page's mirror candidates: the hosts its alternate-address notice lists (read here, before
        the cleaner drops the notice) and its alternate links to the same path on another host."""
        if self.mirrors is None:
            return
        for host in hosts_in_notice(response.body, getattr(response, "encoding", "utf-8")):
            self.note_candidate(self.mirrors.consider(host, "notice", response.url))
        for host in alternate_link_hosts(response.body, response.url):
            self.note_candidate(self.mirrors.consider(host, "alternate link", response.url))

    def note_redirect_target(self, url: str, how: str, where: str) -> None:
        """mirror_candidate: a site host redirected off the site (not followed; the target may be the new domain)."""
        if self.mirrors is not None and site_host(urlsplit(where).hostname, self.profile) is not None:
            self.note_candidate(self.mirrors.consider(url, how, where))

    def note_candidate(self, host: str | None) -> None:
        if host is not None:
            self.crawler.stats.inc_value("newsmirror/discovery/candidates")

    def verify_mirror_candidates(self) -> bool:
        """spider_idle: start verifying the candidates that can be verified now (the site has emitted enough
        articles to compare); whether any verification is still running."""
        if self.mirrors is None:
            return False
        self.learn_admitted_mirrors()
        for host in self.mirrors.due():
            verification = self.mirrors.verification(host)
            if verification is not None:
                self.verifying.add(host)
                deferred_from_coro(self.verify_mirror(verification))
        return bool(self.verifying)

    async def verify_mirror(self, verification: Verification) -> None:
        host = verification.host
        try:
            problem = await self.verifier.address_problem(host, self.profile.scheme)
            if problem:
                self.mirrors.reject(host, problem)
                return
            await self.verifier.run(verification, self.profile)
            if self.mirrors.finish(verification) == ADMITTED:
                self.admit_mirror(host, verification)
        except redis.RedisError as exc:
            stop_for_outage(self.crawler, exc)
        except WRITE_ERRORS as exc:
            stop_after_write_failure(self.crawler, f"the state ({error_text(exc)})", exc)
        finally:
            self.verifying.discard(host)

    def admit_mirror(self, host: str, verification: Verification) -> None:
        """A verified mirror joins the site: its copies' URLs are recorded, and its start pages are read now,
        so its articles join the next fetch wave."""
        self.join_mirror(host)
        for identity, url in verification.matched_ids.items():
            self.store.record_urls(identity, [url])
        if self.profile.robots_sitemaps and self.fetches_robots:
            self.crawler.engine.crawl(scrapy.Request(f"{self.profile.scheme}://{host}/robots.txt", callback=self.parse_robots,
                                                     errback=self.on_failure, priority=LISTING_PRIORITY, meta={PER_HOST: True}))
        for url in self.profile.start_urls([host]):
            if self.profile.is_article_path(urlsplit(url).path):
                self.note_article(url)
            else:
                self.crawler.engine.crawl(self.listing_request(url))

    def join_mirror(self, host: str) -> None:
        """Make an admitted mirror one of the site's hosts for this crawl: the spider's profile, the offsite
        filter, and every component's SiteIndex (signal ``host_admitted``)."""
        if host in self.profile.hosts:
            return
        self.profile = self.profile.with_host(host)
        self.allowed_domains = [*self.allowed_domains, host]
        self.crawler.stats.set_value(f"newsmirror/discovery/joined/{host}", 1)
        self.crawler.signals.send_catch_log(host_admitted, site=self.profile.id, host=host)

    def learn_admitted_mirrors(self) -> None:
        """Join the mirrors other workers admitted since this one last looked (the shared state's verdicts)."""
        if self.mirrors is not None:
            for host in self.mirrors.refresh():
                self.join_mirror(host)

    def join_admitted_mirrors(self) -> None:
        """spider_opened: the mirrors earlier runs (or other workers) admitted are hosts of the site from the start."""
        if self.mirrors is not None:
            for host in self.mirrors.admitted():
                self.join_mirror(host)

    def report_mirror_verdict(self, host: str, status: str, reason: str | None) -> None:
        if status == ADMITTED:
            self.crawler.stats.set_value(f"newsmirror/discovery/admitted/{host}", 1)
        else:
            self.crawler.stats.set_value(f"newsmirror/discovery/rejected/{host}", reason)

    def identity_key(self, listed_key: str, fetched_url: str, canonical: str | None) -> str:
        """The article's mirror key: its canonical link's when that is an article URL of this site (an AMP
        or slug variant names its original), else the URL that served it (after redirects), else the
        one it was listed under."""
        for url in (canonical, fetched_url):
            clean = self.on_site(urljoin(fetched_url, url)) if url else None
            if clean and urlsplit(clean).path not in ("", "/") and self.profile.is_article_path(urlsplit(clean).path) is not False:
                return mirror_key(clean, self.profile)
        return listed_key
