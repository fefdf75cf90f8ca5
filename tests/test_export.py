"""`newsmirror export`: one record per article over several real crawls, complete mirror URLs, the three
formats, filters, and every failure path's message and exit status."""

import csv
import dataclasses
import io
import json
import os
import shutil
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import jsonschema
import pytest

from crawler.farm.proxy import MirrorFarm
from crawler.farm.sites import harbor_news, make_articles
from crawler.output.export import atomic_file
from crawler.output.record import BOOLEAN_FIELDS, INTEGER_FIELDS, LIST_FIELDS, RECORD_FIELDS, SCHEMA_VERSION

from .conftest import SCHEMA, FarmRun, run_cli


def export(run: FarmRun, *args: str, output=None):
    return run.cli("export", "--sites", str(run.profile), "--output", str(output or run.output), *args)


def jsonl(data: bytes) -> list[dict]:
    return [json.loads(line) for line in data.decode("utf-8").splitlines()]


def hosts_listing(site, article) -> list[str]:
    """Hosts whose feeds, sitemaps or section pages give the article's URL on themselves: RSS links to the
    primary only, but every section page's most-read box links the first three articles on its own host."""
    return site.hosts[:1] if article.channel == "rss" and article not in site.articles[:3] else list(site.hosts)


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    """One finished crawl of a 10-article farm site, shared by the read-only tests below."""
    site = harbor_news(articles=10)
    with MirrorFarm([site]) as farm:
        run = FarmRun(farm, site, tmp_path_factory.mktemp("crawled"))
        result = run.crawl("-q")
        assert result.returncode == 0, result.stderr.decode()[-2000:]
        yield run


def copy_of(run: FarmRun, tmp_path) -> FarmRun:
    """The crawl's output copied, for a test that changes it."""
    shutil.copytree(run.output, tmp_path / "output")
    return FarmRun(run.farm, run.site, tmp_path)


def test_three_runs_give_one_latest_record_per_article_with_every_mirror(farm_factory):
    run = farm_factory(articles=10)
    site, farm = run.site, run.farm
    revised = site.articles[3]
    revised.published = datetime.now(timezone.utc) - timedelta(hours=5)  # inside the update window
    late_host = site.hosts[2]
    farm.set_fault(late_host, "refuse")  # run 1: a mirror is down, its copies are found only later
    assert run.crawl("-q", "-s", "RETRY_TIMES=0").returncode == 0
    farm.set_fault(late_host, None)  # run 2: it is back; nothing new, but the state learns its URLs
    assert run.crawl("-q").returncode == 0
    # run 3: a new article, and a recent one revised on the site (fetched again: a new revision)
    added = dataclasses.replace(make_articles(1, seed=99, first_id=990000)[0], channel="atom")
    site.articles.append(added)
    revised.paragraphs = [*revised.paragraphs, "Update: the harbour authority has since confirmed the report."]
    site._pages.clear()
    first_records = run.records()
    revised_id = next(r["id"] for r in first_records if urlsplit(r["url"]).path == revised.path)
    assert run.crawl("-q").returncode == 0
    assert len(run.run_files()) == 2  # run 2 emitted nothing, so it wrote no run file
    # the run files alone miss the late mirror and hold the revised article twice
    assert any(late_host not in {urlsplit(u).hostname for u in r["mirror_urls"]} for r in first_records)
    assert [r["revision"] for r in run.records() if r["id"] == revised_id] == [1, 2]

    result = export(run, "-o", str(run.workdir / "dataset.jsonl"))
    assert result.returncode == 0, result.stderr.decode()
    records = jsonl((run.workdir / "dataset.jsonl").read_bytes())
    assert len(records) == len({r["id"] for r in records}) == len(site.articles)
    by_path = {a.path: a for a in site.articles}
    for record in records:
        jsonschema.validate(record, SCHEMA)
        assert list(record) == list(RECORD_FIELDS) and record["schema_version"] == SCHEMA_VERSION
        article = by_path[urlsplit(record["url"]).path]
        assert [urlsplit(u).hostname for u in record["mirror_urls"]] == hosts_listing(site, article)
        assert record["url"] == record["mirror_urls"][0]
        assert record["text"].split("\n") == article.paragraphs  # the revision, not run 1's text
    assert f"{len(records)} of {len(records)} articles from 2 run files" in result.stderr.decode()


