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


def test_bands_go_to_a_script_end_to_end_as_their_key_then_the_key_with_its_low_16_bits_the_check():
    printed = ContentPrint("e" * 40, [-1, 0, 2**31 - 1, -(2**31), 0x12345678], [2**16 - 1, 0, 1, 0x8000, 0xABCD], b"")
    assert packed_bands(printed) == bytes.fromhex("ffffffffffffffff" "0000000000000000" "7fffffff7fff0001"
                                                  "8000000080008000" "123456781234abcd")
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


def filler_prints(count: int, seed: int, low_bits: list[int] | None = None) -> list[ContentPrint]:
    """Prints of ``count`` unrelated articles (random bands and sketches): what grows an index as a real site does.
    ``low_bits``: the low 17 bits of each band key (the bucket it goes to), the rest random."""
    rng = np.random.default_rng(seed)
    prints = []
    for number in range(count):
        keys = rng.integers(-2**31, 2**31, 16)
        if low_bits is not None:
            keys = (keys >> 17 << 17) | np.array(low_bits)
        prints.append(ContentPrint(f"{seed:08x}{number:032x}", keys.tolist(), rng.integers(0, 2**16, 16).tolist(),
                                   rng.integers(0, 256, 256, dtype=np.uint8).tobytes()))
    return prints


def grown_index(client, key: str, buckets: int, entries: int, seed: int = 1) -> None:
    """A band index of ``buckets`` buckets (2^15 < buckets <= 2^16) holding ~48 random entries each, each in the
    bucket linear hashing puts its key, and counting ``entries``: what ~200,000 articles leave, made in a second."""
    rng = np.random.default_rng(seed)
    level = 1 << 15
    at = np.arange(buckets, dtype=np.uint32)
    low = np.where(at == buckets - level, at | rng.integers(0, 2, buckets, dtype=np.uint32) << 15, at)  # the next to split
    table = np.zeros((buckets, 48), dtype=[("key", ">u4"), ("id", "S10")])
    table["key"] = rng.integers(0, 2**16, (buckets, 48), dtype=np.uint32) << 16 | low[:, None]
    table["id"] = rng.integers(0, 256, (buckets, 48, 10), dtype=np.uint8).view("S10")[..., 0]
    blob = table.tobytes()
    for first in range(0, buckets, 4096):
        client.hset(key, mapping={str(b): blob[b * 48 * 14:(b + 1) * 48 * 14] for b in range(first, min(first + 4096, buckets))})
    client.hset(key, mapping={"n": buckets, "e": entries})


def stranger(printed: ContentPrint, text: str) -> ContentPrint:
    """The print of ``text`` whose band keys agree with ``printed``'s by chance, as 32-bit keys do among millions
    of articles: the checks differ."""
    own = content_print(text, content_hash(text), MinHasher())
    return ContentPrint(own.content_hash, printed.band_keys, [check ^ 0xFFFF for check in printed.band_checks], own.sketch)


def claim_replies(store: RedisState) -> list:
    """The replies of the store's CLAIM script, from here on."""
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


def with_bands(printed: ContentPrint, other: ContentPrint) -> ContentPrint:
    """``printed`` (its sketch and hash) with ``other``'s bands."""
    return ContentPrint(printed.content_hash, other.band_keys, other.band_checks, printed.sketch)


