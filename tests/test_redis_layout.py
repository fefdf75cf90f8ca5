"""What a distributed crawl keeps in Redis, and how compactly: packed records, URLs by origin, the band index
grown by linear hashing, one slot per site; and the run files that hold the texts instead."""

from __future__ import annotations

import json

import numpy as np
import pytest
import redis

from crawler.dedup.identity import content_hash
from crawler.dedup.minhash import ContentPrint, MinHasher, content_print
from crawler.distributed.bands import BUCKET_LOAD, packed_bands
from crawler.distributed.client import redis_client
from crawler.distributed.keys import state_key
from crawler.distributed.records import StoredArticle, pack_article, pack_moment, unpack_article, unpack_moment
from crawler.distributed.run import RedisRun
from crawler.distributed.store import RedisState
from crawler.farm.sites import make_articles
from crawler.state.runfile import recent_records

TEXTS = ["\n".join(article.paragraphs) for article in make_articles(3, seed=31)]


# -- records (pure) ------------------------------------------------------------------------------------
@pytest.mark.parametrize("moment", ["2026-03-09T11:50:00+03:30", "2026-12-01T10:00:00+00:00", "2026-12-01",
                                    "2026-12-01T10:00:00Z", "2026-12-01T10:00:00.250000+01:00", "1969-07-20T20:17:00-05:00",
                                    "yesterday", None])
def test_dates_read_back_as_written_and_exact_ones_take_eleven_bytes(moment):
    packed = pack_moment(moment)
    assert unpack_moment(packed + b"rest", 0) == (moment, len(packed))
    if moment in ("2026-03-09T11:50:00+03:30", "2026-12-01T10:00:00+00:00", "1969-07-20T20:17:00-05:00"):
        assert len(packed) == 11


def test_a_record_reads_back_claimed_or_emitted_with_or_without_a_print():
    emitted = StoredArticle(True, -(2**63), 3, bytes(range(256)), "2026-03-09T11:50:00+03:30", "2026-03-10")
    packed = pack_article(emitted)
    assert unpack_article(packed) == emitted and len(packed) == 14 + 256 + 11 + 13
    assert packed[:1] == b"E" and packed[1] & 1 and packed[2:10] == (-(2**63)).to_bytes(8, "big", signed=True)
    claimed = StoredArticle(False, None, 0, None, None, None)
    assert unpack_article(pack_article(claimed)) == claimed and pack_article(claimed)[:2] == b"C\x00"


def test_bands_go_to_a_script_end_to_end_as_unsigned_bytes_key_then_check():
    printed = ContentPrint("e" * 40, [-1, 0, 2**31 - 1, -(2**31), 0x12345678], [2**32 - 1, 0, 1, 0x80000000, 0xABCDEF01], b"")
    assert packed_bands(printed) == bytes.fromhex("ffffffffffffffff" "0000000000000000" "7fffffff00000001"
                                                  "8000000080000000" "12345678abcdef01")
    assert packed_bands(None) == b""


# -- in Redis ------------------------------------------------------------------------------------------
@pytest.fixture(params=["redis", "cluster"])
def server(request):
    return request.getfixturevalue("redis_url" if request.param == "redis" else "cluster_url")


def worker(url: str, name: str = "a") -> RedisState:
    run = RedisRun.join(redis_client(url, 5), "harbor", "run1", name, 30.0)
    return RedisState(run.client, "harbor", run)


def test_urls_keep_each_path_once_with_the_origins_it_was_seen_on(server):
    store = worker(server)
    urls = ["http://www.harbornews.ir/Detail/2026/3/9/770125/x?page=2", "https://www.harbornews.co.uk/Detail/2026/3/9/770125/x?page=2",
            "http://www.harbornews.ir/Detail/2026/3/9/770125/y", "not a url"]
    store.record_urls("1" * 20, urls[:2])
    store.record_urls("1" * 20, [urls[1], *urls[2:], urls[0]])  # seen again, and more
    assert store.urls_of("1" * 20) == urls and store.urls_of("2" * 20) == []
    stored = store.client.hget(state_key("harbor", "urls"), bytes.fromhex("1" * 20))
    assert stored == b"1,2\t/Detail/2026/3/9/770125/x?page=2\n1\t/Detail/2026/3/9/770125/y\n3\tnot a url"
    assert worker(server, "b").urls_of("1" * 20) == urls  # another worker reads the origins it has not seen