def test_latest_revision_wins_over_write_order(crawled, tmp_path):
    run = copy_of(crawled, tmp_path)
    original = run.records()
    older, newer = dict(original[0], title="Second revision", revision=2), dict(original[0], title="Third", revision=3)
    later_runs = [run.output / "harbor" / f"2099010{n}T000000000000Z.jsonl" for n in (1, 2)]
    later_runs[0].write_text(json.dumps(newer) + "\n")
    later_runs[1].write_text(json.dumps(older) + "\n" + json.dumps(dict(original[1], title="Rewritten")) + "\n")
    records = {r["id"]: r for r in jsonl(export(run).stdout)}
    assert len(records) == len(original)
    assert records[original[0]["id"]]["title"] == "Third"  # highest revision, though written before revision 2
    assert records[original[1]["id"]]["title"] == "Rewritten"  # no revision: the last written


def decode_csv(data: bytes) -> list[dict]:
    """CSV rows back to records by the documented rules: list fields are JSON arrays, flags true/false, an empty
    cell is null."""
    rows = csv.DictReader(io.StringIO(data.decode("utf-8"), newline=""))
    assert rows.fieldnames == list(RECORD_FIELDS)
    return [{k: json.loads(v) if k in LIST_FIELDS or k in BOOLEAN_FIELDS and v else int(v) if k in INTEGER_FIELDS else (v or None)
             for k, v in row.items()} for row in rows]


def test_jsonl_and_csv_hold_the_same_valid_records(crawled, tmp_path):
    from_stdout = export(crawled)
    assert from_stdout.returncode == 0 and b"\r" not in from_stdout.stderr  # no progress when stderr is no terminal
    records = jsonl(from_stdout.stdout)
    assert sorted(r["id"] for r in records) == sorted(r["id"] for r in crawled.records())
    for record in records:
        jsonschema.validate(record, SCHEMA)
    out = tmp_path / "dataset.csv"
    assert export(crawled, "--format", "csv", "-o", str(out)).returncode == 0
    assert out.read_bytes().count(b"\r\n") >= len(records) + 1  # RFC 4180 line ends
    assert decode_csv(out.read_bytes()) == records
    assert "\n" in records[0]["text"]  # multi-line text survived the round trip


def test_parquet_holds_the_same_records(crawled, tmp_path):
    parquet = pytest.importorskip("pyarrow.parquet", reason="pyarrow not installed: pip install 'newsmirror[parquet]'")
    records = jsonl(export(crawled).stdout)
    out = tmp_path / "dataset.parquet"
    assert export(crawled, "--format", "parquet", "-o", str(out)).returncode == 0
    assert parquet.read_table(out).to_pylist() == records
    piped = export(crawled, "--format", "parquet")  # standard output is a pipe: no seeking needed
    assert parquet.read_table(io.BytesIO(piped.stdout)).to_pylist() == records


def test_parquet_without_pyarrow_says_how_to_install(crawled, tmp_path):
    (tmp_path / "pyarrow").mkdir()
    (tmp_path / "pyarrow" / "__init__.py").write_text("raise ImportError('No module named pyarrow')\n")
    result = run_cli("export", "--output", str(crawled.output), "--format", "parquet", "-o", str(tmp_path / "d.parquet"),
                     cwd=tmp_path, env={"PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"})
    assert result.returncode == 2
    assert b"pip install 'newsmirror[parquet]'" in result.stderr and b"Traceback" not in result.stderr
    assert not (tmp_path / "d.parquet").exists()


def test_site_and_date_filters(crawled):
    site = crawled.site
    moments = sorted(a.published for a in site.articles)
    since, until = moments[2].astimezone(timezone.utc).date(), moments[-3].astimezone(timezone.utc).date()
    start = datetime(since.year, since.month, since.day, tzinfo=timezone.utc)
    end = datetime(until.year, until.month, until.day, 23, 59, 59, tzinfo=timezone.utc)
    expected = sorted(a.title for a in site.articles if start <= a.published <= end)
    assert 0 < len(expected) < len(site.articles)
    result = export(crawled, "--since", since.isoformat(), "--until", until.isoformat(), "--site", "harbor")
    assert sorted(r["title"] for r in jsonl(result.stdout)) == expected
    assert f"{len(expected)} of {len(site.articles)} articles" in result.stderr.decode()
    exact = export(crawled, "--since", moments[-1].isoformat())  # an ISO time with its offset
    assert [r["title"] for r in jsonl(exact.stdout)] == [max(site.articles, key=lambda a: a.published).title]
    assert jsonl(export(crawled, "--site", "other").stdout) == []


