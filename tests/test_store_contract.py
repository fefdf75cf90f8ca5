"""The store contract (crawler.state.store.StateStore): one suite, run against the SQLite store and against the
Redis store on a real redis-server and on a real three-master Redis Cluster."""

from __future__ import annotations

import sqlite3

import pytest

from crawler.dedup.identity import BY_ID, BY_NEAR_TEXT, BY_TEXT, Copy, content_hash, hash64
from crawler.distributed.client import redis_client
from crawler.distributed.run import RedisRun
from crawler.distributed.store import RedisState
from crawler.farm.sites import make_articles
from crawler.state.sqlite import SqliteState
from crawler.reporting.outcome import run_totals
from crawler.state.store import Revision

ARTICLES = make_articles(4, seed=23)
TEXTS = ["\n".join(article.paragraphs) for article in ARTICLES]


@pytest.fixture(params=["sqlite", "redis", "cluster"])
def open_store(request, tmp_path):
    """A factory of stores on one state: a second call is another process (or worker) on the same state."""
    if request.param == "sqlite":
        yield lambda worker="a": SqliteState(tmp_path / "state.sqlite3")
        return
    url = request.getfixturevalue("redis_url" if request.param == "redis" else "cluster_url")

    def redis_store(worker="a"):
        run = RedisRun.join(redis_client(url, 5), "harbor", "run1", worker, 30.0)
        return RedisState(run.client, "harbor", run)

    yield redis_store


def record(number: int, text: str, revision: int = 1, published: str | None = "2026-03-09T11:50:00+03:30") -> dict:
    return {"id": f"{number:020x}", "site": "harbor", "text": text, "content_hash": content_hash(text), "revision": revision,
            "published": published, "modified": None, "mirror_urls": [f"http://www.harbornews.ir/Detail/{number}/a"]}


def emit(store, item: dict) -> None:
    """As the pipelines do: claim, then (the line written) commit."""
    store.claim(item["site"], item["id"], item["text"], item["content_hash"])
    store.mark_emitted(item, "run1", store.content_print(item["text"], item["content_hash"]))


def test_a_claimed_article_is_matched_by_id_text_and_near_text(open_store):
    store = open_store()
    first = record(1, TEXTS[0])
    assert store.claim("harbor", first["id"], first["text"], first["content_hash"]) is None
    emit(store, first)
    assert store.is_emitted(first["id"])
    assert store.claim("harbor", first["id"], first["text"], first["content_hash"]) == Copy(first["id"], BY_ID)
    assert store.claim("harbor", "f" * 20, TEXTS[0].upper(), content_hash(TEXTS[0].upper())) == Copy(first["id"], BY_TEXT)
    edited = TEXTS[0].replace("said", "stated", 2) + "\nA correction was added on Wednesday."
    assert store.claim("harbor", "e" * 20, edited, content_hash(edited)) == (first["id"], BY_NEAR_TEXT)
    assert store.claim("harbor", "d" * 20, TEXTS[1], content_hash(TEXTS[1])) is None  # another article
    assert store.find_copy("harbor", "c" * 20, store.content_print(TEXTS[2], content_hash(TEXTS[2]))) is None


def test_revisions_and_urls(open_store):
    store = open_store()
    first = record(1, TEXTS[0])
    assert store.revision_of(first["id"]) is None
    emit(store, first)
    assert store.revision_of(first["id"]) == Revision(hash64(first["content_hash"]), 1, first["published"], None)
    revised = {**record(1, TEXTS[0] + "\nUpdated: the talks resumed.", revision=2), "modified": "2026-03-10T08:00:00+00:00"}
    emit(store, revised)
    emitted = store.revision_of(first["id"])
    assert emitted.revision == 2 and emitted.hash64 == hash64(revised["content_hash"])
    assert emitted.modified == "2026-03-10T08:00:00+00:00"
    store.record_urls(first["id"], ["http://www.harbornews.co.uk/Detail/1/a", "http://www.harbornews.ir/Detail/1/a"])
    assert sorted(store.urls_of(first["id"])) == ["http://www.harbornews.co.uk/Detail/1/a", "http://www.harbornews.ir/Detail/1/a"]
    store.close()
    assert sorted(open_store().urls_of(first["id"])) == ["http://www.harbornews.co.uk/Detail/1/a",
                                                         "http://www.harbornews.ir/Detail/1/a"]  # another process


