"""The merged dataset: one record per article across all run files, ``mirror_urls`` completed from the state.

Run files are the source of records; the state is read only through the ``state_*`` functions below.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import tempfile
import time
from contextlib import contextmanager, suppress
from datetime import datetime, timezone
from datetime import time as day_time
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Iterator

import redis

from crawler.distributed.client import redis_client
from crawler.distributed.store import RedisState
from crawler.output.record import BOOLEAN_FIELDS, INTEGER_FIELDS, LIST_FIELDS, RECORD_FIELDS, Article
from crawler.sites.profiles import SiteProfile
from crawler.sites.urls import order_by_hosts
from crawler.state.runfile import CorruptRunFile, missing_records, run_file_records
from crawler.state.sqlite import ARTICLE_URLS_COLUMNS, copy_legacy_urls, has_table, stored_urls

FORMATS = ("jsonl", "csv", "parquet")
PARQUET_MISSING = "Parquet output needs pyarrow: pip install 'newsmirror[parquet]'"

Position = tuple[int, int]  # (index of the run file, line number): later positions were written later
Warn = Callable[[str], None]


class ExportError(Exception):
    """The export cannot go on (no run files, a corrupt run file or state): exit status 1."""


class ExportConfigError(ValueError):
    """A usage or configuration problem (bad date, missing optional dependency): exit status 2."""


# -- run files -----------------------------------------------------------------------------------
def run_records(files: list[Path], warn: Warn, skip_corrupt: bool = False) -> Iterator[tuple[Position, dict]]:
    """Every record of the run files with its position; a corrupt line (not a torn last one) stops the
    export, or with ``skip_corrupt`` is skipped with a warning (a crawl that hit a full disk before
    newsmirror cut such lines back could leave one)."""
    try:
        for index, path in enumerate(files):
            for number, record in run_file_records(path, warn, strict=not skip_corrupt):
                yield (index, number), record
    except CorruptRunFile as exc:
        raise ExportError(f"{exc} (export --skip-corrupt leaves such lines out, counting them)") from None


def latest_positions(records: Iterable[tuple[Position, dict]]) -> dict[str, Position]:
    """Where each article's latest revision is: the highest ``revision`` if records have one, else the
    last written."""
    best: dict[str, tuple[int, Position]] = {}
    for position, record in records:
        rank = (record.get("revision") or 0, position)
        if record["id"] not in best or rank > best[record["id"]]:
            best[record["id"]] = rank
    return {article: rank[1] for article, rank in best.items()}


# -- state (read-only; the state's layout may change, so only these functions know it) -------------
def state_open(path: Path) -> sqlite3.Connection | None:
    """A read-only connection to the state, or None when there is no state file."""
    if not path.is_file():
        return None
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        if has_table(db, "mirror_urls"):  # an earlier newsmirror's, not crawled since: its URLs keyed in a temp copy
            db.execute(f"CREATE TEMP TABLE article_urls {ARTICLE_URLS_COLUMNS}")
            copy_legacy_urls(db, "temp.article_urls")
            db.commit()  # no read lock held on the state: a crawl may upgrade it meanwhile
        db.execute("SELECT 1 FROM article_urls LIMIT 1")
    except sqlite3.Error as exc:
        raise ExportError(f"cannot read state {path}: {exc}") from None
    return db


class RedisStateReader:
    """The state of distributed crawls (``crawl --redis URL``), site by site: the URLs of each article, and the
    run files each worker wrote with how many articles the state counts in each (``writers``). A site whose state
    an earlier newsmirror wrote is moved to the current layout when first read."""

    def __init__(self, client):
        self.client = client
        self.sites: dict[str, RedisState] = {}

    def site(self, site: str) -> RedisState:
        if site not in self.sites:
            self.sites[site] = RedisState(self.client, site, read_only=True)
        return self.sites[site]

    def urls(self, article_id: str, site: str) -> list[str]:
        return self.site(site).urls_of(article_id)

    def run_files(self, site: str) -> dict[str, int]:
        """{run file name (``<run-id>-<worker>``): articles the state counts in it}."""
        return self.site(site).written_files()

    def close(self) -> None:
        self.client.close()


def state_open_redis(url: str, outage: float) -> RedisStateReader:
    """The state of distributed crawls (``crawl --redis URL``), checked to answer."""
    try:
        client = redis_client(url, outage)
        client.ping()
    except (redis.RedisError, redis.RedisClusterException) as exc:
        raise ExportError(f"cannot read state {url}: {exc}") from None
    return RedisStateReader(client)


def state_urls(db: sqlite3.Connection | RedisStateReader | None, article_id: str, site: str | None = None) -> list[str]:
    """Every URL the state recorded for an article (``CrawlState.record_urls``, ``RedisState.record_urls``
    under the article's site)."""
    if db is None:
        return []
    if isinstance(db, RedisStateReader):
        return db.urls(article_id, site)
    return stored_urls(db, article_id)



# -- records (pure) --------------------------------------------------------------------------------
def complete_mirror_urls(record: dict, more_urls: Iterable[str], profile: SiteProfile | None) -> dict:
    """The record with ``more_urls`` merged into ``mirror_urls``: primary host first when the profile is
    known, and ``url`` the first of them (as a crawl that had seen them all would have chosen)."""
    urls = [*record.get("mirror_urls", []), *more_urls]
    if profile is None:
        merged = list(dict.fromkeys([record["url"], *urls] if record.get("url") else urls))
    else:
        merged = order_by_hosts(urls, profile)
    return {**record, "url": merged[0] if merged else record.get("url"), "mirror_urls": merged}


def current_schema(record: dict) -> dict:
    """The record in the current schema version: its fields in order, those it lacks null or empty."""
    known = {name: record[name] for name in RECORD_FIELDS if name in record and name != "schema_version"}
    return Article(**{"id": None, "site": None, "url": None, **known}).record()


def parse_bound(text: str, end_of_day: bool = False) -> datetime:
    """``YYYY-MM-DD`` or ISO 8601 as an aware datetime (UTC when no offset); a bare date is its first
    moment, or its last with ``end_of_day``. Raises ExportConfigError."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ExportConfigError(f"expected a date YYYY-MM-DD or an ISO 8601 time, got {text!r}") from None
    if end_of_day and len(text.strip()) == 10:
        moment = datetime.combine(moment.date(), day_time.max)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def record_moment(record: dict) -> datetime | None:
    """When the article appeared: ``published``, else ``fetched_at``; None when neither parses."""
    for value in (record.get("published"), record.get("fetched_at")):
        if isinstance(value, str):
            with suppress(ExportConfigError):
                return parse_bound(value)
    return None


def in_window(record: dict, site: str | None, since: datetime | None, until: datetime | None) -> bool:
    if site is not None and record.get("site") != site:
        return False
    if since is None and until is None:
        return True
    moment = record_moment(record)
    return moment is not None and (since is None or moment >= since) and (until is None or moment <= until)


# -- the dataset -----------------------------------------------------------------------------------
def dataset(files: list[Path], state: sqlite3.Connection | RedisStateReader | None, profiles: dict[str, SiteProfile],
            warn: Warn, skip_corrupt: bool = False) -> tuple[int, Iterator[dict]]:
    """(number of articles, their merged records in the order their latest revisions were written). With the
    state of distributed crawls, every run file it counts articles in must hold them: ``warn`` names each
    worker's file that is missing or short (``missing_records``)."""
    per_file: dict[int, int] = {}

    def counted(records: Iterator[tuple[Position, dict]]) -> Iterator[tuple[Position, dict]]:
        for position, record in records:
            per_file[position[0]] = per_file.get(position[0], 0) + 1
            yield position, record

    latest = set(latest_positions(counted(run_records(files, warn, skip_corrupt))).values())
    if isinstance(state, RedisStateReader):
        for site in sorted({*profiles, *(path.parent.name for path in files)}):
            found = {path.stem: per_file.get(index, 0) for index, path in enumerate(files) if path.parent.name == site}
            for problem in missing_records(state.run_files(site), found, site):
                warn(problem)

    def records() -> Iterator[dict]:
        for position, record in run_records(files, lambda message: None, skip_corrupt):
            if position in latest:
                urls = state_urls(state, record["id"], record.get("site"))
                yield current_schema(complete_mirror_urls(record, urls, profiles.get(record.get("site"))))

    return len(latest), records()


# -- output formats --------------------------------------------------------------------------------
class JsonlWriter:
    """One JSON object per line, UTF-8."""

    def __init__(self, stream: BinaryIO):
        self.stream = stream

    def write(self, record: dict) -> None:
        self.stream.write(json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n")

    def close(self) -> None:
        self.stream.flush()


class CsvWriter:
    """RFC 4180 CSV with a header row, UTF-8: list fields as JSON arrays, null as an empty cell."""

    def __init__(self, stream: BinaryIO):
        self.text = io.TextIOWrapper(stream, encoding="utf-8", newline="")
        self.rows = csv.DictWriter(self.text, fieldnames=RECORD_FIELDS, lineterminator="\r\n")
        self.rows.writeheader()

    def write(self, record: dict) -> None:
        self.rows.writerow({
            name: json.dumps(value, ensure_ascii=False) if name in LIST_FIELDS or name in BOOLEAN_FIELDS and value is not None
            else ("" if value is None else value)
            for name, value in record.items()
        })

    def close(self) -> None:
        self.text.flush()
        self.text.detach()


def pyarrow_modules():
    """(pyarrow, pyarrow.parquet), or ExportConfigError when the optional extra is not installed."""
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise ExportConfigError(PARQUET_MISSING) from None
    return pyarrow, pyarrow.parquet


class ParquetWriter:
    """Apache Parquet (pyarrow): string columns, list fields as lists of strings, integers as int64, flags as booleans, row groups of
    ``batch``."""

    def __init__(self, stream: BinaryIO, batch: int = 1000):
        self.pa, parquet = pyarrow_modules()
        self.schema = self.pa.schema([(name, self.column_type(name)) for name in RECORD_FIELDS])
        self.file = parquet.ParquetWriter(stream, self.schema)
        self.batch, self.rows = batch, []

    def column_type(self, name: str):
        if name in LIST_FIELDS:
            return self.pa.list_(self.pa.string())
        if name in BOOLEAN_FIELDS:
            return self.pa.bool_()
        return self.pa.int64() if name in INTEGER_FIELDS else self.pa.string()

    def write(self, record: dict) -> None:
        self.rows.append(record)
        if len(self.rows) >= self.batch:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.file.write_table(self.pa.Table.from_pylist(self.rows, schema=self.schema))
            self.rows = []

    def close(self) -> None:
        self.flush()
        self.file.close()


WRITERS = {"jsonl": JsonlWriter, "csv": CsvWriter, "parquet": ParquetWriter}


@contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """A binary file that appears at ``path`` only complete: written under a temporary name in the same
    directory, renamed on success, removed on any failure or interruption."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


class Progress:
    """``export: N/M articles`` on stderr, refreshed a few times a second, only when stderr is a terminal."""

    def __init__(self, stream, total: int, interval: float = 0.2):
        self.stream, self.total, self.interval = stream, total, interval
        self.enabled = stream.isatty()
        self.shown = 0.0

    def update(self, done: int) -> None:
        if self.enabled and time.monotonic() - self.shown >= self.interval:
            self.stream.write(f"\rexport: {done}/{self.total} articles")
            self.stream.flush()
            self.shown = time.monotonic()

    def done(self) -> None:
        if self.enabled and self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()


def write_records(records: Iterable[dict], writer, progress: Progress, keep: Callable[[dict], bool]) -> int:
    """Writes the records ``keep`` accepts; returns how many."""
    written = 0
    for seen, record in enumerate(records, 1):
        if keep(record):
            writer.write(record)
            written += 1
        progress.update(seen)
    writer.close()
    progress.done()
    return written
