"""The dialogue engine, driven event by event: every persona × situation path, skips, typed text, crisis."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from navigator_bot.catalog import Catalog
from navigator_bot.dialogue import (
    ButtonPressed,
    CommandIssued,
    Event,
    Outcome,
    Reply,
    Start,
    TextTyped,
    UnsupportedMessage,
    UserContext,
)
from navigator_bot.engine import ConversationState, DialogueEngine
from navigator_bot.i18n import Translator
from navigator_bot.recommend import applicable_questions
from navigator_bot.understanding import Understanding


@pytest.fixture(scope="module")
def engine(catalog: Catalog) -> DialogueEngine:
    translator = Translator()
    understanding = Understanding(catalog, translator, today=lambda: dt.date(2026, 11, 26))
    return DialogueEngine(catalog, understanding, translator)


class Conversation:
    """One user's conversation with the engine, as a test would read it."""

    def __init__(self, engine: DialogueEngine, staff: bool = False, lang: str = "ja") -> None:
        self.engine = engine
        self.state = ConversationState()
        self.context = UserContext(is_staff=staff, language_hint=lang)
        self.last: Reply | None = None
        self.outcome: Outcome | None = None

    def send(self, event: Event) -> Reply:
        self.outcome = self.engine.handle(self.state, event, self.context)
        assert self.outcome.replies
        self.last = self.outcome.replies[-1]
        return self.last

    def begin(self, persona: str, situation: str | None = None) -> Reply:
        """Start, choose a persona and (if given) a situation; return the last reply."""
        self.send(Start())
        reply = self.send(ButtonPressed(f"p:{persona}"))
        return self.send(ButtonPressed(f"s:{situation}")) if situation else reply

    def actions(self) -> list[str]:
        assert self.last is not None
        return [button.action for row in self.last.buttons for button in row]

    def press(self, prefix: str) -> Reply:
        """Press the first button of the last reply whose action starts with prefix."""
        action = next(a for a in self.actions() if a.startswith(prefix))
        return self.send(ButtonPressed(action))

    def press_label(self, label: str) -> Reply:
        assert self.last is not None
        action = next(b.action for row in self.last.buttons for b in row if b.label == label)
        return self.send(ButtonPressed(action))


def _answer_all(conversation: Conversation, choice: str) -> None:
    """Answer every pending question with the first option, わからない or とばす."""
    for _ in range(20):
        question_buttons = [a for a in conversation.actions() if a.startswith("a:")]
        if not question_buttons:
            return
        qid = question_buttons[0].split(":")[1]
        target = {"first": question_buttons[0], "unknown": f"a:{qid}:unknown", "skip": f"a:{qid}:skip"}[choice]
        conversation.send(ButtonPressed(target))
    raise AssertionError("the questionnaire did not end")


PERSONAS = ["self", "family", "supporter", "employer"]
SITUATIONS = ["unstable-work", "long-unemployed", "withdrawn", "unknown"]


@pytest.mark.parametrize(("persona", "situation", "choice"),
                         list(itertools.product(PERSONAS, SITUATIONS, ["first", "unknown", "skip"])))
def test_every_path_reaches_results(engine: DialogueEngine, catalog: Catalog, persona: str, situation: str,
                                    choice: str) -> None:
    conversation = Conversation(engine)
    reply = conversation.send(Start())
    assert "どなたのご相談ですか" in reply.text and "（1問目）" in reply.text
    conversation.send(ButtonPressed(f"p:{persona}"))
    if "s:unknown" in conversation.actions():
        conversation.send(ButtonPressed(f"s:{situation}"))
    _answer_all(conversation, choice)
    assert conversation.last is not None
    assert "番号のボタンで、くわしく見られます" in conversation.last.text  # the intro, for oneself or for family
    shown = [a.removeprefix("m:") for a in conversation.actions() if a.startswith("m:")]
    assert shown, "results list no measure"
    audiences = set(next(p for p in catalog.questionnaire.personas if p.id == persona).audiences)
    for measure_id in shown:
        assert audiences & set(catalog.measures[measure_id].audiences), f"{measure_id} offered to {persona}"


def test_step_counter_shows_progress(engine: DialogueEngine, catalog: Catalog) -> None:
    conversation = Conversation(engine)
    conversation.send(Start())
    reply = conversation.send(ButtonPressed("p:self"))
    total = 2 + len(applicable_questions(catalog, "self", "unstable-work"))
    reply = conversation.send(ButtonPressed("s:unstable-work"))
    assert f"（3/{total}）" in reply.text
    reply = conversation.send(ButtonPressed(conversation.actions()[0]))
    assert f"（4/{total}）" in reply.text


