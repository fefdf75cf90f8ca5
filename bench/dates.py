"""Publication-date benchmark: precision as well as accuracy of newsmirror's ``published``, with and without
its rule against year-only guesses, and of trafilatura with metadata, on both dev sets in one run.

Run: ``.venv/bin/python bench/dates.py [--limit N]``. readability-pages has a published time for 25 pages
(``expected.json``); extraction-dev has no date annotation, so its pages whose URL carries a full date
(``/2021/03/05/``) stand in, by that date. Precision: right dates / dates given on pages with a truth;
recall: right dates / pages with a truth; "year-only" counts the dates of 1 January given anywhere (what a
year alone in the text turns into), "wrong or unsure" the dates given on pages without truth that are such.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.extract import article  # noqa: E402
from crawler.extract.dates import date_from_url  # noqa: E402

DEV = ROOT.parent / "shared" / "data" / "extraction-dev"
READABILITY = ROOT.parent / "shared" / "data" / "readability-pages"


def pages(limit: int | None) -> dict[str, list[tuple[str, bytes, str, str | None]]]:
    """set -> [(name, html, url, true day or None)]."""
    sets = {"extraction-dev": [], "readability-pages": []}
    annotations = json.loads((DEV / "annotations.json").read_text(encoding="utf-8"))
    for name in sorted(annotations)[:limit]:
        url = annotations[name]["url"]
        sets["extraction-dev"].append((name, gzip.decompress((DEV / "pages" / name).read_bytes()), url, date_from_url(url)))
    expected = json.loads((READABILITY / "expected.json").read_text(encoding="utf-8"))
    for name in sorted(expected)[:limit]:
        truth = (expected[name].get("published") or "")[:10] or None
        sets["readability-pages"].append((name, (READABILITY / "html" / f"{name}.html").read_bytes(),
                                          f"https://{name}.example/", truth))
    return sets


def newsmirror(html: bytes, url: str) -> str | None:
    try:
        return article.extract_article(html, url)["published"]
    except article.ExtractionError:
        return None


def newsmirror_before(html: bytes, url: str) -> str | None:
    with mock.patch.object(article, "stated_new_year", lambda day, text: True):  # the rule off: every guess kept
        return newsmirror(html, url)


def trafilatura(html: bytes, url: str) -> str | None:
    from trafilatura import bare_extraction

    document = bare_extraction(html, url=url, with_metadata=True)
    return getattr(document, "date", None) if document is not None else None


SYSTEMS = {"newsmirror": newsmirror, "newsmirror without the year-only rule": newsmirror_before, "trafilatura": trafilatura}


def score(found: list[tuple[str | None, str | None]]) -> dict:
    with_truth = [(day, truth) for day, truth in found if truth]
    given = [(day, truth) for day, truth in with_truth if day]
    right = sum(day[:10] == truth for day, truth in given)
    return {"pages": len(found), "with truth": len(with_truth), "given": len(given),
            "precision": round(right / len(given), 3) if given else None,
            "recall": round(right / len(with_truth), 3) if with_truth else None,
            "year-only": sum(1 for day, _ in found if day and day[5:10] == "01-01"),
            "given without truth": sum(1 for day, truth in found if day and not truth)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int)
    args = parser.parse_args()
    print("| set | system | pages | with truth | dates given | precision | recall | 1 January dates | dates on pages without truth |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for set_name, items in pages(args.limit).items():
        for system, run in SYSTEMS.items():
            result = score([(run(html, url), truth) for _, html, url, truth in items])
            print(f"| {set_name} | {system} | {result['pages']} | {result['with truth']} | {result['given']} | "
                  f"{result['precision']} | {result['recall']} | {result['year-only']} | {result['given without truth']} |")


if __name__ == "__main__":
    main()
