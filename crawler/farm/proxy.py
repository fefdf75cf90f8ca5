"""The mirror farm's server: a loopback HTTP proxy serving FarmSites on their hosts, with per-host faults."""

from __future__ import annotations

import hashlib
import threading
import time
from email.utils import formatdate
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from crawler.farm.sites import FarmSite

FAULTS = ("refuse", "error", "flaky", "hang", "seized", "redirect")
SEIZURE_NOTICE = (
    "This domain has been seized by the Federal Bureau of Investigation in accordance with a seizure "
    "warrant issued pursuant to 18 U.S.C. § 981 and 50 U.S.C. 1701-1705 as part of a law enforcement "
    "action by the Bureau of Industry and Security, Office of Export Enforcement."
)


@dataclass
class FarmRequest:
    host: str
    path: str
    status: int | None
    fault: str | None
    at: float = field(default_factory=time.monotonic)  # when the farm received it
    inside_retry_after: int = 0  # sent while the server had asked (429 Retry-After) to wait: the window's number
    user_agent: str = ""


@dataclass
class RateLimitedServer:
    """Hosts that share one server behind a rate limiter, as a CDN or web application firewall runs it: it
    allows ``per_second`` requests in any second; past that it answers 429 with Retry-After (``retry_after``
    seconds, or as an HTTP date with ``http_date``), and after ``ban_after`` requests sent inside such a
    window it bans the client: 403 to everything for ``ban_seconds``. ``ban_after_total`` bans after that
    many requests in all, whatever their pace (a firewall that has had enough)."""

    hosts: frozenset[str]
    per_second: float = 4.0
    retry_after: float = 2.0
    http_date: bool = False
    ban_after: int = 10
    ban_seconds: float = 60.0
    ban_after_total: int | None = None
    served: list[float] = field(default_factory=list)
    window_until: float = 0.0
    windows: int = 0  # Retry-After windows opened
    violations: int = 0
    total: int = 0
    banned_until: float = 0.0

    def answer(self, now: float) -> tuple[int | None, dict[str, str], int]:
        """(status to answer instead of the page, or None to serve it; headers; the number of the Retry-After
        window the request came inside, or 0)."""
        self.total += 1
        inside = self.windows if now < self.window_until else 0
        if inside:
            self.violations += 1
        too_many = self.ban_after_total is not None and self.total > self.ban_after_total
        if (too_many or self.violations >= self.ban_after) and not self.banned_until:
            self.banned_until = now + self.ban_seconds
        if now < self.banned_until:
            return 403, {}, inside
        self.served = [at for at in self.served if now - at < 1.0]
        if inside or len(self.served) >= self.per_second:
            if not inside:
                self.windows += 1
            self.window_until = max(self.window_until, now + self.retry_after)
            return 429, {"Retry-After": self.retry_after_header()}, inside
        self.served.append(now)
        return None, {}, inside

    def retry_after_header(self) -> str:
        if self.http_date:
            return formatdate(time.time() + self.retry_after + 1, usegmt=True)  # whole seconds: round up
        return f"{self.retry_after:g}"

    def lift_ban(self) -> None:
        self.banned_until, self.violations, self.total, self.window_until = 0.0, 0, 0, 0.0


class MirrorFarm:
    """The proxy server: serves every FarmSite's hosts on 127.0.0.1 and logs each request."""

    def __init__(self, sites: list[FarmSite], hang_seconds: float = 30.0):
        self.sites = {host: site for site in sites for host in site.hosts}
        self.faults: dict[str, str] = {}
        self.servers: dict[str, RateLimitedServer] = {}  # host -> the rate-limited server it is on
        self.requests: list[FarmRequest] = []
        self.hang_seconds = hang_seconds
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    def rate_limit(self, hosts, **limits) -> RateLimitedServer:
        """Put ``hosts`` on one rate-limited server (``RateLimitedServer``'s limits)."""
        server = RateLimitedServer(frozenset(hosts), **limits)
        self.servers.update((host, server) for host in hosts)
        return server

    def set_fault(self, host: str, fault: str | None) -> None:
        if fault is not None and fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; choose from {', '.join(FAULTS)}")
        if fault is None:
            self.faults.pop(host, None)
        else:
            self.faults[host] = fault

    @property
    def proxy_url(self) -> str:
        assert self._server is not None, "farm not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def _log(self, entry: FarmRequest) -> int:
        with self._lock:
            self.requests.append(entry)
            return sum(1 for r in self.requests if r.host == entry.host)

    def requests_to(self, host: str) -> list[FarmRequest]:
        with self._lock:
            return [r for r in self.requests if r.host == host]

    def start(self) -> "MirrorFarm":
        farm = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args):  # quiet: the farm keeps its own log
                pass

            def do_GET(self):
                parts = urlsplit(self.path)
                host = (parts.hostname or self.headers.get("Host", "").split(":")[0]).lower()
                path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
                site = farm.sites.get(host)
                fault = farm.faults.get(host)
                if site is None:
                    farm._log(FarmRequest(host, path, 502, None))
                    return self._send(502, "text/plain", f"farm: unknown host {host}\n".encode())
                entry = FarmRequest(host, path, None, fault, user_agent=self.headers.get("User-Agent", ""))
                count = farm._log(entry)
                server = farm.servers.get(host)
                if server is not None and path != "/robots.txt":
                    with farm._lock:
                        status, headers, entry.inside_retry_after = server.answer(entry.at)
                    if status is not None:
                        entry.status = status
                        body = b"<html><body><h1>Too Many Requests</h1></body></html>" if status == 429 else \
                            b"<html><head><title>403 Forbidden</title></head><body><h1>Access denied</h1></body></html>"
                        return self._send(status, "text/html", body, None, headers)
                if fault == "refuse":
                    self.close_connection = True
                    return
                if fault == "hang":
                    farm._stopping.wait(farm.hang_seconds)
                    self.close_connection = True
                    return
                if fault == "error" or (fault == "flaky" and count % 3 != 0):
                    return self._send(503, "text/html", b"<html><body><h1>503 Service Unavailable</h1></body></html>")
                if fault == "redirect":  # to the same path on a seized .com domain, off the site
                    self.send_response(301)
                    self.send_header("Location", f"http://www.{host.split('.')[1]}.com{path}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if fault == "seized":
                    body = (f"<html><head><title>THIS DOMAIN HAS BEEN SEIZED</title></head><body><img src='/seized.png'>"
                            f"<p>{SEIZURE_NOTICE}</p></body></html>").encode()
                    return self._send(200, "text/html; charset=utf-8", body)
                status, content_type, body, *headers = site.page(host, path)
                etag = f'"{hashlib.sha1(body).hexdigest()[:16]}"' if "xml" in content_type or "gzip" in content_type else None
                if etag and self.headers.get("If-None-Match") == etag:  # feeds and sitemaps answer conditionally
                    entry.status = 304
                    return self._send(304, content_type, b"", etag)
                entry.status = status
                self._send(status, content_type, body, etag, *headers)

            def _send(self, status: int, content_type: str, body: bytes, etag: str | None = None,
                      headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                if etag:
                    self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(body)

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 128

        self._server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, name="mirror-farm", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> "MirrorFarm":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
