"""Language identification (crawler/extract/language.py): the languages mirror-hopping news sites publish in,
a page's declaration winning, and no network ever."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.extract.article import extract_article
from crawler.extract.language import detect_language

WRITTEN = json.loads((Path(__file__).parent / "fixtures" / "languages" / "written.json").read_text(encoding="utf-8"))
LANGUAGES = sorted(lang for lang in WRITTEN if not lang.startswith("_"))


@pytest.mark.parametrize("lang", ["fa", "ur", "ar", "tr", "ru", "uk", "sr"])
def test_the_languages_the_function_word_guess_got_wrong(lang):
    headline, paragraph = WRITTEN[lang]
    assert detect_language(paragraph) == lang
    assert detect_language(headline) == lang  # one sentence is enough


def test_every_written_language_and_never_arabic_for_persian_or_urdu():
    guesses = {lang: [detect_language(text) for text in WRITTEN[lang]] for lang in LANGUAGES}
    assert {lang: g for lang, g in guesses.items() if g != [lang, lang]} == {}
    assert len(LANGUAGES) >= 20


def test_too_little_text_is_no_answer():
    assert detect_language("Tehran, 3 March") is None
    assert detect_language("") is None and detect_language(None) is None


def news_page(body: str, lang: str | None) -> bytes:
    declared = f' lang="{lang}"' if lang else ""
    return f"""<!DOCTYPE html><html{declared}><head><meta charset="utf-8"><title>{body[:40]}</title></head><body>
<header><nav><a href="/">Home</a> <a href="/Section/101">News</a></nav></header>
<div class="breadcrumb"><a href="/">Home</a> / <a href="/Section/101">News</a></div>
<article><h1>{body[:60]}</h1><p>{body}</p><p>{body}</p></article>
<div class="share-box">SHARE THIS ARTICLE</div><footer>© 2026</footer></body></html>""".encode()


def test_an_undeclared_page_gets_its_language_and_a_declaration_wins():
    url = "https://www.example.ir/Detail/2026/3/1/1/x"
    assert extract_article(news_page(WRITTEN["fa"][1], None), url)["language"] == "fa"
    assert extract_article(news_page(WRITTEN["tr"][1], "en"), url)["language"] == "en"


def test_the_model_ships_with_the_package_and_needs_no_network(tmp_path):
    closed = "http://127.0.0.1:9"  # nothing listens: any download attempt fails at once
    env = {**os.environ, "http_proxy": closed, "https_proxy": closed, "HTTP_PROXY": closed, "HTTPS_PROXY": closed,
           "FTLANG_CACHE": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1"}
    code = f"from crawler.extract.language import detect_language; print(detect_language({WRITTEN['uk'][1]!r}))"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=60, cwd=tmp_path)
    assert result.stdout.decode().strip() == "uk", result.stderr.decode()[-2000:]
    assert not (tmp_path / "cache").exists()