def test_job_seeker_is_not_offered_employer_or_internal_measures(engine: DialogueEngine, catalog: Catalog) -> None:
    conversation = Conversation(engine)
    conversation.begin("self", "unstable-work")
    _answer_all(conversation, "skip")
    while True:
        for action in conversation.actions():
            if action.startswith("m:"):
                measure = catalog.measures[action[2:]]
                assert "individual" in measure.audiences, measure.id
        if not any(a.startswith("pg:") and int(a[3:]) > conversation.state.page for a in conversation.actions()):
            break
        conversation.press(f"pg:{conversation.state.page + 1}")


def test_answers_change_the_ranking_with_reasons(engine: DialogueEngine) -> None:
    conversation = Conversation(engine)
    conversation.begin("self", "long-unemployed")
    conversation.send(ButtonPressed("a:single-parent:yes"))
    conversation.send(ButtonPressed("a:training:skip"))
    conversation.send(ButtonPressed("a:try-first:skip"))
    conversation.send(ButtonPressed("a:living-costs:yes"))
    reply = conversation.send(ButtonPressed("a:hard-to-visit:skip"))
    top = [a for a in conversation.actions() if a.startswith("m:")][:2]
    assert set(top) == {"m:mothers-corner", "m:livelihood-loan"}
    assert "ひとり親の方の職業相談があります" in reply.text


def test_single_parent_no_hides_the_single_parent_measure(engine: DialogueEngine) -> None:
    conversation = Conversation(engine)
    conversation.begin("self", "unstable-work")
    conversation.send(ButtonPressed("a:single-parent:no"))
    _answer_all(conversation, "skip")
    seen = set()
    for page in range(5):
        conversation.send(ButtonPressed(f"pg:{page}"))
        seen.update(a for a in conversation.actions() if a.startswith("m:"))
    assert "m:mothers-corner" not in seen and "m:hellowork-desk" in seen


def test_family_is_asked_about_the_person_and_shown_family_consultation(engine: DialogueEngine) -> None:
    conversation = Conversation(engine)
    conversation.send(Start())
    reply = conversation.send(ButtonPressed("p:family"))
    assert "ご本人" in reply.text
    conversation.send(ButtonPressed("s:withdrawn"))
    assert conversation.last is not None and "ご本人" in conversation.last.text
    _answer_all(conversation, "first")
    assert "ご家族だけでも相談できます" in conversation.last.text
    assert "m:hikikomori-network" in conversation.actions()[:3]


def test_employer_gets_employer_measures(engine: DialogueEngine, catalog: Catalog) -> None:
    conversation = Conversation(engine)
    conversation.send(Start())
    reply = conversation.send(ButtonPressed("p:employer"))
    assert "a:employer-goal:hire" in conversation.actions(), reply.text
    conversation.send(ButtonPressed("a:employer-goal:hire"))
    shown = [a[2:] for a in conversation.actions() if a.startswith("m:")]
    assert shown[0] in {"hiring-subsidies", "matching-events", "employment-support-project"}
    assert all("employer" in catalog.measures[m].audiences for m in shown)


def test_staff_are_offered_kpi_progress(engine: DialogueEngine) -> None:
    conversation = Conversation(engine, staff=True)
    conversation.begin("supporter")
    conversation.send(ButtonPressed("a:supporter-topic:participation"))
    assert "kpi" in conversation.actions()
    conversation.press("kpi")
    assert conversation.outcome is not None
    texts = [reply.text for reply in conversation.outcome.replies]
    assert any("3,682" in text for text in texts)
    assert any(reply.chart is not None for reply in conversation.outcome.replies)


def test_kpi_chart_only_for_staff(engine: DialogueEngine) -> None:
    conversation = Conversation(engine, staff=False)
    conversation.send(CommandIssued("kpi"))
    assert conversation.outcome is not None
    assert all(reply.chart is None for reply in conversation.outcome.replies)
    assert "14,317" in conversation.outcome.replies[0].text


def test_back_undoes_the_last_choice(engine: DialogueEngine) -> None:
    conversation = Conversation(engine)
    conversation.begin("self", "unstable-work")
    conversation.send(ButtonPressed("a:single-parent:yes"))
    reply = conversation.send(ButtonPressed("back"))
    assert "ひとり親" in reply.text and conversation.state.answers == {}
    conversation.send(ButtonPressed("back"))
    assert conversation.state.situation is None
    reply = conversation.send(ButtonPressed("back"))
    assert conversation.state.persona is None and "どなたのご相談ですか" in reply.text


