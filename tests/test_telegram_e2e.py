"""End to end: the real Navigator and the Application from build_application(), polling the local Bot API stand-in.

Each test talks to the bot as Telegram users would (commands, text, button presses read off the recorded
keyboards) and checks what the stand-in recorded. After every test the bot fixture checks the invariants of the
adapter: every button press answered exactly once, callback data versioned and within 64 bytes, plain text only,
no unexpected handler failure, no token in the logs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from telegram import Update
from telegram.ext import ContextTypes, TypeHandler

from navigator_bot.adapters.telegram import (
    api_file_url,
    build_application,
    keyboard,
    quiet_library_logging,
    run,
    split_text,
    webhook_path,
)
from navigator_bot.app import Navigator
from navigator_bot.config import Settings
from navigator_bot.dialogue import (
    CALLBACK_VERSION,
    MAX_CALLBACK_BYTES,
    Button,
    ButtonPressed,
    ChartRequest,
    Event,
    Reply,
    Start,
    UserContext,
    unpack_callback,
)
from tests.botapi_standin import (
    DEFAULT_GROUP_CHAT_ID,
    MESSAGE_METHODS,
    MESSAGE_NOT_MODIFIED,
    MESSAGE_TO_EDIT_NOT_FOUND,
    BotApiStandin,
    RecordedCall,
    StoredMessage,
)

ROOT = Path(__file__).resolve().parents[1]
STAFF = 7_000_001
PERSONAS = {
    "self": "ご本人",
    "family": "ご家族・周りの方",
    "supporter": "支援機関・行政の方",
    "employer": "企業・事業主の方",
}
WAIT = 5.0  # seconds for one update to be processed
PROBE_GROUP = 99  # the test's probe runs after the bot's own handlers (group 0) and its error handler
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _clean_env() -> dict[str, str]:
    keep = {"NAVIGATOR_EMBEDDING_CACHE_DIR"}  # the session's warm embedding cache (see conftest)
    return {k: v for k, v in os.environ.items()
            if (k in keep or not k.startswith("NAVIGATOR_")) and k != "TELEGRAM_BOT_TOKEN"}


@pytest.fixture
def settings(standin: BotApiStandin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings as `run` would read them from the environment, pointed at the stand-in."""
    for name in os.environ.keys() - _clean_env().keys():
        monkeypatch.delenv(name)
    monkeypatch.setenv("NAVIGATOR_TELEGRAM_TOKEN", standin.token)
    monkeypatch.setenv("NAVIGATOR_TELEGRAM_API_URL", f"{standin.url}/bot")
    return Settings(data_dir=tmp_path / "data", staff_ids=frozenset({STAFF}))


@dataclass
class Step:
    """What the bot did in one user's chat in reply to one action."""

    calls: list[RecordedCall]

    @property
    def sent(self) -> list[RecordedCall]:
        """Successful calls that created or changed a message."""
        return [c for c in self.calls if c.method in MESSAGE_METHODS and c.ok]

    @property
    def last(self) -> RecordedCall:
        """The last message sent or edited."""
        assert self.sent, f"the bot did not reply: {[c.method for c in self.calls]}"
        return self.sent[-1]

    @property
    def text(self) -> str:
        """All texts and captions sent or edited, joined."""
        return "\n".join(c.text or "" for c in self.sent)

    @property
    def answers(self) -> list[RecordedCall]:
        """answerCallbackQuery calls."""
        return [c for c in self.calls if c.method == "answerCallbackQuery"]