def test_torn_last_line_is_ignored_with_a_warning(crawled, tmp_path):
    run = copy_of(crawled, tmp_path)
    last = run.run_files()[-1]
    complete = len(run.records())
    with last.open("ab") as stream:
        stream.write(b'{"id": "0123456789abcdef0123", "title": "Cut o')
    result = export(run)
    assert result.returncode == 0
    assert f"warning: {last}: ignored torn last line {complete + 1}" in result.stderr.decode()
    assert len(jsonl(result.stdout)) == complete


def test_corrupt_line_inside_a_run_file_fails(crawled, tmp_path):
    run = copy_of(crawled, tmp_path)
    path = run.run_files()[0]
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(lines[0] + b"not json\n" + b"".join(lines[1:]))
    out = tmp_path / "dataset.jsonl"
    result = export(run, "-o", str(out))
    assert result.returncode == 1
    assert f"{path}:2: corrupt run file" in result.stderr.decode()
    assert not out.exists() and list(tmp_path.glob(".dataset.jsonl.*")) == []
    assert b"--skip-corrupt" in result.stderr
    skipped = export(run, "-o", str(out), "--skip-corrupt")  # a torn line left by an older crawl on a full disk
    assert skipped.returncode == 0 and f"warning: {path}:2: corrupt run file".encode() in skipped.stderr
    assert len(jsonl(out.read_bytes())) == len(lines)


def test_missing_state_and_missing_run_files(crawled, tmp_path):
    run = copy_of(crawled, tmp_path)
    (run.output / "state.sqlite3").unlink()
    no_state = export(run)
    assert no_state.returncode == 0 and b"no state file" in no_state.stderr
    assert jsonl(no_state.stdout) == jsonl(export(crawled).stdout)  # one crawl: the run files hold every URL
    explicit = export(run, "--state", str(tmp_path / "nowhere.sqlite3"))
    assert explicit.returncode == 2 and b"no such state file" in explicit.stderr
    empty = export(run, output=tmp_path / "empty")
    assert empty.returncode == 1 and b"nothing to export: no run files" in empty.stderr and empty.stdout == b""


@pytest.mark.parametrize("args,message", [
    (["--format", "xml"], b"invalid choice: 'xml'"),
    (["--since", "yesterday"], b"--since: expected a date YYYY-MM-DD"),
    (["-o", "/nonexistent-dir/x.jsonl"], b"no such directory"),
])
def test_usage_errors_exit_2(tmp_path, args, message):
    result = run_cli("export", "--output", str(tmp_path), *args, cwd=tmp_path)
    assert result.returncode == 2 and message in result.stderr


def test_a_forbidden_destination_is_one_line_and_leaves_no_file(crawled, tmp_path):
    forbidden = tmp_path / "forbidden"
    forbidden.mkdir(mode=0o555)
    result = crawled.cli_as_user("export", "--output", str(crawled.output), "--sites", str(crawled.profile),
                                 "-o", str(forbidden / "dataset.jsonl"))
    log = result.stderr.decode()
    assert result.returncode == 74 and len(log.splitlines()) == 1 and "Traceback" not in log, log
    assert f"cannot write {forbidden / 'dataset.jsonl'}: Permission denied" in log
    assert list(forbidden.iterdir()) == []


def test_interrupted_write_leaves_no_file(tmp_path):
    target = tmp_path / "dataset.jsonl"
    target.write_bytes(b"previous export\n")
    with pytest.raises(KeyboardInterrupt), atomic_file(target) as stream:
        stream.write(b'{"id": "half')
        raise KeyboardInterrupt
    assert target.read_bytes() == b"previous export\n"
    assert [p.name for p in tmp_path.iterdir()] == ["dataset.jsonl"]
    with atomic_file(target) as stream:
        stream.write(b"new\n")
    assert target.read_bytes() == b"new\n" and oct(target.stat().st_mode & 0o777) == "0o644"
