"""The newsmirror CLI: help, scrape of files/stdin/URLs in order, and every error path's exit status."""

import json
import re
import subprocess
import sys

import jsonschema
import pytest

from crawler.output.record import RECORD_FIELDS, SCHEMA_VERSION

from .conftest import FIXTURES, SCHEMA, run_cli

PRESSTV_PAGE = FIXTURES / "presstv-article.html"


@pytest.mark.parametrize("command,words", [
    ([], b"crawl"), (["crawl"], b"incremental"), (["scrape"], b"standard input"), (["sites"], b"validat"),
    (["demo"], b"offline"), (["export"], b"latest revision"), (["crawl"], b"warc.gz"), (["scrape"], b"WARC"),
])
def test_help_explains_each_command(tmp_path, command, words):
    result = run_cli(*command, "--help", cwd=tmp_path)
    assert result.returncode == 0
    assert words in result.stdout and b"usage: newsmirror" in result.stdout


def test_no_command_is_a_usage_error(tmp_path):
    assert run_cli(cwd=tmp_path).returncode == 2


def test_scrape_local_file_and_stdin_in_order(tmp_path):
    result = run_cli("scrape", str(PRESSTV_PAGE), "-", str(tmp_path / "missing.html"), cwd=tmp_path,
                     stdin=PRESSTV_PAGE.read_bytes())
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["source"] for r in lines] == [str(PRESSTV_PAGE), "-", str(tmp_path / "missing.html")]
    file_record, stdin_record, missing = lines
    assert file_record["title"].startswith("Russia says Kherson pullout begins")
    assert file_record["section"] == "Russia"
    assert file_record["site"] == "presstv"  # from the canonical link's host
    assert "SHARE THIS ARTICLE" not in file_record["text"] and "alternate addresses" not in file_record["text"]
    assert stdin_record["id"] == file_record["id"] and stdin_record["text"] == file_record["text"]
    assert "No such file" in missing["error"] and missing["title"] is None
    assert result.returncode == 1
    assert b"cannot read" in result.stderr and b"Traceback" not in result.stderr
    for record in lines:  # error records too: every schema field, schema_version set
        jsonschema.validate(record, SCHEMA)
        assert list(record)[:len(RECORD_FIELDS)] == list(RECORD_FIELDS)
        assert record["schema_version"] == SCHEMA_VERSION


def test_schema_file_accepts_the_current_schema_version():
    record = {**json.loads(run_cli("scrape", str(PRESSTV_PAGE), cwd=FIXTURES).stdout), "schema_version": "2.0"}
    with pytest.raises(jsonschema.ValidationError, match="schema_version|2.0"):
        jsonschema.validate(record, SCHEMA)  # a major version is a new schema file
    jsonschema.validate({**record, "schema_version": SCHEMA_VERSION}, SCHEMA)


def test_scrape_of_binary_file_is_an_error_record(tmp_path):
    image = tmp_path / "photo.html"
    image.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    result = run_cli("scrape", str(image), cwd=tmp_path)
    assert result.returncode == 1
    assert "binary" in json.loads(result.stdout)["error"]


def test_scrape_urls_through_the_farm(farm_run):
    site = farm_run.site
    article = site.articles[0]
    mirror_url = f"http://{site.hosts[1]}{article.path}?utm_source=twitter"
    result = farm_run.cli("scrape", "--sites", str(farm_run.profile), mirror_url, str(PRESSTV_PAGE),
                          f"http://{site.hosts[0]}/Detail/2026/1/1/1/Missing", "http://unknown-host.example/x")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["source"] for r in lines] == [mirror_url, str(PRESSTV_PAGE),
                                            f"http://{site.hosts[0]}/Detail/2026/1/1/1/Missing", "http://unknown-host.example/x"]
    fetched = lines[0]
    assert fetched["site"] == "harbor" and fetched["title"] == article.title
    assert fetched["text"].split("\n") == article.paragraphs
    assert fetched["fetched_at"] is not None
    assert lines[2]["error"].startswith("HTTP 404") and lines[2]["site"] == "harbor"
    assert "HTTP 502" in lines[3]["error"]
    assert result.returncode == 1


def test_scrape_unreachable_host_is_an_error_record(farm_run):
    farm_run.farm.set_fault(farm_run.site.hosts[2], "refuse")
    url = f"http://{farm_run.site.hosts[2]}{farm_run.site.articles[0].path}"
    result = farm_run.cli("scrape", url, "-s", "RETRY_TIMES=0")
    record = json.loads(result.stdout)
    assert result.returncode == 1
    assert record["error"] == f"connection closed without a response, fetching {url}"


