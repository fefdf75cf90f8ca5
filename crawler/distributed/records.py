"""The record a distributed crawl keeps in Redis for each article (claimed or emitted, text hash, revision, sketch,
dates) in about 290 bytes; the Lua scripts read byte 1 (``C`` or ``E``), 2 (has a print) and 3-10 (the hash)."""

from __future__ import annotations

import struct
from datetime import datetime, timedelta, timezone
from typing import NamedTuple

from crawler.dedup.minhash import SKETCH_BINS, SKETCH_BITS

CLAIMED, EMITTED = b"C", b"E"
HEADER = struct.Struct(">cBqI")  # state, flags, hash64, revision
HAS_PRINT = 1
SKETCH_BYTES = SKETCH_BINS * SKETCH_BITS // 8
NO_MOMENT, EXACT_MOMENT, TEXT_MOMENT = 0, 1, 2
EXACT = struct.Struct(">qh")  # seconds since the epoch, UTC offset in minutes


class StoredArticle(NamedTuple):
    emitted: bool
    hash64: int | None  # of its clean text; None without text (then no sketch either)
    revision: int
    sketch: bytes | None
    published: str | None
    modified: str | None


def epoch(iso: str) -> float | None:
    """An ISO 8601 date or time as seconds since the epoch (UTC when it has no offset), or None."""
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


def utc_day(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).date().isoformat()


def spelled(seconds: int, minutes: int) -> str:
    return datetime.fromtimestamp(seconds, timezone(timedelta(minutes=minutes))).isoformat()


def pack_moment(moment: str | None) -> bytes:
    """A date as 11 bytes when it is an ISO 8601 time with offset that reads back the same, else as written."""
    if moment is None:
        return bytes([NO_MOMENT])
    try:
        when = datetime.fromisoformat(moment)
        seconds, offset = int(when.timestamp()), when.utcoffset()
    except (ValueError, TypeError, OverflowError):
        offset = None
    if offset is not None and not offset.total_seconds() % 60:
        minutes = int(offset.total_seconds() // 60)
        if spelled(seconds, minutes) == moment:
            return bytes([EXACT_MOMENT]) + EXACT.pack(seconds, minutes)
    text = moment.encode("utf-8")
    return bytes([TEXT_MOMENT]) + struct.pack(">H", len(text)) + text


def unpack_moment(blob: bytes, at: int) -> tuple[str | None, int]:
    """(the date, where the next field starts)."""
    kind = blob[at]
    if kind == NO_MOMENT:
        return None, at + 1
    if kind == EXACT_MOMENT:
        return spelled(*EXACT.unpack_from(blob, at + 1)), at + 1 + EXACT.size
    length = struct.unpack_from(">H", blob, at + 1)[0]
    return blob[at + 3:at + 3 + length].decode("utf-8"), at + 3 + length


def pack_article(article: StoredArticle) -> bytes:
    printed = article.hash64 is not None and article.sketch is not None
    head = HEADER.pack(EMITTED if article.emitted else CLAIMED, HAS_PRINT if printed else 0,
                       article.hash64 if printed else 0, article.revision)
    return head + (article.sketch if printed else b"") + pack_moment(article.published) + pack_moment(article.modified)


def unpack_article(blob: bytes) -> StoredArticle:
    state, flags, hash64, revision = HEADER.unpack_from(blob)
    at = HEADER.size
    sketch = None
    if flags & HAS_PRINT:
        sketch, at = blob[at:at + SKETCH_BYTES], at + SKETCH_BYTES
    published, at = unpack_moment(blob, at)
    modified, _ = unpack_moment(blob, at)
    return StoredArticle(state == EMITTED, hash64 if flags & HAS_PRINT else None, revision, sketch, published, modified)


def record_sketch(blob: bytes) -> bytes | None:
    """The sketch of a packed record, read without the rest."""
    return blob[HEADER.size:HEADER.size + SKETCH_BYTES] if blob[1] & HAS_PRINT else None