def test_published_since_lists_recent_articles_with_their_urls(open_store):
    store = open_store()
    emit(store, record(1, TEXTS[0], published="2026-12-01T10:00:00+00:00"))
    emit(store, record(2, TEXTS[1], published="2026-11-20T10:00:00+00:00"))
    emit(store, record(3, TEXTS[2], published=None))
    recent = store.published_since("harbor", "2026-11-25")
    assert recent == [(f"{1:020x}", "2026-12-01T10:00:00+00:00", ["http://www.harbornews.ir/Detail/1/a"])]
    assert store.published_since("other", "2026-11-25") == []


def test_validators_runs_and_templates(open_store):
    store = open_store()
    assert store.validators("http://h/rss.xml") == (None, None)
    store.save_validators({"http://h/rss.xml": ('"abc"', "Tue, 01 Dec 2026 10:00:00 GMT")})
    assert tuple(store.validators("http://h/rss.xml")) == ('"abc"', "Tue, 01 Dec 2026 10:00:00 GMT")
    store.start_run("20261201T000000000000Z", "harbor", "2026-12-01T00:00:00+00:00")
    assert store.last_run_status("harbor") is None  # still running (or killed)
    store.finish_run("20261201T000000000000Z", "2026-12-01T00:05:00+00:00", "finished")
    assert store.last_run_status("harbor") == "finished"
    counts = store.template_counts("harbor")
    counts.update({"share-this": 5, "app-promo": 7})
    store.save_template_counts("harbor", counts)
    store.close()
    assert open_store().template_counts("harbor") == {"share-this": 5, "app-promo": 7}


def test_discovered_hosts_and_one_check_at_a_time(open_store):
    one, other = open_store("a"), open_store("b")
    entry = {"status": "candidate", "found_how": "notice", "found_where": "http://www.harbornews.ir/x"}
    one.save_discovered_host("harbor", "www.harbornews.net", entry)
    assert other.discovered_hosts("harbor") == {"www.harbornews.net": entry}
    assert one.claim_host_check("harbor", "www.harbornews.net", 60)
    one.release_host_check("harbor", "www.harbornews.net")
    assert other.claim_host_check("harbor", "www.harbornews.net", 60)
    assert other.forget_discovered_host("harbor", "www.harbornews.net")
    assert not one.forget_discovered_host("harbor", "www.harbornews.net")
    assert one.discovered_hosts("harbor") == {}


def test_a_discovered_host_is_added_only_over_the_entry_that_was_read(open_store):
    one, other = open_store("a"), open_store("b")
    candidate = {"status": "candidate", "found_how": "notice", "found_where": "http://www.harbornews.ir/x"}
    verdict = {"status": "rejected", "reason": "HTTP 404 on 2 of 2 articles", "retry_at": 1.0}
    assert one.add_discovered_host("harbor", "www.harbornews.net", candidate, None)
    assert not other.add_discovered_host("harbor", "www.harbornews.net", {**candidate, "found_how": "rss"}, None)
    assert one.add_discovered_host("harbor", "www.harbornews.net", verdict, candidate)
    assert not other.add_discovered_host("harbor", "www.harbornews.net", candidate, candidate)  # read before the verdict
    assert one.discovered_hosts("harbor") == {"www.harbornews.net": verdict}
    assert other.add_discovered_host("harbor", "www.harbornews.net", candidate, verdict)  # its retry
    assert one.discovered_hosts("harbor") == {"www.harbornews.net": candidate}


