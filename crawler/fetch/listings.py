"""Feeds and sitemaps (RSS 0.9x/2.0, RSS 1.0, Atom 1.0 and 0.3, sitemaps, sitemap indexes, Google News) to
article URLs, as real sites serve them: one bad entry is skipped and counted, sloppy XML is recovered.

Parsing never touches the network and never expands external entities or entity bombs; a document
with nothing readable raises ListingError.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from lxml import etree
from scrapy.utils.gz import gunzip

from crawler.extract.dates import date_from_url, to_iso

XML_KINDS = {"rss": "rss", "RDF": "rss", "feed": "atom", "urlset": "sitemap", "sitemapindex": "sitemapindex"}
GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
SNIFF_BYTES = 4096
# What may stand before a document's root element: white space, comments, processing instructions
# (the XML declaration among them) and a DOCTYPE with its internal subset.
PROLOG = re.compile(rb"(?:\s+|<!--.*?-->|<\?.*?\?>|<!DOCTYPE(?:[^\[>]|\[.*?\])*>)*", re.S | re.I)
ROOT_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")
XML_ENCODING = re.compile(rb"^\s*<\?xml[^>]*encoding=", re.I)
BARE_AMPERSAND = re.compile(rb"&(?!(?:[A-Za-z_][\w.-]*|#[0-9]+|#x[0-9A-Fa-f]+);)")
MAX_ENTITIES = 64  # internal entity declarations accepted in a DTD (&nbsp; and friends)
MAX_ENTITY_CHARS = 1024

NO_NAMESPACE = None
RSS_ITEM_NAMESPACES = (NO_NAMESPACE, "http://purl.org/rss/1.0/", "http://my.netscape.com/rdf/simple/0.9/")
DC_DATE = "{http://purl.org/dc/elements/1.1/}date"
DCTERMS_ISSUED, DCTERMS_CREATED, DCTERMS_MODIFIED = (f"{{http://purl.org/dc/terms/}}{name}" for name in ("issued", "created", "modified"))
GOOGLE_NEWS_NEWS, GOOGLE_NEWS_DATE = (f"{{http://www.google.com/schemas/sitemap-news/0.9}}{name}" for name in ("news", "publication_date"))
PLAIN_ABSOLUTE = re.compile(r"https?://[A-Za-z0-9.-]+(?:[/?#][^\s]*)?$")  # no port, user or IPv6 literal to check
HTML_TYPES = ("text/html", "application/xhtml+xml")
ATOM_DATES = {"published": ("published", "issued"), "modified": ("updated", "modified")}  # Atom 1.0, then 0.3
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}")


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
    children: list[ListingEntry] = field(default_factory=list)  # a sitemap index's sitemaps (lastmod: modified)
    skipped: int = 0  # entries whose URL or date could not be read; the rest of the listing stands
    recovered: bool = False  # not well-formed XML: read by lxml's recover mode

    @property
    def sitemaps(self) -> list[str]:
        return [child.url for child in self.children]


def entry_day(entry: ListingEntry) -> str | None:
    """The day (YYYY-MM-DD, as the listing wrote it) a listing entry is from: its published date, else its
    modified date (a sitemap's lastmod), else a date in its URL's path; None when nothing says."""
    for value in (entry.published, entry.modified):
        if value and DAY.match(value):
            return value[:10]
    return date_from_url(entry.url)


def older_than(entry: ListingEntry, since: str | None) -> bool:
    """Whether the entry is dated before ``since`` (YYYY-MM-DD); an undated entry is not."""
    day = entry_day(entry)
    return since is not None and day is not None and day < since


def _namespace(element) -> str | None:
    return etree.QName(element).namespace


def _local(element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _tag(namespace: str | None, name: str) -> str:
    return f"{{{namespace}}}{name}" if namespace else name


def _is(element, namespace: str | None, name: str) -> bool:
    return element.tag == _tag(namespace, name)


def _text(element) -> str | None:
    text = "".join(element.itertext()).strip() if element is not None else ""
    return text or None


def _children(element) -> dict[str, object]:
    """An element's children by tag (``{namespace}name``), the first of each: namespace-exact lookups."""
    children: dict[str, object] = {}
    for child in element:
        if isinstance(child.tag, str):
            children.setdefault(child.tag, child)
    return children


def _first_text(children: dict[str, object], *tags: str) -> str | None:
    """The text of the first of ``tags`` (in preference order) that the element has, non-empty."""
    for tag in tags:
        child = children.get(tag)
        if child is not None and (text := _text(child)):
            return text
    return None


def _without_bom(body: bytes) -> bytes:
    """UTF-8 without its byte-order mark; UTF-16 (which lxml reads by its BOM) as it is."""
    return body[len(UTF8_BOM):] if body.startswith(UTF8_BOM) else body


def _sniffable(head: bytes) -> bytes:
    if head[:2] in UTF16_BOMS:
        return head.decode("utf-16", "replace").encode("utf-8")
    return _without_bom(head)


def root_name(body: bytes) -> str | None:
    """The local name of a document's root element, past its prolog (``rss``, ``feed``, ``urlset``, ``html``
    for ``<sm:urlset>``-style prefixed roots too), or None when the head is not markup."""
    head = _sniffable(body[:SNIFF_BYTES])
    match = ROOT_TAG.match(head, PROLOG.match(head).end())
    return match.group(1).decode("ascii") if match else None


def is_xml_listing(body: bytes) -> bool:
    """Whether a body is a (possibly gzipped) XML feed or sitemap rather than an HTML page."""
    return body[:2] == GZIP_MAGIC or root_name(body) in XML_KINDS


def _parser(recover: bool, entities: str | bool = False) -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=entities, no_network=True, load_dtd=False, huge_tree=False,
                           remove_comments=True, remove_pis=True, recover=recover)