def test_the_band_index_grows_a_bucket_at_a_time_and_finds_every_article(server):
    store = worker(server)
    texts = ["\n".join(article.paragraphs) for article in make_articles(400, seed=7)]
    for number, text in enumerate(texts):
        assert store.claim("harbor", f"{number:020x}", text, content_hash(text)) is None
    index = store.client.hgetall(state_key("harbor", "bands"))
    buckets, entries = int(index[b"n"]), int(index[b"e"])
    assert entries == 400 * 16 and entries / buckets <= BUCKET_LOAD < entries / (buckets - 1)
    assert sum(len(value) for field, value in index.items() if field.isdigit()) == entries * 14
    for number in (0, 133, 399):  # an edited copy of any of them, wherever its bands went
        copy = texts[number].replace(" the ", " a ", 4) + "\nA correction was added."
        assert store.find_copy("harbor", "f" * 20, store.content_print(copy, content_hash(copy))) == (f"{number:020x}", "near-duplicate")


def filler_prints(count: int, seed: int) -> list[ContentPrint]:
    """Prints of ``count`` unrelated articles (random bands and sketches): what grows an index as a real site does."""
    rng = np.random.default_rng(seed)
    return [ContentPrint(f"{seed:08x}{number:032x}", rng.integers(-2**31, 2**31, 16).tolist(), rng.integers(0, 2**32, 16).tolist(),
                         rng.integers(0, 256, 256, dtype=np.uint8).tobytes()) for number in range(count)]


def stranger(printed: ContentPrint, text: str) -> ContentPrint:
    """The print of ``text`` whose band keys agree with ``printed``'s by chance, as 32-bit keys do among millions
    of articles: the checks differ."""
    own = content_print(text, content_hash(text), MinHasher())
    return ContentPrint(own.content_hash, printed.band_keys, [check ^ 0xFFFFFF for check in printed.band_checks], own.sketch)


def claim_replies(store: RedisState) -> list:
    """The kinds of the replies of the store's CLAIM script, from here on."""
    replies, claim = [], store.scripts.claim

    def counted(**arguments):
        replies.append(claim(**arguments))
        return replies[-1]
    store.scripts.claim = counted
    return replies


def bands_found(store: RedisState, printed: ContentPrint, article_id: str) -> list[bool]:
    """For each band of ``printed``: is the article found by a print that shares only that band (and its sketch)?"""
    found = []
    for band, probe in enumerate(filler_prints(16, seed=99)):
        keys, checks = list(probe.band_keys), list(probe.band_checks)
        keys[band], checks[band] = printed.band_keys[band], printed.band_checks[band]
        found.append(store.find_copy("harbor", "f" * 20, ContentPrint(probe.content_hash, keys, checks, printed.sketch))
                     == (article_id, "near-duplicate"))
    return found


def edited(text: str) -> str:
    return text.replace(" the ", " a ", 4) + "\nA correction was added."