def test_past_65536_buckets_entries_keep_a_check_so_keys_agreeing_by_chance_cost_no_second_call(server):
    """Entries written while the index had fewer than 2^16 buckets keep the whole key (as every entry did before
    checks, byte for byte); later ones keep the band's check in place of the 16 key bits their bucket fixes. Both
    are found after splits move them, and only the first can take a stranger for a candidate."""
    store = worker(server)
    key = state_key("harbor", "bands")
    grown_index(store.client, key, buckets=2**16 - 1, entries=(2**16 - 1) * 48 - 16)
    early_text, late_text = TEXTS[0], TEXTS[1]
    # in buckets 16-31 and 40-55, which split (by bit 16 of the key: half of each article's bands move) after both are in
    early = with_bands(store.content_print(early_text, content_hash(early_text)),
                       filler_prints(1, 21, [16 + j | (j % 2) << 16 for j in range(16)])[0])
    late = with_bands(store.content_print(late_text, content_hash(late_text)),
                      filler_prints(1, 22, [40 + j | (j % 2) << 16 for j in range(16)])[0])
    assert store.lookup("harbor", "e" * 20, early, claim=True) is None  # 2^16 - 1 buckets: whole keys
    assert store.lookup("harbor", "0" * 20, filler_prints(1, 23)[0], claim=True) is None  # splits: 2^16 buckets
    assert int(store.client.hget(key, "n")) == 2**16
    assert store.lookup("harbor", "1" * 20, late, claim=True) is None
    for number, printed in enumerate(filler_prints(240, seed=24), 2):  # 80 splits more: buckets 0-79
        assert store.lookup("harbor", f"{number:020x}", printed, claim=True) is None
    assert int(store.client.hget(key, "n")) > 2**16 + 56
    for printed, article_id in ((early, "e" * 20), (late, "1" * 20)):
        assert bands_found(store, printed, article_id) == [True] * 16  # on both sides of the splits
    replies = claim_replies(store)
    assert store.find_copy("harbor", "f" * 20, stranger(late, TEXTS[2])) is None
    assert [reply[0] for reply in replies] == [b"new"]
    del replies[:]  # the early entries kept their whole keys: a stranger to them is a candidate, checked and let go
    assert store.find_copy("harbor", "f" * 20, stranger(early, TEXTS[2])) is None
    assert [reply[0] for reply in replies] == [b"check", b"new"] and replies[0][1] == bytes.fromhex("e" * 20)


def test_bands_indexed_again_after_the_index_passed_65536_buckets_are_kept_once(server):
    """A claim resent after a lost reply, or a commit of a print its claim did not index, indexes bands again; past
    2^16 buckets an entry would be written in its other form, and the first must still count: nothing is added."""
    store = worker(server)
    key = state_key("harbor", "bands")
    grown_index(store.client, key, buckets=2**16 - 1, entries=(2**16 - 1) * 48 - 32)
    text, committed = TEXTS[0], store.content_print(TEXTS[1], content_hash(TEXTS[1]))
    assert store.claim("harbor", "e" * 20, text, content_hash(text)) is None
    store.scripts.commit(bytes.fromhex("d" * 20), StoredArticle(True, 5, 1, committed.sketch, None, None),
                         store.run_keys("harbor", "claims")[0], bands=packed_bands(committed))
    assert store.lookup("harbor", "0" * 20, filler_prints(1, 23)[0], claim=True) is None  # splits: 2^16 buckets
    before = int(store.client.hget(key, "e"))
    assert store.claim("harbor", "e" * 20, text, content_hash(text)) is None  # its own claim: claimed again
    store.scripts.commit(bytes.fromhex("d" * 20), StoredArticle(True, 6, 2, committed.sketch, None, None),  # another hash
                         store.run_keys("harbor", "claims")[0], bands=packed_bands(committed))
    assert int(store.client.hget(key, "e")) == before == (2**16 - 1) * 48 + 16
    assert sum(bucket.count(bytes.fromhex(article_id)) for bucket in store.client.hvals(key)
               for article_id in ("e" * 20, "d" * 20)) == 32


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
    # samples=0: every field counted (752 bytes an article here); by default MEMORY USAGE guesses a hash from 5 of its
    # fields, and a guess once read 1,110
    used = sum(client.memory_usage(key, samples=0) for key in client.scan_iter(match=state_key("harbor", "*")))
    assert used / articles < 1024, used / articles


def test_recent_records_read_the_newest_run_files_first_and_skip_a_line_being_written(tmp_path):
    site = tmp_path / "harbor"
    site.mkdir()
    (site / "20261201T000000000000Z-a.jsonl").write_text("".join(json.dumps({"id": f"old{n}"}) + "\n" for n in range(3)))
    (site / "20261202T000000000000Z-b.jsonl").write_text(json.dumps({"id": "new0"}) + "\n" + '{"id": "ne')  # being written
    assert [record["id"] for record in recent_records(site, 3)] == ["new0", "old0", "old1"]
    assert recent_records(tmp_path / "nothing", 3) == []
