"""The crisis floor: what it catches, what it leaves alone, who it speaks to, and the reply's lines and order."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from navigator_bot.catalog import Catalog, CatalogInvalid, load_catalog
from navigator_bot.crisis_reply import CrisisReplies, lines_by_availability
from navigator_bot.i18n import Translator
from navigator_bot.understanding import Understanding

JST = dt.timezone(dt.timedelta(hours=9))
FRIDAY_NIGHT = dt.datetime(2026, 11, 27, 23, 30, tzinfo=JST)
TUESDAY_3AM = dt.datetime(2026, 11, 24, 3, 0, tzinfo=JST)
TUESDAY_NOON = dt.datetime(2026, 11, 24, 13, 0, tzinfo=JST)


@pytest.fixture(scope="module")
def understanding(catalog: Catalog) -> Understanding:
    return Understanding(catalog, Translator(), now=lambda: TUESDAY_NOON)


@pytest.mark.parametrize(("text", "kind"), [
    ("死にたい", "wish"), ("しにてぇ", "wish"), ("タヒにたい", "wish"), ("わ、もう生ぎでぐね", "wish"),
    ("この世から消えてなくなりたい", "wish"), ("リスカがやめられない", "selfharm"), ("首つろうかな", "method"),
    ("線路に飛び込みたくなる", "method"), ("薬たくさん飲んで終わらせたい", "method"), ("遺書を書いた", "farewell"),
    ("おれなんかいなくなったほうがいい", "worthless"), ("生まれてこなければよかった", "worthless"),
    ("生きてる意味がない", "hopeless"), ("I don't want to live anymore", "wish"), ("kms", "wish"),
    ("いっそ息子と一緒に死のうか", "carer"), ("mou shinitai", "wish"),
])
def test_each_kind_is_caught(understanding: Understanding, text: str, kind: str) -> None:
    reading = understanding.crisis.read(understanding.read(text))
    assert reading.level == "crisis" and kind in reading.kinds, reading


@pytest.mark.parametrize("text", [
    "死ぬほど疲れた", "死活問題です", "殺風景な部屋", "必死に仕事を探した", "消えた求人", "求人が消えた",
    "this job hunt is killing me", "I'm dying to get a job", "会社をクビになった", "飛び込み営業の仕事",
    "ロープウェイの運転の仕事", "薬剤師の資格を取りたい", "退職の挨拶で今までお世話になりましたと言った",
    "過労自殺のニュースを見た", "死ぬ気で頑張ります", "楽になりたいから在宅の仕事がいい",
])
def test_figurative_uses_are_left_alone(understanding: Understanding, text: str) -> None:
    assert not understanding.crisis.read(understanding.read(text)).is_crisis


# The context of a figurative use may sit in the sentence before: the whole message decides, not each sentence.
@pytest.mark.parametrize(("text", "crisis"), [
    ("スーパーでこけた。消えたい", False),
    ("グループLINEに間違えて送った。消えたいw", False),
    ("母と一緒にエンディングノート書いた。保険証書の場所とかメモしといた", False),
    ("昨日こけて骨折した。仕事もなくなった。もう消えたい", True),
    ("エンディングノートも書いた。もう思い残すことはない", True),
    ("コンティニューする気力がない", True),  # written with a small vowel in crisis.yaml, matched all the same
    ("shinitai... sorry my japanese bad", True),  # romaji words inside English are read in kana too
    ("I want to shine at my new job", False),
    ("I feel like dying", True),  # English wishes read since this session
    ("I'd rather be dead", True),
    ("i feel like disappearing", True),
    ("I feel like dying of embarrassment lol", False),
    ("I've decided to die", True),
    ("I'm going to end it tonight", True),
    ("Id rather die than wear a suit again lol", False),  # English look-alikes of round 25
    ("I want to end it with my girlfriend but we live together", False),
    ("I hurt myself slipping on the ice last week", False),
    ("I want to disappear from this world", True),
])
def test_the_whole_message_is_the_context_of_each_sentence(understanding: Understanding, text: str,
                                                           crisis: bool) -> None:
    assert understanding.crisis.read(understanding.read(text)).is_crisis is crisis


@pytest.mark.parametrize(("text", "crisis"), [
    ("80歳の母です。50歳の息子がずっと家にいます。私が死んだらこの子はどうなるのか心配です", False),
    ("私が死んだら、ひきこもりの息子はどうなるんでしょうか", False),
    ("私が死んだらこの子はどうなるのか。いっそ一緒に…", True),
    ("私が死んだら全部解決する", True),
    ("私が死んだら、息子は生命保険で少しは楽になる", True),
])
def test_a_parents_worry_for_after_their_death_is_not_a_wish_to_die(understanding: Understanding, text: str,
                                                                    crisis: bool) -> None:
    """親亡き後: an aged parent asks what becomes of a withdrawn child; the help for the child comes first."""
    answer = understanding.interpret(text)
    assert (answer.intent == "crisis") is crisis, answer.text
    if not crisis:
        assert "ひきこもり地域支援センター" in answer.text


def test_asking_for_a_suicide_prevention_line_gets_the_lines(understanding: Understanding) -> None:
    # 自殺予防 is blanked as a figurative use (自殺予防のポスター); asking for its line is read as written.
    assert understanding.interpret("友達のために、自殺予防の相談窓口を調べています").intent == "line"
    assert understanding.interpret("自殺予防のポスターを作っています").intent not in ("line", "crisis")


@pytest.mark.parametrize(("text", "form"), [
    ("もう死にたい", "self"),
    ("息子が「死にたい」と言うようになった", "family"),
    ("夫が遺書みたいなものを書いていた", "family"),
    ("my son says he wants to die", "family"),
    ("息子が部屋から出てこない。私ももう疲れて、いっそ消えてしまいたい", "carer"),
    ("正社員になれないまま45になった。親も年金暮らしで、わたしなんかもう死ねばいいと思ってる", "self"),
])
def test_the_reply_speaks_to_the_right_person(understanding: Understanding, text: str, form: str) -> None:
    answer = understanding.interpret(text)
    assert answer.intent == "crisis" and answer.safety.form == form
    key = {"self": "crisis_intro", "family": "crisis_intro_other", "carer": "crisis_intro_carer"}[form]
    assert answer.text.startswith(understanding.translator.t(key, "ja").split("\n")[0])


def test_family_form_says_what_to_do_now_and_119(understanding: Understanding) -> None:
    text = understanding.interpret("娘がリストカットしているみたいです").text
    assert "ひとりにしないで" in text and "119" in text and "0120-279-338" in text


def test_danger_from_another_person_gets_110_first(understanding: Understanding) -> None:
    answer = understanding.interpret("息子に暴力をふるわれる")
    assert answer.intent == "danger" and answer.text.index("110") < answer.text.index("0120-279-338")
    assert not answer.matches


def test_distress_without_a_crisis_word_is_answered_softly(understanding: Understanding) -> None:
    answer = understanding.interpret("しんどい")
    assert answer.intent == "distress"
    assert sum(line.startswith("・") for line in answer.text.splitlines()) <= 2 and "0120-279-338" in answer.text
    assert "頑張" not in answer.text and "119" not in answer.text


def test_asking_for_a_line_by_name_answers_with_it_first(understanding: Understanding) -> None:
    answer = understanding.interpret("あおもりいのちの電話の番号を教えて")
    assert answer.intent == "line"
    first_line = next(line for line in answer.text.splitlines() if line.startswith("・"))
    assert "0172-33-7830" in first_line


def test_english_reply_is_in_english_and_says_the_lines_speak_japanese(catalog: Catalog) -> None:
    understanding = Understanding(catalog, Translator(), now=lambda: TUESDAY_NOON)
    text = understanding.interpret("I want to kill myself", lang="en").text
    assert "Yorisoi Hotline (よりそいホットライン) 0120-279-338" in text
    assert "as of July 2026" in text and "時点" not in text
    assert "These lines answer in Japanese." in text
    assert "つらい" not in text


def test_lines_that_answer_now_come_first(catalog: Catalog) -> None:
    at_3am = [line.id for line, _ in lines_by_availability(catalog.crisis.lines, TUESDAY_3AM)]
    assert at_3am[0] == "yorisoi"  # the 24-hour line
    states = dict((line.id, state) for line, state in lines_by_availability(catalog.crisis.lines, TUESDAY_3AM))
    assert states["aomori-inochi"] is False and states["kokoro-dial"] is None and states["inochi-sos"] is False
    friday = dict((line.id, state) for line, state in lines_by_availability(catalog.crisis.lines, FRIDAY_NIGHT))
    assert friday["inochi-sos"] is True  # 24 hours on Fridays
    noon = [line.id for line, _ in lines_by_availability(catalog.crisis.lines, TUESDAY_NOON)]
    assert noon.index("aomori-inochi") < noon.index("kokoro-dial")  # open now before unknown hours


def test_closed_lines_are_marked_not_hidden(catalog: Catalog) -> None:
    from navigator_bot.understanding.crisis import CrisisReading

    text = CrisisReplies(catalog.crisis, Translator()).reply(CrisisReading("crisis"), TUESDAY_3AM, "ja")
    closed = [line for line in text.splitlines() if "受付時間外" in line]
    assert any("0172-33-7830" in line for line in closed)
    assert all(line.number in text for line in catalog.crisis.lines)


def test_every_printed_number_is_a_sourced_catalog_line(catalog: Catalog, understanding: Understanding) -> None:
    import re

    sourced = {line.number for line in catalog.crisis.lines if line.source} | {"119", "110"}
    for message in ("死にたい", "息子に殴られる", "いのちの電話の番号", "眠れない"):
        text = understanding.interpret(message).text
        printed = set(re.findall(r"\d{2,5}-\d{2,4}-\d{3,4}", text)) | set(re.findall(r"(?<!\d)1[01][09](?!\d)", text))
        assert printed and printed <= sourced, printed


def test_a_new_expression_needs_no_code(catalog_copy: Path) -> None:
    crisis = catalog_copy / "crisis.yaml"
    text = crisis.read_text(encoding="utf-8")
    anchor = '          - "存在(を)?消"\n'
    crisis.write_text(text.replace(anchor, anchor + '          - "もうおしまいだ"\n'), encoding="utf-8")
    understanding = Understanding(load_catalog(catalog_copy), Translator())
    assert understanding.interpret("もうおしまいだ").intent == "crisis"


def test_a_broken_expression_is_reported_with_file_and_line(catalog_copy: Path) -> None:
    crisis = catalog_copy / "crisis.yaml"
    text = crisis.read_text(encoding="utf-8")
    crisis.write_text(text.replace("          - \"存在(を)?消\"\n", "          - \"存在(を?消\"\n"), encoding="utf-8")
    with pytest.raises(CatalogInvalid) as error:
        load_catalog(catalog_copy)
    assert "crisis.yaml:" in str(error.value) and "regular expression" in str(error.value)
