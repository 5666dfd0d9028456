"""End-to-end checks of the Bot API stand-in with the real python-telegram-bot ``Application``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, EndPointNotFound, Forbidden, RetryAfter
from telegram.ext import Application, BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters
from telegram.ext import MessageHandler as PtbMessageHandler

from tests.botapi_standin import (
    BOT_ID,
    BOT_USERNAME,
    BUTTON_DATA_INVALID,
    DEFAULT_GROUP_CHAT_ID,
    MESSAGE_NOT_MODIFIED,
    MESSAGE_TO_EDIT_NOT_FOUND,
    BotApiStandin,
    StandinError,
)

USER = 4242
PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4 + b"\r\n--not-a-boundary\r\n"
MENU = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("相談する", callback_data="menu:consult"),
            InlineKeyboardButton("KPI", callback_data="menu:kpi"),
        ],
        [InlineKeyboardButton("同じ", callback_data="menu:same")],
    ]
)
BACK = InlineKeyboardMarkup([[InlineKeyboardButton("戻る", callback_data="menu:back")]])


class Recorder:
    """Collects errors raised inside handlers (and caught BadRequests) during a test."""

    def __init__(self) -> None:
        self.errors: list[BaseException] = []
        self.bad_requests: list[BadRequest] = []
        self.downloads: list[bytes] = []


async def _start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text("ようこそ！メニューを選んでください。", reply_markup=MENU)


def _button_handler(recorder: Recorder) -> CallbackQueryHandler[ContextTypes.DEFAULT_TYPE, None]:
    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer the query, then edit the message (or try an identical edit)."""
        query = update.callback_query
        assert query is not None and query.message is not None
        await query.answer(text=f"pressed {query.data}")
        if query.data == "menu:same":
            try:  # identical text + identical keyboard: Telegram refuses
                await query.edit_message_text("ようこそ！メニューを選んでください。", reply_markup=MENU)
            except BadRequest as exc:
                recorder.bad_requests.append(exc)
            return
        await query.edit_message_text(f"選択: {query.data}", reply_markup=BACK)

    return CallbackQueryHandler(on_button)


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None
    await message.reply_text(f"echo: {message.text}")


