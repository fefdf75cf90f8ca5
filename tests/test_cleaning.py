"""Cleaning layers: the built-in rule table, per-site template learning and its persistence in the state."""

import re

import pytest

from crawler.clean.layers import BoilerplateRules, SiteTemplate, block_key
from crawler.extract.article import extract_article
from crawler.farm.sites import harbor_news
from crawler.state.sqlite import SqliteState

RULES = BoilerplateRules.builtin()


@pytest.mark.parametrize("block", [
    "SHARE THIS ARTICLE", "Share on Facebook", "Facebook Twitter WhatsApp Email", "Follow us on Telegram",
    "Press TV News Roku", "Get it on Google Play", "Install the new version of PressTv application",
    "Press TV’s website can also be accessed at the following alternate addresses:", "www.presstv.co.uk",
    "Read more", "Related News", "Most Read", "(File photo by Anadolu)", "Photo: Reuters",
    "We use cookies to improve your experience. Accept all cookies", "Click here to subscribe to our newsletter",
    "Artikel teilen", "Folgen Sie uns auf Instagram", "Lesen Sie auch:", "Foto: dpa", "Newsletter abonnieren",
    "Diese Website verwendet Cookies.", "Lire aussi", "Czytaj także", "Najczęściej czytane",
    "Follow The Harbor Herald on Twitter and Instagram @HarborHerald and on Facebook.",
    "This post contains references to products from our advertisers. We may receive compensation when you click.",
    "Marco Odermatt, Ski-Star aus der Schweiz. © AFP / MARCO BERTORELLO", "Abbildung 4: klassische Schwachschicht.",
    "Beitragsbild: Titelseite der FAZ vom 2.4.2019, Ausriss.", "Lea: Consejo Permanente aborda la confiscación",
    "Siguenos en Telegram, Instagram, Facebook y Twitter", "Teilen mit:", "3:59 PM", "27.01.2022",
])
def test_rules_name_common_boilerplate(block):
    assert RULES.is_boilerplate(block)


@pytest.mark.parametrize("block", [
    "Moscow says Russian forces have begun withdrawing from Kherson.",
    "The minister said he would follow up on the share price of the company next week.",
    "http://www.openpetition.de",
    "Like most voters on Facebook, she said the price of bread mattered more to her than the debate.",
    "Die vollständige Liste der betroffenen Häfen hat das Ministerium am Montag veröffentlicht.",
    # a long paragraph quoting a phrase is body text: phrases only mark short blocks
    "Activists urged supporters to follow us on Telegram, the group's spokesman said, as authorities blocked "
    "several messaging services in the run-up to the vote and warned platforms of heavy fines if they failed "
    "to remove what officials called illegal content.",
])
def test_rules_keep_body_text(block):
    assert not RULES.is_boilerplate(block)


def farm_blocks(site, article) -> list[str]:
    _, _, html = site.page(site.hosts[0], article.path)
    return RULES.clean(extract_article(html, f"http://{site.hosts[0]}{article.path}")["text"].split("\n"))


HOUSE_BLURB = re.compile(r"has reported from the harbours of the region since 1998")


def test_template_learns_an_unnamed_block_and_keeps_a_shared_quote(tmp_path):
    site = harbor_news(articles=12, inline_boilerplate=True)
    quote = '"We will not leave the harbour," the mayor said at the funeral of the two fishermen.'
    template = SiteTemplate(threshold=5)
    kept_blurb = []
    for number, article in enumerate(site.articles, start=1):
        blocks = farm_blocks(site, article)
        assert any(HOUSE_BLURB.search(b) for b in blocks)  # no rule names it
        if number in (3, 7):
            blocks.insert(2, quote)
        cleaned = template.learn_and_clean(blocks)
        kept_blurb.append(any(HOUSE_BLURB.search(b) for b in cleaned))
        assert cleaned == [b for b in blocks if not (HOUSE_BLURB.search(b) and number >= 5)]
        if number in (3, 7):
            assert quote in cleaned
    assert kept_blurb == [True] * 4 + [False] * 8

    state = SqliteState(tmp_path / "state.sqlite3")
    state.save_template_counts(site.id, template.counts)
    state.close()
    later = SiteTemplate(SqliteState(tmp_path / "state.sqlite3").template_counts(site.id), threshold=5)
    other = harbor_news(articles=3, seed=99, inline_boilerplate=True)
    first_of_later_run = farm_blocks(other, other.articles[0])
    assert not any(HOUSE_BLURB.search(b) for b in later.clean(first_of_later_run))


def test_template_is_bounded_and_forgets_single_sightings_first():
    template = SiteTemplate(threshold=3, max_keys=100)
    for _ in range(3):
        template.learn_and_clean(["Subscribe to the Harbor Hour podcast."])
    for n in range(500):
        template.learn_and_clean([f"Paragraph number {n} of a story about the port."])
    assert len(template.counts) <= 100
    assert template.counts[block_key("Subscribe to the Harbor Hour podcast.")] == 3
    assert template.is_template("subscribe to the harbor hour podcast")
