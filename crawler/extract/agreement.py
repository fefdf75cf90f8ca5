"""Engine agreement: which main-text blocks independent engines agree on (each block with its engines'
votes), the blocks an article keeps by them, and where a reference engine says the article ends. Pure: the
engines' block lists in, blocks out."""

from __future__ import annotations

import re
from typing import NamedTuple

WORD = re.compile(r"\w+")
COVERED = 0.8  # an engine votes for a block when its output holds this share of the block's words
AGREED = 2  # votes that keep a block: its own engine's and at least one independent engine's
NEIGHBOUR_WORDS = 15  # a block one engine alone keeps survives between agreed blocks only from this many words
WORTH_A_VOTE = 50  # unconfirmed words of trafilatura's own extractor (a paragraph or two) worth a full vote
MISSED_WORDS = 200  # words resiliparse keeps and that extractor lacks: it may have missed the body
ARTICLE_SHARE = 0.05  # in a long article, a disagreement counts from this share of its words instead
RUNNING_TEXT_WORDS = 25  # a block from this many words (not a table row or list item) is running text
LIST_MARKS = ("|", "- ")  # how trafilatura writes a table row and a list item
SAME_ARTICLE = 0.6  # a reference engine keeping this share of the article's words found the same article


class VotedBlock(NamedTuple):
    """One engine's block, its words, and the engines whose output covers it (its own engine included)."""

    text: str
    engine: str
    votes: frozenset[str]
    words: frozenset[str]
    size: int  # word tokens, repeats included


def words(text: str) -> set[str]:
    return set(WORD.findall(text.lower()))


def coverage(block_words: set[str] | frozenset[str], output_words: set[str]) -> float:
    return len(block_words & output_words) / len(block_words) if block_words else 0.0


def vote(outputs: dict[str, list[str]], covered: float = COVERED) -> dict[str, list[VotedBlock]]:
    """Every engine's blocks, in its own order, each with the engines that keep it: an engine votes for a
    block when its whole output holds at least ``covered`` of the block's words."""
    tokens = {engine: [WORD.findall(block.lower()) for block in blocks] for engine, blocks in outputs.items()}
    vocabulary = {engine: set().union(*lists) for engine, lists in tokens.items()}
    voted = {}
    for engine, blocks in outputs.items():
        others = [(other, held) for other, held in vocabulary.items() if other != engine]
        voted[engine] = column = []
        for block, found in zip(blocks, tokens[engine]):
            own = frozenset(found)
            votes = frozenset([engine, *(other for other, held in others if coverage(own, held) >= covered)])
            column.append(VotedBlock(block, engine, votes, own, len(found)))
    return voted


def unconfirmed_words(voted: dict[str, list[VotedBlock]], primary: str) -> int:
    """How many words the ``primary`` engine keeps in blocks that no other engine covers."""
    return sum(block.size for block in voted[primary] if len(block.votes) == 1)


def confirmed(voted: dict[str, list[VotedBlock]], primary: str, second: str) -> bool:
    """Whether ``second`` confirms what ``primary`` keeps: the primary keeps text, fewer than ``WORTH_A_VOTE`` of
    its words are unconfirmed, and fewer than ``MISSED_WORDS`` words that ``second`` keeps are missing from it;
    in a long article, each count may reach ``ARTICLE_SHARE`` of the primary's words (a note or a table
    missed in a 5,000-word article is not a missed body)."""
    kept = sum(block.size for block in voted[primary])
    return (kept > 0 and unconfirmed_words(voted, primary) < max(WORTH_A_VOTE, ARTICLE_SHARE * kept)
            and unconfirmed_words(voted, second) < max(MISSED_WORDS, ARTICLE_SHARE * kept))


def agreed_blocks(outputs: dict[str, list[str]], primary: str, covered: float = COVERED, agreed: int = AGREED,
                  neighbour_words: int = NEIGHBOUR_WORDS, voted: dict[str, list[VotedBlock]] | None = None) -> list[str]:
    """The article's blocks by the engines' votes, in the ``primary`` engine's order.

    The rule: a block of the primary engine is kept when at least ``agreed`` engines (itself included) cover
    it. A block that one engine alone keeps — the primary's, or another's that the primary missed — is kept
    only between two kept blocks and when it has at least ``neighbour_words`` words: a paragraph the others
    missed inside the body, not a promo, share line or caption (short), nor boilerplate at the body's edge.
    When no block survives, the primary engine's blocks as they are. ``voted``: ``vote(outputs, covered)``,
    when the caller has it already.
    """
    voted = voted or vote(outputs, covered)

    def is_agreed(block: VotedBlock) -> bool:
        return primary in block.votes and len(block.votes) >= agreed

    def between_agreed(blocks: list[VotedBlock], at: int) -> bool:
        return (blocks[at].size >= neighbour_words and 0 < at < len(blocks) - 1
                and is_agreed(blocks[at - 1]) and is_agreed(blocks[at + 1]))

    own = voted[primary]
    kept = [block for at, block in enumerate(own) if is_agreed(block) or between_agreed(own, at)]
    if not kept:
        return list(outputs[primary])
    for engine, blocks in voted.items():
        if engine == primary:
            continue
        for at, block in enumerate(blocks):
            if primary in block.votes or not between_agreed(blocks, at):
                continue
            anchor = _position_of(blocks[at - 1], kept)  # after the agreed block before it
            if anchor is not None and all(block.text != other.text for other in kept):
                kept.insert(anchor + 1, block)
    return [block.text for block in kept]


def is_running_text(block: str, min_words: int = RUNNING_TEXT_WORDS) -> bool:
    """A paragraph of prose: at least ``min_words`` words, not a table row or a list item."""
    return not block.lstrip().startswith(LIST_MARKS) and len(WORD.findall(block)) >= min_words


def trimmed_tail(blocks: list[str], reference: list[str], covered: float = COVERED,
                 same_article: float = SAME_ARTICLE) -> list[str]:
    """``blocks`` without the boilerplate that trails the article where the ``reference`` engine ends it: after
    the last block the reference keeps (its output holds ``covered`` of the block's words).

    From the end back, the blocks that are not running text (``is_running_text``: related links, share and
    filing lines, comment counts, tables of more stories) go, up to the first that is running text: a
    paragraph the reference missed stops the trimming. When the reference keeps ``same_article`` of the
    words (it found the same article), everything after its last block goes, running text too (a promo
    paragraph, readers' comments). With no block kept at all (the reference found another part of the page,
    or nothing) the blocks stand.
    """
    voted = vote({"blocks": blocks, "reference": reference}, covered)["blocks"]
    kept = [len(block.votes) > 1 for block in voted]
    if not any(kept):
        return list(blocks)
    last_kept = len(kept) - kept[::-1].index(True)
    if sum(block.size for block, keep in zip(voted, kept) if keep) >= same_article * sum(block.size for block in voted):
        return list(blocks[:last_kept])
    end = len(blocks)
    while end > last_kept and not is_running_text(blocks[end - 1]):
        end -= 1
    return list(blocks[:end])


def _position_of(block: VotedBlock, kept: list[VotedBlock]) -> int | None:
    """Index of the kept block that holds most of ``block``'s words (the same paragraph in another engine's
    split), or None when none holds most of them."""
    best, best_cover = None, 0.5
    for index, candidate in enumerate(kept):
        cover = coverage(block.words, candidate.words)
        if cover > best_cover:
            best, best_cover = index, cover
    return best
