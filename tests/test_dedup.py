"""One record per article: content identity (exact, near-duplicate), canonical links, runs and recovery."""

import json
import os
import random
import sqlite3
import subprocess
import sys
import zlib
from urllib.parse import urlsplit

import numpy as np
import pytest

from crawler.dedup.minhash import MinHasher, jaccard, shingle_hashes
from crawler.farm.sites import make_articles
from crawler.output.export import state_open, state_urls
from crawler.state.maintenance import state_problem
from crawler.state.sqlite import BAND_KEY_END, BAND_KEY_START, PrintFormatError, SqliteState, band_range_end, has_table, idkey

ARTICLES = make_articles(12, seed=11)


def text_of(article) -> str:
    return "\n".join(article.paragraphs)


def edited(text: str, rate: float, seed: int = 1) -> str:
    """The text with ``rate`` of its words replaced, deleted or doubled (a corrected copy)."""
    rng = random.Random(seed)
    words = text.split(" ")
    out = []
    for word in words:
        roll = rng.random()
        if roll < rate / 3:
            out.append("revised")
        elif roll < 2 * rate / 3:
            continue
        elif roll < rate:
            out.extend([word, word])
        else:
            out.append(word)
    return " ".join(out)


def state_with(tmp_path, *texts):
    state = SqliteState(tmp_path / "state.sqlite3")
    for number, text in enumerate(texts):
        record = {"id": f"{number:020x}", "site": "harbor", "text": text, "content_hash": f"{number:040x}",
                  "mirror_urls": [f"http://www.harbornews.ir/Detail/2026/1/1/{number}/x"]}
        state.mark_emitted(record, "run1", state.content_print(text, record["content_hash"]))
    return state


def test_shingle_jaccard_orders_copies_above_distinct_articles():
    original = text_of(ARTICLES[0])
    assert jaccard(shingle_hashes(original), shingle_hashes(original.upper() + " ")) == 1.0
    copy = jaccard(shingle_hashes(original), shingle_hashes(edited(original, 0.05)))
    other = jaccard(shingle_hashes(original), shingle_hashes(text_of(ARTICLES[1])))
    assert copy > 0.6 > 0.35 > other


@pytest.mark.parametrize("rate", [0.01, 0.05, 0.10])
def test_edited_copy_is_found_by_near_duplicate_layer(tmp_path, rate):
    state = state_with(tmp_path, *(text_of(a) for a in ARTICLES))
    copy = edited(text_of(ARTICLES[4]), rate, seed=int(rate * 100))
    match = state.find_copy("harbor", "f" * 20, state.content_print(copy, "e" * 40))
    assert match == (f"{4:020x}", "near-duplicate")


def test_copy_with_different_boilerplate_and_caption_is_found(tmp_path):
    state = state_with(tmp_path, *(text_of(a) for a in ARTICLES))
    copy = ("Follow Harbor News on Telegram for breaking news.\n" + text_of(ARTICLES[7])
            + "\nHarbor News's website can also be accessed at www.harbornews.tv")
    assert state.find_copy("harbor", "f" * 20, state.content_print(copy, "e" * 40))[0] == f"{7:020x}"


def test_exact_text_and_id_layers(tmp_path):
    state = state_with(tmp_path, text_of(ARTICLES[0]))
    assert state.find_copy("harbor", f"{0:020x}", None) == (f"{0:020x}", "id")
    assert state.find_copy("harbor", "f" * 20, state.content_print(text_of(ARTICLES[0]), f"{0:040x}")) == (f"{0:020x}", "text")
    assert state.find_copy("other", "f" * 20, state.content_print(text_of(ARTICLES[0]), f"{0:040x}")) is None


def test_distinct_articles_sharing_a_lead_or_quote_stay_distinct(tmp_path):
    state = state_with(tmp_path, *(text_of(a) for a in ARTICLES[:6]))
    for source in range(6):
        target = ARTICLES[source + 6]
        shared_lead = "\n".join(ARTICLES[source].paragraphs[:2] + target.paragraphs[2:])
        assert state.find_copy("harbor", "f" * 20, state.content_print(shared_lead, "e" * 40)) is None
        quote = ARTICLES[source].paragraphs[1]
        with_quote = "\n".join(target.paragraphs[:2] + [f'"{quote}"'] + target.paragraphs[2:])
        assert state.find_copy("harbor", "f" * 20, state.content_print(with_quote, "e" * 40)) is None


