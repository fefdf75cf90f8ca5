"""URL identity: tracking-parameter removal, site host matching and the mirror-aware request key."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tldextract import TLDExtract
from w3lib.url import canonicalize_url

from crawler.sites.profiles import SiteProfile, profiles_from_settings
from crawler.sites.signals import host_admitted

TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "igshid",
        "mc_cid", "mc_eid", "_ga", "_gl", "ref_src", "ref_url", "cmpid", "ocid", "spm",
        "at_medium", "at_campaign", "__twitter_impression", "_hsenc", "_hsmi", "mkt_tok",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hmb_")

# Offline only: the bundled public suffix list, never a download (it can hang without network).
_TLD_EXTRACT = TLDExtract(suffix_list_urls=(), cache_dir=None)


def is_tracking_param(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def strip_tracking(url: str) -> str:
    """The URL without tracking parameters and fragment; other parameters keep their order."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not is_tracking_param(k)]
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path or "/", urlencode(query), ""))


@lru_cache(maxsize=4096)
def public_host(host: str) -> bool:
    """Whether a name is a host under a known public suffix (``www.example.org``, not ``e.g`` or ``localhost``)."""
    parts = _TLD_EXTRACT(host)
    return bool(parts.domain and parts.suffix)


@lru_cache(maxsize=4096)
def registered_domain(host: str) -> str:
    """``presstv.co.uk`` for ``www.presstv.co.uk``; the host itself when it has no known suffix."""
    return _TLD_EXTRACT(host).top_domain_under_public_suffix or host


def site_host(host: str | None, profile: SiteProfile) -> str | None:
    """The profile host (live or retired) that ``host`` stands for: itself, or a ``www.`` host reached by
    its bare domain."""
    if not host:
        return None
    host = host.lower().rstrip(".")
    if host in profile.hosts or host in profile.retired:
        return host
    www = f"www.{host}"
    if (www in profile.hosts or www in profile.retired) and registered_domain(www) == host:
        return www
    return None


def normal_path(url: str) -> str:
    """The URL's path as w3lib canonicalises it: percent-escapes in one case (``caf%c3%a9`` is ``caf%C3%A9``, and
    ``café`` too), escaped unreserved characters unescaped, dot segments resolved (``/x/./y`` is ``/x/y``)."""
    try:
        return urlsplit(canonicalize_url(url)).path or "/"
    except ValueError:  # a URL w3lib cannot parse keeps its path as given
        return urlsplit(url).path or "/"


def sorted_query(url: str) -> str:
    """The query without tracking parameters, sorted and encoded one way (``?a=1&b=2``), or ''."""
    query = sorted((k, v) for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True) if not is_tracking_param(k))
    encoded = urlencode(query)
    return f"?{encoded}" if encoded else ""


def path_and_query(url: str) -> str:
    """Normal path plus sorted query without tracking parameters: the part of a URL that all mirrors share."""
    return normal_path(url) + sorted_query(url)


def legacy_path_and_query(url: str) -> str:
    """``path_and_query`` as newsmirror spelt it before paths were normalised (the path as given): the key of
    the ids that states written then hold."""
    return (urlsplit(url).path or "/") + sorted_query(url)


class SiteIndex:
    """Finds the site (profile and canonical host) a URL belongs to, among a set of profiles."""

    def __init__(self, profiles):
        self.profiles = list(profiles)
        self._hosts: dict[str | None, tuple[SiteProfile | None, str | None]] = {}

    @classmethod
    def from_settings(cls, settings) -> "SiteIndex":
        """The sites a crawl knows: built-in profiles and NEWSMIRROR_SITES_FILES."""
        return cls(profiles_from_settings(settings).values())

    @classmethod
    def from_crawler(cls, crawler) -> "SiteIndex":
        """The crawl's sites, kept up to date with the mirrors discovery admits (signal ``host_admitted``)."""
        index = cls.from_settings(crawler.settings)
        crawler.signals.connect(index.admit, signal=host_admitted)
        return index

    def admit(self, site: str, host: str) -> None:
        """Add a verified mirror to a site: its URLs are the site's from now on."""
        self.profiles = [p.with_host(host) if p.id == site else p for p in self.profiles]
        self._hosts.clear()

    def lookup(self, url: str) -> tuple[SiteProfile | None, str | None]:
        host = urlsplit(url).hostname
        if host not in self._hosts:
            self._hosts[host] = next(
                ((p, h) for p in self.profiles if (h := site_host(host, p)) is not None), (None, None)
            )
        return self._hosts[host]


def mirror_key(url: str, profile: SiteProfile) -> str | None:
    """``site:/path?query`` for a URL on any of the site's hosts (any scheme), else None."""
    if site_host(urlsplit(url).hostname, profile) is None:
        return None
    return f"{profile.id}:{path_and_query(url)}"


def legacy_mirror_key(url: str, profile: SiteProfile) -> str | None:
    """``mirror_key`` as states written before path normalisation have it (the same key for most URLs)."""
    if site_host(urlsplit(url).hostname, profile) is None:
        return None
    return f"{profile.id}:{legacy_path_and_query(url)}"


def on_host(url: str, host: str, profile: SiteProfile) -> str:
    """The same path and query (tracking removed) on another host of the site."""
    return f"{profile.scheme}://{host}{path_and_query(url)}"


def order_by_hosts(urls, profile: SiteProfile) -> list[str]:
    """URLs in profile host order (primary first), then any others, without repeats."""
    rank = {host: i for i, host in enumerate(profile.hosts)}
    unique = list(dict.fromkeys(urls))

    def position(url: str) -> tuple[int, int]:
        host = site_host(urlsplit(url).hostname, profile)
        return (rank.get(host, len(rank)), unique.index(url))

    return sorted(unique, key=position)