def test_detail_memo_more_and_restart(engine: DialogueEngine, catalog: Catalog) -> None:
    conversation = Conversation(engine)
    conversation.begin("self", "withdrawn")
    conversation.send(ButtonPressed("a:try-first:unknown"))
    conversation.send(ButtonPressed("a:hard-to-visit:yes"))
    detail = conversation.press("m:")
    measure_id = conversation.state.detail
    assert measure_id and catalog.measures[measure_id].summary in detail.text
    assert "ご確認ください" in detail.text and detail.edit
    memo = conversation.press("memo")
    assert "相談メモ" in memo.text and "外出や人と関わるのがむずかしい" in memo.text
    assert "窓口まで出かけるのはむずかしいですか？ → むずかしい" in memo.text
    assert "わからない" in memo.text  # answered わからない is kept in the memo, skipped questions are not
    results = conversation.press("res")
    assert "合いそうな相談先です" in results.text and len([a for a in conversation.actions() if a[:2] == "m:"]) == 3
    more = conversation.press("pg:1")
    assert "4〜6件目" in more.text
    restart = conversation.press("restart")
    assert "どなたのご相談ですか" in restart.text and conversation.state.persona is None


def test_memo_holds_no_typed_text(engine: DialogueEngine) -> None:
    conversation = Conversation(engine)
    conversation.begin("self")
    conversation.send(TextTyped("田中太郎です。派遣で働いています"))
    conversation.send(ButtonPressed("resume"))
    conversation.send(ButtonPressed("s:unstable-work"))
    _answer_all(conversation, "skip")
    memo = conversation.press("memo")
    assert "田中" not in memo.text and "田中" not in conversation.state.model_dump_json()


def test_typed_text_mid_questionnaire_then_resume(engine: DialogueEngine) -> None:
    conversation = Conversation(engine)
    conversation.begin("self", "unstable-work")
    before = conversation.state.model_copy(deep=True)
    reply = conversation.send(TextTyped("ハローワークの専門窓口について"))
    assert reply.text.count("ハローワーク") >= 1 and "中高年層（ミドルシニア）専門窓口" in reply.text
    assert "m:hellowork-desk" in conversation.actions() and "resume" in conversation.actions()
    # The person's choices are untouched (the screen step and the question on screen move on).
    assert conversation.state.model_dump(exclude={"step", "asked"}) == before.model_dump(exclude={"step", "asked"})
    reply = conversation.send(ButtonPressed("resume"))
    assert "ひとり親" in reply.text


def test_crisis_text_comes_first_with_no_measures(engine: DialogueEngine) -> None:
    conversation = Conversation(engine)
    conversation.begin("family")
    reply = conversation.send(TextTyped("息子が死にたいと言っている。ハローワークにも行けない"))
    assert "0120-279-338" in reply.text and "119" in reply.text
    assert "大切な方" in reply.text
    assert not any(a.startswith("m:") for a in conversation.actions())
    assert conversation.outcome is not None and ("crisis_reply", "family") in conversation.outcome.counts


def test_stale_and_unknown_buttons_get_a_friendly_answer(engine: DialogueEngine) -> None:
    conversation = Conversation(engine)
    for action in ["", "zzz", "m:no-such-measure", "a:no-such-question:yes", "s:withdrawn", "pg:x"]:
        reply = conversation.send(ButtonPressed(action))
        assert "古くなって" in reply.text and "restart" in conversation.actions(), action


def test_commands(engine: DialogueEngine) -> None:
    conversation = Conversation(engine)
    assert "/start" in conversation.send(CommandIssued("help")).text
    assert "30日" in conversation.send(CommandIssued("privacy")).text
    assert "担当者の方だけ" in conversation.send(CommandIssued("stats")).text
    conversation.send(CommandIssued("lang", "en"))
    assert conversation.state.lang == "en"
    reply = conversation.send(Start())
    assert "Who is this about?" in reply.text
    conversation.send(CommandIssued("lang", "ja"))
    conversation.send(ButtonPressed("p:self"))
    reply = conversation.send(CommandIssued("forget"))
    assert "削除しました" in reply.text and conversation.outcome is not None and conversation.outcome.forget
    assert conversation.state.model_dump(exclude={"step"}) == ConversationState().model_dump(exclude={"step"})
    assert "中断しました" in conversation.send(CommandIssued("cancel")).text
    assert "文章で書いてください" in conversation.send(CommandIssued("search")).text
    assert "資格" in conversation.send(CommandIssued("search", "資格を取りたい")).text
    assert "文字のメッセージ" in conversation.send(UnsupportedMessage("sticker")).text


