"""Web archives as the last mirror: the Wayback CDX server API (as its README and arquivo.pt document it) to
find snapshots, and ``<base>/web/<timestamp>id_/<original>`` to fetch a page's archived bytes.

Pure functions: query URLs, CDX answers to snapshots, snapshot URLs and times. The spider fetches them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlencode, urlsplit

CDX_FIELDS = ("timestamp", "original", "statuscode", "mimetype", "digest")
TIMESTAMP_FORMAT = "%Y%m%d%H%M%S"


class CdxError(ValueError):
    """A CDX answer that cannot be read (truncated JSON, unexpected shape)."""


@dataclass(frozen=True)
class Snapshot:
    archive: str  # base URL of the archive
    timestamp: str  # 14 digits, UTC
    original: str  # the URL as archived

    @property
    def url(self) -> str:
        """The archived bytes, without the archive's toolbar or rewritten links (``id_``)."""
        return f"{self.archive}/web/{self.timestamp}id_/{self.original}"

    @property
    def archived_at(self) -> str:
        """The snapshot's time, ISO 8601 UTC (the record's ``archived_at``)."""
        digits = self.timestamp[:14]
        moment = datetime.strptime(digits + "00000101000000"[len(digits):], TIMESTAMP_FORMAT).replace(tzinfo=timezone.utc)
        return moment.isoformat()


@dataclass
class CdxPage:
    snapshots: list[Snapshot]
    resume_key: str | None  # ask again with resumeKey=... for the next page


def cdx_query(archive: str, url: str, *, prefix: bool = False, newest: int | None = None, collapse: bool = False,
              since: str | None = None, until: str | None = None, page_size: int = 1000,
              resume_key: str | None = None) -> str:
    """A CDX query for the 200 snapshots of ``url`` (``prefix``: of every URL under it). ``newest``: only the
    last N (``limit=-N``, newest last); else pages of ``page_size`` with a resume key. ``collapse``: one row
    per URL (``collapse=urlkey``). ``since``/``until``: YYYYMMDD[hhmmss] bounds."""
    params = [("url", url), ("output", "json"), ("fl", ",".join(CDX_FIELDS)), ("filter", "statuscode:200")]
    if prefix:
        params.append(("matchType", "prefix"))
    if collapse:
        params.append(("collapse", "urlkey"))
    if since:
        params.append(("from", since))
    if until:
        params.append(("to", until))
    if newest:
        params.append(("limit", str(-newest)))
    else:
        params += [("limit", str(page_size)), ("showResumeKey", "true")]
        if resume_key:
            params.append(("resumeKey", resume_key))
    return f"{archive}/cdx/search/cdx?{urlencode(params)}"


def parse_cdx(archive: str, body: bytes) -> CdxPage:
    """The snapshots of a CDX JSON answer (a header row naming the fields, then a row per capture, then,
    when there is more, an empty row and ``[resume key]``); CdxError when it cannot be read."""
    if not body.strip():
        return CdxPage([], None)  # the CDX server answers an empty body when nothing matches
    try:
        rows = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CdxError(f"not CDX JSON: {exc}") from None
    if not isinstance(rows, list) or not rows:
        return CdxPage([], None)
    if not all(isinstance(row, list) for row in rows):
        raise CdxError("not CDX JSON: rows are not lists")
    header, *rows = rows
    try:
        timestamp, original, status = (header.index(name) for name in ("timestamp", "original", "statuscode"))
    except ValueError:
        raise CdxError(f"CDX header lacks timestamp, original or statuscode: {header}") from None
    resume_key = None
    if len(rows) >= 2 and rows[-2] == [] and len(rows[-1]) == 1:
        resume_key, rows = rows[-1][0], rows[:-2]
    snapshots = []
    for row in rows:
        if len(row) != len(header) or row[status] != "200" or not str(row[timestamp]).isdigit():
            continue  # a malformed row costs only itself
        if urlsplit(row[original]).scheme not in ("http", "https"):
            continue
        snapshots.append(Snapshot(archive, row[timestamp], row[original]))
    return CdxPage(snapshots, resume_key)


def cdx_bound(date: str | None) -> str | None:
    """A ``--since``/``--until`` date (YYYY-MM-DD) as a CDX bound (YYYYMMDD)."""
    return date.replace("-", "")[:8] if date else None
