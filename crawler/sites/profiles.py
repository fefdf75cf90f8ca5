"""Site profiles: TOML tables describing a site's hosts, start pages, article rule and clean rules.

Built-in profiles ship in ``crawler/sites/*.toml``; user files add or override them.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import urlsplit

from cssselect import GenericTranslator, SelectorError

HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
SITE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an RFC 9110 token
PROFILE_KEYS = {"name", "hosts", "scheme", "start", "article", "clean", "robots_sitemaps", "archives", "retired",
                "discover", "exclude", "delay", "concurrency", "user_agent", "headers", "max_age"}
CLEAN_KEYS = {"drop", "drop_text", "paywall"}


class ProfileError(ValueError):
    """A site profile that cannot be used; the message names file, site and key."""

    def __init__(self, file: str, site: str | None, key: str | None, problem: str):
        self.file, self.site, self.key, self.problem = file, site, key, problem
        where = file
        if site is not None:
            where += f": site [{site}]"
        if key is not None:
            where += f", key '{key}'"
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class CleanRules:
    drop: tuple[str, ...] = ()
    drop_text: tuple[str, ...] = ()
    paywall: tuple[str, ...] = ()  # CSS selectors whose presence marks a page paywalled


@dataclass(frozen=True)
class SiteProfile:
    id: str
    name: str
    hosts: tuple[str, ...]
    scheme: str = "https"
    start: tuple[str, ...] = ("/",)
    article: re.Pattern[str] | None = None
    clean: CleanRules = field(default_factory=CleanRules)
    robots_sitemaps: bool = True  # the Sitemap: lines of every host's robots.txt join the start URLs
    archives: tuple[str, ...] = ()  # base URLs of Wayback-compatible archives: the last mirror, and backfill
    retired: tuple[str, ...] = ()  # hosts dead for good: never fetched live, listed and fetched through archives
    discover: bool = True  # find new mirrors from the site's own pages, feeds and redirects (crawler.discovery)
    exclude: tuple[str, ...] = ()  # host names discovery never admits (nor fetches)
    delay: float | None = None  # seconds between two requests to the site (None: DOWNLOAD_DELAY)
    concurrency: int | None = None  # requests to the site at once (None: CONCURRENT_REQUESTS_PER_DOMAIN)
    user_agent: str | None = None  # the User-Agent sent to the site (None: USER_AGENT)
    headers: tuple[tuple[str, str], ...] = ()  # more request headers for the site
    max_age: float | None = None  # days: listing entries older than this are not followed
    source: str = "<built-in>"

    @property
    def primary(self) -> str:
        return self.hosts[0]

    def with_host(self, host: str) -> "SiteProfile":
        """The profile with a discovered mirror added after its own hosts (ranked last)."""
        return self if host in self.hosts else replace(self, hosts=(*self.hosts, host))

    def start_urls(self, hosts: Iterable[str] | None = None) -> list[str]:
        """Every start entry, paths expanded on each of ``hosts`` (all hosts by default)."""
        hosts = tuple(self.hosts if hosts is None else hosts)
        urls: list[str] = []
        for entry in self.start:
            if entry.startswith("/"):
                urls.extend(f"{self.scheme}://{host}{entry}" for host in hosts)
            else:
                urls.append(entry)
        return urls

    def is_article_path(self, path_and_query: str) -> bool | None:
        """True/False by the profile's article rule; None when the profile has no rule."""
        if self.article is None:
            return None
        return bool(self.article.search(path_and_query))


def is_host_name(value: str) -> bool:
    labels = value.split(".")
    return len(labels) >= 2 and all(HOST_LABEL.match(label) for label in labels) and not labels[-1].isdigit()


def unknown_key(key: str, allowed: set[str]) -> str:
    """The problem with an unknown key: the closest allowed key when it looks misspelt, and every allowed key."""
    close = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.6)
    return (f"unknown key; did you mean '{close[0]}'?" if close else "unknown key") + f" (allowed: {', '.join(sorted(allowed))})"


