"""Crawl benchmark: newsmirror on a farm site on three hosts, extraction in the process pool and
in-process, vs the Scrapy spider a user would write (trafilatura with metadata in an item pipeline, no mirror
handling) and a bare Scrapy spider, fetching the same pages.

Run: ``.venv/bin/python bench/crawl.py [--articles 2000] [--pages real|farm] [--rounds 3]``. newsmirror crawls
in three ways: in-process, with a pool of cores − 1 workers and with the default pool (one worker per core).
With ``--pages real`` (the default when the dev set is there) the site's article pages are the dev set's real
news pages (~100 KB, ~20 ms of extraction each); ``farm`` serves the farm's own small pages (~9 KB, ~2 ms).
Every crawl runs here, one after the other, through the same loopback farm with the same concurrency: first
in-process, then with the default pool (whose requests give the other spiders their URLs), then with the
site's hosts pinned, then the bare spider; then, ``--rounds`` times (default 3), the peer, the smaller pool and
the default pool again, so that a machine whose speed drifts during the run (a shared host) shifts both sides
of each ratio alike. The peer is a plain Scrapy spider that fetches the same pages, sends each article page
to an item pipeline calling ``trafilatura.bare_extraction`` with metadata, and writes the results as JSON
lines through Scrapy's feed export. The ratios are newsmirror's articles/s with the pool over in-process, over the bare spider's pages/s
turned into articles/s (what a crawler that does no extraction could reach), and over the peer's: each
crawl's figure is its median, each ratio against the peer the median of the rounds' own ratios. The crawl with
pinned hosts (``discover = false``) gives the requests and time that mirror discovery adds on a site with
nothing new to discover (its notice names only hosts the profile has).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.extract.article import ExtractionError, extract_article  # noqa: E402
from crawler.farm.proxy import MirrorFarm  # noqa: E402
from crawler.farm.sites import harbor_news  # noqa: E402

DEV_SET = ROOT.parent / "shared" / "data" / "extraction-dev"

COMMON_SETTINGS = {"AUTOTHROTTLE_ENABLED": "False", "CONCURRENT_REQUESTS": "16",
                   "CONCURRENT_REQUESTS_PER_DOMAIN": "16", "LOG_LEVEL": "WARNING"}


def bare_spider(url_file: str) -> None:
    """Download every URL in ``url_file`` with plain Scrapy and do nothing with the pages."""
    import scrapy
    from scrapy.crawler import CrawlerProcess

    urls = Path(url_file).read_text().split()

    class BareSpider(scrapy.Spider):
        name = "bare"

        async def start(self):
            for url in urls:
                yield scrapy.Request(url, dont_filter=True)

        def parse(self, response):
            pass

    process = CrawlerProcess({**COMMON_SETTINGS, "ROBOTSTXT_OBEY": True})
    process.crawl(BareSpider)
    process.start()


def peer_spider(url_file: str, article_rule: str, output: str) -> None:
    """What a user would write without newsmirror: fetch every URL in ``url_file`` with plain Scrapy, hand each
    article page (its path matches ``article_rule``) to an item pipeline that extracts it with trafilatura, text
    and metadata, and export the items as JSON lines. No mirror handling, no deduplication."""
    import re
    from urllib.parse import urlsplit

    import scrapy
    import trafilatura
    from scrapy.crawler import CrawlerProcess
    from scrapy.exceptions import DropItem

    urls, rule = Path(url_file).read_text().split(), re.compile(article_rule)

    class TrafilaturaPipeline:
        def process_item(self, item):
            document = trafilatura.bare_extraction(item["html"], url=item["url"], with_metadata=True)
            if document is None or not document.text:
                raise DropItem(f"no article text at {item['url']}")
            return {"url": item["url"], "title": document.title, "author": document.author, "date": document.date,
                    "categories": document.categories, "tags": document.tags, "sitename": document.sitename,
                    "image": document.image, "text": document.text}

    class PeerSpider(scrapy.Spider):
        name = "peer"
        custom_settings = {"ITEM_PIPELINES": {TrafilaturaPipeline: 300},
                           "FEEDS": {output: {"format": "jsonlines", "encoding": "utf8"}}}

        async def start(self):
            for url in urls:
                yield scrapy.Request(url, dont_filter=True)

        def parse(self, response):
            if rule.search(urlsplit(response.url).path):
                yield {"url": response.url, "html": response.text}

    process = CrawlerProcess({**COMMON_SETTINGS, "ROBOTSTXT_OBEY": True})
    process.crawl(PeerSpider)
    process.start()


def burn(loops: int) -> float:
    started = time.perf_counter()
    total = 0
    for n in range(loops):
        total += n * n
    return time.perf_counter() - started


def parallel_capacity(loops: int = 10_000_000) -> float:
    """How much work two busy processes get done in the time of one (2.0 on two real cores; less when the
    "cores" are hyperthreads or a shared host): the ceiling of any process pool's speed-up here."""
    import multiprocessing

    alone = burn(loops)
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        together = max(pool.map(burn, [loops, loops], chunksize=1))
    return round(2 * alone / together, 2)


