"""Cheap language guess for pages that declare none: writing system first, then function-word counts."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources

WORD = re.compile(r"\w+")
SCRIPTS = (  # (language, character range); a script that dominates the letters decides alone
    ("ar", re.compile(r"[\u0600-\u06ff]")), ("zh", re.compile(r"[\u4e00-\u9fff]")),
    ("ja", re.compile(r"[\u3040-\u30ff]")), ("ko", re.compile(r"[\uac00-\ud7af]")),
    ("he", re.compile(r"[\u0590-\u05ff]")), ("el", re.compile(r"[\u0370-\u03ff]")),
)
MIN_WORDS = 20


@lru_cache(maxsize=1)
def function_words() -> dict[str, frozenset[str]]:
    data = json.loads(resources.files(__package__).joinpath("languages.json").read_text(encoding="utf-8"))
    return {lang: frozenset(words) for lang, words in data.items() if not lang.startswith("_")}


def detect_language(text: str | None, sample_chars: int = 4000) -> str | None:
    """ISO 639-1 code of ``text``'s language, or None when it is too short or unclear."""
    if not text:
        return None
    sample = text[:sample_chars]
    letters = sum(ch.isalpha() for ch in sample) or 1
    for language, script in SCRIPTS:
        if len(script.findall(sample)) > letters * 0.3:
            return "ja" if language == "zh" and SCRIPTS[2][1].search(sample) else language
    words = WORD.findall(sample.lower())
    if len(words) < MIN_WORDS:
        return None
    scores = {lang: sum(word in vocabulary for word in words) for lang, vocabulary in function_words().items()}
    best = max(scores, key=scores.get)
    return best if scores[best] >= len(words) * 0.1 else None