async def _photo_cmd(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await context.bot.send_chat_action(update.effective_message.chat_id, ChatAction.UPLOAD_PHOTO)
    await update.effective_message.reply_photo(PHOTO, caption="グラフ", reply_markup=BACK)


def _media_handler(recorder: Recorder) -> PtbMessageHandler[ContextTypes.DEFAULT_TYPE, None]:
    async def on_media(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Reply with the kind of media received (downloading photos)."""
        message = update.effective_message
        assert message is not None and message.from_user is not None
        if message.photo:
            file = await message.photo[-1].get_file()
            recorder.downloads.append(bytes(await file.download_as_bytearray()))
        kind = (
            "sticker"
            if message.sticker
            else "photo"
            if message.photo
            else "voice"
            if message.voice
            else "location"
            if message.location
            else "other"
        )
        await message.reply_text(f"kind={kind} lang={message.from_user.language_code}")

    media = filters.Sticker.ALL | filters.PHOTO | filters.VOICE | filters.LOCATION
    return PtbMessageHandler(media, on_media)


@contextlib.asynccontextmanager
async def running_app(
    standin: BotApiStandin, *handlers: BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]
) -> AsyncIterator[tuple[Application[Any, Any, Any, Any, Any, Any], Recorder]]:
    """Run a real PTB Application (polling) against the stand-in for the duration of the block."""
    recorder = Recorder()
    app = standin.application_builder().build()
    for handler in handlers:
        app.add_handler(handler)

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Record handler errors."""
        assert context.error is not None
        recorder.errors.append(context.error)

    app.add_error_handler(on_error)
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            yield app, recorder
        finally:
            await app.updater.stop()
            await app.stop()


def _default_handlers(recorder: Recorder | None = None) -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
    rec = recorder or Recorder()
    return [
        CommandHandler("start", _start),
        CommandHandler("photo", _photo_cmd),
        _button_handler(rec),
        _media_handler(rec),
        PtbMessageHandler(filters.TEXT & ~filters.COMMAND, _echo),
    ]


async def test_start_command_replies_with_inline_keyboard(standin: BotApiStandin) -> None:
    """/start reaches the CommandHandler and its inline keyboard is recorded and stored."""
    async with running_app(standin, *_default_handlers()) as (app, recorder):
        assert app.bot.id == BOT_ID
        assert app.bot.username == BOT_USERNAME
        update = standin.send_command(USER, "/start")
        assert update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
        assert update["message"]["from"]["language_code"] == "ja"
        call = await standin.next_bot_call("sendMessage", chat_id=USER)
    assert call.ok
    assert call.params["chat_id"] == USER
    assert call.text == "ようこそ！メニューを選んでください。"
    assert call.callback_data == ["menu:consult", "menu:kpi", "menu:same"]
    assert call.button_texts == ["相談する", "KPI", "同じ"]
    [message] = standin.messages(USER)
    assert (message.message_id, message.from_bot) == (2, True)  # the user's /start is message 1
    assert message.callback_data == call.callback_data
    methods = [c.method for c in standin.calls]
    assert methods[:2] == ["getMe", "deleteWebhook"]
    assert "getUpdates" not in methods
    assert standin.tokens_seen == {standin.token}
    assert recorder.errors == []
    assert standin.pending_updates == []  # confirmed by the updater's final getUpdates


async def test_button_press_answers_and_edits(standin: BotApiStandin) -> None:
    """A button press is answered and the message edited; stale buttons cannot be pressed."""
    async with running_app(standin, *_default_handlers()) as (_app, recorder):
        standin.send_command(USER, "/start")
        sent = await standin.next_bot_call("sendMessage", chat_id=USER)
        message_id = sent.result["message_id"]

        query_id = standin.press_button(USER, message_id, "menu:kpi")
        answer = await standin.next_bot_call("answerCallbackQuery", chat_id=USER)
        edit = await standin.next_bot_call("editMessageText", chat_id=USER)

        # pressing the old keyboard's button is impossible now: it was replaced
        with pytest.raises(StandinError, match="no button"):
            standin.press_button(USER, message_id, "menu:kpi")
        second = standin.press_button(USER, message_id, "menu:back")
        await standin.next_bot_call("editMessageText", chat_id=USER)
    assert answer.params == {"callback_query_id": query_id, "text": "pressed menu:kpi"}
    assert edit.ok and edit.params["message_id"] == message_id
    assert edit.text == "選択: menu:kpi"
    assert edit.callback_data == ["menu:back"]
    stored = standin.message(USER, message_id)
    assert stored is not None
    assert stored.text == "選択: menu:back" and stored.callback_data == ["menu:back"]
    assert stored.edit_date is not None
    assert [h[0] for h in stored.history] == [
        "ようこそ！メニューを選んでください。",
        "選択: menu:kpi",
        "選択: menu:back",
    ]
    assert standin.answered_callback_ids == [query_id, second]
    assert recorder.errors == []


async def test_edit_to_identical_content_is_not_modified(standin: BotApiStandin) -> None:
    """Identical edits raise BadRequest 'not modified'; other edit/text errors are faithful."""
    recorder = Recorder()
    async with running_app(standin, *_default_handlers(recorder)) as (app, _):
        standin.send_command(USER, "/start")
        sent = await standin.next_bot_call("sendMessage", chat_id=USER)
        standin.press_button(USER, sent.result["message_id"], "menu:same")
        failed = await standin.next_bot_call("editMessageText", chat_id=USER)
        await standin.wait_for(lambda: recorder.bad_requests, timeout=3)

        # the same through the bot directly, plus the other faithful edit errors
        msg = await app.bot.send_message(USER, "hi", reply_markup=BACK)
        with pytest.raises(BadRequest, match=r"^Message is not modified: specified new message content"):
            await app.bot.edit_message_text("hi", chat_id=USER, message_id=msg.message_id, reply_markup=BACK)
        with pytest.raises(BadRequest, match="Message is not modified"):
            await app.bot.edit_message_reply_markup(chat_id=USER, message_id=msg.message_id, reply_markup=BACK)
        # dropping the keyboard is a modification (Telegram removes it when reply_markup is omitted)
        edited = await app.bot.edit_message_text("hi", chat_id=USER, message_id=msg.message_id)
        assert edited.reply_markup is None
        with pytest.raises(BadRequest, match="Message to edit not found"):
            await app.bot.edit_message_text("x", chat_id=USER, message_id=999)
        with pytest.raises(BadRequest, match="Message is too long"):
            await app.bot.send_message(USER, "あ" * 4097)
        await app.bot.send_message(USER, "あ" * 4096)
        with pytest.raises(BadRequest, match='Can\'t parse entities: unsupported start tag "br"'):
            await app.bot.send_message(USER, "a<br>b", parse_mode=ParseMode.HTML)
        html = await app.bot.send_message(USER, "<b>太字</b> &amp; 普通", parse_mode=ParseMode.HTML)
        assert html.text == "太字 & 普通"
    assert not failed.ok
    assert failed.error_code == 400 and failed.description == MESSAGE_NOT_MODIFIED
    assert [str(e) for e in recorder.bad_requests] == [
        "Message is not modified: specified new message content and reply markup are exactly the same "
        "as a current content and reply markup of the message"
    ]
    assert recorder.errors == []
    assert any(c.description == MESSAGE_TO_EDIT_NOT_FOUND for c in standin.calls)


async def test_button_data_over_64_bytes_is_rejected(standin: BotApiStandin) -> None:
    """callback_data over 64 UTF-8 bytes is refused with BUTTON_DATA_INVALID."""
    async with running_app(standin) as (app, _):
        too_long = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="d" * 65)]])
        with pytest.raises(BadRequest, match="Button_data_invalid"):
            await app.bot.send_message(USER, "menu", reply_markup=too_long)
        # 22 Japanese characters are 66 UTF-8 bytes: also too long
        with pytest.raises(BadRequest, match="Button_data_invalid"):
            await app.bot.send_message(
                USER, "menu", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="あ" * 22)]])
            )
        ok = await app.bot.send_message(
            USER, "menu", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="d" * 64)]])
        )
    rejected = standin.calls_for("sendMessage", USER)[0]
    assert rejected.description == BUTTON_DATA_INVALID and rejected.error_code == 400
    assert [m.message_id for m in standin.messages(USER)] == [ok.message_id]


