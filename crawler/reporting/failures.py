"""Download failures in words: a short, stable reason per exception for logs, stats and records."""

from __future__ import annotations

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as twisted_errors

REASONS: tuple[tuple[tuple[type[BaseException], ...], str], ...] = (
    ((CannotResolveHostError, twisted_errors.DNSLookupError), "DNS lookup failed"),
    ((DownloadConnectionRefusedError, twisted_errors.ConnectionRefusedError), "connection refused"),
    ((DownloadTimeoutError, twisted_errors.TimeoutError, twisted_errors.TCPTimedOutError), "timed out"),
    ((ResponseDataLossError,), "response cut short"),
    ((DownloadFailedError, twisted_errors.ConnectionDone, twisted_errors.ConnectionLost), "connection closed without a response"),
    ((IgnoreRequest,), "request dropped"),
)


def failure_reason(exception: BaseException) -> str:
    """``'HTTP 503'``, ``'connection refused'``, ``'timed out'``, ...: what went wrong, in a few words."""
    response = getattr(exception, "response", None)
    if isinstance(exception, HttpError) and response is not None:
        return f"HTTP {response.status}"
    for classes, reason in REASONS:
        if isinstance(exception, classes):
            if reason == "request dropped" and str(exception):
                return str(exception)
            return reason
    if "SSL" in type(exception).__name__ or "TLS" in type(exception).__name__:
        return "TLS error"
    return type(exception).__name__
