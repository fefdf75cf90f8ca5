"""Run files read back: a torn last line is skipped by every reader; a corrupt line before it stops an export and
is skipped, with a warning naming file and line, by the crawl's recovery of an interrupted run."""

import json
import logging

import pytest

from crawler.farm.sites import make_articles
from crawler.state.runfile import CorruptRunFile, run_file_records
from crawler.state.sqlite import SqliteState

ARTICLES = make_articles(3, seed=5)


def record(number: int) -> dict:
    article = ARTICLES[number]
    return {"id": f"{number + 1:020x}", "site": "harbor", "title": article.title, "text": "\n".join(article.paragraphs),
            "content_hash": f"{number + 1:040x}", "mirror_urls": [f"http://www.harbornews.ir{article.path}"]}


def write(path, lines: list[str]) -> None:
    path.write_text("".join(lines), encoding="utf-8")


def test_torn_last_line_is_skipped_with_a_warning_in_either_mode(tmp_path):
    path = tmp_path / "run.jsonl"
    line = json.dumps(record(1)) + "\n"
    write(path, [json.dumps(record(0)) + "\n", "\n", line[: len(line) // 2]])
    for strict in (True, False):
        warnings = []
        assert [n for n, _ in run_file_records(path, warnings.append, strict)] == [1]
        assert warnings == [f"{path}: ignored torn last line 3 (an interrupted write)"]


@pytest.mark.parametrize("bad", ['{"id": "00000000000000000002", "tit', '["not", "a", "record"]', '{"title": "no id"}',
                                 b"\xff\xfe not utf-8".decode("latin-1")])
def test_corrupt_middle_line_raises_when_strict_and_is_skipped_otherwise(tmp_path, bad):
    path = tmp_path / "run.jsonl"
    write(path, [json.dumps(record(0)) + "\n", bad + "\n", json.dumps(record(2)) + "\n"])
    with pytest.raises(CorruptRunFile, match=f"{path}:2: corrupt run file"):
        list(run_file_records(path, print, strict=True))
    warnings = []
    assert [n for n, _ in run_file_records(path, warnings.append, strict=False)] == [1, 3]
    assert len(warnings) == 1 and warnings[0].startswith(f"{path}:2: corrupt run file")


def test_recovery_of_an_interrupted_run_skips_a_corrupt_line_and_keeps_the_others(tmp_path, caplog):
    state = SqliteState(tmp_path / "state.sqlite3")
    state.start_run("20261126T000000Z", "harbor", "2026-11-26T00:00:00+00:00")
    state.flush()
    site_dir = tmp_path / "harbor"
    site_dir.mkdir()
    path = site_dir / "20261126T000000Z.jsonl"
    write(path, [json.dumps(record(0)) + "\n", '{"id": "0000000000000000000' + "\n", json.dumps(record(2)) + "\n"])
    with caplog.at_level(logging.WARNING, logger="crawler.state.sqlite"):
        assert state.recover_interrupted_runs("harbor", site_dir) == 2
    assert f"{path}:2: corrupt run file" in caplog.text
    assert state.revision_of(record(0)["id"]) is not None and state.revision_of(record(2)["id"]) is not None
    assert state.revision_of(record(1)["id"]) is None  # not recovered: the next crawl emits it again
    assert state.last_run_status("harbor") == "interrupted"