def test_band_keys_and_checks_are_stable_across_processes():
    """Band keys and checks are stored: another interpreter (another hash seed) must compute the same ones."""
    text = text_of(ARTICLES[0])
    hasher = MinHasher()
    signature = hasher.signature(shingle_hashes(text))
    keys, checks = hasher.band_keys(signature), hasher.band_checks(signature)
    script = ("import sys, json; from crawler.dedup.minhash import MinHasher, shingle_hashes; h = MinHasher(); "
              "s = h.signature(shingle_hashes(sys.stdin.read())); print(json.dumps([h.band_keys(s), h.band_checks(s)]))")
    other = subprocess.run([sys.executable, "-c", script], input=text, capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": "12345"})
    assert json.loads(other.stdout) == [keys, checks]
    assert len(set(keys)) == 16 and all(-2**31 <= k < 2**31 for k in keys)
    assert len(set(checks)) > 12 and all(0 <= c < 2**16 for c in checks)


def test_band_checks_tell_apart_bands_whose_32_bit_keys_agree_by_chance():
    """Among 320,000 random bands some CRC-32 keys agree though the bands differ; their checks must not."""
    hasher = MinHasher()
    rng = np.random.default_rng(5)
    seen: dict[int, tuple[bytes, int]] = {}
    collisions = 0
    for _ in range(20_000):
        signature = rng.integers(0, 2**32, size=64, dtype=np.uint32)
        rows = signature.reshape(16, 4)
        for band, (key, check) in enumerate(zip(hasher.band_keys(signature), hasher.band_checks(signature))):
            values = band.to_bytes(1, "big") + rows[band].tobytes()
            if key in seen and seen[key][0] != values:
                collisions += 1
                assert seen[key][1] != check
            seen[key] = (values, check)
    assert collisions >= 3  # the chance agreements the checks are there for (about 12 expected)


def test_words_ignore_case_punctuation_and_forms_but_marks_do_not_split_them():
    assert np.array_equal(shingle_hashes("The minister said: “no”."), shingle_hashes("the MINISTER said no"))
    assert np.array_equal(shingle_hashes("ﬁnal ２０２６ vote"), shingle_hashes("final 2026 vote"))  # NFKC
    assert shingle_hashes("كَتَبَ الوَلَدُ الدَّرْسَ").size == 1  # three words with harakat: one shingle
    assert shingle_hashes("the minister said no").size == 2
    assert shingle_hashes(" — ").size == 0 and shingle_hashes("").size == 0


def test_buffered_articles_are_found_before_they_are_written_and_written_on_close(tmp_path):
    state = SqliteState(tmp_path / "state.sqlite3", flush_interval=3600)
    text = text_of(ARTICLES[2])
    record = {"id": "a" * 20, "site": "harbor", "text": text, "content_hash": "c" * 40,
              "mirror_urls": ["http://www.harbornews.ir/Detail/2026/1/1/2/x"]}
    state.mark_emitted(record, "run1", state.content_print(text, record["content_hash"]))
    reader = sqlite3.connect(tmp_path / "state.sqlite3")
    assert reader.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 0  # still buffered
    assert state.find_copy("harbor", "a" * 20, None) == ("a" * 20, "id")
    assert state.find_copy("harbor", "b" * 20, state.content_print(text, "c" * 40)) == ("a" * 20, "text")
    copy = edited(text, 0.05)
    assert state.find_copy("harbor", "b" * 20, state.content_print(copy, "d" * 40)) == ("a" * 20, "near-duplicate")
    assert state.revision_of("a" * 20)[1] == 1
    state.record_urls("a" * 20, ["http://harbornews.tv/Detail/2026/1/1/2/x"])
    state.close()
    assert reader.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 1
    assert [u for (u,) in reader.execute("SELECT url FROM article_urls")] == [
        "http://harbornews.tv/Detail/2026/1/1/2/x", "http://www.harbornews.ir/Detail/2026/1/1/2/x"]
    again = SqliteState(tmp_path / "state.sqlite3")
    assert again.find_copy("harbor", "b" * 20, again.content_print(copy, "d" * 40)) == ("a" * 20, "near-duplicate")


def test_buffer_is_written_after_flush_after_articles(tmp_path):
    state = SqliteState(tmp_path / "state.sqlite3", flush_after=3, flush_interval=3600)
    reader = sqlite3.connect(tmp_path / "state.sqlite3")
    for number, article in enumerate(ARTICLES[:4]):
        record = {"id": f"{number:020x}", "site": "harbor", "text": text_of(article), "content_hash": f"{number:040x}",
                  "mirror_urls": []}
        state.mark_emitted(record, "run1", state.content_print(record["text"], record["content_hash"]))
    assert reader.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 3


def test_band_ranges_grow_narrower_as_the_index_grows_and_tile_the_keys():
    # a small index moves all of the recent table each flush; a larger one a range that shrinks with its square root
    assert band_range_end(BAND_KEY_START, 0, 131_072) == BAND_KEY_END
    assert band_range_end(BAND_KEY_START, 160_000_000, 131_072) - BAND_KEY_START == -(-(1 << 32) // 49)
    assert band_range_end(BAND_KEY_START, 160_000_000, 4_800) - BAND_KEY_START == -(-(1 << 32) // 258)
    start, ranges = BAND_KEY_START, 0
    while True:  # successive flushes cover every key once a round, the last range cut at the end
        end = band_range_end(start, 16_000_000, 131_072)
        assert start < end <= BAND_KEY_END
        ranges += 1
        if end == BAND_KEY_END:
            break
        start = end
    assert ranges == 15


def test_band_entries_move_range_by_range_and_are_found_in_either_table(tmp_path):
    """Flushes put band entries in the recent table and move one key range a flush into the large one, going on
    where the last flush stopped, also after a reopen; a near-duplicate is found wherever its original's entries are."""
    def opened():
        return SqliteState(tmp_path / "state.sqlite3", flush_after=1, flush_interval=3600)

    def entries(table, low=BAND_KEY_START, high=BAND_KEY_END):
        return state.db.execute(f"SELECT COUNT(*) FROM {table} WHERE band >= ? AND band < ?", (low, high)).fetchone()[0]

    state = opened()
    texts = [text_of(article) for article in ARTICLES]
    wrapped = False
    for number, text in enumerate(texts[:8]):
        start = int(state.meta("band_range_start") or BAND_KEY_START)
        record = {"id": f"{number:020x}", "site": "harbor", "text": text, "content_hash": f"{number:040x}", "mirror_urls": []}
        state.mark_emitted(record, "run1", state.content_print(text, record["content_hash"]))
        end = int(state.meta("band_range_start"))
        wrapped |= end == BAND_KEY_START
        assert entries("lsh_bands") + entries("lsh_bands_recent") == 16 * (number + 1)  # each entry in one table
        assert entries("lsh_bands_recent", start, end if end > start else BAND_KEY_END) == 0  # the range moved
        assert number == 0 or 0 < entries("lsh_bands_recent") < 16 * (number + 1)  # ...and only that range
        if number == 3:
            state.close()
            state = opened()
            assert int(state.meta("band_range_start")) == end
    assert wrapped  # the ranges came round to the first key
    for number, text in enumerate(texts[:8]):
        found = state.find_copy("harbor", "f" * 20, state.content_print(edited(text, 0.05), f"{number + 100:040x}"[::-1]))
        assert found == (f"{number:020x}", "near-duplicate")
    assert state.find_copy("harbor", "f" * 20, state.content_print(texts[9], "e" * 40)) is None


def test_a_state_of_an_earlier_version_gets_sketches_from_its_texts_which_it_then_drops(tmp_path, caplog):
    """Text ids become keys, URLs move to the keyed table, bands and sketches are made from the texts the state
    kept, the texts go; export reads such a state as it is, before any crawl upgraded it."""
    earlier = sqlite3.connect(tmp_path / "state.sqlite3")  # as versions before sketches and 10-byte id keys wrote it
    earlier.executescript(
        "CREATE TABLE articles (num INTEGER PRIMARY KEY AUTOINCREMENT, id BLOB NOT NULL UNIQUE, site TEXT NOT NULL, "
        "hash64 INTEGER, revision INTEGER NOT NULL DEFAULT 1, published TEXT, modified TEXT);"
        "CREATE TABLE lsh_bands (band INTEGER NOT NULL, num INTEGER NOT NULL, PRIMARY KEY (band, num)) WITHOUT ROWID;"
        "CREATE TABLE article_texts (num INTEGER PRIMARY KEY, text BLOB NOT NULL);"
        "CREATE TABLE mirror_urls (id TEXT NOT NULL, url TEXT NOT NULL, PRIMARY KEY (id, url));"
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "INSERT INTO meta VALUES ('content_print', 'v2 shingle=3 bands=16x4 seed=20261125');")
    earlier.execute("INSERT INTO articles (id, site, hash64) VALUES (?, 'harbor', 7)", ("a" * 20,))
    earlier.execute("INSERT INTO article_texts (num, text) VALUES (1, ?)", (zlib.compress(text_of(ARTICLES[3]).encode()),))
    earlier.execute("INSERT INTO lsh_bands (band, num) VALUES (12345, 1)")
    urls = ["http://www.harbornews.ir/Detail/2026/1/1/2/x", "http://harbornews.tv/Detail/2026/1/1/2/x"]
    earlier.executemany("INSERT INTO mirror_urls (id, url) VALUES (?, ?)", [("a" * 20, url) for url in urls])
    earlier.commit()
    earlier.close()
    assert state_urls(state_open(tmp_path / "state.sqlite3"), "a" * 20) == sorted(urls)
    state = SqliteState(tmp_path / "state.sqlite3")
    assert "making the near-duplicate index of 1 articles anew from the texts" in caplog.text
    assert state.is_emitted("a" * 20) and state.revision_of("a" * 20) == (7, 1, None, None)
    assert state.urls_of("a" * 20) == sorted(urls) and state.urls_of("b" * 20) == []
    assert not has_table(state.db, "mirror_urls") and not has_table(state.db, "article_texts")
    assert state.db.execute("SELECT COUNT(*) FROM lsh_bands").fetchone()[0] == 16  # made anew, the old one gone
    assert state_urls(state_open(tmp_path / "state.sqlite3"), "a" * 20) == sorted(urls)
    copy = edited(text_of(ARTICLES[3]), 0.05)
    assert state.find_copy("harbor", "b" * 20, state.content_print(copy, "d" * 40)) == ("a" * 20, "near-duplicate")


def test_prints_of_another_format_without_texts_ask_for_a_rebuild(tmp_path):
    old = state_with(tmp_path, text_of(ARTICLES[0]))
    old.db.execute("UPDATE meta SET value = 'v3 shingle=3 bands=16x4 seed=1 sketch=512x4' WHERE key = 'content_print'")
    old.close()
    with pytest.raises(PrintFormatError, match="made by another print format .*seed=1.*`newsmirror state rebuild`"):
        SqliteState(tmp_path / "state.sqlite3")
    problem = state_problem(tmp_path / "state.sqlite3", tmp_path, ["harbor"])
    assert "`newsmirror state rebuild`" in problem and "seed=1" in problem
    SqliteState(tmp_path / "state.sqlite3", read_only=True).close()  # a reader reads it as it is


# -- the farm --------------------------------------------------------------------------------------
def test_three_hosts_with_renamed_copies_and_tracking_give_one_record_each(farm_factory):
    run = farm_factory(articles=25, renamed_on_mirrors=4)
    run.site.share_lead(0, 5)
    assert run.site.renamed_on_mirrors
    result = run.crawl()
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    records = run.records()
    assert sorted(r["title"] for r in records) == sorted(a.title for a in run.site.articles)  # 0 and 5 both kept
    primary = run.site.hosts[0]
    by_title = {a.title: a for a in run.site.articles}
    for record in records:
        article = by_title[record["title"]]
        assert urlsplit(record["url"]).hostname == primary and urlsplit(record["url"]).path == article.path
        assert record["mirror_urls"][0] == record["url"] and not any("utm_" in u for u in record["mirror_urls"])
    state = sqlite3.connect(run.output / "state.sqlite3")
    for article in run.site.articles:
        if article.id in run.site.renamed_on_mirrors and article.channel != "rss":
            record = next(r for r in records if r["title"] == article.title)
            urls = {u for (u,) in state.execute("SELECT url FROM article_urls WHERE id = ?", (idkey(record["id"]),))}
            # the renamed mirror copies were fetched, recognised by content, and their URLs kept
            assert {f"http://{h}{run.site.path_on(article, h)}" for h in run.site.hosts} <= urls
    stats = result.stderr.decode()
    assert "new articles" in stats
    # each dropped copy is one log line naming its original, not followed by the whole article
    assert "is a copy of article" in stats and "Article(id=" not in stats


def test_interrupted_run_neither_loses_nor_duplicates(farm_run):
    assert farm_run.crawl().returncode == 0
    records = farm_run.records()
    state = sqlite3.connect(farm_run.output / "state.sqlite3")
    # as if killed after writing the last 5 lines but before committing them, and before finishing
    lost_commit = [r["id"] for r in records[-5:]]
    for table in ("lsh_bands", "lsh_bands_recent", "article_sketches"):
        state.executemany(f"DELETE FROM {table} WHERE num = (SELECT num FROM articles WHERE id = ?)",
                          [(idkey(i),) for i in lost_commit])
    state.executemany("DELETE FROM articles WHERE id = ?", [(idkey(i),) for i in lost_commit])
    state.executemany("DELETE FROM article_urls WHERE id = ?", [(idkey(i),) for i in lost_commit])
    state.execute("UPDATE runs SET finished_at = NULL, status = NULL")
    state.commit()
    # and a torn last line: that article was never emitted, so it must come again
    run_file = farm_run.run_files()[0]
    lines = run_file.read_text().splitlines(keepends=True)
    torn_id = records[-1]["id"]
    run_file.write_text("".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2])
    second = farm_run.crawl()
    assert second.returncode == 0, second.stderr.decode()[-3000:]
    assert "recovered 4 articles written by an interrupted run" in second.stderr.decode()
    ids = [r["id"] for r in farm_run.records()]  # the torn line is skipped by readers
    assert sorted(ids) == sorted(r["id"] for r in records)
    assert ids.count(torn_id) == 1 and farm_run.records()[-1]["id"] == torn_id


def test_escapes_in_either_case_are_one_article_and_a_state_from_before_keeps_its_ids(farm_factory):
    from crawler.dedup.identity import article_id
    from crawler.sites.profiles import parse_profiles_file
    from crawler.sites.urls import legacy_mirror_key

    run = farm_factory(articles=10, escaped_slugs=True)  # the primary writes caf%c3%a9, the mirrors caf%C3%A9
    assert run.crawl().returncode == 0
    records = run.records()
    assert len(records) == 10
    fetched = [r.path for r in run.farm.requests if r.path.startswith("/Detail/")]
    assert len(fetched) == 10 and all("%c3%a9" in path for path in fetched)  # one fetch each, from the primary
    listed_by_mirrors = {a.title for a in run.site.articles if a.channel != "rss"}  # RSS gives the primary's spelling
    assert {r["title"] for r in records if any("%C3%A9" in url for url in r["mirror_urls"])} == listed_by_mirrors
    # An older newsmirror keyed these articles by their paths as given: its run files and state hold other ids.
    profile = parse_profiles_file(run.profile)["harbor"]
    old_ids = {r["id"]: article_id(legacy_mirror_key(r["url"], profile)) for r in records}
    assert all(old != new for new, old in old_ids.items())
    for path in run.run_files():
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        path.write_text("".join(json.dumps({**r, "id": old_ids[r["id"]]}) + "\n" for r in lines))
    (run.output / "state.sqlite3").unlink()
    assert run.cli("state", "rebuild", "--output", str(run.output)).returncode == 0
    run.farm.requests.clear()
    second = run.crawl()
    assert second.returncode == 0 and b"harbor: 0 new articles, 10 already known" in second.stderr, second.stderr.decode()
    assert not [r for r in run.farm.requests if r.path.startswith("/Detail/")]  # known by their old ids
    export = run.cli("export", "--sites", str(run.profile), "--output", str(run.output))
    assert sorted(json.loads(line)["id"] for line in export.stdout.splitlines()) == sorted(old_ids.values())
