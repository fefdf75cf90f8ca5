"""Whether a candidate host is a mirror: it serves articles the site already emitted, at the same paths, with
near-identical clean text. Pure: the crawl fetches, this module judges."""

from __future__ import annotations

from dataclasses import dataclass, field

from crawler.dedup.minhash import jaccard, shingle_hashes

SAME_TEXT = 0.9  # shingle Jaccard of a mirror's clean text to the stored text, at least


@dataclass(frozen=True)
class Sample:
    """An emitted article to ask the candidate for: its id, the URL on the candidate, the stored clean text."""

    article_id: str
    url: str
    text: str


def text_similarity(stored: str, fetched: str | None) -> float:
    """Shingle Jaccard of two clean texts (0 when nothing was fetched)."""
    return jaccard(shingle_hashes(stored), shingle_hashes(fetched)) if fetched else 0.0


@dataclass
class Verification:
    """The tally of one candidate's checks: admitted after ``needed`` matching copies, rejected as soon as the
    samples left cannot reach that many (so a parked domain costs two requests, not every sample)."""

    host: str
    samples: list[Sample]
    needed: int = 2
    similarity: float = SAME_TEXT
    matched: list[str] = field(default_factory=list)  # URLs on the candidate that served the stored text
    missed: list[str] = field(default_factory=list)  # "URL: why" for the others

    @property
    def matched_ids(self) -> dict[str, str]:
        """{article id: URL on the candidate} of the samples it served."""
        return {sample.article_id: sample.url for sample in self.samples if sample.url in self.matched}

    def record(self, sample: Sample, fetched_text: str | None, problem: str | None = None) -> None:
        """One answer of the candidate: its clean text for ``sample``, or the problem that stood in for it."""
        if problem is None:
            score = text_similarity(sample.text, fetched_text)
            if score >= self.similarity:
                self.matched.append(sample.url)
                return
            problem = f"different text (similarity {score:.2f})" if fetched_text else "no article text"
        self.missed.append(f"{sample.url}: {problem}")

    @property
    def verdict(self) -> str | None:
        """'admitted', 'rejected' or None while undecided."""
        if len(self.matched) >= self.needed:
            return "admitted"
        if len(self.samples) - len(self.missed) < self.needed:
            return "rejected"
        return None

    @property
    def reason(self) -> str:
        """Why it was rejected: the first problem (what a parked domain or an impostor serves)."""
        return self.missed[0].split(": ", 1)[1] if self.missed else "too few articles to compare"
