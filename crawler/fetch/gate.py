"""The gate every request passes: a target the web chose (a redirect, a meta refresh, a discovered mirror) never
reaches the machine's own network — loopback, private, link-local, shared (CGNAT), multicast, reserved or
unspecified addresses, whether spelt as an IP literal in any form or reached through a name that resolves there.

The user's own targets (a URL typed on the command line, a profile's hosts and archives, the proxy) are the
user's choice and are fetched as given; ``--allow-private`` (``NEWSMIRROR_ALLOW_PRIVATE``) lifts the rule.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass

from scrapy.exceptions import IgnoreRequest
from scrapy.resolver import CachingThreadedResolver
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.error import DNSLookupError

from crawler.reporting import stats as keys
from crawler.sites.profiles import profiles_from_settings

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
INET_ATON = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}\.?$", re.I)  # 2852039166, 0251.0376..., 127.1
SHARED = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598, carrier-grade NAT
REFUSED = "newsmirror_refused"  # meta: why the gate refused the request


def ip_literal(host: str) -> IPAddress | None:
    """The address an IP literal spells, in any form a resolver or socket would take: dotted, decimal, octal or
    hexadecimal IPv4 (``2852039166``, ``0251.0376.0251.0376``, ``0xa9fea9fe``, ``169.254.43518``), IPv6 (with a
    zone, in brackets, IPv4-mapped); None for a host name."""
    host = host.strip().strip("[]").rstrip(".")
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    if INET_ATON.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))  # the C library's reading: what would be dialled
        except OSError:
            return None
    return None


def forbidden_address(address: IPAddress) -> str | None:
    """What kind of address of the machine's own network ``address`` is, or None for a public one. IPv6 forms
    that carry an IPv4 address (mapped, 6to4, Teredo) are judged by it."""
    if isinstance(address, ipaddress.IPv6Address):
        for embedded in (address.ipv4_mapped, address.sixtofour, address.teredo and address.teredo[1]):
            if embedded is not None and (kind := forbidden_address(embedded)):
                return kind
    for kind in ("loopback", "link_local", "unspecified", "multicast", "private", "reserved"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    if address in SHARED:
        return "shared (carrier-grade NAT)"
    return None if address.is_global else "non-public"


def literal_refusal(host: str) -> str | None:
    """Why a request to ``host`` is refused without a lookup: an IP literal of the machine's own network."""
    address = ip_literal(host)
    kind = forbidden_address(address) if address is not None else None
    return f"{host} is an address of the machine's own network ({kind}: {address})" if kind else None


def address_refusal(host: str, resolve: Callable = socket.getaddrinfo) -> str | None:
    """Why a directly fetched ``host`` may not be used by the addresses its name resolves to: any address of the
    machine's own network (a name pointed at an internal service), or no address at all."""
    try:
        addresses = {info[4][0] for info in resolve(host, None)}
    except (OSError, UnicodeError) as exc:
        return f"does not resolve ({exc.strerror if isinstance(exc, OSError) and exc.strerror else exc})"
    for address in sorted(addresses):
        if kind := forbidden_address(ipaddress.ip_address(address.split("%", 1)[0])):
            return f"resolves to an address of the machine's own network ({kind}: {address})"
    return None


def is_proxied(scheme: str, host: str) -> bool:
    """Whether a request to ``host`` goes through a proxy (``http_proxy``/``https_proxy``, minus ``no_proxy``):
    then the proxy resolves the name, and its address here says nothing."""
    return scheme in getproxies() and not proxy_bypass(host)


def trusted_hosts(settings) -> frozenset[str]:
    """The targets' hosts the user chose: every profile's hosts and archives, and the command line's targets
    (``NEWSMIRROR_TRUSTED_HOSTS``)."""
    hosts = {host for profile in profiles_from_settings(settings).values()
             for host in (*profile.hosts, *(urlsplit(archive).hostname for archive in profile.archives))}
    hosts.update(settings.getlist("NEWSMIRROR_TRUSTED_HOSTS"))
    return frozenset(host.lower() for host in hosts if host)


