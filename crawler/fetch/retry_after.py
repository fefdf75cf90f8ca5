"""The Retry-After header (RFC 9110 §10.2.3): how long a server that answered 429 or 503 asks a client to wait."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime


def parse_retry_after(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds to wait: the header's delay in seconds, or its HTTP date less ``now`` (0 for a date already past);
    None when there is no header or it is neither (junk, a negative number)."""
    text = (value.decode("latin-1") if isinstance(value, bytes) else value or "").strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if moment.tzinfo is None:  # RFC 9110 dates are GMT
            return None
        return max(0.0, moment.timestamp() - (time.time() if now is None else now))
    return seconds if seconds >= 0 and seconds == seconds and seconds != float("inf") else None