def _expect_list_of_str(file: str, site: str, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ProfileError(file, site, key, f"expected a list of strings, got {value!r}")
    return tuple(value)


def _parse_clean(file: str, site: str, table: Any) -> CleanRules:
    if not isinstance(table, dict):
        raise ProfileError(file, site, "clean", f"expected a table, got {table!r}")
    unknown = sorted(set(table) - CLEAN_KEYS)
    if unknown:
        raise ProfileError(file, site, f"clean.{unknown[0]}", unknown_key(unknown[0], CLEAN_KEYS))
    drop, paywall = (_css_selectors(file, site, f"clean.{key}", table.get(key, [])) for key in ("drop", "paywall"))
    drop_text = _expect_list_of_str(file, site, "clean.drop_text", table.get("drop_text", []))
    if any(not text.strip() for text in drop_text):
        raise ProfileError(file, site, "clean.drop_text", "empty phrase would drop every block")
    return CleanRules(drop=drop, drop_text=drop_text, paywall=paywall)


def _css_selectors(file: str, site: str, key: str, value: Any) -> tuple[str, ...]:
    selectors = _expect_list_of_str(file, site, key, value)
    for selector in selectors:
        try:
            GenericTranslator().css_to_xpath(selector)
        except SelectorError as exc:
            raise ProfileError(file, site, key, f"invalid CSS selector {selector!r}: {exc}") from None
    return selectors


def parse_profile(file: str, site: str, table: Any) -> SiteProfile:
    """Validate one site's TOML table into a SiteProfile, or raise ProfileError."""
    if not SITE_ID.match(site):
        raise ProfileError(file, site, None, "site id must be lower-case letters, digits, '-' or '_'")
    if not isinstance(table, dict):
        raise ProfileError(file, site, None, f"expected a table, got {table!r}")
    unknown = sorted(set(table) - PROFILE_KEYS)
    if unknown:
        raise ProfileError(file, site, unknown[0], unknown_key(unknown[0], PROFILE_KEYS))
    if "hosts" not in table:
        raise ProfileError(file, site, "hosts", "missing (a list of host names, primary first)")
    hosts = _expect_list_of_str(file, site, "hosts", table["hosts"])
    if not hosts:
        raise ProfileError(file, site, "hosts", "empty: a site needs at least one host")
    for host in hosts:
        if not is_host_name(host):
            raise ProfileError(file, site, "hosts", f"{host!r} is not a host name (no scheme, port or path)")
    if len(set(hosts)) != len(hosts):
        raise ProfileError(file, site, "hosts", "lists a host twice")
    name = table.get("name", site)
    if not isinstance(name, str) or not name.strip():
        raise ProfileError(file, site, "name", f"expected a non-empty string, got {name!r}")
    scheme = table.get("scheme", "https")
    if scheme not in ("http", "https"):
        raise ProfileError(file, site, "scheme", f"expected \"http\" or \"https\", got {scheme!r}")
    start = _expect_list_of_str(file, site, "start", table.get("start", ["/"]))
    if not start:
        raise ProfileError(file, site, "start", "empty: give at least one feed, sitemap or page")
    for entry in start:
        if not (entry.startswith("/") or re.match(r"^https?://[^/]+", entry)):
            raise ProfileError(file, site, "start", f"{entry!r} is neither a path starting with '/' nor an http(s) URL")
    article = None
    if "article" in table:
        if not isinstance(table["article"], str):
            raise ProfileError(file, site, "article", f"expected a regular expression string, got {table['article']!r}")
        try:
            article = re.compile(table["article"])
        except re.error as exc:
            raise ProfileError(file, site, "article", f"invalid regular expression: {exc}") from None
    clean = _parse_clean(file, site, table.get("clean", {}))
    robots_sitemaps = table.get("robots_sitemaps", True)
    if not isinstance(robots_sitemaps, bool):
        raise ProfileError(file, site, "robots_sitemaps", f"expected true or false, got {robots_sitemaps!r}")
    archives = tuple(base.rstrip("/") for base in _expect_list_of_str(file, site, "archives", table.get("archives", [])))
    for base in archives:
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ProfileError(file, site, "archives", f"{base!r} is not an http(s) base URL such as \"https://web.archive.org\"")
    retired = _expect_list_of_str(file, site, "retired", table.get("retired", []))
    for host in retired:
        if not is_host_name(host):
            raise ProfileError(file, site, "retired", f"{host!r} is not a host name (no scheme, port or path)")
        if host in hosts:
            raise ProfileError(file, site, "retired", f"{host!r} is also in hosts: a host is live or retired, not both")
    discover = table.get("discover", True)
    if not isinstance(discover, bool):
        raise ProfileError(file, site, "discover", f"expected true or false, got {discover!r}")
    exclude = tuple(host.lower() for host in _expect_list_of_str(file, site, "exclude", table.get("exclude", [])))
    for host in exclude:
        if not is_host_name(host):
            raise ProfileError(file, site, "exclude", f"{host!r} is not a host name (no scheme, port or path)")
        if host in hosts:
            raise ProfileError(file, site, "exclude", f"{host!r} is also in hosts: a host cannot be both used and excluded")
    return SiteProfile(
        id=site, name=name, hosts=hosts, scheme=scheme, start=start, article=article, clean=clean,
        robots_sitemaps=robots_sitemaps, archives=archives, retired=retired, discover=discover, exclude=exclude,
        delay=_number(file, site, table, "delay", minimum=0.0),
        concurrency=_integer(file, site, table, "concurrency", minimum=1),
        user_agent=_header_value(file, site, "user_agent", table.get("user_agent")),
        headers=_headers(file, site, table.get("headers", {})),
        max_age=_number(file, site, table, "max_age", minimum=0.0, unit="days"),
        source=file,
    )


def _number(file: str, site: str, table: dict, key: str, minimum: float, unit: str = "seconds") -> float | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        raise ProfileError(file, site, key, f"expected a number of {unit} of at least {minimum:g}, got {value!r}")
    return float(value)


def _integer(file: str, site: str, table: dict, key: str, minimum: int) -> int | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ProfileError(file, site, key, f"expected a whole number of at least {minimum}, got {value!r}")
    return value


def _header_value(file: str, site: str, key: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or any(c in value for c in "\r\n"):
        raise ProfileError(file, site, key, f"expected a one-line, non-empty string, got {value!r}")
    return value


def _headers(file: str, site: str, table: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(table, dict):
        raise ProfileError(file, site, "headers", f"expected a table of header names and values, got {table!r}")
    for name, value in table.items():
        if not HEADER_NAME.match(name):
            raise ProfileError(file, site, f"headers.{name}", "not an HTTP header name")
        _header_value(file, site, f"headers.{name}", value)
    return tuple(table.items())


def parse_profiles_file(path) -> dict[str, SiteProfile]:
    """Read one TOML file of profiles (a path, or a package resource); every problem raises ProfileError
    naming the file."""
    file = str(path)
    try:
        data = tomllib.loads((path if hasattr(path, "read_text") else Path(path)).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProfileError(file, None, None, f"cannot read: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProfileError(file, None, None, f"not valid TOML: {exc}") from None
    if not data:
        raise ProfileError(file, None, None, "defines no site")
    return {site: parse_profile(file, site, table) for site, table in data.items()}


def builtin_profile_files() -> list:
    """The package's own profile files, as resources (they may live in a zip, e.g. a Scrapyd egg)."""
    folder = resources.files(__package__)
    return sorted((entry for entry in folder.iterdir() if entry.name.endswith(".toml")), key=lambda e: e.name)


def load_profiles(extra_files: Iterable[str | Path] = ()) -> dict[str, SiteProfile]:
    """Built-in profiles, then each extra file's profiles (which override same-id ones)."""
    profiles: dict[str, SiteProfile] = {}
    for path in [*builtin_profile_files(), *extra_files]:
        profiles.update(parse_profiles_file(path))
    return profiles


def profiles_from_settings(settings) -> dict[str, SiteProfile]:
    """The profiles a crawl uses: built-ins plus the files in NEWSMIRROR_SITES_FILES."""
    return load_profiles(settings.getlist("NEWSMIRROR_SITES_FILES"))
