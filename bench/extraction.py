"""Extraction benchmark: newsmirror (each engine under its cleaning layers) and the bare engines, on the three dev sets.

Run: ``.venv/bin/python bench/extraction.py [--sets dragnet,extraction-dev,readability-pages] [--systems a,b]
[--limit N] [--json FILE]``. ``dragnet`` (1,381 news and blog pages, the article a person marked) and
``readability-pages`` (Mozilla Readability's real test pages) are scored as their READMEs say: 4-token shingle
precision and recall against the expected text, per page, averaged, F1 of the two means; dragnet also on
its own ``training.txt`` and ``test.txt`` parts, and its headline and byline lines (where the expected text
opens with them) against each system's ``title`` and ``authors``. ``extraction-dev`` is scored with its
published metric: whitespace-normalised ``with`` segments found are TP, missing FN; ``without`` segments found
are FP, absent TN. Every system reads the page's bytes and decodes them itself, as a crawler handing it
``response.body`` would (Scrapy's ``response.text`` instead costs trafilatura and readability-lxml 0.01 F on
readability-pages, and changes nothing elsewhere). Every system runs in this process, taking
turns page by page (the order rotating; each page read twice, the second reading timed, with shared caches
emptied); a choice is an improvement only when it loses on no set.
"""

from __future__ import annotations

import argparse
import gzip
import importlib
import json
import re
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import lxml.html

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.clean.layers import BoilerplateRules, SiteTemplate  # noqa: E402
from crawler.extract.article import ExtractionError, extract_article  # noqa: E402
from crawler.extract.engines import DEFAULT_ENGINE, element_blocks  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
SETS = ("dragnet", "extraction-dev", "readability-pages")
DEFAULT = f"newsmirror[{DEFAULT_ENGINE}]"
WORD = re.compile(r"\w+")
WARM_UP = 10
CHUNK = 1  # pages per turn
# content caches the systems share (a date string, a line of text): emptied before every timed reading, so
# each system pays for its own reading of a page, as it would running alone
SHARED_CACHES = {"htmldate.extractors": ("try_date_expr",),
                 "htmldate.validators": ("_parse_and_validate", "filter_ymd_candidate", "is_valid_format"),
                 "trafilatura.utils": ("line_processing", "trim", "return_printables_and_spaces")}
HEAD_LINES = 4  # dragnet's headline and byline, where the annotator kept them, are among its first lines
BYLINE = re.compile(r"^(?:written |posted |story |words )?by:?\s+(.+?)(?:\s+(?:on|in|at|[|,•–—-])\s.*)?$", re.I)
NOT_NAMES = {"by", "von", "und", "and", "staff", "writer", "reporter", "editor"}


def clear_shared_caches() -> None:
    for module, functions in SHARED_CACHES.items():
        for function in functions:
            getattr(importlib.import_module(module), function).cache_clear()


def normalise(text: str | None) -> str:
    return " ".join((text or "").split())


def newsmirror_system(engine: str):
    """newsmirror's full chain on one engine: extraction, built-in rules, per-site template learning; a page the
    article verdict rejects gives no text (a crawl gives no record), only why."""
    rules = BoilerplateRules.builtin()
    templates: dict[str, SiteTemplate] = {}

    def run(html: bytes, url: str) -> dict:
        try:
            record = extract_article(html, url, engine=engine)
        except ExtractionError:
            return {}
        if record["no_article"]:
            return {"no_article": record["no_article"]}
        blocks = rules.clean((record["text"] or "").split("\n"))
        template = templates.setdefault(urlsplit(url).hostname or "", SiteTemplate())
        return {"text": "\n".join(template.learn_and_clean(blocks)), "title": record["title"],
                "date": record["published"], "authors": record["authors"]}

    return run


def trafilatura_system(html: bytes, url: str) -> dict:
    from trafilatura import bare_extraction

    document = bare_extraction(html, url=url, with_metadata=True, include_comments=False, include_tables=True)
    if document is None:
        return {}
    return {"text": document.text, "title": document.title, "date": document.date,
            "authors": [a.strip() for a in (document.author or "").split(";") if a.strip()]}


def resiliparse_system(html: bytes, url: str) -> dict:
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding

    return {"text": extract_plain_text(bytes_to_str(html, detect_encoding(html)), main_content=True)}


