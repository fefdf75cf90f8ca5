"""Politeness benchmark: newsmirror against a rate-limited server, side by side with the ideal.

Run: ``.venv/bin/python bench/politeness.py [--articles 126] [--rate 4]``. The farm puts three mirror hosts of one
site (``--articles`` articles) and a second site of 40 on one server that allows ``--rate`` requests a second,
answers 429 with Retry-After: 2 past that, and bans the client for 60 s after 10 requests sent inside such a
window (403 to everything). Both sites are crawled at full speed (no delay, 8 at once: the farm's profiles), as
a user who does not know the limit would. Printed: the crawl's time against the ideal (requests ÷ the allowed
rate), articles got, 429s, requests sent inside a Retry-After window, 403s, the exit status; then a site whose
robots.txt asks for Crawl-delay: 1 and the shortest gap between two requests to one host.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.farm.proxy import MirrorFarm  # noqa: E402
from crawler.farm.sites import FarmSite, harbor_news, make_articles  # noqa: E402


def crawl(farm: MirrorFarm, sites: list[FarmSite], scratch: Path) -> tuple[int, float, str]:
    """(exit status, seconds, summary lines) of one `newsmirror crawl` of ``sites`` through the farm."""
    profile = scratch / "sites.toml"
    profile.write_text("\n".join(site.profile_toml() for site in sites))
    env = {**os.environ, "http_proxy": farm.proxy_url, "no_proxy": ""}
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "crawler.cli", "crawl", *(site.id for site in sites), "--sites",
                             str(profile), "--output", str(scratch / "out"), "-q"], env=env, cwd=ROOT,
                            capture_output=True, text=True)
    return result.returncode, time.perf_counter() - started, "\n".join(result.stderr.strip().splitlines()[-len(sites):])


def rate_limited(articles: int, rate: float) -> dict:
    big = harbor_news(articles=articles, hosts=3)
    small = FarmSite("gulf", "Gulf Times", ["www.gulftimes.ir", "www.gulftimes.co.uk"], make_articles(40, seed=5, first_id=990100))
    with MirrorFarm([big, small]) as farm, tempfile.TemporaryDirectory() as scratch:
        server = farm.rate_limit([*big.hosts, *small.hosts], per_second=rate, retry_after=2, ban_after=10, ban_seconds=60)
        status, seconds, summary = crawl(farm, [big, small], Path(scratch))
        asked = [r for r in farm.requests if r.path != "/robots.txt"]
        got = sum(1 for path in (Path(scratch) / "out").glob("*/*.jsonl") for _ in path.open())
    served = [r for r in asked if r.status not in (429, 403)]
    ideal, ideal_articles = len(served) / rate, (articles + 40) / rate
    return {"articles": articles + 40, "articles_got": got, "requests_served": len(served), "seconds": round(seconds, 1),
            "ideal_seconds": round(ideal, 1), "time_vs_ideal": round(seconds / ideal, 2),
            "ideal_seconds_articles_only": round(ideal_articles, 1), "time_vs_articles_only": round(seconds / ideal_articles, 2),
            "answered_429": sum(r.status == 429 for r in asked), "sent_inside_retry_after": sum(bool(r.inside_retry_after) for r in asked),
            "retry_after_windows": server.windows,
            "answered_403": sum(r.status == 403 for r in asked), "banned": bool(server.banned_until), "exit_status": status,
            "summary": summary}


def crawl_delay() -> dict:
    site = harbor_news(articles=6, hosts=2)
    site.crawl_delay = 1
    with MirrorFarm([site]) as farm, tempfile.TemporaryDirectory() as scratch:
        status, seconds, _ = crawl(farm, [site], Path(scratch))
        gaps = []
        for host in site.hosts:
            times = sorted(r.at for r in farm.requests_to(host))
            gaps += [later - earlier for earlier, later in zip(times, times[1:])]
    return {"crawl_delay": 1, "requests": len(gaps) + len(site.hosts), "shortest_gap_to_one_host": round(min(gaps), 3),
            "gaps_under_crawl_delay": sum(gap < 1 for gap in gaps), "seconds": round(seconds, 1), "exit_status": status}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=126)
    parser.add_argument("--rate", type=float, default=4.0)
    args = parser.parse_args()
    limited = rate_limited(args.articles, args.rate)
    print(f"rate-limited server ({args.rate:g} requests/s, Retry-After 2 s, ban after 10 inside a window):")
    print(f"  {limited['articles_got']}/{limited['articles']} articles, {limited['requests_served']} requests served in "
          f"{limited['seconds']} s; ideal (requests / rate) {limited['ideal_seconds']} s -> {limited['time_vs_ideal']}x; "
          f"articles / rate {limited['ideal_seconds_articles_only']} s -> {limited['time_vs_articles_only']}x")
    print(f"  429 answers {limited['answered_429']}, sent inside {limited['retry_after_windows']} Retry-After windows "
          f"{limited['sent_inside_retry_after']} (all in flight when the 429 came), "
          f"403 answers {limited['answered_403']}, banned {limited['banned']}, exit status {limited['exit_status']}")
    paced = crawl_delay()
    print(f"Crawl-delay: 1 on two hosts: {paced['requests']} requests, shortest gap to one host "
          f"{paced['shortest_gap_to_one_host']} s, {paced['gaps_under_crawl_delay']} gaps under 1 s")
    print(json.dumps({"rate_limited": limited, "crawl_delay": paced}, indent=1))


if __name__ == "__main__":
    main()
