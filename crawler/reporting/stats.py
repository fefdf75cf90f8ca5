"""The crawl's stats keys: one name for each counter, shared by the components that count and by what reads
the counts back (the run's outcome, its summary line, its progress line). A key is never spelt elsewhere."""

from __future__ import annotations

PREFIX = "newsmirror/"

# articles
ARTICLES_NEW = "newsmirror/articles/new"  # emitted: written to the run file
ARTICLES_KNOWN = "newsmirror/articles/known"  # listed, emitted by an earlier run, not fetched again
ARTICLES_RECHECKED = "newsmirror/articles/rechecked"  # emitted earlier, fetched again (may have changed)
ARTICLES_REVISED = "newsmirror/articles/revised"  # fetched again with a changed text: a new revision
ARTICLES_DUPLICATE = "newsmirror/articles/duplicate"  # a copy of an emitted article: dropped, its URLs kept
ARTICLES_FROM_ARCHIVE = "newsmirror/articles/from_archive"
PAGES_SKIPPED = "newsmirror/pages/skipped"  # not extractable, or no text left after cleaning
PAGES_NOT_ARTICLE = "newsmirror/pages/not_article"
REQUESTS_LOST = "newsmirror/requests/lost"  # every host (and archive) failed it
FAILOVERS = "newsmirror/failovers"
LINKS_OFFSITE = "newsmirror/links/offsite"
REFUSED_TARGETS = "newsmirror/requests/refused"  # targets the web chose in the machine's own network
LINKS_NOT_ARTICLE = "newsmirror/links/not_article"  # listing entries whose path the profile's article rule refuses
ARTICLES_LISTED = "newsmirror/articles/listed"  # article URLs the listings named (one on three hosts: three)
ARTICLES_TOO_OLD = "newsmirror/articles/too_old"  # listing entries dated before --since or the profile's max_age
ARTICLES_PENDING = "newsmirror/articles/pending"  # left for the next run (not fetched, or every host failed)
ARTICLES_RETRIED = "newsmirror/articles/retried"  # pending from earlier runs, asked again

# politeness: the site asked to slow down (429, 503 with Retry-After), banned the crawler, or is on hold
THROTTLED = "newsmirror/requests/throttled"
PACE = "newsmirror/pace"  # the site's delay between requests at the end of the run (seconds)
MAX_ARTICLES_REACHED = "newsmirror/max_articles_reached"
STALE = "newsmirror/stale"  # why the site looks stale: it answered, but no listing named an article URL
ON_HOLD = "newsmirror/on_hold"  # why the site was not asked (banned, or throttled past the cap), until when

# listings
LISTINGS_NOT_MODIFIED = "newsmirror/listings/not_modified"
LISTINGS_MALFORMED = "newsmirror/listings/malformed"
LISTINGS_RECOVERED = "newsmirror/listings/recovered"
LISTINGS_BAD_ENTRIES = "newsmirror/listings/bad_entries"
LISTINGS_FROM_ROBOTS = "newsmirror/listings/from_robots"
LISTINGS_ARCHIVE = "newsmirror/listings/archive"

# web archives
ARCHIVE_BAD_CDX = "newsmirror/archive/bad_cdx"
ARCHIVE_FAILED = "newsmirror/archive/failed"
ARCHIVE_LISTING_FAILED = "newsmirror/archive/listing_failed"
ARCHIVE_RATE_LIMITED = "newsmirror/archive/rate_limited"
ARCHIVE_SNAPSHOTS_SKIPPED = "newsmirror/archive/snapshots_skipped"

# mirror discovery
DISCOVERY_CANDIDATES = "newsmirror/discovery/candidates"
DISCOVERY_REQUESTS = "newsmirror/discovery/requests"

# extraction
EXTRACT_IN_PROCESS = "newsmirror/extract/in_process"
EXTRACT_IN_WORKER = "newsmirror/extract/in_worker"
EXTRACT_WORKER_DIED = "newsmirror/extract/worker_died"

# what a Redis outage left undone (every key under OUTAGE counts toward "left for the next run")
OUTAGE = "newsmirror/outage/"
OUTAGE_ARTICLES_NOT_DONE = "newsmirror/outage/articles_not_done"
OUTAGE_ARTICLES_NOT_COMMITTED = "newsmirror/outage/articles_not_committed"
OUTAGE_REQUESTS_NOT_DONE = "newsmirror/outage/requests_not_done"
OUTAGE_RESPONSES_NOT_DONE = "newsmirror/outage/responses_not_done"

# files and the stop
OUTPUT = "newsmirror/output"  # the run file, once it exists
STATS_FILE = "newsmirror/stats_file"
WARC = "newsmirror/warc"
WARC_RESPONSES = "newsmirror/warc/responses"
STOPPED = "newsmirror/stopped"  # why the crawl was ended early, as logged
EXIT_STATUS = "newsmirror/exit_status"  # the exit status the run's outcome calls for (crawler.reporting.outcome)


def duplicate_by(layer: str) -> str:
    """Copies dropped by one identity layer (``id``, ``text``, ``near-duplicate``)."""
    return f"{ARTICLES_DUPLICATE}/{layer}"


def cleaned_blocks(layer: str) -> str:
    """Blocks one cleaning layer removed."""
    return f"newsmirror/clean/{layer}/blocks"


LISTING_KINDS = ("rss", "atom", "sitemap", "sitemapindex", "html")


def listings_read(kind: str) -> str:
    """Listings read in full (not answered "not modified"), by kind (``LISTING_KINDS``)."""
    return f"newsmirror/listings/{kind}"


