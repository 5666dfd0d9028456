"""End to end on LINE: the real webhook server (`serve`) receives signed event bodies; replies reach a local
Messaging API stand-in through NAVIGATOR_LINE_API_URL.

Every test talks to the bot as LINE would (follow, text, postbacks read off the recorded quick replies and cards,
unfollow) and checks what the stand-in recorded. After every test the fixture checks the adapter's invariants:
no call broke one of LINE's documented limits, every event left the inbox, typed text never reached the logs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from navigator_bot.adapters.line import LineAdapter, serve, text_event
from navigator_bot.adapters.line_messages import (
    MAX_TEXT,
    LinePicture,
    batches,
    choice_card,
    fits_quick_replies,
    reply_messages,
    short_label,
)
from navigator_bot.app import Navigator
from navigator_bot.config import DATABASE_FILE, Settings
from navigator_bot.dialogue import Button, CommandIssued, Reply, Start, TextTyped, unpack_callback
from navigator_bot.i18n import Translator
from tests.line_standin import PUSH, REPLY, Delivered, Fault, LinePlatform, LineStandin, choices, utf16_len

ROOT = Path(__file__).resolve().parents[1]
SECRET = "0123456789abcdef0123456789abcdef"
STAFF = "Ustaff000000000000000000000000001"
PUBLIC = "https://navi.example.jp/aomori"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PERSONAS = {"self": "ご本人", "family": "ご家族・周りの方", "supporter": "支援機関・行政の方",
            "employer": "企業・事業主の方"}
PREFERRED = {  # words to choose where offered; otherwise the first choice
    "self": ["不安定な働き方・非正規", "はい"],
    "family": ["外出や人と関わるのがむずかしい（ひきこもり等）", "わからない"],
    "supporter": ["社会参加（ひきこもり支援）"],
    "employer": ["非正規の社員を正社員にしたい"],
}
T = Translator()


def _text(key: str) -> str:
    return T.t(key, "ja")


def _clean_env() -> dict[str, str]:
    keep = {"NAVIGATOR_EMBEDDING_CACHE_DIR"}  # the session's warm embedding cache (see conftest)
    return {k: v for k, v in os.environ.items() if k in keep or not k.startswith("NAVIGATOR_")}


@pytest_asyncio.fixture
async def standin() -> AsyncIterator[LineStandin]:
    """The Messaging API stand-in on 127.0.0.1."""
    api = LineStandin()
    await api.start()
    yield api
    await api.stop()


@pytest.fixture
def settings(standin: LineStandin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings as `run --channel line` reads them from the environment, pointed at the stand-in."""
    for name in os.environ.keys() - _clean_env().keys():
        monkeypatch.delenv(name)
    environment = {
        "NAVIGATOR_DATA_DIR": str(tmp_path / "data"),
        "NAVIGATOR_LINE_CHANNEL_SECRET": SECRET,
        "NAVIGATOR_LINE_CHANNEL_ACCESS_TOKEN": standin.access_token,
        "NAVIGATOR_LINE_API_URL": standin.url,
        "NAVIGATOR_LINE_PORT": "0",
        "NAVIGATOR_LINE_PUBLIC_URL": PUBLIC,
        "NAVIGATOR_LINE_STAFF_IDS": f"{STAFF}, Uother",
        "NAVIGATOR_SEND_RETRIES": "2",
        "NAVIGATOR_RETRY_BACKOFF": "0.01",
        "NAVIGATOR_API_TIMEOUT": "1",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return Settings()


@dataclass
class Turn:
    """What reached one user in reply to one action."""

    calls: list[Delivered]

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The messages delivered, in order."""
        return [m for call in self.calls if call.status == 200 for m in call.messages]

    @property
    def text(self) -> str:
        """Every text delivered, joined."""
        return "\n".join(m["text"] for m in self.messages if m["type"] == "text")

    @property
    def choices(self) -> list[tuple[str, str]]:
        """The choices offered with the last message that has any."""
        offered = [choices(m) for m in self.messages if choices(m)]
        return offered[-1] if offered else []

    @property
    def words(self) -> list[str]:
        """The words of the offered choices."""
        return [words for words, _ in self.choices]


@dataclass
class LineBot:
    """The LINE channel served in this event loop, and LINE's side of it."""

    settings: Settings
    standin: LineStandin
    platform: LinePlatform = field(init=False)
    navigator: Navigator | None = None
    adapter: LineAdapter | None = None
    port: int = 0
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        self.platform = LinePlatform(SECRET, self.standin)

    async def start(self) -> None:
        """Open the navigator and start the webhook server on a free port."""
        self.navigator = Navigator.from_settings(self.settings)
        ready: asyncio.Future[tuple[LineAdapter, int]] = asyncio.get_running_loop().create_future()
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(
            serve(self.settings, self.navigator, self._stop, lambda a, p: ready.set_result((a, p))))
        self.adapter, self.port = await asyncio.wait_for(ready, 30)
        self.platform.webhook_url = f"http://127.0.0.1:{self.port}/aomori/line/webhook"

    async def stop(self) -> None:
        """Stop the server and close the navigator."""
        self._stop.set()
        if self._task is not None:
            await self._task
        if self.navigator is not None:
            self.navigator.close()

    async def send(self, *events: dict[str, Any], status: int = 200) -> Turn:
        """Post events (signed) and wait until they are handled; what LINE was asked to deliver meanwhile."""
        mark = len(self.standin.calls)
        assert await self.platform.post(list(events)) == status
        assert self.adapter is not None
        await asyncio.wait_for(self.adapter.idle(), 60)
        return Turn(self.standin.calls[mark:])

    def user(self, user_id: str) -> LineUser:
        """A LINE user talking to the bot."""
        return LineUser(self, user_id)

    def rows(self, user_id: str) -> int:
        """Rows stored for a LINE user."""
        assert self.navigator is not None
        key = self.navigator.user_key(f"line:{user_id}")
        with sqlite3.connect(f"file:{self.settings.data_dir / DATABASE_FILE}?mode=ro", uri=True) as conn:
            return int(conn.execute("SELECT count(*) FROM users WHERE user_key = ?", (key,)).fetchone()[0])


@dataclass
class LineUser:
    """One person on LINE."""

    bot: LineBot
    id: str
    last: Turn | None = None

    async def _do(self, event: dict[str, Any]) -> Turn:
        self.last = await self.bot.send(event)
        return self.last

    async def follow(self) -> Turn:
        """Add the account as a friend."""
        return await self._do(self.bot.platform.follow(self.id))

    async def say(self, text: str) -> Turn:
        """Type text."""
        return await self._do(self.bot.platform.text(self.id, text))

    async def tap(self, words: str) -> Turn:
        """Tap the newest choice with these words (its postback data read off the recorded messages)."""
        for message in reversed(self.bot.standin.messages(self.id)):
            for offered, data in choices(message):
                if offered == words:
                    return await self._do(self.bot.platform.postback(self.id, data))
        raise AssertionError(f"no choice {words!r}; offered: {self.last.words if self.last else []}")


@pytest_asyncio.fixture
async def bot(standin: LineStandin, settings: Settings, caplog: pytest.LogCaptureFixture) -> AsyncIterator[LineBot]:
    """The running LINE channel; its invariants are checked after the test."""
    caplog.set_level(logging.INFO)
    harness = LineBot(settings, standin)
    await harness.start()
    try:
        yield harness
        assert harness.adapter is not None
        await harness.adapter.idle()
        assert harness.adapter.inbox.waiting() == 0
    finally:
        await harness.stop()
    assert standin.violations == [], standin.violations
    for record in caplog.records:
        message = record.getMessage()
        assert "正社員になりたい秘密" not in message and SECRET not in message and standin.access_token not in message


# --- webhook checks -------------------------------------------------------------------------------------------------


async def test_verification_call_gets_200_and_nothing_is_sent(bot: LineBot, standin: LineStandin) -> None:
    """LINE's "Verify" button posts an empty, signed event list: 200, and nothing else happens."""
    assert await bot.platform.post([]) == 200
    assert standin.calls == []


async def test_missing_or_bad_signature_is_refused_and_nothing_processed(bot: LineBot, standin: LineStandin) -> None:
    """No signature, a wrong one, or one made with another secret: 400, no reply, nothing stored or queued."""
    event = bot.platform.text("Uintruder", "死にたい")
    other = LinePlatform("another-secret", standin)
    body = json.dumps({"events": [event]}).encode()
    assert await bot.platform.post([event], signature=None) == 400
    assert await bot.platform.post([event], signature="bm90IGEgc2lnbmF0dXJl") == 400
    assert await bot.platform.post([event], signature=other.sign(body), body=body) == 400
    assert await bot.platform.post([], signature="sign", body=b"\xff\xfe not json") == 400
    assert bot.adapter is not None
    await bot.adapter.idle()
    assert standin.calls == [] and bot.adapter.inbox.waiting() == 0 and bot.rows("Uintruder") == 0


async def test_a_redelivered_event_is_answered_once(bot: LineBot, standin: LineStandin) -> None:
    """LINE redelivers an event (same webhookEventId): the second copy gets 200 and no second answer."""
    event = bot.platform.text("Uredeliver", "ハローワークの場所を知りたい")
    first = await bot.send(event)
    again = dict(event, deliveryContext={"isRedelivery": True})
    second = await bot.send(again)
    assert len(first.calls) == 1 and first.calls[0].kind == "reply"
    assert second.calls == []


# --- the conversation -----------------------------------------------------------------------------------------------


async def test_follow_greets_with_a_choice_per_persona(bot: LineBot) -> None:
    """Added as a friend: the welcome, with the four personas as quick replies."""
    turn = await bot.user("Ufollow").follow()
    assert _text("ask_persona") in turn.text
    assert turn.words == list(PERSONAS.values())
    [call] = turn.calls
    assert call.kind == "reply"
    assert "quickReply" in turn.messages[-1]


@pytest.mark.parametrize("persona", list(PERSONAS))
async def test_full_journey_for_each_persona(bot: LineBot, persona: str) -> None:
    """Follow → persona → (situation) → every question → results → a measure's details → back to the list."""
    user = bot.user(f"Ujourney{persona}")
    await user.follow()
    turn = await user.tap(PERSONAS[persona])
    assert turn.choices, "the next question comes with choices"
    marker = _text("results_intro").split("。")[-2] + "。"  # shared by the intros for oneself and for family
    for _ in range(12):
        if marker in turn.text:
            break
        label = next((words for words in PREFERRED[persona] if words in turn.words), turn.words[0])
        turn = await user.tap(label)
    else:
        pytest.fail("no results after 12 taps")
    assert "①" in turn.text and ("☎" in turn.text or "📍" in turn.text or persona == "supporter")
    numbered = [words for words in turn.words if words.startswith("① ")]
    assert numbered and not [w for w in turn.words if w.startswith("④ ")], turn.words
    results_text = turn.text
    detail = await user.tap(numbered[0])
    assert numbered[0].removeprefix("① ").rstrip("…") in detail.text
    assert _text("detail_plan_title") in detail.text
    back = await user.tap(_text("btn_back_results"))
    assert back.text == results_text
    assert all(call.kind == "reply" for call in (turn.calls + detail.calls + back.calls))
    assert bot.rows(user.id) == 1


async def test_kpi_question_typed_as_text(bot: LineBot) -> None:
    """A KPI question in words gets the figure of that year."""
    turn = await bot.user("Ukpi").say("R4の就職件数は？")
    assert "972" in turn.text


async def test_crisis_message_gets_the_crisis_lines_first(bot: LineBot) -> None:
    """「死にたい」: the crisis lines and 119, no list of measures; the way on is offered."""
    turn = await bot.user("Ucrisis").say("派遣切りされて、もう死にたい")
    assert "0120-279-338" in turn.text and "119" in turn.text
    assert _text("results_intro").split("。")[-2] not in turn.text
    assert "仕事や暮らしのことも相談したい" in turn.words
    after = await bot.user("Ucrisis").tap("仕事や暮らしのことも相談したい")
    # Not the crisis reply again (after a window's hours the 24-hour line may be named once beside it).
    assert "0172-33-7830" not in after.text and "119" not in after.text and [w for w in after.words if w[:1] in "①②③"]


async def test_non_text_messages_get_a_kind_reply(bot: LineBot) -> None:
    """A sticker: 「文字のメッセージだけを読めます」, and nothing stored but the conversation."""
    turn = await bot.send(bot.platform.sticker("Usticker"))
    assert _text("unsupported_message") in turn.text


async def test_group_chat_points_to_a_one_to_one_chat(bot: LineBot, standin: LineStandin) -> None:
    """In a group: addressed (mentioned) → one pointer; not addressed → silence; nothing stored either way."""
    group = {"type": "group", "groupId": "Cgroup1", "userId": "Ugroupmember"}
    quiet = bot.platform.text("Ugroupmember", "今日は寒いね", source=group)
    assert (await bot.send(quiet)).calls == []
    mention = bot.platform.text("Ugroupmember", "@ナビ 相談したい", source=group)
    mention["message"]["mention"] = {"mentionees": [{"index": 0, "length": 3, "type": "user", "isSelf": True}]}
    turn = await bot.send(mention)
    assert turn.text == _text("line_group_chat")
    assert bot.rows("Ugroupmember") == 0


async def test_unfollow_deletes_the_users_data(bot: LineBot) -> None:
    """Blocked or removed: the stored conversation is deleted, as /forget does; nothing is sent."""
    user = bot.user("Uleaving")
    await user.follow()
    await user.tap(PERSONAS["family"])
    assert bot.rows(user.id) == 1
    turn = await bot.send(bot.platform.unfollow(user.id))
    assert turn.calls == [] and bot.rows(user.id) == 0


async def test_typed_text_never_reaches_the_logs(bot: LineBot, caplog: pytest.LogCaptureFixture) -> None:
    """Log lines name the event type, a hashed user and the latency; never text or LINE user ids, even at DEBUG."""
    caplog.set_level(logging.DEBUG)
    await bot.user("Usecretuser0001").say("派遣から正社員になりたい秘密のメモ")
    lines = [record.getMessage() for record in caplog.records]
    assert any("channel=line type=message" in line and "latency_ms=" in line for line in lines)
    assert not [line for line in lines if "Usecretuser0001" in line or "秘密のメモ" in line]


# --- reply tokens and faults ----------------------------------------------------------------------------------------


async def test_an_old_reply_token_is_not_tried_the_answer_is_pushed(bot: LineBot) -> None:
    """An event two minutes old (the bot was busy or down): its answer is pushed, with a retry key."""
    turn = await bot.send(bot.platform.text("Ulate", "サポステってなに？", age=120))
    assert [call.kind for call in turn.calls] == ["push"]
    assert turn.calls[0].user == "Ulate" and turn.calls[0].retry_key and "サポステ" in turn.text


async def test_a_refused_reply_token_falls_back_to_push(bot: LineBot, standin: LineStandin) -> None:
    """LINE says the reply token is invalid (expired): the same messages are pushed instead."""
    event = bot.platform.text("Uexpired", "R5の正社員就職件数は？")
    standin.expire(event["replyToken"])
    turn = await bot.send(event)
    assert [(call.kind, call.status) for call in turn.calls] == [("reply", 400), ("push", 200)]
    assert "1,033" in turn.text


async def test_server_errors_and_429_are_retried_and_delivered_once(bot: LineBot, standin: LineStandin) -> None:
    """A 500 then a 429 on reply: retried, delivered once; a push that times out is retried with the same key."""
    standin.fail(REPLY, Fault(status=500), Fault(status=429))
    turn = await bot.send(bot.platform.text("Ufaults", "ジョブカフェの場所"))
    assert [(call.kind, call.status) for call in turn.calls] == [("reply", 500), ("reply", 429), ("reply", 200)]

    standin.fail(PUSH, Fault(delay=1.5))  # longer than NAVIGATOR_API_TIMEOUT: the adapter gives up and retries
    turn = await bot.send(bot.platform.text("Ufaults", "サポステ", age=120))
    await asyncio.sleep(0.6)  # the stand-in finishes the slow call after the adapter has moved on
    delivered = [call for call in standin.calls if call.user == "Ufaults" and call.kind == "push" and
                 call.status == 200]
    assert len(delivered) == 1, "LINE accepted the first push; the retry's 409 counts as delivered, not as a second"


async def test_every_retry_failing_is_counted_not_fatal(bot: LineBot, standin: LineStandin) -> None:
    """Every attempt fails: the failure is counted for /stats and health, and the next event is served."""
    standin.fail(REPLY, *[Fault(status=503)] * 3)
    standin.fail(PUSH, *[Fault(status=503)] * 3)
    await bot.send(bot.platform.text("Udown", "こんにちは"))
    assert bot.navigator is not None
    report = bot.navigator.counters.report(bot.navigator.now())
    assert any(metric == "send_failed" for metric, _key in report.totals()), report
    turn = await bot.send(bot.platform.text("Udown", "こんにちは"))
    assert turn.calls and turn.calls[-1].status == 200


# --- staff, pictures and files --------------------------------------------------------------------------------------


async def test_staff_kpi_chart_is_an_image_served_at_an_unguessable_address(bot: LineBot, standin: LineStandin) -> None:
    """/kpi from staff: the overview, then the chart as an image LINE fetches from our server; unknown names 404."""
    turn = await bot.user(STAFF).say("/kpi")
    images = [m for m in turn.messages if m["type"] == "image"]
    assert len(images) == 1 and STAFF in standin.loading
    url = images[0]["originalContentUrl"]
    assert url.startswith(f"{PUBLIC}/line/media/") and url.endswith(".png") and len(url.rsplit("/", 1)[1]) == 47
    local = f"http://127.0.0.1:{bot.port}/aomori/line/media/"
    async with aiohttp.ClientSession() as session:
        async with session.get(local + url.rsplit("/", 1)[1]) as response:
            assert response.status == 200 and response.content_type == "image/png"
            assert (await response.read()).startswith(PNG_MAGIC)
        async with session.get(local + "A" * 43 + ".png") as response:
            assert response.status == 404
        async with session.get(local + "..%2Fnavigator.sqlite3") as response:
            assert response.status == 404
    other = await bot.user("Unotstaff").say("/kpi")
    assert not [m for m in other.messages if m["type"] == "image"] and "14,317" in other.text


async def test_staff_kpi_csv_is_a_link_and_stats_speak_japanese(bot: LineBot) -> None:
    """/kpi csv from staff: a link to the table (UTF-8 with BOM); /stats answers staff only."""
    turn = await bot.user(STAFF).say("/kpi csv")
    link = next(word for word in turn.text.split() if word.startswith(f"{PUBLIC}/line/media/"))
    async with aiohttp.ClientSession() as session, \
            session.get(f"http://127.0.0.1:{bot.port}/aomori/line/media/{link.rsplit('/', 1)[1]}") as response:
        data = await response.read()
    assert data.startswith("\ufeff".encode()) and "累計,3682,111.6" in data.decode("utf-8-sig")
    await bot.user("Ustatsuser").follow()
    report = (await bot.user(STAFF).say("/stats")).text
    refused = (await bot.user("Ustatsuser").say("/stats")).text
    assert report.startswith("利用状況") and "・相談開始: <5" in report.splitlines()
    assert refused == _text("staff_only")


async def test_memo_picture_after_a_family_journey(bot: LineBot) -> None:
    """The 相談メモ as text, then 「メモを画像で受け取る」 as an image message."""
    user = bot.user("Umemo")
    await user.follow()
    await user.tap(PERSONAS["family"])
    turn = await user.tap("外出や人と関わるのがむずかしい（ひきこもり等）")
    for _ in range(8):
        if _text("btn_memo") in turn.words:
            break
        turn = await user.tap(_text("btn_skip"))
    memo = await user.tap(_text("btn_memo"))
    assert "ひきこもり地域支援センター" in memo.text
    picture = await user.tap(_text("btn_memo_image"))
    assert [m["type"] for m in picture.messages] == ["text", "image"]
    assert picture.text == _text("memo_image_caption")
    assert picture.messages[1]["originalContentUrl"].startswith(f"{PUBLIC}/line/media/")


# --- a real process -------------------------------------------------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_cli_run_line_without_credentials_exits_2(tmp_path: Path) -> None:
    """`run --channel line` without the secret or the token: exit code 2 and a message naming both variables."""
    env = _clean_env() | {"NAVIGATOR_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run([sys.executable, "-m", "navigator_bot", "run", "--channel", "line"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "NAVIGATOR_LINE_CHANNEL_SECRET" in done.stderr and "NAVIGATOR_LINE_CHANNEL_ACCESS_TOKEN" in done.stderr


async def _wait_port(port: int, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[0]
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.2)
    raise AssertionError("the LINE server did not start")


async def test_a_killed_process_loses_no_event(standin: LineStandin, tmp_path: Path) -> None:
    """kill -9 while an answer is on its way: after the restart the event is handled again and answered once."""
    port = _free_port()
    env = _clean_env() | {
        "NAVIGATOR_DATA_DIR": str(tmp_path / "data"),
        "NAVIGATOR_LINE_CHANNEL_SECRET": SECRET,
        "NAVIGATOR_LINE_CHANNEL_ACCESS_TOKEN": standin.access_token,
        "NAVIGATOR_LINE_API_URL": standin.url,
        "NAVIGATOR_LINE_PORT": str(port),
        "NAVIGATOR_API_TIMEOUT": "30",
    }
    command = [sys.executable, "-m", "navigator_bot", "run", "--channel", "line"]
    platform = LinePlatform(SECRET, standin, f"http://127.0.0.1:{port}/line/webhook")
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        await _wait_port(port, proc)
        standin.fail(REPLY, Fault(status=500, delay=20))  # the answer hangs on its way out ...
        assert await platform.post([platform.text("Ukilled", "ジョブカフェってどこ？")]) == 200
        for _ in range(100):
            if standin.faults[REPLY] == []:
                break
            await asyncio.sleep(0.1)
        proc.send_signal(signal.SIGKILL)  # ... and the process dies before it arrives
        proc.communicate(timeout=10)
        assert standin.delivered("Ukilled") == []

        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
        for _ in range(300):
            if standin.delivered("Ukilled"):
                break
            assert proc.poll() is None, proc.communicate()[0]
            await asyncio.sleep(0.1)
        [call] = standin.delivered("Ukilled")
        assert "ジョブカフェ" in "\n".join(call.texts)
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=30)[0]
        assert proc.returncode == 0, output
        assert "ジョブカフェってどこ" not in output
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)


