"""The mirror farm's server: a loopback HTTP proxy serving FarmSites on their hosts, with per-host faults."""

from __future__ import annotations

import hashlib
import threading
import time
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


class MirrorFarm:
    """The proxy server: serves every FarmSite's hosts on 127.0.0.1 and logs each request."""

    def __init__(self, sites: list[FarmSite], hang_seconds: float = 30.0):
        self.sites = {host: site for site in sites for host in site.hosts}
        self.faults: dict[str, str] = {}
        self.requests: list[FarmRequest] = []
        self.hang_seconds = hang_seconds
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None

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
                entry = FarmRequest(host, path, None, fault)
                count = farm._log(entry)
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
