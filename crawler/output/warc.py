"""Raw archives: a crawl's downloads recorded to a WARC file per run, and article records re-extracted
offline from a WARC through the same extraction and record-building code as the crawl."""

from __future__ import annotations

import io
import zlib
from contextlib import suppress
from datetime import datetime, timezone
from http import HTTPStatus
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import NotConfigured
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler import __version__
from crawler.extract.article import ExtractionError, extract_article
from crawler.fetch.listings import ListingError, is_xml_listing, parse_xml_listing
from crawler.output.record import Article, make_article, with_listing_dates
from crawler.reporting import stats as keys
from crawler.run.context import RunContext
from crawler.sites.profiles import SiteProfile
from crawler.sites.urls import SiteIndex, mirror_key, strip_tracking

PRIVATE_REQUEST_HEADERS = {b"proxy-authorization"}  # the proxy's credentials are not part of the fetch
DECODED_RESPONSE_HEADERS = {b"transfer-encoding"}  # Scrapy hands the body over de-chunked


class WarcError(Exception):
    """A WARC file that cannot be read (missing, not a WARC, truncated)."""


def header_pairs(headers, leave_out: set[bytes]) -> list[tuple[str, str]]:
    return [(name.decode("latin-1"), value.decode("latin-1"))
            for name, values in headers.items() if name.lower() not in leave_out for value in values]


def status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


class WarcRecorder:
    """Downloader middleware writing every response the crawl downloads, with its request, to
    ``<output>/<site>/<run-id>.warc.gz`` (one gzip member per record, flushed per fetch).

    Enabled by ``NEWSMIRROR_WARC`` (``crawl --warc``). It sits next to the downloader, so it records
    the headers and body as they came over the wire (before decompression, redirects and retries).
    """

    def __init__(self, crawler, context: RunContext):
        self.crawler, self.context = crawler, context
        self.path = context.run_file(".warc.gz")
        self.file = None
        self.writer: WARCWriter | None = None

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("NEWSMIRROR_WARC"):
            raise NotConfigured
        recorder = cls(crawler, RunContext.of(crawler))
        crawler.signals.connect(recorder.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(recorder.spider_closed, signal=signals.spider_closed)
        return recorder

    def spider_opened(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.file = self.path.open("ab")
        self.writer = WARCWriter(self.file, gzip=True)
        self.writer.write_record(self.writer.create_warcinfo_record(
            self.path.name, {"software": f"newsmirror/{__version__}", "isPartOf": self.context.run_id}))
        self.file.flush()
        self.crawler.stats.set_value(keys.WARC, str(self.path))

    def spider_closed(self) -> None:
        if self.file is not None:
            self.file.close()
            self.writer = self.file = None

    def process_response(self, request, response):
        if self.writer is not None:
            self.record(request, response)
        return response

    def record(self, request, response) -> None:
        parts = urlsplit(request.url)
        request_headers = header_pairs(request.headers, PRIVATE_REQUEST_HEADERS)
        if not any(name.lower() == "host" for name, _ in request_headers):
            request_headers.insert(0, ("Host", parts.netloc))
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        warc_headers = {"WARC-IP-Address": str(response.ip_address)} if response.ip_address else None
        request_record = self.writer.create_warc_record(
            request.url, "request", payload=io.BytesIO(request.body),
            http_headers=StatusAndHeaders(f"{request.method} {target} HTTP/1.1", request_headers, is_http_request=True),
        )
        response_record = self.writer.create_warc_record(
            response.url, "response", payload=io.BytesIO(response.body), warc_headers_dict=warc_headers,
            http_headers=StatusAndHeaders(status_line(response.status),
                                          header_pairs(response.headers, DECODED_RESPONSE_HEADERS),
                                          protocol=response.protocol or "HTTP/1.1"),
        )
        self.writer.write_request_response_pair(request_record, response_record)
        self.file.flush()
        self.crawler.stats.inc_value(keys.WARC_RESPONSES)


def warc_time(value: str | None) -> str | None:
    """A WARC-Date as the records' ``fetched_at`` format (ISO 8601 UTC, seconds)."""
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def responses(path: str | Path) -> Iterator[tuple[str, str, bytes, str | None]]:
    """(URL, content type, decoded body, fetch time) of each successful (2xx) response in a WARC."""
    try:
        with open(path, "rb") as stream:
            for record in ArchiveIterator(stream):
                wanted = (record.rec_type == "response" and record.http_headers is not None
                          and record.http_headers.get_statuscode().startswith("2"))
                body = record.content_stream().read() if wanted else record.raw_stream.read()
                if record.raw_stream.limit:  # warcio hands out a cut record silently: bytes still expected
                    raise WarcError(f"{path}: truncated in the {record.rec_type} record of "
                                    f"{record.rec_headers.get_header('WARC-Target-URI')}")
                if wanted:
                    yield (record.rec_headers.get_header("WARC-Target-URI"),
                           record.http_headers.get_header("Content-Type") or "", body,
                           warc_time(record.rec_headers.get_header("WARC-Date")))
    except OSError as exc:
        raise WarcError(f"cannot read WARC {path}: {exc.strerror or exc}") from None
    except (ArchiveLoadFailed, EOFError, zlib.error, ValueError) as exc:
        raise WarcError(f"{path}: not a WARC file, or truncated: {exc}") from None


def listing_dates(path: str | Path, profiles: dict[str, SiteProfile],
                  forced: SiteProfile | None) -> dict[str, tuple[str | None, str | None]]:
    """(published, modified) per mirror key from the feeds and sitemaps archived in a WARC, as the crawl
    noted them (the last listing giving a date wins)."""
    dates: dict[str, tuple[str | None, str | None]] = {}
    sites = SiteIndex(profiles.values())
    with suppress(WarcError):  # a cut WARC: the dates before the cut; the articles' pass says so
        for url, _, body, _ in responses(path):
            profile = forced or sites.lookup(url)[0]
            if profile is None or not is_xml_listing(body):
                continue
            try:
                entries = parse_xml_listing(body, url).entries
            except ListingError:
                continue
            for entry in entries:
                key = mirror_key(entry.url, profile)
                if key is not None and (entry.published or entry.modified):
                    dates[key] = (entry.published, entry.modified)
    return dates


def warc_articles(path: str | Path, profiles: dict[str, SiteProfile], cleaner,
                  forced: SiteProfile | None = None) -> Iterator[Article]:
    """The article record of every article page in a WARC, as the crawl builds it (dates from the archived
    feeds and sitemaps included, cleaned by ``cleaner``'s layers): a known site's pages must match its article rule; without one (or
    without a known site) the extractor judges. ``mirror_urls`` holds the fetched URL only."""
    dates = listing_dates(path, profiles, forced)
    sites = SiteIndex(profiles.values())
    for url, content_type, body, fetched_at in responses(path):
        profile = forced or sites.lookup(url)[0]
        if "html" not in content_type.lower() or profile is not None and profile.is_article_path(urlsplit(url).path) is False:
            continue
        try:
            extracted = extract_article(body, url, profile, content_type)
        except ExtractionError:
            continue
        if (profile is None or profile.article is None) and not extracted["is_article"] or extracted["no_article"]:
            continue
        key = mirror_key(url, profile) if profile is not None else None
        extracted = cleaner.clean(with_listing_dates(extracted, *dates.get(key, (None, None))), profile)
        yield make_article(extracted, profile, [strip_tracking(url)], url, fetched_at, key)
