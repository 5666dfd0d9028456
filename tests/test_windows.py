"""Answers a person can act on: where to go first, in plain words, with contacts the catalog can stand behind."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import re

import pytest

from navigator_bot.catalog import Catalog
from navigator_bot.dialogue import ButtonPressed, CommandIssued, Reply, TextTyped
from navigator_bot.engine import DialogueEngine
from navigator_bot.i18n import Translator
from navigator_bot.understanding import Understanding
from tests.test_engine import PERSONAS, SITUATIONS, Conversation, _answer_all

TUESDAY_10 = dt.datetime(2026, 11, 24, 1, 0, tzinfo=dt.UTC)  # 10:00 in Aomori
SATURDAY_10 = dt.datetime(2026, 11, 28, 1, 0, tzinfo=dt.UTC)
PHONE = re.compile(r"(?<![\d-])0\d{1,4}-\d{1,4}-\d{3,4}(?![\d-])")
URL = re.compile(r"https?://[^\s）)]+")
INTERNAL_FOR_PEOPLE = {"self", "family"}


def _engine(catalog: Catalog, now: dt.datetime) -> DialogueEngine:
    translator = Translator()
    understanding = Understanding(catalog, translator, today=lambda: now.date(), now=lambda: now)
    return DialogueEngine(catalog, understanding, translator)


@pytest.fixture(scope="module")
def weekday(catalog: Catalog) -> DialogueEngine:
    return _engine(catalog, TUESDAY_10)


@pytest.fixture(scope="module")
def saturday(catalog: Catalog) -> DialogueEngine:
    return _engine(catalog, SATURDAY_10)


def _measures(conversation: Conversation) -> list[str]:
    return [action[2:] for action in conversation.actions() if action.startswith("m:")]


@pytest.mark.parametrize(("persona", "situation"), list(itertools.product(PERSONAS, SITUATIONS)))
def test_each_journey_leads_with_a_window_and_few_results(weekday: DialogueEngine, catalog: Catalog, persona: str,
                                                          situation: str) -> None:
    conversation = Conversation(weekday)
    conversation.begin(persona)
    if "s:unknown" in conversation.actions():
        conversation.send(ButtonPressed(f"s:{situation}"))
    _answer_all(conversation, "first")
    reply = conversation.last
    assert reply is not None
    shown = _measures(conversation)
    assert 0 < len(shown) <= 3, shown  # three, then 「ほかの支援も見る」
    first = catalog.measures[shown[0]]
    first_line = reply.text.split("\n\n", 1)[1].split("\n")[0]  # after the intro (and a reason shared by all)
    if first.facilities:  # the first thing shown is where to go, with its confirmed facts or where to confirm them
        window = catalog.facilities[first.facilities[0]]
        assert first_line.startswith("①"), first_line
        assert weekday.understanding.windows.name(window, "ja") in first_line
        block = reply.text.split("\n②")[0]
        assert "☎" in block or "📍" in block, block
    if persona in INTERNAL_FOR_PEOPLE:
        seen = list(shown)
        while any(a.startswith("pg:") and int(a[3:]) > conversation.state.page for a in conversation.actions()):
            conversation.press(f"pg:{conversation.state.page + 1}")
            seen += _measures(conversation)
        internal = [m for m in seen if catalog.measures[m].internal]
        assert not internal, f"{persona} shown platform-internal measures {internal}"
    assert "件目／全" not in reply.text
    assert reply.text.count("（正式名称は確認中です）") <= 1


def test_family_of_a_withdrawn_adult_is_told_first_where_family_can_go_alone(weekday: DialogueEngine) -> None:
    conversation = Conversation(weekday)
    conversation.begin("family", "withdrawn")
    _answer_all(conversation, "skip")
    assert conversation.last is not None
    first = conversation.last.text.split("\n②")[0]
    assert "ひきこもり地域支援センター" in first and "017-787-3953" in first
    assert "ご家族だけでも相談できます" in first and "2016年の開設時に案内された番号" in first
    assert "関係機関の連携強化" not in conversation.last.text  # the plan's wording waits for the detail view
    # Spoken to the family, and a reason all three results share is said once, under the intro.
    assert conversation.last.text.startswith("ご本人とご家族が相談できる先です")
    assert conversation.last.text.count("を選ばれたので") == 1


def test_every_phone_number_and_url_the_bot_prints_is_sourced(weekday: DialogueEngine, saturday: DialogueEngine,
                                                             catalog: Catalog) -> None:
    sourced_phones = {contact.phone for facility in catalog.facilities.values() for contact in facility.contacts
                      if contact.phone and contact.source and contact.as_of}
    sourced_phones |= {line.number for line in catalog.crisis.lines if line.source}
    sourced_urls = {agency.url for agency in catalog.agencies.values() if agency.url and agency.source}
    texts: list[str] = []
    for engine, persona, situation in itertools.product((weekday, saturday), PERSONAS, SITUATIONS):
        conversation = Conversation(engine)
        conversation.begin(persona)
        if "s:unknown" in conversation.actions():
            conversation.send(ButtonPressed(f"s:{situation}"))
        _answer_all(conversation, "first")
        texts.append(conversation.last.text if conversation.last else "")
        texts.append(conversation.press("memo").text)
    conversation = Conversation(weekday)
    conversation.begin("self", "withdrawn")
    for measure_id in catalog.measures:
        texts.append(conversation.send(ButtonPressed(f"m:{measure_id}")).text)
    for area in catalog.places.areas if catalog.places else ():
        for town in area.municipalities:
            conversation.send(ButtonPressed(f"town:{town.id}"))
            texts += [reply.text for reply in conversation.outcome.replies] if conversation.outcome else []
    for facility in catalog.facilities.values():
        name = weekday.understanding.windows.name(facility, "ja")
        for question in ("の電話番号", "はどこ？", "は何時まで？", "は何歳まで？", "は無料？", "は予約いる？"):
            texts.append(conversation.send(TextTyped(f"{facility.keywords[0]}{question}")).text)
        assert name
    texts.append(conversation.send(TextTyped("死にたい")).text)
    printed = "\n".join(texts)
    phones = set(PHONE.findall(printed))
    urls = set(URL.findall(printed))
    assert phones and urls
    assert phones <= sourced_phones, phones - sourced_phones
    assert urls <= sourced_urls, urls - sourced_urls


@pytest.mark.parametrize(("question", "intent", "must", "must_not"), [
    ("ハローワークってどこ？", "window", ["ハローワーク", "確かめ先", "jsite.mhlw.go.jp"], ["②"]),
    ("ひきこもり地域支援センターの電話番号を教えて", "window", ["017-787-3953", "2016年"], ["②"]),
    ("サポステって何歳まで？", "window", ["15〜49歳"], ["②"]),
    ("ジョブカフェの電話番号", "window", ["確認できていません", "青森県の公式情報"], ["②"]),
    ("サポステは無料？", "window", ["費用（無料かどうか）は、まだ確認できていません"], []),
    ("ひきこもり地域支援センターは家族だけでも相談できますか", "window", ["ご家族だけでも相談できます"], []),
    ("Where is Hello Work?", "window", ["Hello Work", "jsite.mhlw.go.jp"], []),
])
def test_direct_questions_get_direct_answers(weekday: DialogueEngine, question: str, intent: str, must: list[str],
                                            must_not: list[str]) -> None:
    answer = weekday.understanding.interpret(question, "en" if question.isascii() else "ja")
    assert answer.intent == intent, answer.text
    for text in must:
        assert text in answer.text, answer.text
    for text in must_not:
        assert text not in answer.text, answer.text


def test_closed_now_says_when_it_opens_and_offers_a_24_hour_line(weekday: DialogueEngine,
                                                                 saturday: DialogueEngine) -> None:
    question = "ひきこもり地域支援センターの電話番号"
    open_text = weekday.understanding.interpret(question).text
    assert "受付時間外" not in open_text and "平日 8:30〜17:15" in open_text
    closed = saturday.understanding.interpret(question).text
    assert "いまは受付時間外です" in closed and "月曜 8:30から" in closed and "0120-279-338" in closed
    english = saturday.understanding.interpret("hikikomori center phone number", "en").text
    assert "Closed now; opens Monday at 8:30" in english


def test_where_the_person_lives_brings_the_local_desk(weekday: DialogueEngine) -> None:
    conversation = Conversation(weekday)
    conversation.begin("self")
    conversation.send(TextTyped("弘前に住んでいます。家から出られなくて、家に来てもらえる相談はありますか"))
    assert conversation.state.town == "hirosaki"
    assert conversation.last is not None and "0172-38-1260" in conversation.last.text
    assert "ひろさき生活・仕事応援センター" in conversation.last.text


@pytest.mark.parametrize(("typed", "town"), [("弘前に住んでいます", "hirosaki"), ("むつ市です", "mutsu"),
                                             ("I live in Hachinohe", "hachinohe"), ("八戸在住", "hachinohe")])
def test_saying_only_where_one_lives_mid_question_sets_the_town(weekday: DialogueEngine, typed: str,
                                                                town: str) -> None:
    """Typed in the middle of the questions: the town is kept, its desk shown, and the way back to the question."""
    conversation = Conversation(weekday)
    conversation.begin("family", "withdrawn")
    reply = conversation.send(TextTyped(typed))
    assert conversation.state.town == town
    assert "resume" in conversation.actions() and "うまくお探しできませんでした" not in reply.text


@pytest.mark.parametrize("typed", ["弘前市の天気は？", "八戸から仙台まで新幹線でいくら？",
                                   "what's the weather in Hirosaki"])
def test_naming_a_town_is_not_saying_one_lives_there(weekday: DialogueEngine, typed: str) -> None:
    """A town in an off-topic question is not taken as where the person lives."""
    assert weekday.understanding.interpret(typed).intent == "help"


def test_choosing_a_town_by_buttons_and_what_is_not_confirmed(weekday: DialogueEngine) -> None:
    conversation = Conversation(weekday)
    conversation.begin("self", "withdrawn")
    _answer_all(conversation, "skip")
    assert "area" in conversation.actions()
    areas = conversation.press("area")
    assert "答えなくても大丈夫" in areas.text and "resume" in conversation.actions()
    conversation.press("area:tosei")
    reply = conversation.send(ButtonPressed("town:hiranai"))
    assert conversation.state.town == "hiranai" and "017-752-1888" in reply.text  # the prefecture's area desk
    reply = conversation.send(ButtonPressed("town:kuroishi"))  # a city with its own desk, phone not confirmed
    assert "黒石市の窓口の電話番号は、まだ確認できていません" in reply.text
    assert "017-752-1888" not in reply.text
    memo = conversation.press("memo")
    assert "住んでいる市町村: 黒石市" in memo.text
    forgotten = conversation.send(CommandIssued("forget"))
    assert conversation.state.town is None and "削除" in forgotten.text


def test_detail_view_leads_with_the_window_and_quotes_the_plan_below(weekday: DialogueEngine,
                                                                     catalog: Catalog) -> None:
    conversation = Conversation(weekday)
    conversation.begin("family", "withdrawn")
    detail = conversation.send(ButtonPressed("m:saposute-outreach"))
    text = detail.text
    plan_at = text.index("【計画の記載】")
    assert "令和2〜5年度" in text[plan_at:]
    assert "サポステ" in text[:plan_at] and "窓口で聞いてみること" in text[:plan_at]
    # The plan's typo stays only inside the quoted plan text.
    assert "ひきこも地域支援センター" in text[plan_at:] and "ひきこも地域支援センター" not in text[:plan_at]
    assert catalog.measures["saposute-outreach"].summary in text[plan_at:]


def test_memo_holds_windows_questions_and_what_was_opened(weekday: DialogueEngine) -> None:
    conversation = Conversation(weekday)
    conversation.begin("self", "unstable-work")
    _answer_all(conversation, "skip")
    conversation.send(ButtonPressed("m:livelihood-loan"))  # opened, though not among the first three
    memo = conversation.press("memo").text
    assert "相談先:" in memo and "窓口で聞いてみること:" in memo
    assert "社会福祉協議会" in memo and "生活福祉資金の貸付事業による支援" in memo
    assert "ハローワーク" in memo


def test_no_reply_repeats_the_contact_caveat(weekday: DialogueEngine) -> None:
    conversation = Conversation(weekday)
    conversation.begin("self", "long-unemployed")
    _answer_all(conversation, "first")
    replies: list[Reply] = [conversation.last] if conversation.last else []
    replies.append(conversation.press("m:"))
    replies.append(conversation.press("memo"))
    for reply in replies:
        assert reply.text.count("最新の情報は公式ページ・窓口でご確認ください") <= 1
        assert "連絡先や受付時間は、各機関の公式情報でご確認ください" not in reply.text


def test_memo_image_is_a_phone_wide_png_of_the_memo(weekday: DialogueEngine, catalog: Catalog) -> None:
    from PIL import Image

    from navigator_bot.memo_image import WIDTH, render_memo

    conversation = Conversation(weekday)
    conversation.begin("family", "withdrawn")
    _answer_all(conversation, "skip")
    memo = conversation.press("memo")
    picture = conversation.press("memopng")
    assert picture.image is not None and picture.image.lines == tuple(memo.text.split("\n"))
    png = render_memo(picture.image.lines)
    image = Image.open(io.BytesIO(png))
    assert png.startswith(b"\x89PNG") and image.width == WIDTH and image.height > 1000
    # Dark text was drawn (not an empty page), and no line lost for want of a glyph.
    assert image.convert("L").getextrema()[0] < 64


def test_where_the_person_lives_adds_the_local_desk_for_money_and_living(weekday: DialogueEngine) -> None:
    conversation = Conversation(weekday)
    conversation.begin("self")
    reply = conversation.send(TextTyped("弘前に住んでます。お金がなくて生活が苦しい"))
    assert "弘前市の暮らし・お金・仕事の相談窓口" in reply.text and "0172-38-1260" in reply.text
    assert reply.text.count("0172-38-1260") == 1