def readability_system(html: bytes, url: str) -> dict:
    from readability import Document

    document = Document(html, url=url)
    summary = document.summary(html_partial=True)
    text = "\n".join(element_blocks(lxml.html.fromstring(summary))) if summary.strip() else ""  # str: no charset guessing
    return {"text": text, "title": document.short_title()}


SYSTEMS = {
    DEFAULT: newsmirror_system(DEFAULT_ENGINE),
    "newsmirror[agreement]": newsmirror_system("agreement"),
    "newsmirror[trafilatura]": newsmirror_system("trafilatura"),
    "newsmirror[readability]": newsmirror_system("readability"),
    "newsmirror[resiliparse]": newsmirror_system("resiliparse"),
    "trafilatura": trafilatura_system,
    "readability-lxml": readability_system,
    "resiliparse": resiliparse_system,
}
COMBINED = {DEFAULT, "newsmirror[agreement]"}  # the others are single engines


def author_tokens(text: str | list[str]) -> set[str]:
    text = " ".join(text) if isinstance(text, list) else text
    return {t for t in re.findall(r"\w+", text.casefold()) if len(t) > 1 and t not in NOT_NAMES}


def overlap(expected: set[str], got: set[str]) -> float:
    return len(expected & got) / len(expected | got) if expected | got else 0.0


def segment_score(outputs: dict[str, dict], annotations: dict[str, dict]) -> dict:
    """extraction-dev's metric over all pages; title and date exact, author name-token overlap."""
    tp = fn = fp = tn = 0
    titles, dates, authors = [0, 0], [0, 0], [0, 0]
    for name, truth in annotations.items():
        out = outputs.get(name, {})
        text = normalise(out.get("text"))
        for segment in truth["with"]:
            found = normalise(segment) in text
            tp, fn = tp + found, fn + (not found)
        for segment in truth["without"]:
            found = normalise(segment) in text
            fp, tn = fp + found, tn + (not found)
        if truth.get("title"):
            titles[0] += normalise(out.get("title")).casefold() == normalise(truth["title"]).casefold()
            titles[1] += 1
        if truth.get("date"):
            dates[0] += (out.get("date") or "")[:10] == truth["date"][:10]
            dates[1] += 1
        if truth.get("author"):
            authors[0] += overlap(author_tokens(truth["author"]), author_tokens(out.get("authors") or []))
            authors[1] += 1
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {
        "precision": precision, "recall": recall, "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "title": titles[0] / titles[1] if any("title" in o for o in outputs.values()) and titles[1] else None,
        "date": dates[0] / dates[1] if any("date" in o for o in outputs.values()) and dates[1] else None,
        "author": authors[0] / authors[1] if any("authors" in o for o in outputs.values()) and authors[1] else None,
    }


def shingles(text: str | None, size: int = 4) -> dict[tuple[str, ...], int]:
    tokens = WORD.findall((text or "").lower())
    counts: dict[tuple[str, ...], int] = {}
    for at in range(max(1, len(tokens) - size + 1) if tokens else 0):
        key = tuple(tokens[at:at + size])
        counts[key] = counts.get(key, 0) + 1
    return counts


def page_shingle_scores(outputs: dict[str, dict], expected: dict[str, dict]) -> dict[str, tuple[float, float]]:
    """(precision, recall) of each page's 4-token shingles (multisets) against its expected text."""
    scores = {}
    for name, truth in expected.items():
        got, want = shingles(outputs.get(name, {}).get("text")), shingles(truth["expected_text"])
        common = sum(min(n, want.get(key, 0)) for key, n in got.items())
        scores[name] = (common / sum(got.values()) if got else 0.0, common / sum(want.values()) if want else 0.0)
    return scores


