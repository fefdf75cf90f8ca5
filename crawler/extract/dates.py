"""Date normalisation: the date formats news pages, feeds and sitemaps use, to ISO 8601."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

URL_DATE = re.compile(r"/((?:19|20)\d{2})[/-](\d{1,2})[/-](\d{1,2})(?:/|$)")
_FORMATS = (
    "%m/%d/%Y %I:%M:%S %p",  # DC.Date.Created on Press TV: 3/9/2026 11:50:13 AM
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y",
    "%a %b %d, %Y %I:%M%p",  # older Press TV dateline: Sun Mar 17, 2019 01:16PM
    "%B %d, %Y",
    "%d %B %Y",
    "%Y/%m/%d",
    "%Y%m%d",
)


def _iso(moment: datetime, with_time: bool = True) -> str:
    if not with_time:
        return moment.date().isoformat()
    return moment.isoformat(timespec="seconds")


def to_iso(value: str | None) -> str | None:
    """ISO 8601 for a date string (with offset when the source gives one), else None."""
    if not value or not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return text
    try:
        candidate = text.replace("Z", "+00:00") if text.endswith("Z") else text
        return _iso(datetime.fromisoformat(candidate))
    except ValueError:
        pass
    if re.search(r"[A-Za-z]{3},? ", text) or re.search(r"\d{2}:\d{2}(:\d{2})? ?(GMT|UTC|[+-]\d{4})", text):
        try:
            return _iso(parsedate_to_datetime(text))
        except (TypeError, ValueError, IndexError):
            pass
    for fmt in _FORMATS:
        try:
            moment = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return _iso(moment, with_time="%H" in fmt or "%I" in fmt)
    return None


def date_from_url(url: str) -> str | None:
    """``YYYY-MM-DD`` from a dated URL path such as ``/Detail/2019/1/23/586614/``."""
    match = URL_DATE.search(url)
    if not match:
        return None
    try:
        return datetime(int(match[1]), int(match[2]), int(match[3])).date().isoformat()
    except ValueError:
        return None


def stated_new_year(day: str, text: str) -> bool:
    """Whether ``text`` states 1 January of ``day``'s year as a date (ISO, numeric or English), rather than
    the year alone: a date guessed from a year alone (htmldate's last resort) reads as 1 January."""
    year = day[:4]
    spellings = (f"{year}-01-01", f"01.01.{year}", f"1.1.{year}", f"01/01/{year}", f"1/1/{year}",
                 f"1 january {year}", f"january 1, {year}", f"jan 1, {year}", f"jan. 1, {year}", f"january 1st, {year}")
    lowered = " ".join(text.lower().split())
    return any(spelling in lowered for spelling in spellings)


def agreed_date(by_trust: list[str | None], by_precision: list[str | None]) -> str | None:
    """The date most of the sources give (by day), else the most trusted source's; spelled by the most
    precise source giving that day (a time and offset beat a bare day).

    ``by_trust`` and ``by_precision`` hold the same ISO 8601 candidates in two orders.
    """
    days = [value[:10] for value in by_trust if value]
    if not days:
        return None
    day = max(days, key=lambda d: (days.count(d), -days.index(d)))
    return next(value for value in by_precision if value and value[:10] == day)


def utc_now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
