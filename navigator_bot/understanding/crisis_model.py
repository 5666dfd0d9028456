"""The crisis floor's second signal: a classifier learned from the catalog's crisis and safe examples.

Two linear scores, added. One over words: a naive-Bayes log-count ratio over the character 2–4-grams of the
message's folded standard form and its English words and word pairs, scaled down for long messages (it works
without the embedding model). One over meaning: a linear discriminant (shrunk covariance) over the message's
embedding, when the model is loaded. Both are fitted in closed form — deterministic, no iterations — so a message
added to crisis_examples.yaml counts with no code change; reading ten thousand examples takes about a second, so
what was learned is kept beside the embedding cache (and packaged as a seed) until the examples or the reading
rules change. Embedding similarity alone does not separate crises from look-alikes (the topic dominates); the
discriminant learns the directions that do.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)
MODEL_VERSION = 1  # part of the digest of a saved word model: raise it when the features or the learning change
WORDS_FILE = "crisis_words.npz"  # in the data folder's cache, beside the embeddings
WORDS_SEED = Path(__file__).resolve().parent.parent / "_seed" / WORDS_FILE  # packaged: `navigator-bot seed-embeddings`
GRAM_SIZES = (2, 3, 4)
MIN_COUNT = 2  # a gram seen once among thousands of examples says more about that example than about crises
SMOOTHING = 1.0
SHRINKAGE = 0.05  # toward a scaled identity: 384 dimensions from a few thousand examples
# The words' evidence of a longer message is scaled down to a message of this many features (about 12
# characters): summed naive-Bayes evidence grows with length, and a long job-seeker's story would otherwise
# outweigh its few dark words.
REFERENCE_FEATURES = 36
# A message this close in meaning to one of the examples (the same words, give or take a particle or a mark)
# takes that example's label: what staff put in a list is not second-guessed by the scores.
SAME_MESSAGE = 0.97
NEAREST = 10  # examples nearest in meaning that must partly agree before the scores alone give the reply
SURE_AGREEMENT = 0.8  # of those, the share of crises that the full reply (not the gentle one) needs


def grams(compact: str, spaced: str) -> frozenset[str]:
    """Return the features of one message: character n-grams of the compact form, English words and word pairs."""
    found = {compact[start:start + size] for size in GRAM_SIZES for start in range(len(compact) - size + 1)}
    words = spaced.split()
    found.update(f"w:{word}" for word in words if word != "/")
    found.update(f"w:{first}_{second}" for first, second in pairwise(words))
    return frozenset(found)


class LexicalScorer:
    """Naive-Bayes log-count ratios: how much more often each feature appears in crisis than in other examples."""

    def __init__(self, weights: dict[str, float]) -> None:
        self.weights = weights

    @classmethod
    def learn(cls, crisis: Sequence[frozenset[str]], other: Sequence[frozenset[str]]) -> LexicalScorer:
        """Count each feature in the crisis and the other examples (smoothed; rare features dropped)."""
        in_crisis = Counter(feature for features in crisis for feature in features)
        in_other = Counter(feature for features in other for feature in features)
        crisis_total = len(crisis) + 2 * SMOOTHING
        other_total = len(other) + 2 * SMOOTHING
        return cls({
            feature: math.log((in_crisis[feature] + SMOOTHING) / crisis_total)
            - math.log((in_other[feature] + SMOOTHING) / other_total)
            for feature in sorted(in_crisis.keys() | in_other.keys())
            if in_crisis[feature] + in_other[feature] >= MIN_COUNT
        })

    def score(self, features: Collection[str]) -> float:
        """Return the evidence for a crisis (positive) or against it (negative), scaled for the message's length."""
        evidence = sum(self.weights.get(feature, 0.0) for feature in features)
        return evidence * min(1.0, math.sqrt(REFERENCE_FEATURES / max(1, len(features))))