def test_unknown_site_and_bad_setting_exit_2(tmp_path):
    unknown = run_cli("crawl", "nosuchsite", cwd=tmp_path)
    assert unknown.returncode == 2
    assert b"unknown site 'nosuchsite'; known sites: presstv" in unknown.stderr
    assert run_cli("scrape", "--site", "nosuchsite", "-", cwd=tmp_path, stdin=b"").returncode == 2
    bad_setting = run_cli("crawl", "presstv", "-s", "NOVALUE", cwd=tmp_path)
    assert bad_setting.returncode == 2 and b"-s expects NAME=VALUE" in bad_setting.stderr
    bad_engine = run_cli("scrape", str(PRESSTV_PAGE), "-s", "NEWSMIRROR_EXTRACT_ENGINE=boilerpipe", cwd=tmp_path)
    assert bad_engine.returncode == 2
    assert b"NEWSMIRROR_EXTRACT_ENGINE='boilerpipe': choose from trafilatura, resiliparse" in bad_engine.stderr


def test_demo_crawls_the_farm_with_one_host_down(tmp_path):
    result = run_cli("demo", "--output", str(tmp_path / "demo"), "-q", cwd=tmp_path, timeout=180)
    log = result.stderr.decode()
    assert result.returncode == 0, log[-2000:]
    runs = list((tmp_path / "demo" / "harbor").glob("*.jsonl"))
    records = [json.loads(line) for line in runs[0].read_text().splitlines()]
    assert len(records) == 40 and len({r["id"] for r in records}) == 40
    dataset = [json.loads(line) for line in (tmp_path / "demo" / "dataset.jsonl").read_text().splitlines()]
    assert sorted(r["id"] for r in dataset) == sorted(r["id"] for r in records)
    assert "www.harbornews.tv: connection closed without a response" in log
    assert "3/4 hosts answered (down: www.harbornews.tv (connection closed without a response))" in log
    assert "mirrors admitted: www.harbornews.net; mirror candidates rejected: www.harbornews.online (parked domain)" in log
    assert (tmp_path / "demo" / "state.sqlite3").exists()


