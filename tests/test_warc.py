"""Raw archives: `crawl --warc` records every download with its real headers; `scrape --warc` re-extracts
the same article records offline."""

import json
from collections import Counter
from urllib.parse import urlsplit

import jsonschema
import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler
from warcio.archiveiterator import ArchiveIterator

from crawler.output.warc import WarcRecorder

from .conftest import SCHEMA, run_cli


def warc_records(path) -> list:
    with open(path, "rb") as stream:
        return [(r.rec_type, r.rec_headers.get_header("WARC-Target-URI"), r.http_headers, r.content_stream().read())
                for r in ArchiveIterator(stream)]


def middle_of_last_article(path) -> int:
    """A byte offset inside the (gzipped) response record of the last article page in a WARC."""
    with open(path, "rb") as stream:
        records = ArchiveIterator(stream)
        offsets = [(records.get_record_offset(), r.rec_type, r.rec_headers.get_header("WARC-Target-URI") or "")
                   for r in records]
    start = [offset for offset, kind, url in offsets if kind == "response" and "/Detail/" in url][-1]
    end = next(offset for offset, _, _ in offsets if offset > start)
    return (start + end) // 2


def scrape_warc(run, *paths):
    result = run.cli("scrape", "--sites", str(run.profile), *(arg for p in paths for arg in ("--warc", str(p))))
    return result, [json.loads(line) for line in result.stdout.splitlines()]


def test_crawl_archives_every_download_and_scrape_reextracts_the_same_records(farm_factory):
    run = farm_factory(articles=10)
    result = run.crawl("-q", "--warc")
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    [run_file] = run.run_files()
    warc = run_file.with_name(run_file.stem + ".warc.gz")
    records = warc_records(warc)
    responses = [r for r in records if r[0] == "response"]
    requests = [r for r in records if r[0] == "request"]
    # one response and one request record per answered fetch, with the fetch's real headers and body
    answered = Counter((r.host, r.path) for r in run.farm.requests)
    assert Counter((urlsplit(u).hostname, urlsplit(u).path) for _, u, _, _ in responses) == answered
    assert sorted(u for _, u, _, _ in requests) == sorted(u for _, u, _, _ in responses)
    for _, url, headers, body in responses:
        status, content_type, served = run.site.page(urlsplit(url).hostname, urlsplit(url).path)
        assert headers.get_statuscode() == str(status) and headers.get_header("Content-Type") == content_type
        assert body == served
    for _, url, headers, _ in requests:
        assert f"{headers.protocol} {headers.statusline}" == f"GET {urlsplit(url).path} HTTP/1.1"
        assert headers.get_header("Host") == urlsplit(url).hostname
        assert headers.get_header("User-Agent").startswith("newsmirror/")

    rescraped, lines = scrape_warc(run, warc)
    assert rescraped.returncode == 0, rescraped.stderr.decode()
    crawled = {r["id"]: r for r in run.records()}
    assert sorted(r["id"] for r in lines) == sorted(crawled)
    for record in lines:
        jsonschema.validate(record, SCHEMA)
        original = crawled[record["id"]]
        assert record["mirror_urls"] == [record["url"]]  # documented: only the fetched URL
        assert record["fetched_at"] is not None
        differ = {"fetched_at", "mirror_urls"}
        assert {k: v for k, v in record.items() if k not in differ} == {k: v for k, v in original.items() if k not in differ}


def test_setting_turns_recording_on_and_an_incremental_run_archives_no_article(farm_factory):
    run = farm_factory(articles=5)
    assert run.crawl("-q").returncode == 0
    assert list(run.output.glob("*/*.warc.gz")) == []
    assert run.crawl("-q", "-s", "NEWSMIRROR_WARC=True").returncode == 0
    [warc] = run.output.glob("*/*.warc.gz")
    assert len(run.run_files()) == 1  # the second run emitted nothing: no run file, but its WARC
    assert warc.name > run.run_files()[0].stem  # named after the second run's id
    assert not any("/Detail/" in url for kind, url, _, _ in warc_records(warc) if kind == "response")
    result, lines = scrape_warc(run, warc)
    assert result.returncode == 0 and lines == [] and b"0 articles from" in result.stderr


def test_recorder_is_off_without_the_setting():
    with pytest.raises(NotConfigured):
        WarcRecorder.from_crawler(get_crawler(settings_dict={}))


def test_unreadable_and_truncated_warcs_are_error_records(farm_factory, tmp_path):
    run = farm_factory(articles=5)
    assert run.crawl("-q", "--warc").returncode == 0
    [warc] = run.output.glob("*/*.warc.gz")
    _, complete = scrape_warc(run, warc)
    truncated = tmp_path / "cut.warc.gz"
    truncated.write_bytes(warc.read_bytes()[:middle_of_last_article(warc)])  # a crawl killed mid-write
    not_warc = tmp_path / "page.warc.gz"
    not_warc.write_bytes(b"<html>not an archive</html>")
    result, lines = scrape_warc(run, truncated, not_warc, tmp_path / "missing.warc.gz")
    assert result.returncode == 1 and b"Traceback" not in result.stderr
    errors = [r for r in lines if "error" in r]
    assert [r["source"] for r in errors] == [str(truncated), str(not_warc), str(tmp_path / "missing.warc.gz")]
    assert "truncated" in errors[0]["error"] and "not a WARC" in errors[1]["error"]
    assert "cannot read WARC" in errors[2]["error"]
    for record in errors:
        jsonschema.validate(record, SCHEMA)
    # what came before the cut is still re-extracted
    assert [r for r in lines if "error" not in r] == complete[:len(lines) - len(errors)]
    assert 0 < len(lines) - len(errors)


def test_scrape_without_target_or_warc_is_a_usage_error(tmp_path):
    result = run_cli("scrape", cwd=tmp_path)
    assert result.returncode == 2 and b"give a TARGET or --warc FILE" in result.stderr