@dataclass(frozen=True)
class LearnedWords:
    """What reading the examples yields (the slow part of learning): each feature's weight, each example's form.

    Kept beside the embedding cache and packaged as a seed, under a digest of everything it was learned from, so
    that a start reads it back instead of reading ten thousand examples again.
    """

    digest: str
    scorer: LexicalScorer
    forms: tuple[str, ...]  # each example's plain compact form, in the examples' order
    meaning: MeaningScorer | None = None  # fitted on the examples' embeddings by the model named in `digest`

    @classmethod
    def learn(cls, digest: str, forms: Sequence[tuple[str, str]], is_crisis: Sequence[bool]) -> LearnedWords:
        """Learn from each example's plain forms (compact, spaced) and whether it is a crisis."""
        features = [grams(*form) for form in forms]
        crisis = [example for example, flag in zip(features, is_crisis, strict=True) if flag]
        other = [example for example, flag in zip(features, is_crisis, strict=True) if not flag]
        return cls(digest, LexicalScorer.learn(crisis, other), tuple(compact for compact, _ in forms))

    def save(self, path: Path) -> None:
        """Write to `path` (atomically); a failure only costs the next start the learning again."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(path.name + ".tmp")
            with temporary.open("wb") as handle:
                meaning = {} if self.meaning is None else {"direction": self.meaning.direction,
                                                           "offset": np.array(self.meaning.offset)}
                np.savez_compressed(handle, digest=np.array(self.digest), features=np.array(list(self.scorer.weights)),
                                    weights=np.array(list(self.scorer.weights.values()), dtype=np.float64),
                                    forms=np.array(self.forms), **meaning)
            temporary.replace(path)
        except OSError as error:
            log.warning("crisis word model not written (%s); it will be learned again next start", error)

    @classmethod
    def load(cls, path: Path, digest: str) -> LearnedWords | None:
        """Read what was learned from the same examples and rules, or None (missing, stale or unreadable)."""
        try:
            with np.load(path, allow_pickle=False) as stored:
                if str(stored["digest"]) != digest:
                    return None
                weights = dict(zip(stored["features"].tolist(), stored["weights"].tolist(), strict=True))
                meaning = (MeaningScorer(stored["direction"], float(stored["offset"]))
                           if "direction" in stored.files else None)
                return cls(digest, LexicalScorer(weights), tuple(stored["forms"].tolist()), meaning)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError) as error:
            log.warning("crisis word model unreadable, learning it again: %s", error)
            return None


class MeaningScorer:
    """A linear discriminant between the crisis examples' embeddings and the others'."""

    def __init__(self, direction: np.ndarray, offset: float) -> None:
        self.direction = direction
        self.offset = offset

    @classmethod
    def fit(cls, crisis: np.ndarray, other: np.ndarray) -> MeaningScorer:
        """Fit the boundary: shared covariance, shrunk toward a scaled identity, and one linear solve."""
        crisis_mean = crisis.mean(axis=0, dtype=np.float64)
        other_mean = other.mean(axis=0, dtype=np.float64)
        scatter = np.zeros((crisis.shape[1], crisis.shape[1]), dtype=np.float64)
        for vectors, mean in ((crisis, crisis_mean), (other, other_mean)):
            centred = (vectors - mean).astype(np.float32)
            scatter += (centred.T @ centred).astype(np.float64)
        covariance = scatter / (len(crisis) + len(other))
        dimensions = covariance.shape[0]
        covariance = (1 - SHRINKAGE) * covariance + SHRINKAGE * np.trace(covariance) / dimensions * np.eye(dimensions)
        direction = np.linalg.solve(covariance, crisis_mean - other_mean)
        return cls(direction, float(direction @ (crisis_mean + other_mean) / 2))

    def score(self, vector: np.ndarray) -> float:
        """Return the signed distance from the boundary (positive: on the crisis side)."""
        return float(self.direction @ vector.astype(np.float64) - self.offset)


@dataclass(frozen=True)
class CrisisScore:
    """One message's score: the words' part, the meaning's part (None without the model), and their sum."""

    lexical: float
    meaning: float | None
    known: bool | None = None  # the label of an example that is the same message, if there is one
    agreement: float | None = None  # the share of crisis examples among the nearest in meaning (model loaded)

    @property
    def total(self) -> float:
        """The sum the thresholds are set for."""
        return self.lexical + (self.meaning or 0.0)