def real_pages(folder: Path, count: int) -> list[bytes]:
    """Up to ``count`` real news pages of the dev set (its article pages, in name order)."""
    names = sorted(json.loads((folder / "annotations.json").read_text(encoding="utf-8")))[:count]
    return [gzip.decompress((folder / "pages" / name).read_bytes()) for name in names]


def extraction_ms(site, sample: int = 60) -> float:
    """Median in-process extraction time of the site's article pages (a sample), in ms."""
    times = []
    for article in site.articles[:sample]:
        body = site.page(site.hosts[0], article.path)[2]
        started = time.perf_counter()
        try:
            extract_article(body, site.url(site.hosts[0], article.path))
        except ExtractionError:
            continue
        times.append(1000 * (time.perf_counter() - started))
    return round(statistics.median(times), 1)


def timed(command: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, cwd=ROOT)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--pages", choices=("real", "farm"), default="real" if DEV_SET.exists() else "farm",
                        help="article pages: the dev set's real pages (at most as many as it has) or the farm's own")
    parser.add_argument("--dev-set", type=Path, default=DEV_SET)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the peer and the pooled crawls")
    parser.add_argument("--bare-spider", metavar="URL_FILE", help=argparse.SUPPRESS)
    parser.add_argument("--peer-spider", nargs=3, metavar=("URL_FILE", "ARTICLE_RULE", "OUTPUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds: at least 1")
    if args.bare_spider:
        return bare_spider(args.bare_spider)
    if args.peer_spider:
        return peer_spider(*args.peer_spider)

    corpus = real_pages(args.dev_set, args.articles) if args.pages == "real" else []
    site = harbor_news(articles=len(corpus) or args.articles, hosts=3)
    site.section_page_size = 50
    site.article_pages = {article.id: page for article, page in zip(site.articles, corpus)}
    page_ms = extraction_ms(site)
    smaller_pool = max(1, (os.cpu_count() or 1) - 1)  # cores − 1 workers, beside the default of one a core
    with MirrorFarm([site]) as farm, tempfile.TemporaryDirectory() as scratch:
        profile = Path(scratch) / "sites.toml"
        profile.write_text(site.profile_toml())
        pinned = Path(scratch) / "pinned.toml"
        pinned.write_text(site.profile_toml().replace('scheme = "http"', 'scheme = "http"\ndiscover = false'))
        env = {**os.environ, "http_proxy": farm.proxy_url, "no_proxy": ""}
        settings = [arg for name, value in COMMON_SETTINGS.items() for arg in ("-s", f"{name}={value}")]

        def newsmirror(output: str, *extra: str, sites: Path = profile) -> tuple[float, int]:
            seconds = timed([sys.executable, "-m", "crawler.cli", "crawl", site.id, "--sites", str(sites),
                             "--output", f"{scratch}/{output}", *settings, *extra], env)
            return seconds, sum(1 for path in Path(f"{scratch}/{output}/{site.id}").glob("*.jsonl") for _ in path.open())

        in_process_seconds, in_process_records = newsmirror("in-process", "-s", "NEWSMIRROR_EXTRACT_WORKERS=0")
        farm.requests.clear()
        newsmirror_seconds, records = newsmirror("pool")  # the default pool size: its requests are the peer's URLs
        pages = [f"http://{r.host}{r.path}" for r in farm.requests if r.path != "/robots.txt"]
        discovering_requests = len(farm.requests)
        farm.requests.clear()
        pinned_seconds, pinned_records = newsmirror("pool-pinned", sites=pinned)
        pinned_requests = len(farm.requests)
        assert pinned_records == records == in_process_records, (pinned_records, records, in_process_records)
        url_file = Path(scratch) / "urls.txt"
        url_file.write_text("\n".join(pages))
        farm.requests.clear()
        bare_seconds = timed([sys.executable, __file__, "--bare-spider", str(url_file)], env)
        bare_pages = sum(1 for r in farm.requests if r.path != "/robots.txt")
        article_rule = tomllib.loads(site.profile_toml())[site.id]["article"]
        rounds: list[dict[str, float]] = []
        for number in range(args.rounds):
            peer_output = Path(scratch) / f"peer-{number}.jsonl"
            peer_seconds = timed([sys.executable, __file__, "--peer-spider", str(url_file), article_rule, str(peer_output)], env)
            peer_records = sum(1 for _ in peer_output.open())
            assert not rounds or peer_records == rounds[0]["peer_records"], (peer_records, rounds[0]["peer_records"])
            smaller_pool_seconds, smaller_pool_records = newsmirror(f"pool-smaller-{number}", "-s",
                                                                   f"NEWSMIRROR_EXTRACT_WORKERS={smaller_pool}")
            pool_seconds, pool_records = newsmirror(f"pool-{number}")
            assert smaller_pool_records == pool_records == records, (smaller_pool_records, pool_records, records)
            rounds.append({"peer": peer_seconds / peer_records, "smaller": smaller_pool_seconds / records,
                           "pool": pool_seconds / records, "peer_records": peer_records})
            print(f"round {number + 1}: peer {peer_records / peer_seconds:.1f} articles/s, {smaller_pool} extraction "
                  f"workers {records / smaller_pool_seconds:.1f}, default pool {records / pool_seconds:.1f}", file=sys.stderr)
        peer_seconds = statistics.median(r["peer"] for r in rounds) * peer_records
        smaller_pool_seconds = statistics.median(r["smaller"] for r in rounds) * records
        newsmirror_seconds = statistics.median([newsmirror_seconds, *(r["pool"] * records for r in rounds)])

    result = {
        "article_pages": args.pages,
        "extraction_ms_per_article_page": page_ms,
        "articles": records,
        "pages": len(pages),
        "cpus": os.cpu_count(),
        "parallel_capacity_of_2_processes": parallel_capacity(),
        "newsmirror_in_process_seconds": round(in_process_seconds, 2),
        "newsmirror_in_process_articles_per_s": round(records / in_process_seconds, 1),
        f"newsmirror_{smaller_pool}_workers_seconds": round(smaller_pool_seconds, 2),
        f"newsmirror_{smaller_pool}_workers_articles_per_s": round(records / smaller_pool_seconds, 1),
        "newsmirror_seconds": round(newsmirror_seconds, 2),
        "newsmirror_articles_per_s": round(records / newsmirror_seconds, 1),
        "bare_scrapy_seconds": round(bare_seconds, 2),
        "bare_scrapy_pages_per_s": round(bare_pages / bare_seconds, 1),
        "bare_scrapy_articles_per_s": round(records / bare_seconds, 1),
        "rounds": args.rounds,
        "peer_scrapy_trafilatura_seconds": round(peer_seconds, 2),
        "peer_articles": peer_records,
        "peer_articles_per_s": round(peer_records / peer_seconds, 1),
    }
    result["ratio_pool_vs_in_process"] = round(in_process_seconds / newsmirror_seconds, 3)
    result[f"ratio_{smaller_pool}_workers_vs_in_process"] = round(in_process_seconds / smaller_pool_seconds, 3)
    result["ratio_newsmirror_vs_bare"] = round(result["newsmirror_articles_per_s"] / result["bare_scrapy_articles_per_s"], 3)
    result["ratio_newsmirror_in_process_vs_peer"] = round(result["newsmirror_in_process_articles_per_s"]
                                                        / result["peer_articles_per_s"], 3)
    for name, key in ((f"newsmirror_{smaller_pool}_workers", "smaller"), ("newsmirror", "pool")):
        each = [r["peer"] / r[key] for r in rounds]
        result[f"ratio_{name}_vs_peer_each_round"] = [round(ratio, 3) for ratio in each]
        result[f"ratio_{name}_vs_peer"] = round(statistics.median(each), 3)
    result["requests_with_discovery"], result["requests_pinned"] = discovering_requests, pinned_requests
    result["discovery_requests_added_pct"] = round(100 * (discovering_requests - pinned_requests) / pinned_requests, 2)
    result["pinned_seconds"] = round(pinned_seconds, 2)
    result["ratio_seconds_discovery_vs_pinned"] = round(newsmirror_seconds / pinned_seconds, 3)
    print(json.dumps(result, indent=2))
    print(f"newsmirror {result['newsmirror_articles_per_s']} articles/s with the extraction pool vs "
          f"{result['newsmirror_in_process_articles_per_s']} in-process: {result['ratio_pool_vs_in_process']}x")
    print(f"newsmirror {result['newsmirror_articles_per_s']} articles/s vs bare Scrapy "
          f"{result['bare_scrapy_articles_per_s']} articles/s on the same {len(pages)} pages: "
          f"ratio {result['ratio_newsmirror_vs_bare']}")
    print(f"newsmirror vs the Scrapy + trafilatura peer ({result['peer_articles_per_s']} articles/s): in-process "
          f"{result['ratio_newsmirror_in_process_vs_peer']}x, {smaller_pool} extraction workers "
          f"{result[f'ratio_newsmirror_{smaller_pool}_workers_vs_peer']}x, default pool {result['ratio_newsmirror_vs_peer']}x")
    print(f"mirror discovery on a site with nothing new to discover: {discovering_requests} requests vs {pinned_requests} "
          f"with pinned hosts (+{result['discovery_requests_added_pct']}%), time {result['ratio_seconds_discovery_vs_pinned']}x")


if __name__ == "__main__":
    main()
