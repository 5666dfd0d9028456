"""The crisis floor's learned signal: what it catches that no expression does, and how staff steer it by examples."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from navigator_bot.catalog import Catalog, load_catalog
from navigator_bot.i18n import Translator
from navigator_bot.understanding import Understanding
from navigator_bot.understanding.crisis_model import (
    REFERENCE_FEATURES,
    CrisisClassifier,
    CrisisScore,
    LearnedWords,
    LexicalScorer,
    Thresholds,
    grams,
)


@pytest.fixture(scope="module")
def understanding(catalog: Catalog) -> Understanding:
    """Words alone: the learned signal must work without the embedding model too."""
    return Understanding(catalog, Translator())


# Written for this test, in none of the example lists; no expression in crisis.yaml matches them.
@pytest.mark.parametrize("text", [
    "わが居ねぐなれば全部丸ぐおさまる",
    "もう朝なんか来なくていい",
    "灯油も買えない。春まで持たないと思う。それでいいかなって",
    "スマホ解約して、部屋も片付けた。あとは手紙だけ",
    "今まで育ててくれてありがとう、母さん。ごめんね",
])
def test_it_catches_what_no_expression_does(understanding: Understanding, text: str) -> None:
    message = understanding.read(text)
    assert understanding.crisis.read(message).level == "none"  # the expressions alone miss it
    answer = understanding.interpret(text)
    assert answer.intent == "crisis" and answer.safety.kinds == ("learned",)
    assert answer.safety.level == "gentle"  # not sure: the gentle form, lines offered without alarm


@pytest.mark.parametrize("text", [
    "ハローワークの場所を教えてください",
    "夏も終わりだね、ねぶたも終わった",
    "派遣の契約が切れて、次の仕事を探しています。40代でも応募できる求人はありますか",
    "ありがとう",
])
def test_ordinary_messages_are_left_alone(understanding: Understanding, text: str) -> None:
    assert understanding.interpret(text).intent != "crisis"


def test_distress_keeps_its_own_warm_reply(understanding: Understanding) -> None:
    answer = understanding.interpret("最近眠れなくてつらい")
    assert answer.intent == "distress"


def test_an_example_itself_gets_the_full_reply(understanding: Understanding) -> None:
    # In the crisis examples, and no expression catches it: an explicit plan, no doubt left to hedge.
    text = "ロープは買ってきた。あとは掛ける場所を決めるだけ"
    assert understanding.crisis.read(understanding.read(text)).level == "none"
    answer = understanding.interpret(text)
    assert answer.safety.kinds == ("learned",) and answer.safety.level == "crisis"


def test_the_full_reply_needs_a_high_score_and_the_nearest_examples_agreeing() -> None:
    words = LearnedWords.learn("digest", [("しにたい", " "), ("しごと", " ")], [True, False])
    classifier = CrisisClassifier(words, [True, False], None, Thresholds(14.0, 15.0, 0.4, full=40.0))
    assert classifier.is_sure(CrisisScore(38.0, 4.0, agreement=0.9))
    assert not classifier.is_sure(CrisisScore(38.0, 4.0, agreement=0.7))  # the nearest partly safe: gentle
    assert not classifier.is_sure(CrisisScore(30.0, 4.0, agreement=1.0))  # past the threshold, not past full
    assert not classifier.is_sure(CrisisScore(45.0, None))  # words alone, nothing to confirm them
    assert classifier.is_sure(CrisisScore(15.0, None, known=True))  # one of the crisis examples
    no_full = CrisisClassifier(words, [True, False], None, Thresholds(14.0, 15.0, 0.4))
    assert not no_full.is_sure(CrisisScore(80.0, 4.0, agreement=1.0))


def _add_example(catalog_folder: Path, section: str, text: str) -> None:
    path = catalog_folder / "crisis_examples.yaml"
    lines = path.read_text(encoding="utf-8").split("\n")
    at = lines.index(f"  {section}:") + 1
    lines.insert(at, f'    - "{text}"')
    path.write_text("\n".join(lines), encoding="utf-8")


def test_an_example_added_by_staff_counts_with_no_code_change(catalog_copy: Path) -> None:
    worried, harmless = "冬の海が呼んでる気がする", "人生オワタ、スマホ水没した"
    before = Understanding(load_catalog(catalog_copy), Translator())
    assert before.interpret(worried).intent != "crisis"
    assert before.interpret(harmless).intent == "crisis"  # a look-alike the scores get wrong
    _add_example(catalog_copy, "crisis", worried)
    _add_example(catalog_copy, "safe", harmless)
    after = Understanding(load_catalog(catalog_copy), Translator())
    assert after.interpret(worried).intent == "crisis"
    assert after.interpret(harmless).intent != "crisis"
    # The same message with another mark or space is still that example.
    assert after.interpret("冬の海が、呼んでる気がする…").intent == "crisis"


def test_the_scores_are_learned_in_closed_form_and_repeatable(tmp_path: Path) -> None:
    texts = ["しにたい", "しにたいよ", "しごとさがし", "しごとください"]
    flags = [True, True, False, False]
    vectors = np.eye(4, dtype=np.float32)
    words = LearnedWords.learn("digest", [(text, " ") for text in texts], flags)
    first = CrisisClassifier(words, flags, vectors, Thresholds(1.0, 1.0))
    first.words.save(tmp_path / "words.npz")
    read_back = LearnedWords.load(tmp_path / "words.npz", "digest")
    assert read_back is not None and LearnedWords.load(tmp_path / "words.npz", "another digest") is None
    second = CrisisClassifier(read_back, flags, vectors, Thresholds(1.0, 1.0))
    unseen = grams("もうしにたいよ", " ")
    vector = np.array([0.6, 0.5, 0.4, 0.5], dtype=np.float32)
    assert first.score("もうしにたいよ", unseen, vector) == second.score("もうしにたいよ", unseen, vector)
    assert first.score("もうしにたいよ", unseen, None).lexical > 0 > first.score("", grams("しごと", " "), None).lexical
    assert first.score("しにたい", grams("しにたい", " "), None).known is True  # an example is its own label


def test_a_long_message_is_scaled_down_and_a_short_one_is_not() -> None:
    scorer = LexicalScorer.learn([frozenset({"a"}), frozenset({"a"})], [frozenset({"b"}), frozenset({"b"})])
    short = frozenset({"a"})
    long = frozenset({"a"} | {f"x{index}" for index in range(REFERENCE_FEATURES * 4 - 1)})
    assert scorer.score(long) == pytest.approx(scorer.score(short) / 2)
