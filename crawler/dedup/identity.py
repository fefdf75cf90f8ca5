"""Content identity, in one place: an article's id, its text's hash, and the order in which a new article is
matched against those already emitted (same id, same text, near-identical text). The stores keep the indexes;
this module decides."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import NamedTuple

from crawler.dedup.minhash import ContentPrint, closest_copy

# the identity layers, cheapest first
BY_ID, BY_TEXT, BY_NEAR_TEXT = "id", "text", "near-duplicate"


class Copy(NamedTuple):
    """An article already emitted (or claimed by a live worker) that a new one is a copy of, and the layer
    that matched."""

    original: str
    layer: str


def article_id(key: str) -> str:
    """Stable article id from a mirror key (``site:/path?query``): the same on every host and in every run."""
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:20]


def idkey(article_id: str) -> bytes:
    """How the stores key an article id (20 hex digits): 10 bytes, half the space."""
    return bytes.fromhex(article_id)


def content_hash(text: str | None) -> str | None:
    """Hash of the normalised text: case, punctuation spacing and whitespace do not count."""
    if not text:
        return None
    normal = re.sub(r"\W+", " ", unicodedata.normalize("NFKC", text).casefold()).strip()
    return hashlib.sha1(normal.encode("utf-8")).hexdigest()


def hash64(content_hash: str | None) -> int | None:
    """The first 64 bits of a hex content hash as a signed 64-bit integer (how the stores index it)."""
    if not content_hash:
        return None
    value = int(content_hash[:16], 16)
    return value - (1 << 64) if value >= (1 << 63) else value


# A store's lookup step: given the candidate ids already verified as different, a Copy (same id, or same text),
# the ids of further near-duplicate candidates to verify (articles sharing an LSH band), or None (no copy; a
# claiming store has then reserved the article).
LookupStep = Callable[[list[str]], "Copy | list[str] | None"]
SketchLoader = Callable[[list[str]], Iterable[tuple[str, bytes]]]


def find_copy(step: LookupStep, sketches: SketchLoader, printed: ContentPrint | None, threshold: float) -> Copy | None:
    """The emitted article a new one is a copy of, or None: ask the store's ``step``; while it names band
    candidates, verify them by the Jaccard similarity of word shingles their sketches estimate
    (``sketches(ids)``), the most similar at or above ``threshold`` wins, and ask again without them."""
    checked: list[str] = []
    while True:
        found = step(checked)
        if found is None or isinstance(found, Copy):
            return found
        if printed is not None:
            best = closest_copy(printed, sketches(found), threshold)
            if best is not None:
                return Copy(best, BY_NEAR_TEXT)
        checked += found