def proxy_hosts() -> frozenset[str]:
    """The proxies' hosts (``http_proxy``, ``https_proxy``): the user's too, but only to connect to."""
    return frozenset(urlsplit(proxy).hostname for proxy in getproxies().values() if "://" in proxy) - {None}


class TargetGate:
    """Downloader middleware, first of all: a request whose host the user did not choose (a redirect's, a meta
    refresh's, a discovered mirror's) is refused, with a line that says why, when its host is an IP literal of
    the machine's own network, or, fetched directly (not through a proxy), a name that resolves into it (asked
    of ``GatedResolver``, whose answer the connection then uses)."""

    def __init__(self, stats, trusted: Iterable[str], allow_private: bool):
        self.stats, self.trusted, self.allow_private = stats, frozenset(trusted), allow_private

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats, trusted_hosts(crawler.settings), crawler.settings.getbool("NEWSMIRROR_ALLOW_PRIVATE"))

    async def process_request(self, request):
        parts = urlsplit(request.url)
        host = (parts.hostname or "").lower()
        if self.allow_private or host in self.trusted:
            return None
        why = literal_refusal(host)
        if why is None and ip_literal(host) is None and not is_proxied(parts.scheme, host):
            why = await resolved_refusal(host)
        if why is not None:
            self.refuse(request, why)
        return None

    def refuse(self, request, why: str) -> None:
        self.stats.inc_value(keys.REFUSED_TARGETS)
        chosen = " after a redirect from " + request.meta["redirect_urls"][-1] if request.meta.get("redirect_urls") else ""
        message = f"refused {request.url}{chosen}: {why} (--allow-private allows it)"
        logger.warning(message)
        request.meta[REFUSED] = message
        raise IgnoreRequest(message)


async def resolved_refusal(host: str) -> str | None:
    """Why ``host`` is refused where it resolves (``GatedResolver``, the reactor's), or None (resolved to a
    public address, or not at all: that failure is the download's to report)."""
    from twisted.internet import reactor  # the one Scrapy installed

    resolver = getattr(reactor, "resolver", None)
    if not isinstance(resolver, GatedResolver):
        return None
    try:
        await maybe_deferred_to_future(resolver.getHostByName(host))
    except DNSLookupError as exc:
        return str(exc).split("refused: ", 1)[1].rstrip(".") if "refused: " in str(exc) else None
    return None


class GatedResolver(CachingThreadedResolver):
    """Scrapy's DNS resolver (``TWISTED_DNS_RESOLVER``) that refuses a name the user did not choose when it
    resolves to an address of the machine's own network. The connection is made to the address checked here,
    so a name that changes its answer between the check and the connection (DNS rebinding) gets nowhere.
    Behind a proxy only the proxy's name is resolved here (the proxy resolves the rest)."""

    def __init__(self, reactor, cache_size: int, timeout: float, trusted: Iterable[str] = (), allow_private: bool = False):
        super().__init__(reactor, cache_size, timeout)
        self.trusted, self.allow_private = frozenset(trusted), allow_private

    @classmethod
    def from_crawler(cls, crawler, reactor):
        resolver = super().from_crawler(crawler, reactor)
        resolver.trusted = trusted_hosts(crawler.settings) | proxy_hosts()
        resolver.allow_private = crawler.settings.getbool("NEWSMIRROR_ALLOW_PRIVATE")
        return resolver

    def getHostByName(self, name: str, timeout=()):
        resolved = super().getHostByName(name, timeout)
        if self.allow_private or name.lower() in self.trusted:
            return resolved
        return resolved.addCallback(self.checked, name)

    @staticmethod
    def checked(address: str, name: str) -> str:
        if kind := forbidden_address(ipaddress.ip_address(address)):
            logger.warning("refused %s: it resolves to an address of the machine's own network (%s: %s) (--allow-private "
                           "allows it)", name, kind, address)
            raise DNSLookupError(f"refused: {name} resolves to an address of the machine's own network ({kind}: {address})")
        return address