# -- reading does not migrate --------------------------------------------------------------------
def test_a_read_only_sqlite_open_changes_nothing_and_reads_an_older_schema(tmp_path):
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)  # a state from before templates and discovered hosts were kept
    db.executescript("CREATE TABLE articles (num INTEGER PRIMARY KEY, id TEXT UNIQUE, site TEXT, hash64 INTEGER, "
                     "revision INTEGER, published TEXT, modified TEXT); CREATE TABLE mirror_urls (id TEXT, url TEXT);")
    db.close()
    before = path.read_bytes()
    store = SqliteState(path, read_only=True)
    assert store.template_counts("harbor") == {} and store.discovered_hosts("harbor") == {}
    store.close()
    assert path.read_bytes() == before and not (tmp_path / "old.sqlite3-wal").exists()
    tables = {name for (name,) in sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"articles", "mirror_urls"}  # not migrated
    SqliteState(path).close()  # a writer migrates
    tables = {name for (name,) in sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "mirror_urls" not in tables and "site_templates" in tables


def test_the_store_contract_is_what_both_stores_implement():
    from crawler.state.store import StateStore

    contract = {name for name in vars(StateStore) if not name.startswith("_")}
    for store in (SqliteState, RedisState):
        assert contract <= set(dir(store)), contract - set(dir(store))


def test_the_pending_queue_keeps_reasons_and_tries_until_the_article_is_got(open_store):
    from crawler.state.store import PendingArticle

    store = open_store()
    url = "http://www.harbornews.ir/Detail/2026/3/9/1/a"
    store.save_pending("harbor", [PendingArticle("harbor:/Detail/2026/3/9/1/a", [url], "every host failed (HTTP 503)", True),
                                  PendingArticle("harbor:/b", ["http://www.harbornews.ir/b"], "not fetched", False)],
                       "2026-12-06T01:00:00+00:00")
    mirror = "http://www.harbornews.co.uk/Detail/2026/3/9/1/a"
    open_store("b").save_pending("harbor", [PendingArticle("harbor:/Detail/2026/3/9/1/a", [mirror], "timed out", True)],
                                 "2026-12-06T02:00:00+00:00")
    pending = store.pending_articles("harbor")
    assert pending["harbor:/Detail/2026/3/9/1/a"] == {"urls": [url, mirror], "reason": "timed out", "tries": 2,
                                                      "first_seen": "2026-12-06T01:00:00+00:00",
                                                      "last_seen": "2026-12-06T02:00:00+00:00"}
    assert pending["harbor:/b"]["tries"] == 0 and store.pending_articles("other") == {}
    store.clear_pending("harbor", ["harbor:/b"])
    assert list(store.pending_articles("harbor")) == ["harbor:/Detail/2026/3/9/1/a"]


def test_a_site_on_hold_and_the_runs_summaries(open_store):
    store = open_store()
    assert store.site_hold("harbor") is None
    hold = {"why": "banned by www.harbornews.ir (HTTP 403, 3 in a row)", "host": "www.harbornews.ir",
            "since": "2026-12-06T01:00:00+00:00", "until": "2026-12-06T02:00:00+00:00"}
    store.save_site_hold("harbor", hold)
    assert open_store("b").site_hold("harbor") == hold
    store.save_site_hold("harbor", None)
    assert store.site_hold("harbor") is None
    store.start_run("20261206T010000000000Z", "harbor", "2026-12-06T01:00:00+00:00")
    store.finish_run("20261206T010000000000Z", "2026-12-06T01:02:00+00:00", "finished", {"listed": 40, "new": 3, "exit_status": 0})
    store.start_run("20261206T020000000000Z", "harbor", "2026-12-06T02:00:00+00:00")  # never ended (killed)
    store.start_run("20261206T030000000000Z", "gulf", "2026-12-06T03:00:00+00:00")
    runs = store.run_history("harbor")
    assert [run["run_id"] for run in runs] == ["20261206T020000000000Z", "20261206T010000000000Z"]
    assert open_store("b").sites_with_runs() == ["gulf", "harbor"]
    assert runs[0]["summary"] is None and runs[1]["summary"] == {"listed": 40, "new": 3, "exit_status": 0}
    assert runs[1]["status"] == "finished" and runs[1]["finished_at"] == "2026-12-06T01:02:00+00:00"
    store.start_run("20261206T040000000000Z", "harbor", "2026-12-06T04:00:00+00:00")
    store.finish_run("20261206T040000000000Z", "2026-12-06T04:01:00+00:00", "finished",
                     {"new": 2, "failovers": 5, "exit_status": 4})  # stale: no success
    totals = open_store("b").run_totals("harbor")
    assert totals == {"runs": 2, "new": 5, "revised": 0, "lost": 0, "failovers": 5, "archive_fetches": 0, "throttled": 0,
                      "failed_requests": 0, "last_success": "2026-12-06T01:02:00+00:00"}
    assert totals == run_totals(store.run_history("harbor")) and store.run_totals("gulf")["last_success"] is None

