"""Parser benchmark: lxml.html as newsmirror parses pages, against BeautifulSoup on lxml and on html.parser.

Run: ``.venv/bin/python bench/parsers.py [--data DIR] [--limit N]`` (BeautifulSoup from the ``bench``
extra). Each parser parses every dev-set page, taking turns on chunks, and finds what extraction looks
for first (every ``<p>`` text and the ``<meta>`` tags); prints pages/s and the ratio to lxml.html.
"""

from __future__ import annotations

import argparse
import gzip
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.extract.article import decode_html, parse_html  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "extraction-dev"
CHUNK = 50


def lxml_html(page: bytes) -> int:
    root = parse_html(page)
    return len(root.xpath("//meta")) + sum(len(p.text_content()) for p in root.iter("p"))


def soup(features: str):
    import warnings

    from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning

    warnings.filterwarnings("ignore", category=XMLParsedAsHTMLWarning)  # some dev pages are XHTML

    def parse(page: bytes) -> int:
        document = BeautifulSoup(decode_html(page, None), features)
        return len(document.find_all("meta")) + sum(len(p.get_text()) for p in document.find_all("p"))

    return parse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()
    pages = [gzip.decompress(p.read_bytes()) for p in sorted((args.data / "pages").glob("*.html.gz"))]
    pages = pages[:args.limit] if args.limit else pages
    systems = {"lxml.html (newsmirror)": lxml_html, "BeautifulSoup + lxml": soup("lxml"),
               "BeautifulSoup + html.parser": soup("html.parser")}
    seconds = dict.fromkeys(systems, 0.0)
    for start in range(0, len(pages), CHUNK):
        for name, parse in systems.items():
            began = time.process_time()
            for page in pages[start:start + CHUNK]:
                parse(page)
            seconds[name] += time.process_time() - began
    base = len(pages) / seconds["lxml.html (newsmirror)"]
    print(f"{len(pages)} pages")
    print("| parser | pages/CPU-s | × lxml.html |\n| --- | --- | --- |")
    for name, spent in seconds.items():
        rate = len(pages) / spent
        print(f"| {name} | {rate:.1f} | {rate / base:.2f}× |")


if __name__ == "__main__":
    main()
