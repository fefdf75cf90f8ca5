"""Extraction benchmark: newsmirror (each engine under our cleaning layers) vs the bare engines, on both dev sets.

Run: ``.venv/bin/python bench/extraction.py [--sets extraction-dev,readability-pages] [--systems a,b] [--limit N]``.
``extraction-dev`` (gzipped pages + annotations.json) is scored with its published metric: whitespace-normalised
``with`` segments found are TP, missing FN; ``without`` segments found are FP, absent TN. ``readability-pages``
(Mozilla Readability's real test pages, expected.json) is scored as its README says: 4-token shingle precision
and recall against the expected text, per page, averaged. Every system runs in this process, taking turns
page by page (the order rotating; each page read twice, the second reading timed, with shared caches
emptied); a choice is an improvement only when it loses on neither set.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.clean.layers import BoilerplateRules, SiteTemplate  # noqa: E402
from crawler.extract.article import ExtractionError, extract_article  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
WORD = re.compile(r"\w+")
WARM_UP = 10
CHUNK = 1  # pages per turn
# content caches the systems share (a date string, a line of text): emptied before every timed reading, so
# each system pays for its own reading of a page, as it would running alone
SHARED_CACHES = {"htmldate.extractors": ("try_date_expr",),
                 "htmldate.validators": ("_parse_and_validate", "filter_ymd_candidate", "is_valid_format"),
                 "trafilatura.utils": ("line_processing", "trim", "return_printables_and_spaces")}


BLOCK_TAGS = ("p", "div", "section", "article", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "blockquote",
              "pre", "table", "tr", "td", "th", "dd", "dt", "figcaption", "caption", "br")


def element_blocks(element) -> list[str]:
    """The text of an HTML element, one block per block-level element."""
    parts: list[str] = []

    def walk(node) -> None:
        block = node.tag in BLOCK_TAGS
        if isinstance(node.tag, str):  # not a comment or processing instruction
            parts.append("\n" if block else "")
            parts.append(node.text or "")
            for child in node:
                walk(child)
            parts.append("\n" if block else "")
        parts.append(node.tail or "")

    walk(element)
    return [" ".join(line.split()) for line in "".join(parts).split("\n") if line.strip()]


def clear_shared_caches() -> None:
    for module, functions in SHARED_CACHES.items():
        for function in functions:
            getattr(importlib.import_module(module), function).cache_clear()


def normalise(text: str | None) -> str:
    return " ".join((text or "").split())


def newsmirror_system(engine: str):
    """newsmirror's full chain on one engine: extraction, built-in rules, per-site template learning."""
    rules = BoilerplateRules.builtin()
    templates: dict[str, SiteTemplate] = {}

    def run(html: bytes, url: str) -> dict:
        try:
            record = extract_article(html, url, engine=engine)
        except ExtractionError:
            return {}
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
    import lxml.html
    from readability import Document

    document = Document(html, url=url)
    summary = document.summary(html_partial=True)
    text = "\n".join(element_blocks(lxml.html.fromstring(summary))) if summary.strip() else ""  # str: no charset guessing
    return {"text": text, "title": document.short_title()}


SYSTEMS = {
    "newsmirror[trafilatura]": newsmirror_system("trafilatura"),
    "newsmirror[agreement]": newsmirror_system("agreement"),
    "newsmirror[resiliparse]": newsmirror_system("resiliparse"),
    "trafilatura": trafilatura_system,
    "resiliparse": resiliparse_system,
    "readability-lxml": readability_system,
}


def author_tokens(text: str | list[str]) -> set[str]:
    text = " ".join(text) if isinstance(text, list) else text
    return {t for t in re.findall(r"\w+", text.casefold()) if len(t) > 1 and t not in {"by", "von", "und", "and"}}


def score(outputs: dict[str, dict], annotations: dict[str, dict]) -> dict:
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
            expected, got = author_tokens(truth["author"]), author_tokens(" ".join(out.get("authors") or []))
            authors[0] += len(expected & got) / len(expected | got) if expected | got else 0
            authors[1] += 1
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    has_meta = any(k in o for o in outputs.values() for k in ("title",))
    result = {
        "precision": round(precision, 3), "recall": round(recall, 3),
        "f1": round(2 * precision * recall / (precision + recall), 3) if precision + recall else 0.0,
        "accuracy": round((tp + tn) / (tp + tn + fp + fn), 3),
        "title": round(titles[0] / titles[1], 3) if has_meta and titles[1] else None,
        "date": round(dates[0] / dates[1], 3) if any("date" in o for o in outputs.values()) and dates[1] else None,
        "author": round(authors[0] / authors[1], 3) if any("authors" in o for o in outputs.values()) and authors[1] else None,
    }
    return result


def shingles(text: str | None, size: int = 4) -> dict[tuple[str, ...], int]:
    tokens = WORD.findall((text or "").lower())
    counts: dict[tuple[str, ...], int] = {}
    for at in range(max(1, len(tokens) - size + 1) if tokens else 0):
        key = tuple(tokens[at:at + size])
        counts[key] = counts.get(key, 0) + 1
    return counts


def shingle_score(outputs: dict[str, dict], expected: dict[str, dict]) -> dict:
    """readability-pages' metric: 4-token shingle precision and recall (multisets) per page, averaged."""
    precision = recall = f1 = 0.0
    for name, truth in expected.items():
        got, want = shingles(outputs.get(name, {}).get("text")), shingles(truth["expected_text"])
        common = sum(min(n, want.get(key, 0)) for key, n in got.items())
        p = common / sum(got.values()) if got else 0.0
        r = common / sum(want.values()) if want else 0.0
        precision, recall, f1 = precision + p, recall + r, f1 + (2 * p * r / (p + r) if p + r else 0.0)
    pages = len(expected) or 1
    return {"precision": round(precision / pages, 3), "recall": round(recall / pages, 3), "f1": round(f1 / pages, 3),
            "accuracy": None, "title": None, "date": None, "author": None}


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
    return ({n: truth[n] for n in names}, {n: (folder / "html" / f"{n}.html").read_bytes() for n in names},
            {n: f"https://{n}.example/" for n in names})  # no URL given: one site per page


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
    scorer = score if set_name == "extraction-dev" else shingle_score
    return {system: {**scorer(outputs[system], truth), "docs_per_s": round(len(names) / seconds[system], 1),
                     "docs_per_cpu_s": round(len(names) / cpu_seconds[system], 1)} for system in systems}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="extraction-dev,readability-pages", help=f"dev sets under {DATA}")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated, from: " + ", ".join(SYSTEMS))
    parser.add_argument("--limit", type=int, help="score only the first N pages of each set (sorted by name)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    systems = args.systems.split(",")
    results = {set_name: run_set(set_name, systems, args.limit) for set_name in args.sets.split(",")}
    for set_name, by_system in results.items():
        baseline = by_system.get("trafilatura")
        print(f"\n{set_name}\n")
        print("| system | precision | recall | F-score | docs/s | docs/CPU-s | × trafilatura (CPU) | title | date | author |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for system, r in by_system.items():
            meta = [("-" if r[k] is None else f"{r[k]:.3f}") for k in ("title", "date", "author")]
            ratio = f"{r['docs_per_cpu_s'] / baseline['docs_per_cpu_s']:.2f}×" if baseline else "-"
            print(f"| {system} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} | {r['docs_per_s']} | "
                  f"{r['docs_per_cpu_s']} | {ratio} | {' | '.join(meta)} |")
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