class Harness:
    """The bot under test, started the way `Application.run_polling` starts it, plus a probe of finished updates."""

    def __init__(self, standin: BotApiStandin, settings: Settings) -> None:
        self.standin = standin
        self.settings = settings
        self.navigator: Navigator | None = None
        self.app: Any = None
        self.done: set[tuple[str, object]] = set()
        self._progress = asyncio.Event()
        self.presses: list[str] = []
        self.expected_failures = 0

    async def start(self) -> None:
        """Build a new Navigator and Application on the settings' data folder and start polling."""
        self.navigator = Navigator.from_settings(self.settings)
        self.app = build_application(self.settings, self.navigator)
        self.app.add_handler(TypeHandler(Update, self._probe), group=PROBE_GROUP)
        await self.app.initialize()
        await self.app.post_init(self.app)
        await self.app.start()
        await self.app.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=Update.ALL_TYPES)

    async def stop(self) -> None:
        """Stop as `run_polling` does: updater, application, shutdown, post_shutdown (closes the navigator)."""
        app, self.app = self.app, None
        if app is None:
            return
        if app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        await app.post_shutdown(app)

    async def _probe(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        self.done.add(("update", update.update_id))
        if update.callback_query is not None:
            self.done.add(("query", update.callback_query.id))
        self._progress.set()

    async def finished(self, key: tuple[str, object], timeout: float = WAIT) -> None:
        """Wait until the update (or callback query) has gone through every handler."""
        async with asyncio.timeout(timeout):
            while key not in self.done:
                self._progress.clear()
                await self._progress.wait()

    def text(self, key: str) -> str:
        """A Japanese UI string as the navigator has it (unformatted)."""
        assert self.navigator is not None
        return self.navigator.text(key, "ja")

    def user(self, user_id: int, language_code: str = "ja") -> User:
        """A Telegram user of this bot."""
        self.standin.add_user(user_id, f"テスト{user_id}", last_name="山田", language_code=language_code)
        return User(self, user_id)

    def stored_state(self, user_id: int) -> dict[str, Any] | None:
        """The user's conversation state in SQLite."""
        assert self.navigator is not None
        return self.navigator.store.load(self.navigator.user_key(f"tg:{user_id}"))

    def check_invariants(self, records: list[logging.LogRecord]) -> None:
        """What must hold after any conversation."""
        calls = self.standin.calls
        answered = self.standin.answered_callback_ids
        assert sorted(answered) == sorted(set(self.presses)), "every press answered"
        assert len(answered) == len(set(answered)), "no press answered twice"
        assert not [c for c in calls if c.method == "answerCallbackQuery" and not c.ok]
        for call in calls:
            for data in call.callback_data:
                assert len(data.encode("utf-8")) <= MAX_CALLBACK_BYTES, data
                assert data.startswith(f"{CALLBACK_VERSION}|"), data
            assert "parse_mode" not in call.params, "plain text only"
        messages = [record.getMessage() for record in records]
        failures = [m for m in messages if m.startswith("update_failed")]
        assert len(failures) == self.expected_failures, failures
        assert not [m for m in messages if self.standin.token in m], "the token never appears in a log line"
        assert not self.standin.unknown_methods


class User:
    """One user talking to the bot in their private chat (chat id = user id)."""

    def __init__(self, harness: Harness, user_id: int) -> None:
        self.harness = harness
        self.standin = harness.standin
        self.id = user_id

    async def _act(self, inject: Callable[[], object], key: Callable[[object], tuple[str, object]]) -> Step:
        mark = len(self.standin.calls)
        injected = inject()
        await self.harness.finished(key(injected))
        return Step([c for c in self.standin.calls[mark:] if c.chat_id == self.id])

    async def send(self, inject: Callable[[], dict[str, Any]]) -> Step:
        """Inject one message update and wait until the bot has handled it."""
        return await self._act(inject, lambda update: ("update", update["update_id"]))  # type: ignore[index]

    async def command(self, name: str, args: str = "") -> Step:
        """Send /name args."""
        return await self.send(lambda: self.standin.send_command(self.id, name, args))

    async def say(self, text: str) -> Step:
        """Type text."""
        return await self.send(lambda: self.standin.send_text(self.id, text))

    async def press_data(self, message_id: int, data: str, *, strict: bool = True) -> Step:
        """Press a button with this callback data on one of the bot's messages."""

        def inject() -> str:
            query_id = self.standin.press_button(self.id, message_id, data, strict=strict)
            self.harness.presses.append(query_id)
            return query_id

        step = await self._act(inject, lambda query_id: ("query", query_id))
        assert len(step.answers) == 1 and step.answers[0].ok, "answered exactly once"
        return step

    def find(self, label: str) -> tuple[StoredMessage, str]:
        """The newest bot message carrying a button with this label, and the button's callback data."""
        for message in reversed(self.standin.messages(self.id)):
            for row in message.inline_keyboard:
                for button in row:
                    if button.get("text") == label:
                        return message, button["callback_data"]
        raise AssertionError(f"no button {label!r}; current: {self.current().button_texts}")

    async def press(self, label: str) -> Step:
        """Press the newest button with this label (its callback data read off the recorded keyboard)."""
        message, data = self.find(label)
        return await self.press_data(message.message_id, data)

    def current(self) -> StoredMessage:
        """The newest bot message with buttons, as it looks now (after edits)."""
        with_buttons = [m for m in self.standin.messages(self.id) if m.callback_data]
        assert with_buttons, "no message with buttons"
        return with_buttons[-1]


@pytest_asyncio.fixture
async def bot(standin: BotApiStandin, settings: Settings, caplog: pytest.LogCaptureFixture) -> AsyncIterator[Harness]:
    """The running bot; its invariants are checked after the test."""
    caplog.set_level(logging.INFO)
    harness = Harness(standin, settings)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()
    harness.check_invariants([*caplog.get_records("setup"), *caplog.get_records("call"), *caplog.records])


def _results_marker(harness: Harness) -> str:
    # The last sentence, shared by the intro for oneself and the one for a family member.
    return harness.text("results_intro").split("。")[-2] + "。"


def _db_rows(settings: Settings, user_key: str) -> int:
    with sqlite3.connect(f"file:{settings.data_dir / 'navigator.sqlite3'}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT count(*) FROM users WHERE user_key = ?", (user_key,)).fetchone()[0])


# --- start-up and the first message ---------------------------------------------------------------------------------


