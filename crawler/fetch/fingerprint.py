"""Mirror-aware request fingerprints: one identity for the same path on every host of a site."""

from __future__ import annotations

import hashlib
from weakref import WeakKeyDictionary

from scrapy import Request
from scrapy.utils.request import fingerprint as default_fingerprint

from crawler.sites.urls import SiteIndex, mirror_key

PER_HOST = "newsmirror_per_host"


def request_identity(request: Request, sites: SiteIndex) -> bytes:
    """Fingerprint of a request: mirror key for site hosts (scheme, host and tracking ignored).

    A request with ``meta[PER_HOST]`` (feeds, sitemaps, section pages, which every host is asked
    for) keeps its host in the identity.
    """
    profile, host = sites.lookup(request.url)
    if profile is None:
        return default_fingerprint(request)
    key = mirror_key(request.url, profile)
    if request.meta.get(PER_HOST):
        key = f"{host}/{key}"
    digest = hashlib.sha1()
    digest.update(request.method.encode("ascii"))
    digest.update(b"\0" + key.encode("utf-8") + b"\0")
    digest.update(request.body or b"")
    return digest.digest()


class MirrorAwareRequestFingerprinter:
    """REQUEST_FINGERPRINTER_CLASS that collapses mirror and tracking-parameter variants of a URL."""

    def __init__(self, sites: SiteIndex):
        self.sites = sites
        self._cache: WeakKeyDictionary[Request, bytes] = WeakKeyDictionary()

    @classmethod
    def from_crawler(cls, crawler):
        return cls(SiteIndex.from_crawler(crawler))

    def fingerprint(self, request: Request) -> bytes:
        if request not in self._cache:
            self._cache[request] = request_identity(request, self.sites)
        return self._cache[request]