def _check_entities(root) -> bool:
    """Whether the document declares internal entities to expand; ListingError for external entities or a
    declaration that could expand into others (billion laughs) or too many."""
    dtd = root.getroottree().docinfo.internalDTD
    entities = list(dtd.iterentities()) if dtd is not None else []
    for entity in entities:
        if entity.system_url is not None or entity.content is None:
            raise ListingError(f"declares external entity {entity.name!r} (refused)")
        if "&" in entity.content or "%" in entity.content or len(entity.content) > MAX_ENTITY_CHARS:
            raise ListingError(f"declares XML entity {entity.name!r} that expands (refused: entity expansion attack)")
    if len(entities) > MAX_ENTITIES:
        raise ListingError(f"declares {len(entities)} XML entities (refused: at most {MAX_ENTITIES})")
    return bool(entities)


def _sloppy_fixed(body: bytes) -> bytes:
    """A body about to be recovered, with what recovery cannot guess right fixed first: bytes that are not
    UTF-8 (no encoding declared) read as Windows-1252, and bare ampersands (``?a=1&b=2`` in a link)
    escaped, which libxml2 would otherwise drop with the name after them."""
    return BARE_AMPERSAND.sub(b"&amp;", _as_utf8(body))


def _as_utf8(body: bytes) -> bytes:
    """A body that is not UTF-8 and declares no encoding, read as Windows-1252 (what such feeds are)."""
    if XML_ENCODING.match(body):
        return body
    try:
        body.decode("utf-8")
        return body
    except UnicodeDecodeError:
        return body.decode("cp1252", "replace").encode("utf-8")


def parse_document(body: bytes, base_url: str, max_size: int = 50 * 1024 * 1024):
    """(root element, recovered): strictly parsed, else by lxml's recover mode (network and entity
    expansion still off); ListingError when nothing can be read."""
    if body[:2] == GZIP_MAGIC:
        try:
            body = gunzip(body, max_size=max_size)
        except Exception as exc:  # OSError, EOFError, zlib.error, or Scrapy's size limit being exceeded
            raise ListingError(f"broken gzip: {exc}") from None
    if body[:2] not in UTF16_BOMS:
        body = _without_bom(body).lstrip()  # blank lines before <?xml: the declaration must come first
    try:
        root = etree.fromstring(body, _parser(recover=False), base_url=base_url)
        recovered = False
    except etree.XMLSyntaxError as exc:
        try:
            root = etree.fromstring(_sloppy_fixed(body), _parser(recover=True), base_url=base_url)
        except etree.XMLSyntaxError:
            root = None
        if root is None:
            raise ListingError(f"malformed XML: {exc}") from None
        recovered = True
    if _check_entities(root):
        root = etree.fromstring(body, _parser(recover=recovered, entities="internal"), base_url=base_url)
    return root, recovered


def _absolute(link: str | None, element=None, base: str | None = None) -> str | None:
    """``link`` made absolute: against ``element``'s XML Base (its own and its ancestors' ``xml:base``, then
    the document URL) or ``base``; None when it is not an http(s) URL with a host. ValueError when malformed
    (a bad IPv6 literal, a port out of range)."""
    link = (link or "").strip()
    if PLAIN_ABSOLUTE.match(link):
        return link  # most links: nothing to resolve or check further
    if not link:
        return None
    url = urljoin((element.base if element is not None else base) or "", link)
    parts = urlsplit(url)
    parts.port  # noqa: B018 -- raises ValueError for a port that is not a number or out of range
    return url if parts.scheme in ("http", "https") and parts.hostname else None


def _rss_entry(item) -> ListingEntry | None:
    namespace = _namespace(item)  # RSS 2.0's <link> has none, RSS 1.0's is in the RSS 1.0 namespace
    children = _children(item)
    link = children.get(_tag(namespace, "link"))
    url = _absolute(_text(link), link) if link is not None else None
    guid = children.get("guid")
    if url is None and guid is not None and guid.get("isPermaLink", "true").strip().lower() != "false":
        url = _absolute(_text(guid), guid)
    if url is None:
        return None
    published = _first_text(children, _tag(namespace, "pubDate"), DC_DATE, DCTERMS_ISSUED, DCTERMS_CREATED)
    return ListingEntry(url, published=to_iso(published), modified=to_iso(_first_text(children, DCTERMS_MODIFIED)))