async def test_start_publishes_command_menus_and_greets(bot: Harness, standin: BotApiStandin) -> None:
    """post_init sets the ja (default and "ja") and en menus; /start greets with one button per persona."""
    assert bot.navigator is not None
    ja = [name for name, _ in bot.navigator.bot_commands("ja")]
    assert [c["command"] for c in standin.commands()] == ja
    assert [c["command"] for c in standin.commands(language_code="ja")] == ja
    english = standin.commands(language_code="en")
    assert [c["description"] for c in english] == [text for _, text in bot.navigator.bot_commands("en")]
    assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING

    step = await bot.user(1001).command("start")
    [greeting] = step.sent
    assert greeting.method == "sendMessage"
    assert bot.text("ask_persona") in greeting.text  # type: ignore[operator]
    assert greeting.button_texts == list(PERSONAS.values())
    assert step.answers == []


# --- a full journey per persona -------------------------------------------------------------------------------------

PREFERRED = {  # labels to choose where offered; otherwise the first button
    "self": ["不安定な働き方・非正規", "はい"],
    "family": ["外出や人と関わるのがむずかしい（ひきこもり等）", "わからない"],
    "supporter": ["社会参加（ひきこもり支援）"],
    "employer": ["非正規の社員を正社員にしたい"],
}
EXPECTED_FIRST_STEP = {"self": "ask_situation", "family": "ask_situation_family"}


@pytest.mark.parametrize("persona", list(PERSONAS))
async def test_full_journey_for_each_persona(bot: Harness, persona: str) -> None:
    """/start → persona → (situation) → every question → results → a measure's details → back to the list."""
    user = bot.user(2000 + list(PERSONAS).index(persona))
    greeting = (await user.command("start")).last
    greeting_id = greeting.result["message_id"]

    step = await user.press(PERSONAS[persona])
    assert step.last.method == "editMessageText" and step.last.params["message_id"] == greeting_id
    assert step.last.button_texts, "the next question comes with buttons"
    if persona in EXPECTED_FIRST_STEP:
        assert bot.text(EXPECTED_FIRST_STEP[persona]) in step.text
        assert "不安定な働き方・非正規" in step.last.button_texts
    else:  # supporters and employers are not asked for a situation
        assert "不安定な働き方・非正規" not in step.last.button_texts

    marker = _results_marker(bot)
    for _ in range(12):
        if marker in step.text:
            break
        offered = user.current().button_texts
        label = next((label for label in PREFERRED[persona] if label in offered), offered[0])
        step = await user.press(label)
        assert step.last.method == "editMessageText" and step.last.params["message_id"] == greeting_id
    else:
        pytest.fail("no results after 12 presses")

    results = step.last
    assert "①" in step.text and ("☎" in step.text or "📍" in step.text or persona == "supporter")
    numbered = [label for label in results.button_texts if label.startswith("① ")]
    assert numbered, results.button_texts
    assert not [label for label in results.button_texts if label.startswith("④ ")]  # three at a time
    state = bot.stored_state(user.id)
    assert state is not None and state["persona"] == persona

    detail = await user.press(numbered[0])
    assert numbered[0].removeprefix("① ").rstrip("…") in detail.text
    assert bot.text("detail_plan_title") in detail.text
    back = await user.press(bot.text("btn_back_results"))
    assert back.text == results.text


# --- typed text ---------------------------------------------------------------------------------------------------


async def test_kpi_question_typed_as_text(bot: Harness) -> None:
    """A KPI question in words gets the figure of that year."""
    step = await bot.user(3001).say("R4の就職件数は？")
    assert "972" in step.text


async def test_crisis_text_gets_crisis_lines_and_no_measures(bot: Harness) -> None:
    """「死にたい」 is answered with the crisis lines and 119, not with a list of measures."""
    user = bot.user(3002)
    await user.command("start")
    await user.press(PERSONAS["self"])
    step = await user.say("死にたい")
    [reply] = step.sent
    assert "0120-279-338" in step.text and "119" in step.text
    assert _results_marker(bot) not in step.text
    assert not [label for label in reply.button_texts if label[:1].isdigit()], "no measure buttons"


async def test_crisis_about_a_son_then_the_way_on(bot: Harness) -> None:
    """A parent writes about a son at risk and his lost job: the family form first, then the job help on a button."""
    user = bot.user(3003)
    step = await user.say("息子が派遣切りにあってから「死にたい」と言うようになりました")
    assert "0120-279-338" in step.text and "119" in step.text and "ひとりにしないで" in step.text
    assert _results_marker(bot) not in step.text
    step = await user.press("仕事や暮らしのことも相談したい")
    [reply] = step.sent
    assert [label for label in reply.button_texts if label[:1].isdigit()], "measure buttons follow"
    # The crisis reply is not repeated. (After a window's hours the 24-hour line may be named once beside it.)
    assert "0172-33-7830" not in step.text and "119" not in step.text