def test_an_index_past_256_buckets_keeps_check_bits_so_keys_agreeing_by_chance_cost_no_second_call(server):
    """Entries written while the index had under 256 buckets keep the whole key (as every entry did before checks,
    byte for byte); later ones keep 8 bits of check in place of the key bits their bucket fixes. Both are found
    after the splits that follow, and only the first can take a stranger for a candidate."""
    store = worker(server)
    early, late = TEXTS[0], TEXTS[1]
    store.claim("harbor", "e" * 20, early, content_hash(early))
    for number, printed in enumerate(filler_prints(900, seed=11)):
        assert store.lookup("harbor", f"{number:020x}", printed, claim=True) is None
    key = state_key("harbor", "bands")
    assert int(store.client.hget(key, "n")) >= 256
    store.claim("harbor", "1" * 20, late, content_hash(late))
    for number, printed in enumerate(filler_prints(300, seed=12), 900):  # more splits, after the late one was written
        assert store.lookup("harbor", f"{number:020x}", printed, claim=True) is None
    index = store.client.hgetall(key)
    assert int(index[b"e"]) == 1202 * 16 and sum(len(value) for field, value in index.items() if field.isdigit()) == 1202 * 16 * 14
    late_print = store.content_print(late, content_hash(late))
    for text, article_id in ((early, "e" * 20), (late, "1" * 20)):
        assert store.find_copy("harbor", "f" * 20, store.content_print(edited(text), content_hash(edited(text)))) == (article_id, "near-duplicate")
        assert bands_found(store, store.content_print(text, content_hash(text)), article_id) == [True] * 16  # wherever splits took them
    replies = claim_replies(store)
    assert store.find_copy("harbor", "f" * 20, stranger(late_print, TEXTS[2])) is None
    assert [reply[0] for reply in replies] == [b"new"]
    del replies[:]  # the early entry kept its whole key: a stranger to it is a candidate, checked and let go
    early_print = store.content_print(early, content_hash(early))
    assert store.find_copy("harbor", "f" * 20, stranger(early_print, TEXTS[2])) is None
    assert [reply[0] for reply in replies] == [b"check", b"new"] and replies[0][1] == bytes.fromhex("e" * 20)


def test_a_claim_sent_again_after_the_index_grew_keeps_its_bands_once(server):
    """A claim resent after a lost reply indexes its bands again; past 256 buckets an entry is written in another
    form than before, and the first must still count: nothing is added."""
    store = worker(server)
    text = TEXTS[0]
    assert store.claim("harbor", "e" * 20, text, content_hash(text)) is None
    for number, filler in enumerate(filler_prints(900, seed=13)):
        store.lookup("harbor", f"{number:020x}", filler, claim=True)
    key = state_key("harbor", "bands")
    assert int(store.client.hget(key, "n")) >= 256
    assert store.claim("harbor", "e" * 20, text, content_hash(text)) is None  # its own claim: claimed again
    index = store.client.hgetall(key)
    assert int(index[b"e"]) == 901 * 16 and sum(len(value) for field, value in index.items() if field.isdigit()) == 901 * 16 * 14


def test_an_article_costs_under_a_kilobyte_of_redis(redis_url):
    store = worker(redis_url)
    client = redis.Redis.from_url(redis_url)
    texts = ["\n".join(article.paragraphs) for article in make_articles(50, seed=3)]
    articles = 3000
    for number in range(articles):
        text = f"{texts[number % 50]}\nArticle {number} of the day, with its own closing line {number * 7919}."
        record = {"id": f"{number:020x}", "site": "harbor", "text": text, "content_hash": content_hash(text), "revision": 1,
                  "published": "2026-12-01T10:00:00+03:30", "modified": None,
                  "mirror_urls": [f"https://{host}/Detail/2026/12/1/{800000 + number}/harbor-news-article-{number}"
                                  for host in ("www.harbornews.ir", "www.harbornews.co.uk", "harbornews.tv")]}
        store.claim("harbor", record["id"], text, record["content_hash"])
        store.mark_emitted(record, "run1", store.content_print(text, record["content_hash"]))
    used = sum(client.memory_usage(key) for key in client.scan_iter(match=state_key("harbor", "*")))
    assert used / articles < 1024, used / articles


def test_recent_records_read_the_newest_run_files_first_and_skip_a_line_being_written(tmp_path):
    site = tmp_path / "harbor"
    site.mkdir()
    (site / "20261201T000000000000Z-a.jsonl").write_text("".join(json.dumps({"id": f"old{n}"}) + "\n" for n in range(3)))
    (site / "20261202T000000000000Z-b.jsonl").write_text(json.dumps({"id": "new0"}) + "\n" + '{"id": "ne')  # being written
    assert [record["id"] for record in recent_records(site, 3)] == ["new0", "old0", "old1"]
    assert recent_records(tmp_path / "nothing", 3) == []
