"""Mirror-aware request identity: host and tracking variants collapse, content-changing queries do not."""

from scrapy import Request

from crawler.fetch.fingerprint import PER_HOST, MirrorAwareRequestFingerprinter
from crawler.sites.profiles import parse_profile
from crawler.sites.urls import SiteIndex, mirror_key, order_by_hosts, site_host, strip_tracking
from crawler.spiders.news import is_pagination

PROFILE = parse_profile("test.toml", "harbor", {
    "hosts": ["www.harbornews.ir", "www.harbornews.co.uk", "www.harbornews.tv"], "article": r"^/Detail/",
})
OTHER = parse_profile("test.toml", "other", {"hosts": ["www.othernews.ir"]})
ARTICLE = "/Detail/2026/3/9/770125/Ceasefire-in-Doha"


def fp(url: str, **meta) -> bytes:
    return MirrorAwareRequestFingerprinter(SiteIndex([PROFILE, OTHER])).fingerprint(Request(url, meta=meta))


def test_strip_tracking_removes_only_tracking_parameters():
    url = "https://www.harbornews.ir/x?utm_source=rss&utm_medium=feed&fbclid=A1&gclid=B2&mc_cid=C&page=2&q=iran#top"
    assert strip_tracking(url) == "https://www.harbornews.ir/x?page=2&q=iran"


def test_host_and_tracking_variants_are_one_request():
    variants = [
        f"http://www.harbornews.ir{ARTICLE}",
        f"https://www.harbornews.co.uk{ARTICLE}",
        f"http://www.harbornews.tv{ARTICLE}?utm_source=rss&utm_medium=feed",
        f"http://harbornews.ir{ARTICLE}?fbclid=IwAR0",  # bare domain of a www host
        f"http://WWW.HarborNews.IR{ARTICLE}#comments",
    ]
    assert len({fp(url) for url in variants}) == 1


def test_content_changing_queries_and_paths_stay_distinct():
    base = "http://www.harbornews.ir/Section/101"
    assert fp(base) != fp(base + "?page=2")
    assert fp(base + "?page=2") == fp("http://www.harbornews.co.uk/Section/101?utm_campaign=x&page=2")
    assert fp(base + "?page=2&q=a") == fp(base + "?q=a&page=2")  # parameter order does not matter
    assert fp(f"http://www.harbornews.ir{ARTICLE}") != fp("http://www.harbornews.ir/Detail/2026/3/9/770126/Other")


def test_sites_do_not_share_identities_and_unknown_hosts_use_scrapy_default():
    assert fp(f"http://www.harbornews.ir{ARTICLE}") != fp(f"http://www.othernews.ir{ARTICLE}")
    assert fp(f"http://cdn.harbornews.ir{ARTICLE}") != fp(f"http://www.harbornews.ir{ARTICLE}")
    assert fp("http://example.org/a?utm_source=x") != fp("http://example.org/a")


def test_listing_requests_keep_their_host():
    ir = fp("http://www.harbornews.ir/rss.xml", **{PER_HOST: True})
    uk = fp("http://www.harbornews.co.uk/rss.xml", **{PER_HOST: True})
    assert ir != uk
    assert ir == fp("http://www.harbornews.ir/rss.xml?utm_source=x", **{PER_HOST: True})


def test_site_host_and_mirror_key():
    assert site_host("harbornews.co.uk", PROFILE) == "www.harbornews.co.uk"
    assert site_host("cdn.harbornews.ir", PROFILE) is None
    assert site_host("www.harbornews.ir.evil.com", PROFILE) is None
    assert mirror_key(f"https://www.harbornews.tv{ARTICLE}?utm_source=a", PROFILE) == f"harbor:{ARTICLE}"
    assert mirror_key("https://www.example.com/", PROFILE) is None


def test_order_by_hosts_puts_primary_first():
    urls = [f"http://www.harbornews.tv{ARTICLE}", f"http://www.harbornews.co.uk{ARTICLE}",
            f"http://www.harbornews.ir{ARTICLE}", f"http://www.harbornews.tv{ARTICLE}"]
    assert order_by_hosts(urls, PROFILE) == [urls[2], urls[1], urls[0]]


def test_pagination_links():
    assert is_pagination("/Section/101", "http://h/Section/101/2", None)
    assert is_pagination("/Section/101", "http://h/Section/101/3/", None)
    assert not is_pagination("/Section/101", "http://h/Section/102", None)  # a sibling section, not page 102
    assert is_pagination("/news", "http://h/news?page=4", None)
    assert is_pagination("/news", "http://h/archive/older", "next nofollow")
    assert not is_pagination("/news", "http://h/news/story-slug", None)


def test_percent_escapes_in_either_case_and_dot_segments_are_one_article():
    from crawler.dedup.identity import article_id

    same = ["http://www.harbornews.ir/Detail/2026/3/9/770125/caf%C3%A9-talks",
            "https://www.harbornews.co.uk/Detail/2026/3/9/770125/caf%c3%a9-talks",
            "http://www.harbornews.tv/Detail/2026/3/9/770125/café-talks",
            "http://www.harbornews.ir/Detail/2026/3/./9/770125/caf%C3%A9-talks?utm_source=rss",
            "http://www.harbornews.ir/Detail/2026/3/x/../9/770125/caf%C3%A9-talks"]
    assert len({article_id(mirror_key(url, PROFILE)) for url in same}) == 1
    assert len({fp(url) for url in same}) == 1  # and one request: the second mirror's spelling is never fetched
    assert mirror_key(same[0], PROFILE) != mirror_key("http://www.harbornews.ir/Detail/2026/3/9/770125/cafe-talks", PROFILE)
    assert mirror_key("http://www.harbornews.ir/a%2Fb", PROFILE) != mirror_key("http://www.harbornews.ir/a/b", PROFILE)


def test_legacy_keys_are_the_paths_as_given():
    from crawler.sites.urls import legacy_mirror_key

    url = "https://www.harbornews.co.uk/Detail/2026/3/9/770125/caf%c3%a9-talks?b=2&a=1&utm_source=x"
    assert legacy_mirror_key(url, PROFILE) == "harbor:/Detail/2026/3/9/770125/caf%c3%a9-talks?a=1&b=2"
    plain = f"http://www.harbornews.ir{ARTICLE}?utm_medium=feed"
    assert legacy_mirror_key(plain, PROFILE) == mirror_key(plain, PROFILE)  # most URLs keep their key