async def test_typed_text_and_names_never_reach_the_logs(bot: Harness, caplog: pytest.LogCaptureFixture) -> None:
    """Log lines name the update, the event and a hashed user, even at DEBUG; never text, names or user ids."""
    caplog.set_level(logging.DEBUG)
    user_id = 3_456_789
    user = bot.user(user_id)
    secret = "派遣から正社員になりたい秘密のメモ"
    await user.say(secret)
    await user.command("search", "ひきこもりの息子")
    messages = [record.getMessage() for record in caplog.records]
    assert any("event=TextTyped" in m and "latency_ms=" in m for m in messages)
    assert any("event=CommandIssued" in m for m in messages)
    for message in messages:
        assert secret not in message and "ひきこもりの息子" not in message
        assert "テスト" not in message and "山田" not in message and str(user_id) not in message


# --- buttons --------------------------------------------------------------------------------------------------------


async def test_stale_and_foreign_buttons_are_answered_kindly(bot: Harness) -> None:
    """Old-version, junk and orphaned callback data: answered, and a friendly way on."""
    user = bot.user(4001)
    greeting = (await user.command("start")).last
    stale = bot.text("stale_button")
    for data in ("0|old", "junk ☃ %s {}", f"{CALLBACK_VERSION}|no-such-action"):
        step = await user.press_data(greeting.result["message_id"], data, strict=False)
        assert stale in step.text, data
        assert step.last.button_texts, "offers a way on"
    orphan = await user.press_data(999_999, f"{CALLBACK_VERSION}|restart", strict=False)  # message gone
    assert orphan.last.method == "sendMessage"


async def test_double_tap_edits_to_identical_content_without_error(bot: Harness, standin: BotApiStandin) -> None:
    """The same button twice: the second edit is "not modified", which is ignored (no error, no extra message)."""
    user = bot.user(4002)
    greeting = (await user.command("start")).last
    message, data = user.find(PERSONAS["self"])
    first = await user.press_data(message.message_id, data)
    second = await user.press_data(message.message_id, data, strict=False)
    assert first.last.method == "editMessageText"
    failed = [c for c in second.calls if not c.ok]
    assert [(c.method, c.description) for c in failed] == [("editMessageText", MESSAGE_NOT_MODIFIED)]
    assert second.sent == []
    assert standin.message(user.id, greeting.result["message_id"]).text == first.last.text  # type: ignore[union-attr]


async def test_message_that_cannot_be_edited_is_sent_anew(bot: Harness, standin: BotApiStandin) -> None:
    """If Telegram refuses the edit (message too old or gone), the reply comes as a new message."""
    user = bot.user(4003)
    await user.command("start")
    standin.fail_next("editMessageText", MESSAGE_TO_EDIT_NOT_FOUND)
    step = await user.press(PERSONAS["family"])
    assert [c.method for c in step.calls if not c.ok] == ["editMessageText"]
    assert step.last.method == "sendMessage"
    assert bot.text("ask_situation_family") in step.last.text  # type: ignore[operator]


# --- other messages and chats ---------------------------------------------------------------------------------------


async def test_non_text_messages_get_a_kind_reply(bot: Harness, standin: BotApiStandin) -> None:
    """Sticker, photo, voice and location: one polite "text only" reply each."""
    user = bot.user(5001)
    for inject in (
        lambda: standin.send_sticker(user.id),
        lambda: standin.send_photo_from_user(user.id, caption="死にたい"),  # captions are not read
        lambda: standin.send_voice(user.id),
        lambda: standin.send_location(user.id),
    ):
        step = await user.send(inject)
        assert len(step.sent) == 1
        assert bot.text("unsupported_message") in step.text
        assert "0120-279-338" not in step.text


async def test_group_chat_points_to_a_private_chat(bot: Harness, standin: BotApiStandin) -> None:
    """In a group: a pointer to a private chat when addressed (command, mention); silence otherwise; nothing stored."""
    user = bot.user(5002)
    group = DEFAULT_GROUP_CHAT_ID
    name = bot.app.bot.username
    mention = {"text": f"@{name} 相談したい", "entities": [{"type": "mention", "offset": 0, "length": len(name) + 1}]}
    for inject, answered in (
        (lambda: standin.send_group_text(user.id, "R4の就職件数は？"), False),  # not spoken to: no spam
        (lambda: standin.send_command(user.id, "/start", chat_type="group", chat_id=group), True),
        (lambda: standin._inject_message(user.id, "group", group, "text", mention), True),
    ):
        mark = len(standin.calls)
        update = inject()
        await bot.finished(("update", update["update_id"]))
        sent = [c for c in standin.calls[mark:] if c.method in MESSAGE_METHODS]
        assert [(c.chat_id, c.text) for c in sent] == ([(group, bot.text("group_chat"))] if answered else [])
    assert bot.navigator is not None and bot.navigator.store.count_users() == 0


async def test_ptb_never_logs_an_update_body(caplog: pytest.LogCaptureFixture) -> None:
    """PTB logs the received data when it cannot parse an update; the filter keeps the line, not the words."""
    quiet_library_logging()
    caplog.set_level(logging.INFO)
    logging.getLogger("telegram.Bot").critical("Error while parsing updates! Received data was %r",
                                               [{"message": {"text": "死にたい 山田太郎"}}])
    logging.getLogger("telegram.ext.Updater").critical("Something went wrong. Received data was: %r",
                                                       {"message": {"text": "山田太郎"}})
    assert "山田" not in caplog.text and "死にたい" not in caplog.text
    assert caplog.text.count("not logged") == 2


