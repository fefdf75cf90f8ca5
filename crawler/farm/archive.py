"""The mirror farm's web archive: a Wayback-compatible archive on a loopback host, answering the CDX server
API (JSON, prefix queries, collapse, negative limits, resume keys) and ``/web/<timestamp>id_/<url>`` with the
archived bytes, with the faults real archives have: a 429 with Retry-After, a snapshot that is a seizure
notice with an older good one behind it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta, timezone
from urllib.parse import parse_qs, unquote, urlsplit

from crawler.farm.proxy import SEIZURE_NOTICE
from crawler.farm.sites import FarmSite

ARCHIVE_HOST = "web.archive.farm"


@dataclass
class Capture:
    timestamp: str
    original: str
    body: bytes | None  # None: listed by the CDX, but the archive answers 404 for it
    status: str = "200"
    mimetype: str = "text/html"


@dataclass
class FarmArchive:
    """Captures of FarmSites' pages; ``throttle_once``: the first CDX query answers 429, Retry-After: 1."""

    captures: list[Capture] = field(default_factory=list)
    hosts: list[str] = field(default_factory=lambda: [ARCHIVE_HOST])
    throttle_once: bool = True
    page_size_cap: int = 1000
    throttled: int = 0
    truncated_cdx: set[str] = field(default_factory=set)  # URLs (without scheme) whose CDX answer is cut short
    redirects: dict[str, str] = field(default_factory=dict)  # snapshot path (/web/<stamp>id_/<url>) -> where it 302s

    @property
    def base(self) -> str:
        return f"http://{self.hosts[0]}"

    def capture_site(self, site: FarmSite, host: str, articles=None, extra: tuple[str, ...] = ("/", "/rss.xml")) -> None:
        """Capture ``articles`` (default all) of ``site`` as served on ``host``, a day after publication, and
        some pages that are not articles."""
        for article in site.articles if articles is None else articles:
            when = (article.published + timedelta(days=1)).astimezone(timezone.utc).strftime("%Y%m%d%H%M%S")
            self.captures.append(Capture(when, f"http://{host}{site.path_on(article, host)}", site.article_html(article, host)))
        for path in extra:
            self.captures.append(Capture("20260101000000", f"http://{host}{path}", b"<html><body>front page</body></html>"))

    def seize(self, original: str, timestamp: str) -> None:
        """A newer snapshot of ``original`` that is a seizure notice (the domain was taken after the article)."""
        body = (f"<html><head><title>THIS DOMAIN HAS BEEN SEIZED</title></head><body><p>{SEIZURE_NOTICE}</p>"
                "</body></html>").encode()
        self.captures.append(Capture(timestamp, original, body))

    def page(self, host: str, path_qs: str):
        parts = urlsplit(path_qs)
        if parts.path == "/cdx/search/cdx":
            if self.throttle_once and not self.throttled:
                self.throttled += 1
                return 429, "text/plain", b"Too Many Requests\n", {"Retry-After": "1"}
            query = parse_qs(parts.query)
            answer = self.cdx(query)
            return 200, "application/json", answer[: len(answer) // 2] if query["url"][0] in self.truncated_cdx else answer
        if path_qs in self.redirects:
            return 302, "text/html", b"", {"Location": self.redirects[path_qs]}
        if parts.path.startswith("/web/"):
            stamp, _, original = path_qs[len("/web/"):].partition("/")
            for capture in self.captures:
                if stamp == f"{capture.timestamp}id_" and capture.original == unquote(original) and capture.body is not None:
                    return 200, capture.mimetype, capture.body
            return 404, "text/html", b"<html><body><h1>Not Found</h1><p>Wayback Machine has not archived that URL.</p></body></html>"
        return 404, "text/plain", b"not found\n"

    def cdx(self, query: dict[str, list[str]]) -> bytes:
        url = query["url"][0]
        wanted = url.split("://", 1)[-1]
        prefix = query.get("matchType", [""])[0] == "prefix"
        rows = sorted((c for c in self.captures if (c.original.split("://", 1)[-1].startswith(wanted) if prefix
                                                    else c.original.split("://", 1)[-1] == wanted)),
                      key=lambda c: (c.original.split("://", 1)[-1], c.timestamp) if prefix else (c.timestamp,))
        if "statuscode:200" in query.get("filter", []):
            rows = [c for c in rows if c.status == "200"]
        since, until = query.get("from", [""])[0], query.get("to", [""])[0]
        rows = [c for c in rows if (not since or c.timestamp >= since.ljust(14, "0"))
                and (not until or c.timestamp <= until.ljust(14, "9"))]
        if "urlkey" in query.get("collapse", []):
            seen, collapsed = set(), []
            for capture in rows:
                if capture.original not in seen:
                    seen.add(capture.original)
                    collapsed.append(capture)
            rows = collapsed
        limit = int(query.get("limit", ["0"])[0] or 0)
        resume = None
        if limit < 0:
            rows = rows[limit:]
        elif limit:
            start = int(query.get("resumeKey", ["0"])[0])
            rows, resume = rows[start:start + limit], (str(start + limit) if start + limit < len(rows) else None)
        fields = query.get("fl", ["timestamp,original,statuscode,mimetype,digest"])[0].split(",")
        def row(capture: Capture) -> list[str]:
            values = {"timestamp": capture.timestamp, "original": capture.original, "statuscode": capture.status,
                      "mimetype": capture.mimetype, "digest": capture.timestamp}
            return [values.get(name, "-") for name in fields]

        table = [fields] + [row(c) for c in rows]
        if resume and query.get("showResumeKey", [""])[0] == "true":
            table += [[], [resume]]
        return json.dumps(table).encode()
