"""Site profiles: the built-in Press TV profile, validation errors naming file/site/key, exit status 2."""

import pytest

from crawler.sites.profiles import ProfileError, load_profiles, parse_profiles_file
from crawler.sites.urls import mirror_key

from .conftest import run_cli

GOOD = """
[mirrorsite]
name = "Mirror Site"
hosts = ["www.example-news.ir", "www.example-news.co.uk"]
scheme = "http"
start = ["/rss.xml", "https://feeds.example-news.ir/all.xml"]
article = '^/news/\\d+/'

[mirrorsite.clean]
drop = [".share-box", "#roku"]
drop_text = ["SHARE THIS ARTICLE"]
"""


def write(tmp_path, text, name="sites.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_builtin_presstv_profile():
    presstv = load_profiles()["presstv"]
    assert presstv.hosts[:2] == ("www.presstv.ir", "www.presstv.co.uk")
    assert presstv.primary == "www.presstv.ir"
    assert "www.presstv.com" not in presstv.hosts  # seized in 2021: not a mirror
    assert presstv.is_article_path("/Detail/2019/1/23/586614/Some-slug")  # unpadded month and day
    assert presstv.is_article_path("/Detail/2026/11/05/770883/Another")
    assert not presstv.is_article_path("/Section/10101")
    assert "https://www.presstv.co.uk/rss.xml" in presstv.start_urls()
    assert "SHARE THIS ARTICLE" in presstv.clean.drop_text


def test_good_profile_loads_and_expands_start_on_every_host(tmp_path):
    profile = parse_profiles_file(write(tmp_path, GOOD))["mirrorsite"]
    assert profile.start_urls() == [
        "http://www.example-news.ir/rss.xml", "http://www.example-news.co.uk/rss.xml",
        "https://feeds.example-news.ir/all.xml",
    ]
    assert profile.clean.drop == (".share-box", "#roku")


def test_user_file_overrides_builtin(tmp_path):
    path = write(tmp_path, '[presstv]\nhosts = ["www.presstv.co.uk"]\n')
    assert load_profiles([path])["presstv"].hosts == ("www.presstv.co.uk",)


BAD = [
    ('hosts = ["www.a.ir"]\ncolour = "red"', "colour", "unknown key"),
    ('hosts = "www.a.ir"', "hosts", "list of strings"),
    ("hosts = []", "hosts", "empty"),
    ('name = "x"', "hosts", "missing"),
    ('hosts = ["https://www.a.ir"]', "hosts", "not a host name"),
    ('hosts = ["www.a.ir/news"]', "hosts", "not a host name"),
    ('hosts = ["www.a.ir:8080"]', "hosts", "not a host name"),
    ('hosts = ["www.a.ir"]\narticle = "^/news/(\\\\d+"', "article", "invalid regular expression"),
    ('hosts = ["www.a.ir"]\nscheme = "ftp"', "scheme", "http"),
    ('hosts = ["www.a.ir"]\nstart = ["rss.xml"]', "start", "neither a path"),
    ('hosts = ["www.a.ir"]\nstart = [1]', "start", "list of strings"),
    ('hosts = ["www.a.ir"]\n[bad.clean]\ndrop = ["div[["]', "clean.drop", "invalid CSS selector"),
    ('hosts = ["www.a.ir"]\n[bad.clean]\nremove = ["x"]', "clean.remove", "unknown key"),
]


@pytest.mark.parametrize("body,key,problem", BAD, ids=[b[1] + ":" + b[2] for b in BAD])
def test_bad_profile_names_file_site_and_key(tmp_path, body, key, problem):
    path = write(tmp_path, "[bad]\n" + body + "\n")
    with pytest.raises(ProfileError) as error:
        parse_profiles_file(path)
    message = str(error.value)
    assert str(path) in message and "[bad]" in message and f"'{key}'" in message and problem in message


def test_invalid_toml_and_missing_file_name_the_file(tmp_path):
    broken = write(tmp_path, "[bad\nhosts = 1")
    with pytest.raises(ProfileError, match="not valid TOML") as error:
        parse_profiles_file(broken)
    assert str(broken) in str(error.value)
    with pytest.raises(ProfileError, match="cannot read"):
        parse_profiles_file(tmp_path / "absent.toml")


def test_cli_sites_lists_and_validates(tmp_path):
    good = run_cli("sites", "--sites", str(write(tmp_path, GOOD)), cwd=tmp_path)
    assert good.returncode == 0
    assert b"mirrorsite" in good.stdout and b"presstv" in good.stdout and b"www.example-news.co.uk" in good.stdout


@pytest.mark.parametrize("command", [["sites"], ["crawl", "bad"], ["scrape", "-"]])
def test_cli_bad_profile_exits_2_with_message(tmp_path, command):
    path = write(tmp_path, '[bad]\nhosts = ["www.a.ir"]\narticle = "(("\n')
    result = run_cli(*command, "--sites", str(path), cwd=tmp_path, stdin=b"")
    assert result.returncode == 2
    assert f"{path}: site [bad], key 'article': invalid regular expression".encode() in result.stderr
    assert b"Traceback" not in result.stderr


@pytest.mark.parametrize("lines,key,problem", [
    ('archives = ["web.archive.org"]', "archives", "not an http(s) base URL"),
    ('archives = "https://web.archive.org"', "archives", "list"),
    ('retired = ["www.a.ir"]', "retired", "also in hosts"),
    ('retired = ["http://www.old.ir/"]', "retired", "not a host name"),
])
def test_archive_keys_are_validated(tmp_path, lines, key, problem):
    path = tmp_path / "sites.toml"
    path.write_text(f'[bad]\nhosts = ["www.a.ir"]\n{lines}\n')
    with pytest.raises(ProfileError) as error:
        parse_profiles_file(path)
    assert error.value.key == key and problem in str(error.value)


def test_press_tv_keeps_its_seized_domain_as_retired_with_the_wayback_machine():
    profile = load_profiles()["presstv"]
    assert profile.retired == ("www.presstv.com",) and "www.presstv.com" not in profile.hosts
    assert profile.archives == ("https://web.archive.org",)
    assert mirror_key("https://www.presstv.com/Detail/2019/1/23/586614/x", profile) == \
        mirror_key("https://www.presstv.ir/Detail/2019/1/23/586614/x", profile)