# --- the message shapes (no network) --------------------------------------------------------------------------------


def test_labels_are_shortened_without_losing_their_head() -> None:
    """LINE labels ≤ 20: asides in brackets go first, then the end is cut with 「…」."""
    assert short_label("はい") == "はい"
    assert short_label("外出や人と関わるのがむずかしい（ひきこもり等）") == "外出や人と関わるのがむずかしい"
    long = short_label("① ひきこもり地域支援センターについて詳しく知りたい")
    assert utf16_len(long) <= 20 and long.endswith("…") and long.startswith("① ひきこもり")


def test_buttons_become_quick_replies_or_a_card() -> None:
    """Short labels on the last reply: quick replies. A long label, 14 buttons or an earlier reply: a Flex card."""
    short = Reply("どれですか", ((Button("はい", "a:q:yes", 3), Button("いいえ", "a:q:no", 3)),))
    [message] = reply_messages(short, None, last=True)
    items = message.to_dict()["quickReply"]["items"]
    assert [item["action"]["displayText"] for item in items] == ["はい", "いいえ"]
    assert unpack_callback(items[0]["action"]["data"]) is not None

    long = Reply("結果", ((Button("外出や人と関わるのがむずかしい（ひきこもり等）", "s:withdrawn"),),))
    text, card = reply_messages(long, None, last=True)
    assert card.to_dict()["type"] == "flex" and "quickReply" not in text.to_dict()
    assert "外出や人と関わるのがむずかしい（ひきこもり等）" in json.dumps(card.to_dict(), ensure_ascii=False)
    many = [Button(f"{n}", "pg:2") for n in range(14)]
    assert not fits_quick_replies(many)
    assert reply_messages(short, None, last=False)[-1].to_dict()["type"] == "flex"
    assert choice_card(many, "x" * 500).to_dict()["altText"].endswith("…")


def test_long_text_is_split_at_5000_units_and_pictures_follow() -> None:
    """A text over 5,000 UTF-16 units becomes several messages; a picture comes after the text; 5 per call."""
    text = "\n".join(["あ" * 99] * 120)
    messages = reply_messages(Reply(text), LinePicture("https://x/a.png", "https://x/a.png"), last=True)
    assert [m.to_dict()["type"] for m in messages] == ["text", "text", "text", "image"]
    assert all(utf16_len(m.to_dict()["text"]) <= MAX_TEXT for m in messages[:3])
    assert [len(group) for group in batches(messages * 3)] == [5, 5, 2]


def test_typed_commands_read_like_telegram_commands() -> None:
    """/kpi csv → the kpi command with its argument; /start → Start; anything else is typed text."""
    assert text_event("/kpi csv") == CommandIssued("kpi", "csv")
    assert text_event("/START") == Start()
    assert text_event("/forget") == CommandIssued("forget", "")
    assert text_event("ハローワーク / ジョブカフェ") == TextTyped("ハローワーク / ジョブカフェ")
