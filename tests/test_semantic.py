"""Meaning-based search: the packaged seed, the cache, and the bot without the model."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from navigator_bot.app import Navigator
from navigator_bot.catalog import Catalog, load_catalog
from navigator_bot.config import Settings
from navigator_bot.dialogue import TextTyped, UserContext
from navigator_bot.i18n import Translator
from navigator_bot.understanding import Understanding
from navigator_bot.understanding.crisis_model import WORDS_SEED, LearnedWords
from navigator_bot.understanding.semantic import SEED_FILE, Encoder, SemanticIndex, load_encoder


class CountingEncoder:
    """The real model, counting the passages it is asked to embed."""

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder
        self.passages = 0
        self.queries = 0

    def query(self, texts: list[str]) -> np.ndarray:
        self.queries += len(texts)
        return self.encoder.query(texts)

    def passage(self, texts: list[str]) -> np.ndarray:
        self.passages += len(texts)
        return self.encoder.passage(texts)


def test_the_packaged_seed_covers_the_shipped_catalog(catalog: Catalog, encoder: Encoder, tmp_path: Path) -> None:
    counting = CountingEncoder(encoder)
    understanding = Understanding(catalog, Translator(), encoder=counting, cache_dir=tmp_path)
    assert SEED_FILE.exists()
    assert counting.passages == 0, "the shipped catalog changed: run `make seed` to rewrite the packaged seed"
    assert counting.queries == 0, "crisis examples changed: run `make seed` to rewrite the packaged seed"
    assert understanding.semantic is not None and understanding.semantic.embedded == 0


def test_the_packaged_crisis_word_model_matches_the_shipped_catalog(catalog: Catalog) -> None:
    """Otherwise every start reads ten thousand examples again (about 1.4 s)."""
    understanding = Understanding(catalog, Translator())
    assert understanding.crisis_classifier is not None
    digest = understanding.crisis_classifier.words.digest
    assert LearnedWords.load(WORDS_SEED, digest) is not None, "run `make seed` to rewrite the packaged word model"


def test_a_catalog_edit_embeds_only_what_changed(catalog_copy: Path, encoder: Encoder, tmp_path: Path) -> None:
    measures = catalog_copy / "measures.yaml"
    text = measures.read_text(encoding="utf-8")
    anchor = 'examples: ["仕事を探しています"'
    measures.write_text(text.replace(anchor, anchor + ', "転職先を探す"', 1), encoding="utf-8")
    counting = CountingEncoder(encoder)
    Understanding(load_catalog(catalog_copy), Translator(), encoder=counting, cache_dir=tmp_path / "cache")
    assert counting.passages == 1
    again = CountingEncoder(encoder)
    Understanding(load_catalog(catalog_copy), Translator(), encoder=again, cache_dir=tmp_path / "cache")
    assert again.passages == 0  # cached under the data folder, keyed by the text


def test_a_corrupt_cache_is_recomputed_not_fatal(catalog: Catalog, encoder: Encoder, tmp_path: Path) -> None:
    (tmp_path / "embeddings.npz").write_bytes(b"not a numpy file")
    passages = {"a": ["仕事を探しています"], "b": ["息子がひきこもっています"]}
    index = SemanticIndex(encoder, passages, tmp_path, seed=None)
    scores = index.scores(index.similarities(index.embed("仕事が見つからない")))
    assert scores["a"] > scores["b"]


def test_the_bot_runs_on_words_alone_when_the_model_is_off(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, semantic=False)
    navigator = Navigator.from_settings(settings)
    try:
        assert not navigator.semantic_status.loaded
        outcome = navigator.handle("tg:1", TextTyped("派遣で働いていて正社員になりたい"), UserContext())
        assert any(button.action.startswith("m:") for reply in outcome.replies for row in reply.buttons
                   for button in row)
        crisis = navigator.handle("tg:1", TextTyped("死にたい"), UserContext())
        assert "0120-279-338" in crisis.replies[0].text
    finally:
        navigator.close()
    env = {**os.environ, "NAVIGATOR_DATA_DIR": str(tmp_path)}
    health = subprocess.run([sys.executable, "-m", "navigator_bot", "health"], env=env, capture_output=True,
                            text=True, timeout=60, check=False)
    assert health.returncode == 0 and "semantic search: off" in health.stdout


def test_load_encoder_reports_why_it_is_off() -> None:
    encoder, status = load_encoder(enabled=False)
    assert encoder is None and not status.loaded and "NAVIGATOR_SEMANTIC" in status.detail
