"""Feeds and sitemaps (RSS 2.0, RSS 1.0, Atom, sitemaps, sitemap indexes, Google News) to article URLs.

Parsing is safe against entity expansion and network access; a malformed document raises ListingError.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urljoin

from lxml import etree
from scrapy.utils.gz import gunzip

from crawler.extract.dates import to_iso

XML_KINDS = {"rss": "rss", "RDF": "rss", "feed": "atom", "urlset": "sitemap", "sitemapindex": "sitemapindex"}
GZIP_MAGIC = b"\x1f\x8b"


class ListingError(ValueError):
    """A feed or sitemap that cannot be read."""


@dataclass(frozen=True)
class ListingEntry:
    url: str
    published: str | None = None
    modified: str | None = None


@dataclass
class Listing:
    kind: str
    entries: list[ListingEntry] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)


def _local(element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _child(element, name: str):
    for child in element:
        if _local(child) == name:
            return child
    return None


def _child_text(element, *names: str) -> str | None:
    for name in names:
        child = _child(element, name)
        if child is not None and child.text and child.text.strip():
            return child.text.strip()
    return None


def _descendant_text(element, name: str) -> str | None:
    for child in element.iter():
        if _local(child) == name and child.text and child.text.strip():
            return child.text.strip()
    return None


def is_xml_listing(body: bytes) -> bool:
    """Whether a body is a (possibly gzipped) XML feed or sitemap rather than an HTML page."""
    if body[:2] == GZIP_MAGIC:
        return True
    head = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<?xml"):
        return b"<html" not in body[:2048].lower()
    return any(head.startswith(tag) for tag in (b"<rss", b"<feed", b"<urlset", b"<sitemapindex", b"<rdf:rdf"))


def _parse_root(body: bytes, max_size: int):
    if body[:2] == GZIP_MAGIC:
        try:
            body = gunzip(body, max_size=max_size)
        except Exception as exc:  # OSError, EOFError, zlib.error, or Scrapy's size limit being exceeded
            raise ListingError(f"broken gzip: {exc}") from None
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
        remove_comments=True, remove_pis=True,
    )
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise ListingError(f"malformed XML: {exc}") from None
    if root is None:
        raise ListingError("empty document")
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise ListingError("declares XML entities (refused: entity expansion attack)")
    return root


def _rss_entries(root, base: str) -> list[ListingEntry]:
    entries = []
    for item in root.iter():
        if _local(item) != "item":
            continue
        link = _child_text(item, "link")
        if not link:
            guid = _child(item, "guid")
            if guid is not None and guid.text and guid.get("isPermaLink", "true") != "false":
                link = guid.text.strip()
        if link:
            published = to_iso(_child_text(item, "pubDate", "date", "published"))
            entries.append(ListingEntry(urljoin(base, link), published=published))
    return entries


def _atom_entries(root, base: str) -> list[ListingEntry]:
    entries = []
    for entry in root:
        if _local(entry) != "entry":
            continue
        href = None
        for link in entry:
            if _local(link) == "link" and link.get("rel", "alternate") == "alternate" and link.get("href"):
                href = link.get("href")
                break
        if href:
            entries.append(
                ListingEntry(
                    urljoin(base, href.strip()),
                    published=to_iso(_child_text(entry, "published")),
                    modified=to_iso(_child_text(entry, "updated")),
                )
            )
    return entries


def _sitemap_entries(root, base: str) -> list[ListingEntry]:
    entries = []
    for url in root:
        if _local(url) != "url":
            continue
        loc = _child_text(url, "loc")
        if loc:
            entries.append(
                ListingEntry(
                    urljoin(base, loc),
                    published=to_iso(_descendant_text(url, "publication_date")),
                    modified=to_iso(_child_text(url, "lastmod")),
                )
            )
    return entries


def parse_xml_listing(body: bytes, base_url: str, max_size: int = 50 * 1024 * 1024) -> Listing:
    """Article URLs (and child sitemaps) of a feed or sitemap; raises ListingError when unreadable."""
    root = _parse_root(body, max_size)
    kind = XML_KINDS.get(_local(root))
    if kind is None:
        raise ListingError(f"not a feed or sitemap (root element <{_local(root)}>)")
    if kind == "rss":
        return Listing(kind, _rss_entries(root, base_url))
    if kind == "atom":
        return Listing(kind, _atom_entries(root, base_url))
    if kind == "sitemap":
        return Listing(kind, _sitemap_entries(root, base_url))
    children = [urljoin(base_url, loc) for sm in root if _local(sm) == "sitemap" and (loc := _child_text(sm, "loc"))]
    return Listing(kind, sitemaps=children)