class CrisisClassifier:
    """Scores a message against the examples; `threshold` with the model loaded, `lexical_threshold` without."""

    def __init__(self, words: LearnedWords, is_crisis: Sequence[bool], vectors: np.ndarray | None,
                 thresholds: Thresholds) -> None:
        """Fit the meaning part (one linear solve) and hold the words part and the examples, as learned."""
        self._meaning = None
        if vectors is not None and len(vectors):
            if words.meaning is None:  # learned without the model, or the model's examples changed
                mask = np.asarray(is_crisis, dtype=bool)
                words = replace(words, meaning=MeaningScorer.fit(vectors[mask], vectors[~mask]))
            self._meaning = words.meaning
        self.words = words
        self._lexical = words.scorer
        self._memory = Memory(words.forms, is_crisis, vectors)
        self._thresholds = thresholds

    def score(self, text: str, features: frozenset[str], vector: np.ndarray | None) -> CrisisScore:
        """Return the message's score (the meaning part only when both a vector and the scorer exist)."""
        meaning = self._meaning.score(vector) if self._meaning is not None and vector is not None else None
        score = CrisisScore(self._lexical.score(features), meaning, self._memory.label(text))
        if score.known is not None or vector is None or score.total < self._threshold_for(score):
            return score  # the nearest examples can only confirm or veto a score past the threshold
        known, agreement = self._memory.nearest(vector)
        return replace(score, known=known, agreement=agreement)

    def _threshold_for(self, score: CrisisScore) -> float:
        limits = self._thresholds
        return limits.with_model if score.meaning is not None else limits.words_only

    def is_crisis(self, score: CrisisScore, margin: float = 0.0) -> bool:
        """True for a message labelled crisis, or unlabelled with a score past its threshold raised by `margin`."""
        if score.known is not None:
            return score.known
        if score.agreement is not None and score.agreement < self._thresholds.agreement:
            return False  # the examples nearest in meaning are nearly all safe: 「もう無理〜お腹いっぱい」
        return score.total >= self._threshold_for(score) + margin

    def is_sure(self, score: CrisisScore) -> bool:
        """True beyond doubt: one of the crisis examples, or a score past `full` with the nearest agreeing."""
        if score.known is not None:
            return score.known
        full = self._thresholds.full
        # Without the model no nearest examples confirm the words, so only an example itself is beyond doubt.
        return (full is not None and score.agreement is not None and score.total >= full
                and score.agreement >= max(self._thresholds.agreement, SURE_AGREEMENT))


@dataclass(frozen=True)
class Thresholds:
    """Where the scores give the reply: with the model, by words alone, and the nearest examples' agreement."""

    with_model: float
    words_only: float
    agreement: float = 0.0
    full: float | None = None  # the full reply rather than the gentle one, from this score (with the model)


class Memory:
    """The examples themselves: a message that is one of them (in its plain form, or nearly in meaning)."""

    def __init__(self, texts: Sequence[str], is_crisis: Sequence[bool], vectors: np.ndarray | None) -> None:
        self._labels = dict(zip(texts, is_crisis, strict=True))
        self._vectors = vectors if vectors is not None and len(vectors) else None
        self._flags = np.asarray(is_crisis, dtype=bool)

    def label(self, text: str) -> bool | None:
        """Return the label of the example with this plain form, or None."""
        return self._labels.get(text)

    def nearest(self, vector: np.ndarray) -> tuple[bool | None, float | None]:
        """Return the label of a nearly identical example (or None), and the share of crises among the nearest."""
        if self._vectors is None:
            return None, None
        similarities = self._vectors @ vector
        nearest = np.argpartition(-similarities, min(NEAREST, len(similarities)) - 1)[:NEAREST]
        closest = int(nearest[np.argmax(similarities[nearest])])
        known = bool(self._flags[closest]) if similarities[closest] >= SAME_MESSAGE else None
        return known, float(self._flags[nearest].mean())