async def test_echo_media_and_group_updates(standin: BotApiStandin) -> None:
    """Text, group, sticker, photo, voice and location updates reach the right handlers."""
    recorder = Recorder()
    standin.add_user(77, "花子", language_code="en")
    async with running_app(standin, *_default_handlers(recorder)):
        standin.send_text(USER, "こんにちは")
        echo = await standin.next_bot_call("sendMessage", chat_id=USER)
        standin.send_group_text(77, "グループです")
        group = await standin.next_bot_call(chat_id=DEFAULT_GROUP_CHAT_ID)
        standin.send_command(77, f"/start@{BOT_USERNAME}", chat_type="group")
        group_start = await standin.next_bot_call("sendMessage", chat_id=DEFAULT_GROUP_CHAT_ID)
        replies = []
        for inject in (standin.send_sticker, standin.send_photo_from_user, standin.send_voice, standin.send_location):
            inject(USER)
            replies.append((await standin.next_bot_call("sendMessage", chat_id=USER)).text)
    assert echo.text == "echo: こんにちは"
    assert (group.method, group.text) == ("sendMessage", "echo: グループです")
    assert group_start.callback_data == ["menu:consult", "menu:kpi", "menu:same"]
    assert replies == ["kind=sticker lang=ja", "kind=photo lang=ja", "kind=voice lang=ja", "kind=location lang=ja"]
    assert recorder.downloads == [b"\x89PNG\r\n\x1a\nstandin-user-photo"]
    user_messages = standin.messages(USER, include_user=True)
    assert [m.kind for m in user_messages if not m.from_bot] == ["text", "sticker", "photo", "voice", "location"]
    assert [m.message_id for m in user_messages] == list(range(1, 11))
    assert recorder.errors == []