def test_demo_prints_a_few_lines_and_verbose_adds_scrapys_log(tmp_path):
    default = run_cli("demo", "--output", str(tmp_path / "demo"), cwd=tmp_path, timeout=180)
    lines = default.stderr.decode().splitlines()
    assert default.returncode == 0 and len(lines) < 15, lines
    assert any(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ harbor: 40 new articles", line) for line in lines)
    assert lines[-1] == f"newsmirror report: 1 run of 1 site -> {tmp_path / 'demo' / 'report.html'}"
    assert not any("Dumping Scrapy stats" in line or "Scrapy 2." in line for line in lines)
    stats_file = next((tmp_path / "demo" / "harbor").glob("*.stats.json"))  # the full stats stay on disk
    assert "downloader/request_count" in stats_file.read_text()
    verbose = run_cli("demo", "--output", str(tmp_path / "again"), "-v", cwd=tmp_path, timeout=180)
    log = verbose.stderr.decode()
    assert verbose.returncode == 0 and "Dumping Scrapy stats" in log and "Enabled extensions" in log
    # Scrapy's RemoteControl (an HTTP endpoint that runs code) stays off unless a user turns it on
    assert "RemoteControl" not in log and "Remote control" not in log


def test_scrape_of_an_endless_stdin_reads_only_the_page_cap(tmp_path):
    with open("/dev/zero", "rb") as zero:  # before: 2 GB of memory after 5 s, and on until killed
        result = subprocess.run([sys.executable, "-m", "crawler.cli", "scrape", "-"], stdin=zero, cwd=tmp_path,
                                capture_output=True, timeout=60)
    record = json.loads(result.stdout)
    assert result.returncode == 1 and record["source"] == "-" and "binary content" in record["error"]


def test_a_page_over_the_cap_says_its_text_is_truncated(tmp_path):
    page = PRESSTV_PAGE.read_bytes()
    head, tail = page.split(b"</body>", 1)
    comments = b"".join(b'<div class="comment"><p>Reader comment %d: ' % n + b"x" * 2000 + b"</p></div>"
                        for n in range(15_000))  # 30 MB of comment thread after the article
    huge = tmp_path / "huge.html"
    huge.write_bytes(head + comments + b"</body>" + tail)
    result = run_cli("scrape", str(huge), str(PRESSTV_PAGE), cwd=tmp_path, timeout=180)
    cut, whole = (json.loads(line) for line in result.stdout.splitlines())
    assert result.returncode == 0 and huge.stat().st_size > 30_000_000
    assert cut["truncated"] is True and whole["truncated"] is False
    assert cut["title"] == whole["title"] and whole["text"].split("\n")[0] in cut["text"]
    jsonschema.validate(cut, SCHEMA)


def test_unsupported_schemes_are_refused_by_name(tmp_path):
    result = run_cli("scrape", "ftp://www.presstv.ir/Detail/2019/1/23/586614/x", "file:///etc/passwd", cwd=tmp_path)
    errors = [json.loads(line)["error"] for line in result.stdout.splitlines()]
    assert result.returncode == 1
    assert errors == ["unsupported scheme 'ftp' in ftp://www.presstv.ir/Detail/2019/1/23/586614/x (only http and https)",
                      "unsupported scheme 'file' in file:///etc/passwd (only http and https)"]
    assert b"root:" not in result.stdout


def test_site_outcome_fails_only_when_hosts_were_asked_and_none_answered():
    from crawler.reporting.outcome import EXIT_FAILED, EXIT_OK, site_outcome
    from crawler.sites.profiles import parse_profile

    profile = parse_profile("t.toml", "realnews", {"hosts": ["www.realnews.ir", "www.realnews.co.uk"]})
    resumed = {"finish_reason": "finished"}  # a resumed run whose work was done: nothing asked
    status, summary = site_outcome(resumed, profile, 1.0)
    assert status == EXIT_OK and "0/2 hosts answered" in summary and "nothing left to fetch" in summary
    down = {"finish_reason": "finished", "newsmirror/host/www.realnews.ir/failed/HTTP 503": 3,
            "newsmirror/host/www.realnews.co.uk/failed/connection refused": 3}
    status, summary = site_outcome(down, profile, 1.0)
    assert status == EXIT_FAILED and "FAILED: no host of realnews reachable" in summary and "HTTP 503" in summary
    one_up = {**down, "newsmirror/host/www.realnews.co.uk/ok": 4, "newsmirror/articles/new": 2}
    assert site_outcome(one_up, profile, 1.0).status == EXIT_OK
    assert site_outcome({**one_up, "finish_reason": "shutdown"}, profile, 1.0).status == EXIT_FAILED


def test_help_lists_every_exit_status(tmp_path):
    from crawler.reporting.outcome import EXIT_STATUSES

    result = run_cli("--help", cwd=tmp_path)
    text = "".join(result.stdout.decode().split())  # argparse wraps the epilog (at hyphens too)
    for code, meaning in EXIT_STATUSES.items():
        assert f"{code}{''.join(meaning.split())}" in text


def test_a_misspelt_setting_is_said_with_the_closest_name(farm_run):
    result = farm_run.crawl("-q", "-s", "DOWNLOAD_DELAYS=0.01", "-s", "NEWSMIRROR_EXTRACT_WORKER=0", "-s", "MY_ADDON_LIMIT=3")
    log = result.stderr.decode()
    assert result.returncode == 0, log[-2000:]
    assert "warning: -s DOWNLOAD_DELAYS=0.01: unknown setting DOWNLOAD_DELAYS; did you mean DOWNLOAD_DELAY?" in log
    assert ("warning: -s NEWSMIRROR_EXTRACT_WORKER=0: unknown newsmirror setting NEWSMIRROR_EXTRACT_WORKER; "
            "did you mean NEWSMIRROR_EXTRACT_WORKERS?") in log
    assert "MY_ADDON_LIMIT" not in log  # an add-on's own setting is not a typo


def test_a_misspelt_profile_key_suggests_the_closest_key(tmp_path):
    profile = tmp_path / "sites.toml"
    profile.write_text('[harbor]\nhosts = ["www.harbornews.ir"]\nartcle = "^/Detail/"\n', encoding="utf-8")
    result = run_cli("sites", "--sites", str(profile), cwd=tmp_path)
    assert result.returncode == 2
    assert f"{profile}: site [harbor], key 'artcle': unknown key; did you mean 'article'?".encode() in result.stderr
