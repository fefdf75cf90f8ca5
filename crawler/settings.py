"""Scrapy settings of newsmirror (``scrapy crawl news -a site=SITE`` reads these via scrapy.cfg)."""

BOT_NAME = "newsmirror"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# Names the project and where a site's operator reads what it does and how to slow it down or keep it out;
# set your own (with a contact) when you run it: -s USER_AGENT=..., or a profile's user_agent.
USER_AGENT = "newsmirror/0.1 (news archive crawler; +https://github.com/newsmirror/newsmirror#for-site-operators)"
ROBOTSTXT_OBEY = True
TELNETCONSOLE_ENABLED = False
TWISTED_DNS_RESOLVER = "crawler.fetch.gate.GatedResolver"  # names the web chose never resolve into private space
REMOTE_CONTROL_ENABLED = False  # Scrapy 2.19's HTTP endpoint that runs code: on only when asked (-s REMOTE_CONTROL_ENABLED=True)
LOG_LEVEL = "INFO"

REQUEST_FINGERPRINTER_CLASS = "crawler.fetch.fingerprint.MirrorAwareRequestFingerprinter"
SPIDER_MIDDLEWARES = {"crawler.distributed.outage.RedisOutageMiddleware": 50}  # a lost Redis: one line, not a traceback a page
DOWNLOADER_MIDDLEWARES = {
    "crawler.fetch.gate.TargetGate": 10,  # first: what the web chose never reaches the machine's own network
    "crawler.discovery.middleware.AdmittedMirrorsMiddleware": 40,  # distributed: learns other workers' mirrors first
    "crawler.fetch.slots.SiteDownloadSlotMiddleware": 45,  # before offsite (50) and robots.txt (100)
    "crawler.fetch.slots.SiteHeadersMiddleware": 46,  # before Scrapy's default headers (400) and user agent (500)
    "crawler.fetch.failover.MirrorFailoverMiddleware": 540,  # sees responses after retries (550) and redirects (600)
    "crawler.fetch.archive_politeness.ArchivePolitenessMiddleware": 560,  # sees an archive's 429 before retries
    "crawler.fetch.politeness.SitePolitenessMiddleware": 585,  # sees a site's 429, 403 and Retry-After first
    "crawler.fetch.offsite.OffsiteRedirectMiddleware": 650,  # sees a redirect before RedirectMiddleware (600)
    "crawler.fetch.hoststats.HostStatsMiddleware": 950,
    # WarcRecorder (off unless NEWSMIRROR_WARC) sits next to the downloader: it sees what came over the wire.
    "crawler.output.warc.WarcRecorder": 960,
}
EXTENSIONS = {
    "crawler.state.lifecycle.RunLifecycle": -100,  # first: opens the run context every other component is given
    "crawler.discovery.coordinator.MirrorDiscoveryExtension": -90,
    "crawler.reporting.logs.OneLineDownloadErrors": 0, "crawler.reporting.progress.CrawlProgress": 0,
    "crawler.reporting.progress.RunStatsFile": 0, "crawler.reporting.metrics.MetricsFile": 0,
    "crawler.state.writes.DiskSpaceGuard": 0,
    "scrapy.extensions.spiderstate.SpiderState": None, "crawler.state.jobdir.AtomicSpiderState": 0,
    "scrapy.extensions.throttle.AutoThrottle": None, "crawler.fetch.throttle.SiteAutoThrottle": 0,
}
SCHEDULER = "crawler.state.jobdir.JobDirScheduler"  # Scrapy's, with job-dir write failures in one line
LOGSTATS_INTERVAL = 0  # CrawlProgress reports progress instead
LOG_FORMATTER = "crawler.reporting.logs.DroppedItemsInOneLine"
ITEM_PIPELINES = {
    "crawler.clean.pipelines.ProfileTextCleaner": 50,
    "crawler.clean.pipelines.BoilerplateRuleCleaner": 60,
    "crawler.dedup.pipelines.DuplicateArticleFilter": 100,
    "crawler.clean.pipelines.TemplateCleaner": 200,
    "crawler.state.pipelines.RunFileWriter": 800,
    "crawler.state.pipelines.StateCommitter": 900,
}

# Politeness and limits: per site (all its hosts share one download slot), what Scrapy's project template
# asks of a domain: one request at a time, a second between two. A profile's `delay` and `concurrency` set a
# site's own; `-s DOWNLOAD_DELAY=...`/`CONCURRENT_REQUESTS_PER_DOMAIN=...` override both for one run.
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 1
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408]  # Scrapy's, less 429: SitePolitenessMiddleware waits it out