async def test_send_photo_upload_bytes(standin: BotApiStandin) -> None:
    """A multipart sendPhoto upload is parsed and its exact bytes are kept."""
    async with running_app(standin, *_default_handlers()) as (_app, recorder):
        standin.send_command(USER, "/photo")
        action = await standin.next_bot_call("sendChatAction", chat_id=USER)
        call = await standin.next_bot_call("sendPhoto", chat_id=USER)
    assert action.params["action"] == "upload_photo"
    assert call.ok and call.params["caption"] == "グラフ"
    assert call.files["photo"].data == PHOTO
    assert call.callback_data == ["menu:back"]
    assert standin.photos(USER) == [PHOTO]
    [message] = standin.messages(USER)
    assert message.photo and message.caption == "グラフ"
    assert recorder.errors == []


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # RetryAfter.__init__
async def test_commands_misc_and_errors(standin: BotApiStandin) -> None:
    """Bot commands, chat actions, unknown methods and injected errors behave like Telegram."""
    async with running_app(standin) as (app, _):
        bot = app.bot
        assert await bot.set_my_commands([("start", "はじめる"), ("help", "ヘルプ")])
        assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
        assert [c.command for c in await bot.get_my_commands(language_code="en")] == []
        assert await bot.delete_my_commands()
        assert await bot.get_my_commands() == ()
        with pytest.raises(BadRequest, match="Bot_command_invalid"):
            await bot.set_my_commands([("Start!", "x")])
        assert await bot.send_chat_action(USER, ChatAction.TYPING)
        with pytest.raises(EndPointNotFound):
            await bot.do_api_request("sendUnicorn", api_kwargs={"chat_id": USER})
        standin.fail_next("sendMessage", "Too Many Requests: retry after 3", 429, parameters={"retry_after": 3})
        with pytest.raises(RetryAfter):
            await bot.send_message(USER, "x")
        standin.block_bot(USER)
        with pytest.raises(Forbidden, match="blocked"):
            await bot.send_message(USER, "x")
        standin.block_bot(USER, blocked=False)
        with pytest.raises(BadRequest, match="Query is too old"):
            await bot.answer_callback_query("123")
    assert standin.unknown_methods == ["sendUnicorn"]
    unknown = standin.calls_for("sendUnicorn")[0]
    assert (unknown.ok, unknown.error_code, unknown.description) == (False, 404, "Not Found: method not found")
    assert standin.commands() == []


async def test_get_updates_offset_and_long_poll(standin: BotApiStandin) -> None:
    """getUpdates honours offset confirmation and wakes a long poll when an update arrives."""
    async with Bot(standin.token, base_url=standin.base_url) as bot:
        assert await bot.get_updates(timeout=0) == ()
        first = standin.send_text(USER, "one")
        second = standin.send_text(USER, "two")
        updates = await bot.get_updates(timeout=0)
        assert [u.update_id for u in updates] == [first["update_id"], second["update_id"]]
        # not confirmed yet: fetched again; then confirm the first one via offset
        again = await bot.get_updates(offset=second["update_id"], timeout=0)
        assert [u.message.text for u in again if u.message] == ["two"]
        assert [u["update_id"] for u in standin.pending_updates] == [second["update_id"]]

        loop = asyncio.get_running_loop()
        started = loop.time()
        poll = asyncio.create_task(bot.get_updates(offset=second["update_id"] + 1, timeout=3))
        await asyncio.sleep(0.1)
        assert not poll.done()
        third = standin.send_text(USER, "three")
        got = await asyncio.wait_for(poll, 2)
        assert [u.update_id for u in got] == [third["update_id"]]
        assert loop.time() - started < 2.0  # woke up well before the 3 s timeout

        started = loop.time()
        assert await bot.get_updates(offset=third["update_id"] + 1, timeout=1) == ()
        assert 0.8 < loop.time() - started < 3.0
        assert standin.pending_updates == []