def shingle_score(scores: dict[str, tuple[float, float]], names: list[str]) -> dict:
    """The article-extraction benchmark's figure: precision and recall averaged over pages, F1 of the means."""
    precision = sum(scores[name][0] for name in names) / (len(names) or 1)
    recall = sum(scores[name][1] for name in names) / (len(names) or 1)
    return {"precision": precision, "recall": recall,
            "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0}


def opening_lines(text: str) -> list[str]:
    return [line for line in (" ".join(raw.split()) for raw in text.splitlines()) if line][:HEAD_LINES]


def tokens(text: str | None) -> list[str]:
    return WORD.findall((text or "").casefold())


def headline(expected_text: str, page_title: str | None) -> str | None:
    """The headline line of dragnet's expected text: an opening line of three words or more that the page's
    ``<title>`` holds (the same for every system: no system's answer decides which pages count)."""
    held = " ".join(tokens(page_title))
    return next((line for line in opening_lines(expected_text)
                 if len(tokens(line)) >= 3 and f" {' '.join(tokens(line))} " in f" {held} "), None)


def byline_names(expected_text: str) -> set[str]:
    """The name tokens of a "By ..." opening line of dragnet's expected text (empty when there is none)."""
    for line in opening_lines(expected_text):
        match = BYLINE.match(line)
        if match:
            return author_tokens(match[1])
    return set()


def metadata_score(outputs: dict[str, dict], expected: dict[str, dict], page_titles: dict[str, str | None]) -> dict:
    """dragnet's headline and byline against ``title`` and ``authors``: the share of pages whose expected text
    opens with a headline where the title is that line, and the mean name-token overlap of the authors with
    a byline's names; None for a system that gives no such field."""
    titles, authors = [0, 0], [0.0, 0]
    for name, truth in expected.items():
        out = outputs.get(name, {})
        line = headline(truth["expected_text"], page_titles[name])
        if line is not None:
            titles[0] += tokens(out.get("title")) == tokens(line)
            titles[1] += 1
        names = byline_names(truth["expected_text"])
        if names:
            authors[0] += overlap(names, author_tokens(out.get("authors") or []))
            authors[1] += 1
    return {"title": titles[0] / titles[1] if any("title" in o for o in outputs.values()) and titles[1] else None,
            "author": authors[0] / authors[1] if any("authors" in o for o in outputs.values()) and authors[1] else None,
            "title_pages": titles[1], "author_pages": authors[1]}


def page_title(html: bytes) -> str | None:
    titles = lxml.html.fromstring(html).xpath("//title")
    return titles[0].text_content() if titles else None


def load_set(name: str, limit: int | None) -> tuple[dict[str, dict], dict[str, bytes], dict[str, str]]:
    """(truth by page, HTML by page, URL by page) of a dev set."""
    folder = DATA / name
    if name == "extraction-dev":
        truth = json.loads((folder / "annotations.json").read_text(encoding="utf-8"))
        names = sorted(truth)[:limit]
        return ({n: truth[n] for n in names}, {n: gzip.decompress((folder / "pages" / n).read_bytes()) for n in names},
                {n: truth[n]["url"] for n in names})
    truth = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    names = sorted(truth)[:limit]
    read = ((lambda n: gzip.decompress((folder / "html" / f"{n}.html.gz").read_bytes())) if name == "dragnet"
            else (lambda n: (folder / "html" / f"{n}.html").read_bytes()))
    return ({n: truth[n] for n in names}, {n: read(n) for n in names},
            {n: f"https://{n}.example/" for n in names})  # no URL given: one site per page


def dragnet_parts(names: list[str]) -> dict[str, list[str]]:
    """The set's own split: pages of ``training.txt`` and of ``test.txt`` (where choices were made, where not)."""
    folder = DATA / "dragnet"
    return {part: [n for n in names if n in set((folder / f"{part}.txt").read_text().split())] for part in ("training", "test")}


def run_set(set_name: str, systems: list[str], limit: int | None) -> dict[str, dict]:
    truth, pages, urls = load_set(set_name, limit)
    names = sorted(truth)
    outputs: dict[str, dict] = {system: {} for system in systems}
    seconds, cpu_seconds = dict.fromkeys(systems, 0.0), dict.fromkeys(systems, 0.0)
    for system in systems:  # warm-up (imports, first-use caches), untimed and unscored
        for name in names[:WARM_UP]:
            SYSTEMS[system](pages[name], urls[name])
    # systems take turns page by page, so a busy neighbour on a shared machine slows them alike. Each reads a
    # page twice, timed the second time, after the content caches the systems share are emptied: all then
    # run on the same warm interpreter and cold caches. Timing the first reading (turns of 50 pages, caches
    # kept) made a system's speed move by up to 25% with its place in the order.
    for turn, start in enumerate(range(0, len(names), CHUNK)):
        for system in systems[turn % len(systems):] + systems[: turn % len(systems)]:
            run = SYSTEMS[system]
            for name in names[start:start + CHUNK]:
                run(pages[name], urls[name])
            clear_shared_caches()
            started, cpu_started = time.perf_counter(), time.process_time()
            for name in names[start:start + CHUNK]:
                outputs[system][name] = run(pages[name], urls[name])
            seconds[system] += time.perf_counter() - started
            cpu_seconds[system] += time.process_time() - cpu_started
    results = {}
    titles = {name: page_title(pages[name]) for name in names} if set_name == "dragnet" else {}
    for system in systems:
        if set_name == "extraction-dev":
            result = segment_score(outputs[system], truth)
        else:
            scores = page_shingle_scores(outputs[system], truth)
            result = {**shingle_score(scores, names), "title": None, "date": None, "author": None}
            if set_name == "dragnet":
                result |= {f"{part}_{key}": value for part, part_names in dragnet_parts(names).items()
                           for key, value in shingle_score(scores, part_names).items()}
                result |= metadata_score(outputs[system], truth, titles)
        rejected = sorted(name for name, out in outputs[system].items() if out.get("no_article"))
        results[system] = {**result, "pages": len(names), "rejected": rejected, "docs_per_s": len(names) / seconds[system],
                           "docs_per_cpu_s": len(names) / cpu_seconds[system]}
    return results


def cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def print_set(set_name: str, by_system: dict[str, dict]) -> None:
    """The set's table, then the default against the best single engine, and its speed against trafilatura's."""
    baseline = by_system.get("trafilatura")
    dragnet = set_name == "dragnet"
    parts = " F training | F test |" if dragnet else ""
    print(f"\n{set_name} ({next(iter(by_system.values()))['pages']} pages)\n")
    print(f"| system | precision | recall | F-score |{parts} docs/s | × trafilatura | × trafilatura (CPU) | no article | title | date | author |")
    print("| --- " * (11 + 2 * dragnet) + "|")
    for system, r in by_system.items():
        ratios = (f"{r['docs_per_s'] / baseline['docs_per_s']:.2f}× | {r['docs_per_cpu_s'] / baseline['docs_per_cpu_s']:.2f}×"
                  if baseline else "- | -")
        split = f" {r['training_f1']:.4f} | {r['test_f1']:.4f} |" if dragnet else ""
        rejected = len(r["rejected"]) if system.startswith("newsmirror") else "-"
        print(f"| {system} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.4f} |{split} {r['docs_per_s']:.1f} | {ratios} | "
              f"{rejected} | {cell(r['title'])} | {cell(r['date'])} | {cell(r['author'])} |")
    if dragnet:
        r = next(iter(by_system.values()))
        print(f"\ntitle: pages whose expected text opens with the headline ({r['title_pages']}); author: mean name overlap "
              f"with an opening byline ({r['author_pages']} pages)")
    singles = {system: r for system, r in by_system.items() if system not in COMBINED}
    if DEFAULT in by_system and singles:
        best = max(singles, key=lambda system: singles[system]["f1"])
        margin = by_system[DEFAULT]["f1"] - singles[best]["f1"]
        print(f"\n{DEFAULT} − best single engine ({best}): {margin:+.4f} F")
        if dragnet:
            for part in ("training", "test"):
                best_part = max(singles, key=lambda system: singles[system][f"{part}_f1"])
                print(f"  on {part}.txt: {by_system[DEFAULT][f'{part}_f1'] - singles[best_part][f'{part}_f1']:+.4f} F "
                      f"(best single engine {best_part})")
    if DEFAULT in by_system:
        rejected = by_system[DEFAULT]["rejected"]
        print(f"{DEFAULT}: {len(rejected)} of {by_system[DEFAULT]['pages']} pages judged no article (no text scored)"
              + (f": {', '.join(rejected)}" if rejected else ""))
    if DEFAULT in by_system and baseline:
        print(f"{DEFAULT} speed: {by_system[DEFAULT]['docs_per_s'] / baseline['docs_per_s']:.2f}× trafilatura's docs/s "
              f"({by_system[DEFAULT]['docs_per_cpu_s'] / baseline['docs_per_cpu_s']:.2f}× in CPU time)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(SETS), help=f"dev sets under {DATA}")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated, from: " + ", ".join(SYSTEMS))
    parser.add_argument("--limit", type=int, help="score only the first N pages of each set (sorted by name)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--show", type=Path, help="print the tables of results an earlier run wrote with --json")
    args = parser.parse_args()
    if args.show:
        for set_name, by_system in json.loads(args.show.read_text(encoding="utf-8")).items():
            print_set(set_name, by_system)
        return
    systems = args.systems.split(",")
    results = {}
    for set_name in args.sets.split(","):
        results[set_name] = run_set(set_name, systems, args.limit)
        print_set(set_name, results[set_name])
        sys.stdout.flush()
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
