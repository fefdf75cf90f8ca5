"""Listing benchmark: what reading feeds and sitemaps as real sites serve them costs on well-formed ones.

Run: ``.venv/bin/python bench/listings.py [--repeat N]``. Documents: the farm's feeds and sitemaps (a
200-article site) and the well-formed peer-suite fixtures in ``tests/fixtures/peer-listings``. Side by side in
one run, each taking turns: a bare strict lxml parse of the same bytes with the same safety options (the
floor), newsmirror's document stage (``parse_document``: BOM and prolog handling, strict parse, entity
check; recovery only after a failure), newsmirror's whole ``parse_xml_listing`` (entries, URLs, XML Base,
dates), and Scrapy's ``Sitemap`` on the sitemaps. Prints documents/s, the ratios, and how many well-formed
documents took the recovery path (it must be 0): the document stage against the bare parse is what
recovery costs a well-formed document.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lxml import etree  # noqa: E402
from scrapy.utils.sitemap import Sitemap  # noqa: E402

from crawler.farm.sites import harbor_news  # noqa: E402
from crawler.fetch.listings import ListingError, parse_document, parse_xml_listing, root_name  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "peer-listings"
WELL_FORMED = ("feedparser-wellformed", "scrapy-sitemap")


def documents() -> list[tuple[str, bytes]]:
    site = harbor_news(articles=200)
    docs = []
    for host in site.hosts:
        docs += [(f"http://{host}/rss.xml", site.rss(host)), (f"http://{host}/atom.xml", site.atom(host)),
                 (f"http://{host}/sitemap.xml", site.sitemap_index(host)),
                 (f"http://{host}/sitemap-articles.xml", site.sitemap(host, "sitemap")),
                 (f"http://{host}/sitemap-news.xml", site.sitemap(host, "news"))]
    for folder in WELL_FORMED:
        for path in sorted((FIXTURES / folder).glob("*.xml")):
            body = path.read_bytes()
            try:
                parse_xml_listing(body, f"http://www.example-news.ir/{path.name}")
            except ListingError:
                continue  # a fixture that must be refused (an external entity, an HTML page) is not a listing
            docs.append((f"http://www.example-news.ir/{path.name}", body))
    return docs


def strict_parse(body: bytes, url: str) -> None:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                             remove_comments=True, remove_pis=True)
    try:
        etree.fromstring(body.lstrip(), parser, base_url=url)
    except etree.XMLSyntaxError:
        pass


def scrapy_sitemap(body: bytes, url: str) -> None:
    list(Sitemap(body))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    docs = documents()
    sitemaps = [(url, body) for url, body in docs if root_name(body) in ("urlset", "sitemapindex")]
    recovered = sum(parse_xml_listing(body, url).recovered for url, body in docs)
    systems = {"bare strict lxml parse": (strict_parse, docs), "newsmirror parse_document": (parse_document, docs),
               "newsmirror parse_xml_listing": (parse_xml_listing, docs),
               "newsmirror parse_xml_listing, sitemaps": (parse_xml_listing, sitemaps),
               "Scrapy Sitemap, sitemaps": (scrapy_sitemap, sitemaps)}
    rounds: dict[str, list[float]] = {name: [] for name in systems}
    for _ in range(args.repeat):
        for name, (run, batch) in systems.items():
            began = time.perf_counter()
            for url, body in batch:
                run(body, url)
            rounds[name].append(time.perf_counter() - began)
    # the median round: this machine is shared, and one slow round should not decide
    rate = {name: len(batch) / statistics.median(rounds[name]) for name, (_, batch) in systems.items()}
    size = sum(len(body) for _, body in docs)
    print(f"{len(docs)} well-formed documents ({size / 1024:.0f} KiB, {len(sitemaps)} sitemaps), {args.repeat} rounds; "
          f"recovered: {recovered}")
    print("| system | documents/s | ratio |\n| --- | --- | --- |")
    for name, base in (("bare strict lxml parse", "bare strict lxml parse"), ("newsmirror parse_document", "bare strict lxml parse"),
                       ("newsmirror parse_xml_listing", "bare strict lxml parse"),
                       ("newsmirror parse_xml_listing, sitemaps", "Scrapy Sitemap, sitemaps"),
                       ("Scrapy Sitemap, sitemaps", "Scrapy Sitemap, sitemaps")):
        print(f"| {name} | {rate[name]:.0f} | {rate[name] / rate[base]:.2f}× {base} |")

if __name__ == "__main__":
    main()