def _alternate(entry, namespace: str | None):
    """The entry's alternate link (RFC 4287 §4.2.7.2: ``rel`` absent means alternate): an HTML one first."""
    alternates = [link for link in entry if _is(link, namespace, "link") and link.get("href")
                  and link.get("rel", "alternate").strip() == "alternate"]
    by_type = sorted(alternates, key=lambda link: (0 if link.get("type", "").split(";")[0].strip() in HTML_TYPES
                                                    else 1 if not link.get("type") else 2))
    return by_type[0] if by_type else None


def _atom_entry(entry) -> ListingEntry | None:
    namespace = _namespace(entry)
    link = _alternate(entry, namespace)
    url = _absolute(link.get("href"), link) if link is not None else None
    if url is None:
        return None
    children = _children(entry)
    dates = {key: to_iso(_first_text(children, *(_tag(namespace, name) for name in names)))
             for key, names in ATOM_DATES.items()}
    return ListingEntry(url, **dates)


def _sitemap_entry(url_element) -> ListingEntry | None:
    namespace = _namespace(url_element)  # the document's sitemap namespace, whichever (or none) it uses
    children = _children(url_element)
    loc = children.get(_tag(namespace, "loc"))
    url = _absolute(_text(loc), loc) if loc is not None else None
    if url is None:
        return None
    news = children.get(GOOGLE_NEWS_NEWS)
    published = _first_text(_children(news), GOOGLE_NEWS_DATE) if news is not None else None
    return ListingEntry(url, published=to_iso(published), modified=to_iso(_first_text(children, _tag(namespace, "lastmod"))))


def _entries(elements, read) -> tuple[list[ListingEntry], int]:
    """Each element read on its own: one whose URL or date is malformed is skipped and counted."""
    entries, skipped = [], 0
    for element in elements:
        try:
            entry = read(element)
        except ValueError:  # urljoin/urlsplit on "http://[bad", a port out of range, a date overflow
            skipped += 1
            continue
        if entry is not None:
            entries.append(entry)
    return entries, skipped


def _last_cut_off(body: bytes, name: str) -> bool:
    """Whether the last ``<name>`` element of a recovered document never closed (the document was cut)."""
    starts = [m.start() for m in re.finditer(rb"<(?:[\w.-]+:)?" + name.encode() + rb"[\s>/]", body)]
    ends = [m.start() for m in re.finditer(rb"</(?:[\w.-]+:)?" + name.encode() + rb"\s*>", body)]
    return bool(starts) and (not ends or ends[-1] < starts[-1])


def parse_xml_listing(body: bytes, base_url: str, max_size: int = 50 * 1024 * 1024) -> Listing:
    """Article URLs (and child sitemaps) of a feed or sitemap; raises ListingError when unreadable."""
    root, recovered = parse_document(body, base_url, max_size)
    kind = XML_KINDS.get(_local(root))
    if kind is None:
        raise ListingError(f"not a feed or sitemap (root element <{_local(root)}>)")
    namespace = _namespace(root)
    entry_name, read = {"rss": ("item", _rss_entry), "atom": ("entry", _atom_entry), "sitemap": ("url", _sitemap_entry),
                        "sitemapindex": ("sitemap", _sitemap_entry)}[kind]
    if kind == "rss":
        elements = [item for item in root.iter() if _local(item) == "item"
                    and _namespace(item) in (*RSS_ITEM_NAMESPACES, namespace)]
    else:
        elements = [element for element in root if _is(element, namespace, entry_name)]
    cut_off = recovered and body[:2] != GZIP_MAGIC and bool(elements) and _last_cut_off(body, entry_name)
    if cut_off:
        elements.pop()  # the last entry of a truncated document may end mid-URL: left out, counted
    entries, skipped = _entries(elements, read)
    if recovered and not entries:
        raise ListingError("malformed XML: nothing recoverable")
    listing = Listing(kind, skipped=skipped + cut_off, recovered=recovered)
    if kind == "sitemapindex":
        listing.children = entries
    else:
        listing.entries = entries
    return listing


def robots_sitemaps(robots_txt: str, base_url: str) -> list[str]:
    """The ``Sitemap:`` URLs of a robots.txt (the field name in any case, as Scrapy's SitemapSpider reads
    it), absolute; a malformed one is left out without losing the others."""
    urls = []
    for line in robots_txt.splitlines():
        name, _, value = line.partition(":")
        if name.strip().lower() != "sitemap":
            continue
        try:
            absolute = _absolute(value.split("#", 1)[0], base=base_url)
        except ValueError:
            continue
        if absolute:
            urls.append(absolute)
    return urls
