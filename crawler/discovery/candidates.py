"""Mirror candidates in what a crawl already reads (an alternate-address notice, alternate links, listing
entries and redirects on other hosts), and the checks that refuse a candidate before anything is fetched."""

from __future__ import annotations

import codecs
import ipaddress
import re
import tomllib
from functools import lru_cache
from importlib import resources
from urllib.parse import urljoin, urlsplit

from crawler.sites.profiles import SiteProfile, is_host_name
from crawler.sites.urls import path_and_query, public_host

NOTICE_WINDOW = 2000  # characters of HTML after a notice phrase that may hold its list of hosts
NOTICE_TOKENS = 40  # tokens read after the phrase, at most
TAG = re.compile(r"<(?:a\b[^>]*?\bhref\s*=\s*[\"']?([^\"'\s>]+)[^>]*|[^>]*)>", re.S)
SEPARATOR = re.compile(r"[\s,;|•·]+|&nbsp;|&#160;")
CONNECTORS = frozenset({"and", "or", "&amp;", "&", "-", "–", "—", ":", "و", "и", "ve", "или", "یا"})
LINK_TAG = re.compile(r"<link\b[^>]*>", re.I)
ATTRIBUTE = re.compile(r"""([a-z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)


@lru_cache(maxsize=1)
def notice_phrases() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(phrases, anchors) of the built-in notices (``notices.toml``), phrases longest first."""
    data = tomllib.loads(resources.files(__package__).joinpath("notices.toml").read_text(encoding="utf-8"))
    phrases = tuple(sorted({phrase.lower() for phrase in data["phrases"]}, key=len, reverse=True))
    anchors = tuple(data["anchors"])
    unanchored = [phrase for phrase in phrases if not any(anchor.lower() in phrase for anchor in anchors)]
    if unanchored:
        raise ValueError(f"notices.toml: no anchor finds {unanchored[0]!r}")
    return phrases, anchors


def host_of(value: str) -> str | None:
    """The host a notice token, link or URL names (lower case, no port, no trailing dot), or None."""
    value = value.strip().strip("\"'()[]<>.,:;").lower()
    if not value:
        return None
    if "://" in value or value.startswith("//"):
        host = urlsplit(value if "://" in value else f"http:{value}").hostname
    else:
        host = value.split("/", 1)[0].split(":", 1)[0] if not value.startswith("[") else value
    host = (host or "").rstrip(".").strip("[]")
    return host if host and (is_ip_literal(host) or (is_host_name(host) and public_host(host))) else None


def is_ip_literal(host: str) -> bool:
    """An IP address as a page writes one (dotted or IPv6): a notice's "2024" is a year, not a host (the gate,
    ``crawler.fetch.gate``, reads every spelling a request could dial)."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def notice_start(page: bytes, phrases: tuple[str, ...], anchors: tuple[str, ...]) -> int | None:
    """Offset in ``page`` just after its first notice phrase, case-insensitively. The page's bytes are searched
    for the phrases' anchors, and only the text around a hit is decoded and lower-cased."""
    for anchor in anchors:
        piece = anchor.encode("utf-8")
        at = page.find(piece)
        while at >= 0:
            start = max(0, at - 200)
            while start and page[start] & 0xC0 == 0x80:  # not inside a character
                start -= 1
            text = page[start:at + len(piece) + 200].decode("utf-8", "surrogateescape")  # bytes round-trip
            around = text.lower()
            for phrase in phrases:
                offset = around.find(phrase)
                if offset >= 0 and len(around) == len(text):
                    return start + len(text[:offset + len(phrase)].encode("utf-8", "surrogateescape"))
            at = page.find(piece, at + 1)
    return None


def hosts_in_notice(page: bytes, encoding: str = "utf-8") -> list[str]:
    """The hosts a page's alternate-address notice lists: the host names and links that follow a notice phrase,
    up to the first word that is neither a host nor a connector ("and", a comma). ``encoding``: the page's
    (a legacy one, windows-1251 or -1256, is read as such: the phrases are searched for in UTF-8)."""
    if codecs.lookup(encoding).name not in ("utf-8", "ascii"):
        page = page.decode(encoding, "replace").encode("utf-8")
    found: list[str] = []
    after = notice_start(page, *notice_phrases())
    if after is not None:
        window = page[after:after + NOTICE_WINDOW].decode("utf-8", "replace").lower()
        text = TAG.sub(lambda tag: f" {tag.group(1)} " if tag.group(1) else " ", window)  # a link stands for its href
        hosts_seen = 0
        for token in SEPARATOR.split(text)[:NOTICE_TOKENS]:
            if not token or token in CONNECTORS or not token.strip(":.,;"):
                continue
            host = host_of(token)
            if host is None:
                if hosts_seen:
                    break
                continue
            hosts_seen += 1
            if host not in found:
                found.append(host)
    return found


def alternate_link_hosts(page: bytes, url: str) -> list[str]:
    """Hosts of a page's ``<link rel="alternate">`` (hreflang too) that serve the page's own path on another host."""
    head_end = page.find(b"</head>")
    if head_end < 0:
        head_end = page.find(b"</HEAD>")
    head = page[:head_end if head_end > 0 else 65536].decode("utf-8", "replace")
    own_host, own_path = urlsplit(url).hostname, path_and_query(url)
    hosts: list[str] = []
    for tag in LINK_TAG.findall(head):
        attributes = {name.lower(): next(v for v in values if v) if any(values) else ""
                      for name, *values in ATTRIBUTE.findall(tag)}
        if "alternate" not in attributes.get("rel", "").lower().split() or not attributes.get("href"):
            continue
        target = urljoin(url, attributes["href"])
        host = host_of(target)
        if host and host != own_host and path_and_query(target) == own_path and host not in hosts:
            hosts.append(host)
    return hosts


def refusal(host: str, profile: SiteProfile) -> str | None:
    """Why ``host`` may never be admitted to the site, known without any network: an IP address, or a host
    the profile excludes (a name in ``exclude`` and every name under it)."""
    if is_ip_literal(host):
        return "an IP address, not a host name"
    if any(host == excluded or host.endswith(f".{excluded}") for excluded in profile.exclude):
        return "excluded by the site profile"
    return None