# newsmirror's own settings.
NEWSMIRROR_OUTPUT = "output"  # run files go to <output>/<site>/<run-id>.jsonl
NEWSMIRROR_STATE = None  # SQLite state file; default <output>/state.sqlite3
NEWSMIRROR_SITES_FILES = []  # extra site profile files (TOML), after the built-in ones
NEWSMIRROR_CIRCUIT_FAILURES = 3  # consecutive failures that open a host's circuit
NEWSMIRROR_CIRCUIT_COOLDOWN = 60.0  # seconds a host with an open circuit is skipped before a probe
NEWSMIRROR_NEAR_DUPLICATE = 0.5  # Jaccard similarity of word 3-shingles above which two texts are one article
NEWSMIRROR_WARC = False  # archive every response to <output>/<site>/<run-id>.warc.gz (crawl --warc)
NEWSMIRROR_UPDATE_WINDOW = 48  # hours: younger articles are fetched again each run (a changed text is a new revision)
NEWSMIRROR_SCRAPY_INFO = True  # Scrapy's own INFO log (banner, components, stats dump); `newsmirror crawl` shows it with -v
NEWSMIRROR_PROGRESS_INTERVAL = 60  # seconds between progress log lines (when stderr is not a terminal)
NEWSMIRROR_MIN_FREE_MB = 8  # stop cleanly when the output's file system has less free (0: off)
NEWSMIRROR_JOBDIR = True  # `newsmirror crawl`: JOBDIR <output>/<site>/.jobdir, so a paused (Ctrl-C) run resumes
NEWSMIRROR_CANDIDATE_HOPS = 1  # without an article rule: links followed from start pages to find articles
NEWSMIRROR_EXTRACT_WORKERS = None  # extraction processes; None = one per core, 0 = in-process
NEWSMIRROR_EXTRACT_ENGINE = "agreement+readability"  # main-text engine (crawler/extract/engines.py): agreement (faster), trafilatura, resiliparse, readability
NEWSMIRROR_BOILERPLATE_RULES = None  # TOML rule table replacing the built-in crawler/clean/boilerplate.toml
NEWSMIRROR_TEMPLATE_THRESHOLD = 5  # a block seen in this many distinct articles of a site is its template
NEWSMIRROR_TEMPLATE_MAX_CHARS = 400  # longer blocks are never learned as template
NEWSMIRROR_TEMPLATE_MAX_BLOCKS = 50000  # block counts kept per site (memory and state bound)
NEWSMIRROR_REDIS = None  # redis://HOST:PORT/DB: frontier and state in Redis, shared by every worker (crawl --redis)
NEWSMIRROR_WORKER = None  # this worker's name in a distributed run (default <host>-<pid>); names its run file
ARCHIVE_DELAY = 1.0  # seconds between two requests to one web archive (one request at a time)
NEWSMIRROR_CDX_PAGE_SIZE = 1000  # rows of a CDX listing page (then its resume key)
NEWSMIRROR_ARCHIVE_SNAPSHOTS = 5  # newest good snapshots of an article tried, newest first
NEWSMIRROR_FROM_ARCHIVE = False  # crawl --from-archive: backfill from the archives' CDX instead of live listings
NEWSMIRROR_ARCHIVE_SINCE = None  # crawl --since DATE (YYYY-MM-DD) with --from-archive
NEWSMIRROR_ARCHIVE_UNTIL = None  # crawl --until DATE
NEWSMIRROR_REDIS_OUTAGE = 60.0  # seconds a lost Redis is retried with backoff before the worker stops (exit 69)
NEWSMIRROR_LEASE = 30.0  # seconds without a heartbeat after which a worker's leased requests are re-queued
NEWSMIRROR_DISCOVERY_RETRY = 86400.0  # seconds before a rejected mirror candidate is verified again (when still named)
NEWSMIRROR_LIVE_STATUS = None  # the live status line: None = when stderr is a terminal
NEWSMIRROR_RETRY_AFTER_MAX = 300.0  # seconds: a longer Retry-After stops the run; the site is not asked before then
NEWSMIRROR_THROTTLE_RETRIES = 10  # times one request is asked again after a 429; then it is left pending
NEWSMIRROR_BAN_AFTER = 3  # 403s or challenge pages in a row, from hosts that were serving pages, that make a ban
NEWSMIRROR_BAN_WINDOW = 600.0  # seconds: "were serving pages" means within this
NEWSMIRROR_BAN_COOLDOWN = 3600.0  # seconds a banned site is not asked (this run stops; later runs wait)
NEWSMIRROR_SINCE = None  # crawl --since DATE: listing entries (and sitemaps) dated before are not followed
NEWSMIRROR_MAX_ARTICLES = 0  # crawl --max-articles N: fetch at most N new articles, leave the rest pending (0: all)
NEWSMIRROR_ALLOW_PRIVATE = False  # --allow-private: targets the web chose may be in the machine's own network
NEWSMIRROR_TRUSTED_HOSTS = []  # the user's own targets' hosts (scrape's URLs), fetched as given
NEWSMIRROR_METRICS = None  # crawl --metrics FILE: Prometheus text format of every site's runs, rewritten as each run ends
NEWSMIRROR_NEW_STATE = False  # start a new state although run files exist (crawl refuses otherwise: exit 65)

# Set by newsmirror itself, not by hand: the site the spider crawls (its `site` argument), a run id to use,
# and that `newsmirror crawl` holds the site's lock already.
NEWSMIRROR_SITE = None
NEWSMIRROR_RUN_ID = None
NEWSMIRROR_LOCK_HELD = False

# Which implementation keeps what: local ones here; `crawl --redis` switches every one to its Redis twin
# (crawler.distributed.mode.REDIS_COMPONENTS), the way Scrapy's SCHEDULER is chosen.
NEWSMIRROR_BACKEND = "crawler.state.backend.LocalBackend"  # the run's state store and findings
NEWSMIRROR_HOST_HEALTH = "crawler.fetch.health.HostHealth"  # hosts' circuit breakers
NEWSMIRROR_ARCHIVE_PACE = "crawler.fetch.archive_politeness.ArchivePace"  # web archives' turns and back-off
NEWSMIRROR_SITE_PACE = "crawler.fetch.politeness.SitePace"  # sites' pace and Retry-After pauses