async def test_wait_for_and_cursor_never_hands_out_a_call_twice(standin: BotApiStandin) -> None:
    """next_bot_call takes each call once, per chat, and wait_for wakes on changes."""
    async with Bot(standin.token, base_url=standin.base_url) as bot:
        standin.consume_all()  # skip getMe
        await bot.send_message(USER, "a")
        await bot.send_message(USER, "b")
        await bot.send_message(USER + 1, "c")
        assert (await standin.next_bot_call(chat_id=USER)).text == "a"
        assert (await standin.next_bot_call(chat_id=USER + 1)).text == "c"
        assert (await standin.next_bot_call()).text == "b"
        with pytest.raises(TimeoutError, match=r"Timed out after 0\.2s"):
            await standin.next_bot_call(chat_id=USER, timeout=0.2)
        waiter = asyncio.create_task(standin.wait_for(lambda: len(standin.messages(USER)) == 3, timeout=3))
        await bot.send_message(USER, "d")
        assert await waiter is True


def test_threaded_standin_serves_plain_http_clients() -> None:
    """The threaded stand-in serves plain HTTP clients from other threads."""
    threaded = BotApiStandin.start_in_thread()
    try:
        assert threaded.url.startswith("http://127.0.0.1:")
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

        def post(method: str, **params: object) -> dict[str, object]:
            """POST form-encoded params and return the decoded JSON reply."""
            data = urllib.parse.urlencode(
                {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
            ).encode()
            try:
                with opener.open(f"{threaded.base_url}{threaded.token}/{method}", data=data, timeout=5) as resp:
                    return json.loads(resp.read())  # type: ignore[no-any-return]
            except urllib.error.HTTPError as exc:
                return json.loads(exc.read())  # type: ignore[no-any-return]

        assert post("getMe")["result"] == {
            "id": 1000,
            "is_bot": True,
            "first_name": "Navigator",
            "username": "aomori_navi_test_bot",
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        result: dict[str, object] = {}
        thread = threading.Thread(target=lambda: result.update(post("getUpdates", timeout=2)))
        thread.start()
        threaded.send_text(USER, "from another thread")
        thread.join(5)
        assert [u["message"]["text"] for u in result["result"]] == ["from another thread"]  # type: ignore[index,union-attr]
        assert post("sendMessage", chat_id=USER, text="pong")["ok"] is True
        assert threaded.next_bot_call_sync("sendMessage", chat_id=USER, timeout=2).text == "pong"
        assert post("editMessageText", chat_id=USER, message_id=99, text="x") == {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: message to edit not found",
        }
    finally:
        threaded.stop()
    assert not threaded.running


_SUBPROCESS_BOT = """
import sys
from telegram.ext import ApplicationBuilder, MessageHandler, filters

async def echo(update, context):
    await update.effective_message.reply_text("sub: " + update.effective_message.text)

app = ApplicationBuilder().token(sys.argv[1]).base_url(sys.argv[2]).build()
app.add_handler(MessageHandler(filters.TEXT, echo))
app.run_polling(poll_interval=0, timeout=1, close_loop=True)
"""


def test_subprocess_bot_polls_threaded_standin() -> None:
    """A PTB bot in a subprocess polls the stand-in and shuts down cleanly on SIGINT."""
    with BotApiStandin() as threaded:
        proc = subprocess.Popen(
            [sys.executable, "-c", _SUBPROCESS_BOT, threaded.token, threaded.base_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            threaded.wait_for_sync(lambda: threaded.calls_for("deleteWebhook"), timeout=8)
            threaded.send_text(USER, "hello")
            reply = threaded.next_bot_call_sync("sendMessage", chat_id=USER, timeout=5)
            assert reply.text == "sub: hello"
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                output, _ = proc.communicate(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                output, _ = proc.communicate(timeout=5)
        assert proc.returncode == 0, output.decode(errors="replace")
        assert threaded.pending_updates == []
