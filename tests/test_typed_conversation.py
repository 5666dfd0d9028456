"""Typed text carries the conversation on: what it tells, typed answers, small talk, the way on after a crisis."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from navigator_bot.catalog import Catalog
from navigator_bot.dialogue import ButtonPressed, Start, TextTyped
from navigator_bot.engine import DialogueEngine
from navigator_bot.i18n import Translator
from navigator_bot.understanding import Understanding
from navigator_bot.understanding.semantic import Encoder
from tests.test_engine import Conversation


@pytest.fixture(scope="module")
def engine(catalog: Catalog, encoder: Encoder, embedding_cache: Path) -> DialogueEngine:
    translator = Translator()
    understanding = Understanding(catalog, translator, today=lambda: dt.date(2026, 11, 26),
                                  encoder=encoder, cache_dir=embedding_cache)
    return DialogueEngine(catalog, understanding, translator)


def test_typed_story_sets_persona_and_situation_then_questions_skip_them(engine: DialogueEngine) -> None:
    conversation = Conversation(engine)
    conversation.send(Start())
    reply = conversation.send(TextTyped("息子が何年も部屋から出てこないんです"))
    assert conversation.state.persona == "family" and conversation.state.situation == "withdrawn"
    assert "m:hikikomori-network" in conversation.actions()
    assert "すみません" not in reply.text
    reply = conversation.press("resume")
    assert reply.text.startswith("（3/")  # persona and situation are not asked again
    assert any(action.startswith("a:") for action in conversation.actions())


def test_typed_words_answer_the_question_on_screen(engine: DialogueEngine) -> None:
    conversation = Conversation(engine)
    conversation.begin("self", "unstable-work")
    question = conversation.actions()[0].split(":")[1]
    conversation.send(TextTyped("はい"))
    assert conversation.state.answers[question] == "yes"
    second = conversation.actions()[0].split(":")[1]
    conversation.send(TextTyped("派遣で働いています"))
    assert conversation.state.answers.get(second) is None  # not a typed answer: searched instead
    conversation.press("resume")
    conversation.send(TextTyped("わがんねぇ"))  # Tsugaru for わからない
    assert conversation.state.answers[second] == "unknown"
    conversation.send(TextTyped("戻る"))
    assert second not in conversation.state.answers


def test_a_typed_yes_to_a_question_without_yes_asks_again(engine: DialogueEngine) -> None:
    conversation = Conversation(engine)
    conversation.begin("employer")
    reply = conversation.send(TextTyped("はい"))
    assert "読み取れませんでした" in reply.text
    assert any(a.startswith("a:employer-goal:") for a in conversation.actions())
    assert "employer-goal" not in conversation.state.answers


@pytest.mark.parametrize(("text", "kind"), [("こんにちは", "greeting"), ("ありがとうございました！", "thanks"),
                                            ("へばね", "bye"), ("thank you so much", "thanks"),
                                            ("おばんでございます", "greeting"), ("きみってロボット？", "bot"),
                                            ("are you a real person?", "bot")])
def test_small_talk_gets_a_short_kind_reply(engine: DialogueEngine, text: str, kind: str) -> None:
    conversation = Conversation(engine)
    reply = conversation.send(TextTyped(text))
    # A message written in English is answered in English, whatever the phone's language.
    assert reply.text == engine.translator.t(f"smalltalk_{kind}", "en" if text.isascii() else "ja")
    assert "restart" in conversation.actions()
    assert "頑張って" not in reply.text


def test_asked_whether_a_person_answers_the_bot_says_it_is_a_program(engine: DialogueEngine) -> None:
    reply = Conversation(engine).send(TextTyped("あなたはロボットですか？"))
    assert "プログラム" in reply.text and "保存しません" in reply.text
    # A job that has a robot in it is a search, not a question about the bot.
    assert Conversation(engine).send(TextTyped("ロボットの組み立ての仕事ありますか")).text != reply.text


def test_an_unclear_message_gets_one_question_with_buttons(engine: DialogueEngine) -> None:
    conversation = Conversation(engine)
    reply = conversation.send(TextTyped("困っています"))
    assert reply.text == engine.translator.t("clarify", "ja")
    assert any(action.startswith("p:") for action in conversation.actions())


def test_after_a_crisis_reply_the_job_loss_help_follows(engine: DialogueEngine) -> None:
    conversation = Conversation(engine)
    conversation.send(Start())
    reply = conversation.send(TextTyped("派遣切りされてもう死にたい"))
    assert "0120-279-338" in reply.text and not any(a.startswith("m:") for a in conversation.actions())
    assert conversation.actions() == ["after", "restart"]
    stored = conversation.state.model_dump()
    assert "派遣" not in str(stored) and "死" not in str(stored)  # measure ids only, never the words
    reply = conversation.press("after")
    shown = [a for a in conversation.actions() if a.startswith("m:")]
    assert 1 <= len(shown) <= 3
    assert {"m:hellowork-desk", "m:employment-support-project"} & set(shown)
    assert conversation.state.pending == []


def test_after_a_crisis_reply_without_other_needs_the_questions_follow(engine: DialogueEngine) -> None:
    conversation = Conversation(engine)
    conversation.send(Start())
    conversation.send(TextTyped("もう消えてしまいたい"))
    conversation.press("after")
    assert any(action.startswith("p:") for action in conversation.actions())


def test_english_is_understood_like_japanese(engine: DialogueEngine) -> None:
    conversation = Conversation(engine, lang="en")
    reply = conversation.send(TextTyped("I'm a temp worker and want a regular job"))
    shown = [a for a in conversation.actions() if a.startswith("m:")][:3]
    assert {"m:employment-support-project", "m:hellowork-desk"} & set(shown)
    assert "ハローワーク" in reply.text or "就職氷河期" in reply.text  # Japanese names beside the English
    assert conversation.state.situation == "unstable-work"


def test_a_message_in_english_is_answered_in_english_on_a_japanese_phone(engine: DialogueEngine) -> None:
    conversation = Conversation(engine)  # no language chosen, no hint: Japanese
    reply = conversation.send(TextTyped("I don't want to live anymore"))
    assert reply.text.startswith(engine.translator.t("crisis_intro", "en").split("\n")[0])
    assert engine.translator.t("crisis_japanese_only", "en") in reply.text  # the lines answer in Japanese
    # Romaji is Japanese; the phone's language stays for what follows.
    assert "ハローワーク" in conversation.send(TextTyped("shigoto wo sagashite imasu")).text
    assert conversation.state.lang != "en"


def test_a_person_writing_in_english_keeps_english_buttons_until_writing_japanese(engine: DialogueEngine) -> None:
    conversation = Conversation(engine)  # a phone set to Japanese
    conversation.send(Start())
    reply = conversation.send(TextTyped("I lost my job and I am 47"))
    labels = [button.label for row in reply.buttons for button in row]
    assert engine.translator.t("btn_restart", "en") in labels, labels  # the buttons follow the English
    assert engine.translator.t("btn_restart", "ja") not in labels
    pressed = conversation.press(reply.buttons[0][0].action)
    pressed_labels = [button.label for row in pressed.buttons for button in row]
    assert engine.translator.t("btn_back_results", "en") in pressed_labels, pressed_labels  # a press stays English
    conversation.send(TextTyped("ok"))  # a bare "ok" is no language
    assert conversation.state.written == "en"
    reply = conversation.send(TextTyped("ハローワークはどこ？"))  # Japanese again: the phone's language
    assert conversation.state.written is None
    assert engine.translator.t("btn_restart", "ja") in [button.label for row in reply.buttons for button in row]


def test_typed_text_never_overwrites_a_choice(engine: DialogueEngine) -> None:
    conversation = Conversation(engine)
    conversation.begin("self", "long-unemployed")
    conversation.send(TextTyped("派遣で働いています"))
    assert conversation.state.persona == "self" and conversation.state.situation == "long-unemployed"
    conversation.send(ButtonPressed("restart"))
    assert conversation.state.situation is None


def test_a_typed_yes_does_not_answer_a_question_that_is_not_on_screen(engine: DialogueEngine) -> None:
    conversation = Conversation(engine)
    conversation.send(Start())
    conversation.send(TextTyped("派遣きられた"))  # an answer with measures replaces the questions on screen
    state = conversation.state
    assert state.persona == "self" and state.situation == "unstable-work" and state.answers == {}
    reply = conversation.send(TextTyped("はい"))
    assert state.answers == {}, state.answers  # nothing answered blind: the question is shown first
    assert "ひとり親" in reply.text
    conversation.send(TextTyped("はい"))  # now it is on screen: はい answers it
    assert state.answers == {"single-parent": "yes"}


@pytest.mark.parametrize("text", ["このチャットで書いたことって記録に残るの？", "Is my chat saved?",
                                  "個人情報は大丈夫ですか"])
def test_asking_what_the_bot_keeps_gets_the_privacy_note(engine: DialogueEngine, text: str) -> None:
    answer = engine.understanding.interpret(text, "en" if text.isascii() else "ja")
    assert answer.intent == "help" and answer.text == engine.translator.t("privacy", "en" if text.isascii() else "ja")


@pytest.mark.parametrize("text", ["確定申告のやり方教えてください。バイト掛け持ちしてます",
                                  "運転免許の更新ってどこでするの",
                                  "How do I pay my resident tax if I missed the deadline?"])
def test_words_of_other_matters_get_what_the_bot_can_do(engine: DialogueEngine, text: str) -> None:
    assert engine.understanding.interpret(text).intent == "help"


def test_romaji_with_an_english_loanword_is_read(engine: DialogueEngine) -> None:
    answer = engine.understanding.interpret("shokugyou kunren no course oshiete")
    assert answer.intent == "measures"
    assert {"job-seeker-training", "regular-employment-training"} & {m.measure.id for m in answer.matches}


def test_an_emoji_that_stands_for_a_word_is_read_as_it(engine: DialogueEngine) -> None:
    assert engine.understanding.interpret("毎日🪦になりたい😇ってそればっか考えてる").intent == "crisis"
    assert engine.understanding.interpret("💊の飲み方がわからない").intent != "crisis"