def test_english_conversation(engine: DialogueEngine) -> None:
    conversation = Conversation(engine, lang="en")
    reply = conversation.send(Start())
    assert "Who is this about?" in reply.text
    conversation.send(ButtonPressed("p:self"))
    conversation.send(ButtonPressed("s:unstable-work"))
    _answer_all(conversation, "skip")
    assert conversation.last is not None and "places that may suit you" in conversation.last.text
    text = conversation.last.text
    assert "Hello Work (ハローワーク青森)" in text and "Aomori Labour Bureau" in text


def test_no_pressure_words_in_any_string(engine: DialogueEngine) -> None:
    translator = engine.translator
    for lang in ("ja", "en"):
        for key in translator.keys(lang):
            text = translator.t(key, lang)
            assert "頑張" not in text and "がんば" not in text and "!" not in text and "！" not in text, key


def test_every_button_fits_telegram_callback_data(engine: DialogueEngine) -> None:
    from navigator_bot.dialogue import pack_callback

    conversation = Conversation(engine, staff=True)
    conversation.send(Start())
    for persona in PERSONAS:
        conversation.send(ButtonPressed(f"p:{persona}"))
        if "s:withdrawn" in conversation.actions():
            conversation.send(ButtonPressed("s:withdrawn"))
        _answer_all(conversation, "first")
        assert conversation.last is not None
        for row in conversation.last.buttons:
            for button in row:
                assert len(pack_callback(button.action, 999_999_999).encode()) <= 64
        conversation.send(ButtonPressed("restart"))


def test_a_repeated_tap_does_nothing_twice_and_counts_once(engine: DialogueEngine) -> None:
    conversation = Conversation(engine)
    conversation.send(Start())
    persona = next(b for row in conversation.last.buttons for b in row if b.action == "p:family")  # type: ignore[union-attr]
    first = engine.handle(conversation.state, ButtonPressed(persona.action, persona.step), conversation.context)
    assert first.counts == [("persona", "family")]
    for _ in range(9):  # nine more taps on the same, old button
        again = engine.handle(conversation.state, ButtonPressed(persona.action, persona.step), conversation.context)
        assert again.counts == [] and again.replies[0].text == first.replies[0].text
    situation = next(b for row in first.replies[0].buttons for b in row if b.action == "s:withdrawn")
    engine.handle(conversation.state, ButtonPressed(situation.action, situation.step), conversation.context)
    reply = engine.handle(conversation.state, ButtonPressed("a:try-first:skip", None), conversation.context)
    back = next(b for row in reply.replies[0].buttons for b in row if b.action == "back")
    engine.handle(conversation.state, ButtonPressed(back.action, back.step), conversation.context)
    answered = dict(conversation.state.answers)
    engine.handle(conversation.state, ButtonPressed(back.action, back.step), conversation.context)  # the second tap
    assert conversation.state.answers == answered and conversation.state.situation == "withdrawn"


def test_forged_callback_data_is_refused_before_any_handler() -> None:
    from navigator_bot.dialogue import pack_callback, unpack_callback

    assert unpack_callback("1|pg:²") is None  # str.isdigit() accepts "²"; int() does not
    assert unpack_callback("1|pg:2|１２") is None and unpack_callback("1|m:../x") is None
    assert unpack_callback("1|a:training:yes|12") == ButtonPressed("a:training:yes", 12)
    assert unpack_callback(pack_callback("back", 3)) == ButtonPressed("back", 3)
    assert unpack_callback("junk") is None and unpack_callback("2|back") is None


@pytest.mark.parametrize(("payload", "expected", "persona", "situation"), [
    ("family", "ご本人のいまのご状況", "family", None),
    ("employer", "どのようなことをお考えですか", "employer", None),
    ("withdrawn", "（3/", "self", "withdrawn"),
    ("hikikomori-center", "017-787-3953", None, None),
    ("nonsense", "どなたのご相談ですか", None, None),
    ("bad payload!", "どなたのご相談ですか", None, None),
])
def test_a_posters_link_opens_the_conversation_where_it_points(engine: DialogueEngine, payload: str, expected: str,
                                                               persona: str | None, situation: str | None) -> None:
    conversation = Conversation(engine)
    conversation.send(Start(payload))
    assert conversation.outcome is not None
    assert expected in "\n".join(reply.text for reply in conversation.outcome.replies)
    assert conversation.state.persona == persona and conversation.state.situation == situation
    known = payload in ("family", "employer", "withdrawn", "hikikomori-center")
    assert ("conversation_started", payload if known else "") in conversation.outcome.counts