FAILED = "newsmirror/failed/"


def failed_request(host: str, reason: str) -> str:
    """A request the spider gave up on (after failover), by host and reason."""
    return f"{FAILED}{host}/{reason}"


def failovers_from(host: str) -> str:
    return f"{FAILOVERS}/{host}"


def throttled_by(host: str) -> str:
    return f"{THROTTLED}/{host}"


# per host: newsmirror/host/<host>/<what>
def host_key(host: str, what: str) -> str:
    return f"newsmirror/host/{host}/{what}"


def host_ok(host: str) -> str:
    """Responses from the host that were content (not an error, block or seizure page)."""
    return host_key(host, "ok")


def host_failed(host: str, reason: str) -> str:
    """Failures of the host by reason (the first reason names why it was down)."""
    return host_key(host, f"failed/{reason}")


def host_skipped(host: str) -> str:
    """Listing requests not sent because the host's circuit was open."""
    return host_key(host, "skipped")


def host_circuit_trips(host: str) -> str:
    return host_key(host, "circuit_trips")


def host_responses(host: str) -> str:
    return host_key(host, "responses")


def host_status(host: str, status: int) -> str:
    return host_key(host, f"status/{status}")


def host_errors(host: str, reason: str) -> str:
    return host_key(host, f"errors/{reason}")


def host_held(host: str) -> str:
    """Why the site is held because of this host: ``banned`` or ``throttled`` (a Retry-After past the cap)."""
    return host_key(host, "held")


# mirror discovery, one key per host: "joined" this run's hosts, "admitted" by a verification, "rejected" (why)
def mirror_verdict(verdict: str, host: str) -> str:
    return f"newsmirror/discovery/{verdict}/{host}"


def hosts_under(stats: dict, prefix: str) -> list[str]:
    """The hosts named by keys ``<prefix><host>`` (such as ``mirror_admitted``'s), in the stats' order."""
    return [key[len(prefix):] for key in stats if key.startswith(prefix)]


def host_failure_reasons(stats: dict, host: str) -> list[str]:
    """Why the host failed, in the order the reasons first came up."""
    prefix = host_failed(host, "")
    return [key[len(prefix):] for key in stats if key.startswith(prefix)]


def total(stats: dict, prefix: str) -> int:
    """The sum of every counter under ``prefix``."""
    return sum(value for key, value in stats.items() if key.startswith(prefix) and isinstance(value, int))


# -- the stats file's layout (docs/operations.md, "The stats file") -------------------------------------------
STATS_LAYOUT = 1
DUPLICATE_LAYERS = ("id", "text", "near-duplicate")  # crawler.dedup.identity's BY_ID, BY_TEXT, BY_NEAR_TEXT
CLEANING_LAYERS = ("profile", "rules", "template")  # the cleaning pipelines' layers
COUNTERS = (
    ARTICLES_NEW, ARTICLES_KNOWN, ARTICLES_RECHECKED, ARTICLES_REVISED, ARTICLES_DUPLICATE, ARTICLES_FROM_ARCHIVE,
    ARTICLES_LISTED, ARTICLES_TOO_OLD, ARTICLES_PENDING, ARTICLES_RETRIED, PAGES_SKIPPED, PAGES_NOT_ARTICLE,
    REQUESTS_LOST, REFUSED_TARGETS, FAILOVERS, LINKS_OFFSITE, LINKS_NOT_ARTICLE, THROTTLED,
    LISTINGS_NOT_MODIFIED, LISTINGS_MALFORMED, LISTINGS_RECOVERED, LISTINGS_BAD_ENTRIES, LISTINGS_FROM_ROBOTS,
    LISTINGS_ARCHIVE, *(listings_read(kind) for kind in LISTING_KINDS),
    ARCHIVE_BAD_CDX, ARCHIVE_FAILED, ARCHIVE_LISTING_FAILED, ARCHIVE_RATE_LIMITED, ARCHIVE_SNAPSHOTS_SKIPPED,
    DISCOVERY_CANDIDATES, DISCOVERY_REQUESTS, EXTRACT_IN_PROCESS, EXTRACT_IN_WORKER, EXTRACT_WORKER_DIED,
    OUTAGE_ARTICLES_NOT_DONE, OUTAGE_ARTICLES_NOT_COMMITTED, OUTAGE_REQUESTS_NOT_DONE, OUTAGE_RESPONSES_NOT_DONE,
    WARC_RESPONSES, *(duplicate_by(layer) for layer in DUPLICATE_LAYERS), *(cleaned_blocks(layer) for layer in CLEANING_LAYERS),
    # Scrapy's own
    "downloader/request_count", "downloader/response_count", "downloader/exception_count", "response_received_count",
    "item_scraped_count", "item_dropped_count", "log_count/WARNING", "log_count/ERROR",
)
NOTES = (EXIT_STATUS, PACE, MAX_ARTICLES_REACHED, STALE, ON_HOLD, STOPPED, OUTPUT, WARC)  # null until set
HOST_COUNTERS = (host_ok, host_responses, host_skipped, host_circuit_trips, failovers_from, throttled_by)


def every_counter(stats: dict, hosts) -> dict:
    """The stats as the stats file keeps them: every counter (0 when it never fired), every host counter of each
    of the run's ``hosts``, every note (null when never set), then whatever else was counted (by reason, by
    status code...)."""
    fixed = {key: 0 for key in COUNTERS} | {counter(host): 0 for host in hosts for counter in HOST_COUNTERS}
    return {**fixed, **dict.fromkeys(NOTES), **stats}
