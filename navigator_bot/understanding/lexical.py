"""Ranked search over the catalog's measures for short, unsegmented Japanese text.

Three signals, all on normalized text with synonyms rewritten:
- terms (titles, keywords, facility names) found in the query, weighted by field and by how specific they are;
- the same terms found with a typo, through rapidfuzz;
- character bigrams shared with the measure's 概要, weighted by rarity, for phrasing no keyword foresaw.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Collection
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from ..catalog import Catalog
from ..models import Audience, Measure
from .fusion import MeasureMatch
from .message import Message
from .normalize import SynonymRewriter, normalize

TITLE_WEIGHT = 3.0
KEYWORD_WEIGHT = 2.0
FACILITY_WEIGHT = 2.0
FUZZY_FACTOR = 0.6
FUZZY_CUTOFF = 84.0
FUZZY_MIN_LENGTH = 5  # shorter words differ in meaning by one character (雇いたい/買いたい)
BIGRAM_WEIGHT = 0.25
BIGRAM_CAP = 1.0  # below MIN_SCORE: shared bigrams alone never make a result
# A measure for an audience the asker is not in (an employer subsidy for a job seeker) stays findable
# when asked about by name, but ranks below what the asker can use.
OTHER_AUDIENCE_FACTOR = 0.35
MIN_SCORE = 1.2
IDF_EXPONENT = 0.35  # a term shared by n measures counts 1/n**0.35 for each: shared, but still telling


@dataclass(frozen=True)
class _Term:
    normalized: str
    display: str
    weight: float


def _bigrams(text: str) -> set[str]:
    return {text[index:index + 2] for index in range(len(text) - 1)}


class MeasureSearch:
    """The search index of the catalog's measures; build once, query for every message."""

    def __init__(self, catalog: Catalog, rewriter: SynonymRewriter) -> None:
        self._catalog = catalog
        self._rewriter = rewriter
        self._measures = list(catalog.measures.values())
        self._position = {measure.id: index for index, measure in enumerate(self._measures)}
        postings: dict[str, dict[str, _Term]] = defaultdict(dict)  # term -> measure id -> best term entry
        for measure in self._measures:
            for term in self._terms_of(measure):
                if len(term.normalized) < 2:
                    continue
                current = postings[term.normalized].get(measure.id)
                if current is None or current.weight < term.weight:
                    postings[term.normalized][measure.id] = term
        count = len(self._measures)
        # Terms shared by many measures say less about any one of them.
        self._postings = {
            term: {mid: _Term(entry.normalized, entry.display, entry.weight / len(entries) ** IDF_EXPONENT)
                   for mid, entry in entries.items()}
            for term, entries in postings.items()
        }
        # Each display word as it would be typed, normalized once here rather than for every message.
        self._written_forms = {entry.display: normalize(entry.display)
                               for entries in self._postings.values() for entry in entries.values()}
        # Typos are looked for in index terms and in synonym variants (サポートステション → サポステ).
        self._fuzzy_terms: dict[str, str] = {term: term for term in self._postings if len(term) >= FUZZY_MIN_LENGTH}
        for variant, canonical_word in rewriter.variants.items():
            if len(variant) >= FUZZY_MIN_LENGTH and canonical_word in self._postings:
                self._fuzzy_terms.setdefault(variant, canonical_word)
        self._fuzzy_choices = list(self._fuzzy_terms)
        # Bigrams compare the words as written (no synonym rewriting): they break ties between measures that the
        # rewritten terms cannot tell apart (職場実習 and 職場体験 are one synonym group).
        self._summary_bigrams = {m.id: _bigrams(normalize(m.summary + m.title)) for m in self._measures}
        frequency = Counter(bigram for grams in self._summary_bigrams.values() for bigram in grams)
        self._bigram_idf = {bigram: math.log(count / df) for bigram, df in frequency.items()}

    def _terms_of(self, measure: Measure) -> list[_Term]:
        canonical = self._rewriter.canonical
        terms = [_Term(canonical(measure.title), measure.title, TITLE_WEIGHT)]
        terms += [_Term(canonical(word), word, KEYWORD_WEIGHT) for word in measure.keywords]
        for facility_id in measure.facilities:
            facility = self._catalog.facilities[facility_id]
            names = [facility.name, *( [facility.formal_name] if facility.formal_name else []), *facility.keywords]
            terms += [_Term(canonical(name), name, FACILITY_WEIGHT) for name in names]
        return terms

    def scores(self, message: Message) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
        """Return every measure's raw score for the message, and the words that earned it."""
        query = message.canonical
        scores: dict[str, float] = defaultdict(float)
        words: dict[str, dict[str, float]] = defaultdict(dict)
        if len(query) < 2:
            return scores, words

        def credit(term: str, factor: float) -> None:
            for measure_id, entry in self._postings[term].items():
                gained = entry.weight * factor
                scores[measure_id] += gained
                # The reason names only words the person wrote (not a synonym they did not use, not the title).
                if entry.display != self._catalog.measures[measure_id].title and self._written(entry.display, message):
                    words[measure_id][entry.display] = max(words[measure_id].get(entry.display, 0.0), gained)

        exact = {term for term in self._postings if term in query}
        # A term inside a longer matched term (正社員 in 正社員になりたい) is not counted twice.
        exact = {term for term in exact if not any(term != other and term in other for other in exact)}
        for term in exact:
            credit(term, 1.0)
        if len(query) >= FUZZY_MIN_LENGTH:
            fuzzy: dict[str, float] = {}
            for choice, similarity, _ in process.extract(
                query, self._fuzzy_choices, scorer=fuzz.partial_ratio, score_cutoff=FUZZY_CUTOFF, limit=None
            ):
                term = self._fuzzy_terms[choice]
                if term not in exact and not any(term in other for other in exact):
                    fuzzy[term] = max(fuzzy.get(term, 0.0), similarity)
            for term, similarity in fuzzy.items():
                credit(term, FUZZY_FACTOR * similarity / 100)

        query_bigrams = _bigrams(message.standard)
        for measure in self._measures:
            shared = query_bigrams & self._summary_bigrams[measure.id]
            if shared:
                scores[measure.id] += min(BIGRAM_CAP, BIGRAM_WEIGHT * sum(self._bigram_idf[b] for b in shared))
        return scores, words

    def _written(self, display: str, message: Message) -> bool:
        form = self._written_forms[display]
        return bool(form) and (form in message.normalized or form in message.standard)

    def search(
        self, message: Message, audiences: Collection[Audience] | None = None, limit: int = 5
    ) -> list[MeasureMatch]:
        """Return the measures that fit the message, best first; empty when nothing is confident."""
        scores, words = self.scores(message)
        allowed = set(audiences) if audiences is not None else None
        results = []
        for measure_id, score in scores.items():
            measure = self._catalog.measures[measure_id]
            if allowed is not None and not allowed.intersection(measure.audiences):
                score *= OTHER_AUDIENCE_FACTOR
            if score >= MIN_SCORE:
                ranked_words = sorted(words[measure_id], key=lambda word: -words[measure_id][word])
                results.append(MeasureMatch(measure, round(score, 3), tuple(ranked_words[:3])))
        results.sort(key=lambda match: (-match.score, self._position[match.measure.id]))
        return results[:limit]