# --- many users, ordering, charts -----------------------------------------------------------------------------------

JOURNEYS = {  # user id -> labels pressed after /start
    6001: ["ご本人", "不安定な働き方・非正規", "はい", "関心がある"],
    6002: ["ご家族・周りの方", "外出や人と関わるのがむずかしい（ひきこもり等）", "わからない"],
    6003: ["支援機関・行政の方", "安定した就職"],
    6004: ["企業・事業主の方", "職場体験・実習を受け入れたい"],
    6005: ["ご本人", "長く仕事をしていない", "いいえ", "今はいい", "そうしたい"],
}


async def test_several_users_at_once_each_end_in_their_own_state(
    bot: Harness, standin: BotApiStandin, tmp_path: Path
) -> None:
    """Five users press in lockstep (five updates in flight at once); each ends where their own presses lead."""
    users = {user_id: bot.user(user_id) for user_id in JOURNEYS}
    events: dict[int, list[Event]] = {user_id: [Start()] for user_id in JOURNEYS}
    await asyncio.gather(*(user.command("start") for user in users.values()))
    for index in range(max(len(labels) for labels in JOURNEYS.values())):
        round_ = []
        for user_id, labels in JOURNEYS.items():
            if index < len(labels):
                message, data = users[user_id].find(labels[index])
                events[user_id].append(unpack_callback(data) or ButtonPressed(""))
                round_.append(users[user_id].press_data(message.message_id, data))
        await asyncio.gather(*round_)

    # The same presses, one user after the other, on a separate navigator: the expected end states.
    reference = Navigator.from_settings(bot.settings.model_copy(update={"data_dir": tmp_path / "reference"}))
    try:
        for user_id, user_events in events.items():
            for event in user_events:
                outcome = reference.handle(f"tg:{user_id}", event, UserContext(language_hint="ja"))
            expected = outcome.replies[-1].text
            assert users[user_id].current().text == expected, user_id
            assert bot.stored_state(user_id) == reference.store.load(reference.user_key(f"tg:{user_id}"))
    finally:
        reference.close()


