"""The article record: DESIGN.md's schema as a dataclass item, field order as written to JSONL."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any
from urllib.parse import urlsplit

from crawler.extract.words import word_count
from crawler.sites.profiles import SiteProfile
from crawler.dedup.identity import article_id
from crawler.sites.urls import mirror_key, order_by_hosts, strip_tracking

# Version of the record schema (crawler/output/schema/article.schema.json); README "Article record" says what
# a minor (additive) and a major (breaking) change may do.
SCHEMA_VERSION = "1.3"


@dataclass
class Article:
    id: str
    site: str | None
    url: str | None
    mirror_urls: list[str] = field(default_factory=list)
    canonical_url: str | None = None
    title: str | None = None
    text: str | None = None
    published: str | None = None
    modified: str | None = None
    authors: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    section: str | None = None
    language: str | None = None
    image: str | None = None
    image_caption: str | None = None
    content_hash: str | None = None
    fetched_at: str | None = None
    source: str | None = None
    revision: int = 1
    archived_at: str | None = None  # since 1.2: the snapshot's time when the page came from a web archive
    truncated: bool | None = None  # since 1.2: the page was larger than extraction reads, its text is cut
    paywalled: bool | None = None  # since 1.3: the page says its content is not free (the text is what it showed)
    word_count: int | None = None  # since 1.3: words of ``text`` (crawler.extract.words), counted by ``record``
    schema_version: str = SCHEMA_VERSION

    def record(self) -> dict[str, Any]:
        """The JSON record: the fields in order, ``word_count`` counted from ``text`` as it now is (cleaning
        layers change it after the item is made)."""
        return {**asdict(self), "word_count": word_count(self.text) if self.text is not None else None}


RECORD_FIELDS = tuple(f.name for f in fields(Article))
LIST_FIELDS = tuple(f.name for f in fields(Article) if f.default_factory is list)
INTEGER_FIELDS = tuple(f.name for f in fields(Article) if f.type in ("int", int, "int | None"))
BOOLEAN_FIELDS = tuple(f.name for f in fields(Article) if f.type in ("bool | None", bool))


def with_listing_dates(extracted: dict[str, Any], published: str | None, modified: str | None) -> dict[str, Any]:
    """The extracted fields with the dates a feed or sitemap gave for the article where the page has none."""
    return {**extracted, "published": extracted["published"] or published, "modified": extracted["modified"] or modified}


def make_article(
    extracted: dict[str, Any], profile: SiteProfile | None, urls: list[str], source: str, fetched_at: str | None,
    key: str | None = None, known_id: str | None = None,
) -> Article:
    """The record of an extracted page: ``urls`` are where it was found.

    ``url`` is the copy on the primary host if there is one, else the page's canonical link (when on the
    site), else the first URL in profile host order. ``key`` is the article's mirror key when the caller
    knows it (the crawl does), else it is derived from ``url``; ``known_id`` the id the state already knows
    the article by, when the caller looked it up.
    """
    canonical = extracted.get("canonical_url")
    if profile is None:
        urls = list(dict.fromkeys(urls))
        url = urls[0] if urls else canonical
    else:
        on_site = canonical if canonical and mirror_key(canonical, profile) else None
        urls = order_by_hosts([*urls, strip_tracking(on_site)] if on_site else urls, profile)
        url = urls[0] if urls else None
        if on_site and url and urlsplit(url).hostname != profile.primary:
            url = strip_tracking(on_site)
            urls = [url, *(u for u in urls if u != url)]
        if key is None and url:
            key = mirror_key(url, profile)
    identity = key or url or extracted.get("content_hash") or source
    content = {k: v for k, v in extracted.items() if k in RECORD_FIELDS}
    return Article(
        id=known_id or article_id(identity), site=profile.id if profile is not None else None, url=url,
        mirror_urls=urls or ([url] if url else []), fetched_at=fetched_at, source=source, **content,
    )