async def test_one_users_updates_stay_in_order_while_others_go_ahead(
    bot: Harness, standin: BotApiStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a staff member's chart is drawn, another user is served; the staff's next message waits its turn."""
    assert bot.navigator is not None

    def slow_chart(request: ChartRequest) -> bytes:
        time.sleep(0.6)
        return PNG_MAGIC + b"slow chart"

    monkeypatch.setattr(bot.navigator, "render_chart", slow_chart)
    staff, other = bot.user(STAFF), bot.user(6100)
    kpi = standin.send_command(staff.id, "kpi")
    question = standin.send_text(staff.id, "R4の就職件数は？")
    greeting = await other.command("start")
    await bot.finished(("update", question["update_id"]), timeout=WAIT + 1)
    assert ("update", kpi["update_id"]) in bot.done

    staff_calls = [c for c in standin.calls if c.chat_id == staff.id and c.method in MESSAGE_METHODS]
    assert [c.method for c in staff_calls] == ["sendMessage", "sendPhoto", "sendMessage"]
    assert "972" in (staff_calls[2].text or "")
    assert greeting.last.index < staff_calls[1].index, "the other user did not wait for the chart"


async def test_staff_kpi_command_sends_a_real_chart(bot: Harness, standin: BotApiStandin) -> None:
    """/kpi from staff: the overview text, then the chart as a PNG photo with a caption; others get no chart."""
    step = await bot.user(6200).command("kpi")
    assert [c.method for c in step.sent] == ["sendMessage"]

    staff = bot.user(STAFF)
    mark = len(standin.calls)
    update = standin.send_command(staff.id, "kpi")
    await bot.finished(("update", update["update_id"]), timeout=30)  # the first chart imports matplotlib
    sent = [c for c in standin.calls[mark:] if c.chat_id == staff.id and c.method in MESSAGE_METHODS]
    assert [c.method for c in sent] == ["sendMessage", "sendPhoto"]
    assert sent[1].text == bot.text("chart_caption")
    [photo] = standin.photos(staff.id)
    assert photo.startswith(PNG_MAGIC) and len(photo) > 10_000


async def test_memo_image_is_sent_as_a_photo(bot: Harness, standin: BotApiStandin) -> None:
    """The 相談メモ, then 「メモを画像で受け取る」: a PNG photo with its caption, to show at the counter."""
    user = bot.user(6300)
    await user.command("start")
    await user.press(PERSONAS["family"])
    await user.press("外出や人と関わるのがむずかしい（ひきこもり等）")
    for _ in range(8):
        if bot.text("btn_memo") in user.current().button_texts:
            break
        await user.press(bot.text("btn_skip"))
    memo = await user.press(bot.text("btn_memo"))
    assert "ひきこもり地域支援センター" in memo.text and bot.text("window_ask_title") in memo.text
    mark = len(standin.calls)
    picture = await user.press(bot.text("btn_memo_image"))
    sent = [c for c in standin.calls[mark:] if c.chat_id == user.id and c.method in MESSAGE_METHODS]
    assert [c.method for c in sent] == ["sendPhoto"], [c.method for c in sent]
    assert sent[0].text == bot.text("memo_image_caption") and picture.sent
    [photo] = standin.photos(user.id)
    assert photo.startswith(PNG_MAGIC) and len(photo) > 10_000


async def test_staff_get_the_kpi_table_as_a_csv_file(bot: Harness, standin: BotApiStandin) -> None:
    """/kpi csv from staff: a CSV document (UTF-8 with BOM, every figure and its source); others get the overview."""
    step = await bot.user(STAFF).command("kpi", "csv")
    assert [c.method for c in step.sent] == ["sendDocument"]
    [(name, data)] = standin.documents(STAFF)
    assert name == "kpi-progress.csv" and data.startswith("\ufeff".encode())
    text = data.decode("utf-8-sig")
    assert "令和4年度,972,29.5,2649,80.3,3300" in text and "累計,3682,111.6" in text and "進捗状況" in text
    other = await bot.user(6400).command("kpi", "csv")
    assert [c.method for c in other.sent] == ["sendMessage"] and "14,317" in other.text


async def test_a_posters_deep_link_opens_the_family_questions_and_is_counted(bot: Harness) -> None:
    """t.me/<bot>?start=family: Telegram sends /start family; the family's question comes first; /stats counts it."""
    for user_id in range(6500, 6506):
        step = await bot.user(user_id).command("start", "family")
        assert bot.text("ask_situation_family") in step.text
    report = (await bot.user(STAFF).command("stats")).text
    assert "・相談開始: ご家族・周りの方: 5" in report.splitlines(), report


# --- persistence ----------------------------------------------------------------------------------------------------


async def test_restart_mid_conversation_continues_where_it_was(bot: Harness, standin: BotApiStandin) -> None:
    """A button pressed while the bot is down is handled after the restart, as if nothing had happened."""
    before, control = bot.user(7001), bot.user(7002)
    await before.command("start")
    await before.press(PERSONAS["self"])
    message, data = before.find("長く仕事をしていない")
    old_navigator = bot.navigator
    assert old_navigator is not None
    await bot.stop()
    with pytest.raises(sqlite3.ProgrammingError):  # post_shutdown closed the navigator's database
        old_navigator.store.count_users()

    query_id = standin.press_button(before.id, message.message_id, data)  # pressed while the bot is down
    bot.presses.append(query_id)
    mark = len(standin.calls)
    await bot.start()
    await bot.finished(("query", query_id))
    after = Step([c for c in standin.calls[mark:] if c.chat_id == before.id])

    await control.command("start")
    await control.press(PERSONAS["self"])
    expected = await control.press("長く仕事をしていない")
    assert after.last.method == "editMessageText" and after.last.params["message_id"] == message.message_id
    assert after.text == expected.text
    assert bot.text("stale_button") not in after.text


async def test_forget_deletes_the_users_row(bot: Harness, settings: Settings) -> None:
    """/forget: the reply says it is deleted, and the SQLite file has no row for the user any more."""
    assert bot.navigator is not None
    user = bot.user(7003)
    await user.command("start")
    await user.press(PERSONAS["family"])
    key = bot.navigator.user_key(f"tg:{user.id}")
    assert _db_rows(settings, key) == 1
    step = await user.command("forget")
    assert bot.text("forgotten") in step.text
    assert _db_rows(settings, key) == 0
    assert bot.stored_state(user.id) is None


# --- failures -------------------------------------------------------------------------------------------------------


async def test_exception_in_handling_apologises_and_keeps_serving(
    bot: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """navigator.handle raising: the press is still answered, the user gets an apology, the next update works."""
    assert bot.navigator is not None
    navigator = bot.navigator
    real_handle = navigator.handle
    failures = {"left": 2}

    def flaky_handle(user_key: str, event: Event, context: UserContext) -> Any:
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("boom 死にたい")  # an exception message that must not be logged
        return real_handle(user_key, event, context)

    user = bot.user(8001)
    await user.command("start")
    monkeypatch.setattr(navigator, "handle", flaky_handle)
    bot.expected_failures = 2

    pressed = await user.press(PERSONAS["self"])
    assert [c.text for c in pressed.sent] == [bot.text("error_apology")]
    typed = await user.say("R4の就職件数は？")
    assert [c.text for c in typed.sent] == [bot.text("error_apology")]

    again = await user.press(PERSONAS["self"])  # the keyboard was not touched, so the button is still there
    assert bot.text("ask_situation") in again.text
    assert "972" in (await user.say("R4の就職件数は？")).text

    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("update_failed")]
    assert len(lines) == 2
    assert "handler=button" in lines[0] and "handler=text" in lines[1]
    assert all("error=RuntimeError" in line and "traceback=" in line for line in lines)
    assert not [line for line in lines if "boom" in line or "死にたい" in line or "R4" in line]


# --- pure helpers ---------------------------------------------------------------------------------------------------


def test_helpers_for_urls_paths_and_long_texts() -> None:
    """File URL derived from the API URL; webhook path hides the token; long texts split within Telegram's limit."""
    assert api_file_url("https://api.telegram.org/bot") == "https://api.telegram.org/file/bot"
    assert api_file_url("http://127.0.0.1:9/bot/") == "http://127.0.0.1:9/file/bot"
    token = "123456:ABC-secret"
    assert token not in webhook_path(token) and "123456" not in webhook_path(token)
    assert webhook_path(token) == webhook_path(token) != webhook_path(token + "x")
    text = "\n".join(f"{n}. " + "氷河期" * 300 for n in range(20))
    chunks = split_text(text, 4096)
    assert all(len(chunk.encode("utf-16-le")) // 2 <= 4096 for chunk in chunks)
    assert "".join(chunks).replace("\n", "") == text.replace("\n", "")
    assert split_text("x" * 5000, limit=4096) == ["x" * 4096, "x" * 904]
    assert keyboard(Reply("t", ((Button("ok", "a" * 62),),))) is not None  # "1|" + 62 bytes = 64
    with pytest.raises(ValueError, match="64 bytes"):
        keyboard(Reply("t", ((Button("too long", "a" * 63),),)))


def test_run_refuses_webhook_mode_without_a_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Webhook mode without NAVIGATOR_WEBHOOK_SECRET exits 2 before touching the network or the data folder."""
    for name in os.environ.keys() - _clean_env().keys():
        monkeypatch.delenv(name)
    monkeypatch.setenv("NAVIGATOR_TELEGRAM_TOKEN", "1:x")
    monkeypatch.setenv("NAVIGATOR_WEBHOOK_URL", "https://bot.example.jp/hook")
    assert run(Settings(data_dir=tmp_path / "data")) == 2
    assert "NAVIGATOR_WEBHOOK_SECRET" in capsys.readouterr().err
    assert not (tmp_path / "data").exists()


# --- the real command line ------------------------------------------------------------------------------------------


def test_cli_run_without_token_exits_2(tmp_path: Path) -> None:
    """`python -m navigator_bot run` without a token: exit code 2 and a message naming the variable."""
    env = _clean_env() | {"NAVIGATOR_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run(
        [sys.executable, "-m", "navigator_bot", "run"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2, done.stderr
    assert "NAVIGATOR_TELEGRAM_TOKEN" in done.stderr


def _start_run(standin: BotApiStandin, tmp_path: Path, extra_env: dict[str, str]) -> subprocess.Popen[str]:
    """Start `python -m navigator_bot run` against the stand-in, with a clean environment plus `extra_env`."""
    env = _clean_env() | {
        "NAVIGATOR_TELEGRAM_TOKEN": standin.token,
        "NAVIGATOR_TELEGRAM_API_URL": f"{standin.url}/bot",
        "NAVIGATOR_DATA_DIR": str(tmp_path / "data"),
    } | extra_env
    return subprocess.Popen([sys.executable, "-m", "navigator_bot", "run"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.fixture
def bot_process(standin_thread: BotApiStandin, tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """`python -m navigator_bot run` polling the threaded stand-in; killed if a test leaves it running."""
    proc = _start_run(standin_thread, tmp_path, {"NAVIGATOR_LOG_LEVEL": "INFO"})
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)


def test_cli_run_polls_replies_and_stops_on_sigint(
    standin_thread: BotApiStandin, bot_process: subprocess.Popen[str]
) -> None:
    """The real `run` command: polls, answers /start and a question, and exits 0 on SIGINT; logs stay clean."""
    standin = standin_thread
    standin.wait_for_sync(lambda: standin.calls_for("deleteWebhook"), timeout=30, description="polling started")
    assert [c["command"] for c in standin.commands(language_code="en")][:1] == ["start"]
    standin.send_command(9001, "/start")
    greeting = standin.next_bot_call_sync("sendMessage", chat_id=9001, timeout=10)
    assert [label for label in greeting.button_texts] == list(PERSONAS.values())
    standin.send_text(9001, "R4の就職件数は？")
    assert "972" in (standin.next_bot_call_sync("sendMessage", chat_id=9001, timeout=10).text or "")

    bot_process.send_signal(signal.SIGINT)
    output, _ = bot_process.communicate(timeout=15)
    assert bot_process.returncode == 0, output
    assert standin.pending_updates == []
    assert "event update=message event=Start" in output
    assert standin.token not in output and "R4の就職件数" not in output and "User9001" not in output


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _post_raw(port: int, path: str, declared: int) -> int:
    """Send only the head of a POST declaring a large body; return the status the server answers with."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {declared}\r\n\r\n".encode())
        head = conn.recv(200).decode("latin-1")
    return int(head.split()[1])


def _post_update(url: str, update: dict[str, Any], secret: str) -> int:
    request = urllib.request.Request(
        url,
        data=json.dumps(update).encode(),
        headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # straight to 127.0.0.1
    try:
        with opener.open(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
    except urllib.error.URLError:
        return 0  # not listening yet


def test_cli_run_webhook_mode_sets_a_hashed_path_and_checks_the_secret(
    standin_thread: BotApiStandin, tmp_path: Path
) -> None:
    """Webhook mode: setWebhook with a path derived from the token and the secret; wrong secrets are refused."""
    standin, port, secret = standin_thread, _free_port(), "aomori-test_secret-1"
    proc = _start_run(standin, tmp_path, {
        "NAVIGATOR_WEBHOOK_URL": "https://bot.example.jp/aomori/",
        "NAVIGATOR_WEBHOOK_SECRET": secret,
        "NAVIGATOR_WEBHOOK_PORT": str(port),
        "NAVIGATOR_WEBHOOK_LISTEN": "127.0.0.1",
    })
    try:
        standin.wait_for_sync(lambda: standin.webhook, timeout=30, description="setWebhook")
        path = webhook_path(standin.token)
        webhook = standin.webhook or {}
        assert webhook["url"] == f"https://bot.example.jp/aomori/{path}"
        assert webhook["secret_token"] == secret
        assert webhook["allowed_updates"] == Update.ALL_TYPES
        assert standin.token not in path
        user = {"id": 9100, "is_bot": False, "first_name": "User9100", "language_code": "ja"}
        update = {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "chat": {"id": 9100, "type": "private", "first_name": "User9100"},
                "from": user,
                "text": "/start",
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            },
        }
        url = f"http://127.0.0.1:{port}/aomori/{path}"  # the public URL's path prefix is kept
        deadline = time.monotonic() + 10
        while (status := _post_update(url, update, "wrong-secret")) != 403 and time.monotonic() < deadline:
            time.sleep(0.1)  # the server may still be starting: connection refused
        assert status == 403
        assert _post_update(f"http://127.0.0.1:{port}/{path}", update, secret) == 404  # not without the prefix
        # A large body without the secret is refused on its declared size, before it is read.
        assert _post_raw(port, f"/aomori/{path}", 50_000_000) == 413
        assert _post_update(url, update | {"update_id": 2}, secret) == 200
        greeting = standin.next_bot_call_sync("sendMessage", chat_id=9100, timeout=10)
        assert greeting.button_texts == list(PERSONAS.values())
        assert not standin.calls_for("sendMessage", chat_id=9100)[1:], "the refused update was not handled"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            output, _ = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate(timeout=5)
    assert proc.returncode == 0, output
    assert standin.token not in output


# --- staff operations -----------------------------------------------------------------------------------------------


async def test_stats_for_staff_counts_and_refusal_for_others(bot: Harness) -> None:
    """/stats: staff get the day's counts with small numbers shown as <5; anyone else gets a polite refusal."""
    for user_id in range(6300, 6306):
        user = bot.user(user_id)
        await user.command("start")
        await user.press(PERSONAS["family"])
    lone = bot.user(6306)
    await lone.command("start")
    await lone.press(PERSONAS["self"])
    refused = await bot.user(6399).command("stats")
    assert refused.text == bot.text("staff_only")
    report = (await bot.user(STAFF).command("stats")).text
    assert "相談開始" in report and "family" not in report  # labels, not slugs
    lines = report.splitlines()
    assert any(line.lstrip("・") == "利用者: ご家族・周りの方: 5" for line in lines), report  # 6, rounded to 5
    assert any(line.lstrip("・") == "利用者: ご本人: <5" for line in lines), report
    assert "今週の相談開始" in report and "persona" not in report and "employer" not in report


async def test_reload_keeps_the_running_catalog_on_error(
    standin: BotApiStandin, settings: Settings, catalog_copy: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """/reload with a broken catalog: the errors (file and line) go to staff and the bot keeps answering."""
    caplog.set_level(logging.INFO)
    harness = Harness(standin, settings.model_copy(update={"catalog_dir": catalog_copy}))
    await harness.start()
    try:
        kpis = catalog_copy / "kpis.yaml"
        kpis.write_text(kpis.read_text(encoding="utf-8").replace("result: 972,", "result: 927,"), encoding="utf-8")
        assert (await harness.user(6400).command("reload")).text == harness.text("staff_only")
        reply = (await harness.user(STAFF).command("reload")).text
        assert "kpis.yaml:" in reply and "読み込み直しませんでした" in reply
        assert "972" in (await harness.user(6401).say("R4の就職件数は？")).text
        kpis.write_text(kpis.read_text(encoding="utf-8").replace("result: 927,", "result: 972,"), encoding="utf-8")
        assert "読み込み直しました" in (await harness.user(STAFF).command("reload")).text
    finally:
        await harness.stop()
    harness.check_invariants(caplog.records)
