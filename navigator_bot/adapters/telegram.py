"""The Telegram adapter: turns Bot API updates into dialogue events and the engine's outcomes into messages.

Nothing here decides what to say. Handlers translate an `Update` into an `Event`, call `Navigator.handle`, and
send the `Outcome`'s replies as plain text (never a parse mode: catalog text must not break HTML parsing).

Privacy: logs name the kind of update and event, a per-process salted hash of the user id and the latency; never
message text, names, or the bot token. Libraries are kept quiet where they would log those (`quiet_library_logging`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import logging
import re
import secrets
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from ..config import HEARTBEAT_FILE, HEARTBEAT_INTERVAL, Settings
from ..dialogue import (
    ButtonPressed,
    CommandIssued,
    Event,
    Outcome,
    Reply,
    Start,
    TextTyped,
    UnsupportedMessage,
    UserContext,
    pack_callback,
    unpack_callback,
)
from .delivery import RawUpdates, RetryingRequest, rate_limiter
from .ordering import KeyedLocks
from .startup import configure_logging, open_navigator
from .text_limits import split_text, utf16_len

STAFF_COMMANDS = frozenset({"reload", "stats"})

if TYPE_CHECKING:
    from ..app import Navigator
    from ..storage import Inbox

log = logging.getLogger(__name__)

BotApplication: TypeAlias = Application[Any, Any, Any, Any, Any, Any]
Context: TypeAlias = ContextTypes.DEFAULT_TYPE
Callback: TypeAlias = Callable[[Update, Context], Awaitable[None]]

MAX_TEXT = 4096  # Telegram's limit for a message, in UTF-16 code units
MAX_CAPTION = 1024  # ... and for a photo caption
MAX_CONCURRENT_UPDATES = 16
HOUSEKEEPING_INTERVAL = 3600.0  # seconds
MISSING_TOKEN = (
    "No Telegram bot token: set NAVIGATOR_TELEGRAM_TOKEN (or TELEGRAM_BOT_TOKEN) to the token from @BotFather.\n"
    "Telegram のボットトークンがありません。@BotFather で発行したトークンを環境変数 NAVIGATOR_TELEGRAM_TOKEN"
    "（または TELEGRAM_BOT_TOKEN）に設定してください。"
)
MISSING_SECRET = (
    "Webhook mode (NAVIGATOR_WEBHOOK_URL is set) needs NAVIGATOR_WEBHOOK_SECRET: 1-256 characters of A-Z, a-z, "
    "0-9, _ and -.\n"
    "Webhook モード（NAVIGATOR_WEBHOOK_URL を設定）では NAVIGATOR_WEBHOOK_SECRET が必要です"
    "（英数字・_・- で 1〜256 文字）。"
)
TOKEN_REJECTED = (
    "Telegram rejected the bot token (NAVIGATOR_TELEGRAM_TOKEN).\n"
    "Telegram がボットトークン（NAVIGATOR_TELEGRAM_TOKEN）を受け付けませんでした。"
)
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
# Content a private message can carry instead of text, most specific first (an animation is also a document,
# a venue also has a location).
_MESSAGE_KINDS = (
    "sticker", "photo", "voice", "video_note", "video", "animation", "audio", "document", "venue", "location",
    "contact", "poll", "dice", "game", "story", "invoice",
)  # fmt: skip
_USER_SALT = secrets.token_bytes(16)  # per process: log lines of one run correlate, runs do not


def api_file_url(api_url: str) -> str:
    """Return the file download base URL that belongs to a Bot API base URL (".../bot" -> ".../file/bot")."""
    stem = api_url.rstrip("/")
    return stem[: -len("/bot")] + "/file/bot" if stem.endswith("/bot") else stem + "/file/bot"


def webhook_path(token: str) -> str:
    """Return the webhook URL path for a token: derived from a hash, so the token never appears in a URL."""
    return "telegram-" + hashlib.sha256(f"navigator-webhook:{token}".encode()).hexdigest()[:32]


def quiet_library_logging() -> None:
    """Keep library logs that would leak secrets quiet, whatever the log level.

    httpx/httpcore log every request URL at INFO, and the URL contains the bot token; PTB logs whole updates
    (message text, names) and request parameters at DEBUG.
    """
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("telegram").setLevel(max(logging.INFO, logging.getLogger().getEffectiveLevel()))
    for name in UPDATE_BODY_LOGGERS:
        target = logging.getLogger(name)
        if not any(isinstance(existing, NoUpdateBodies) for existing in target.filters):
            target.addFilter(NoUpdateBodies())


UPDATE_BODY_LOGGERS = ("telegram.Bot", "telegram.ext.Updater", "telegram.ext.Application", "telegram.ext",
                       "telegram")


class NoUpdateBodies(logging.Filter):
    """PTB logs a whole update (typed text, names) when it cannot parse one: keep the line, drop the body."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite a record that would print received data; let every other record through unchanged."""
        message = str(record.msg)
        if "Received data" in message or "received data" in message:
            record.msg = message.split("Received data")[0].split("received data")[0].rstrip() + \
                " (the update's content is not logged)"
            record.args = ()
        return True


def _lang(update: object) -> str:
    user = update.effective_user if isinstance(update, Update) else None
    return "en" if user is not None and (user.language_code or "").lower().startswith("en") else "ja"


def _user_tag(user_id: int | None) -> str:
    if user_id is None:
        return "-"
    return hashlib.blake2b(str(user_id).encode(), key=_USER_SALT, digest_size=6).hexdigest()


def _update_kind(update: Update) -> str:
    for kind in ("message", "callback_query", "channel_post", "edited_message", "edited_channel_post"):
        if getattr(update, kind) is not None:
            return kind
    return "other"


def message_kind(message: Message) -> str:
    """Return what a non-text message carries ("sticker", "photo", ...), or "other"."""
    return next((kind for kind in _MESSAGE_KINDS if getattr(message, kind, None)), "other")


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """Return the reply's buttons as an inline keyboard (callback data versioned and size-checked), or None."""
    rows = [
        [InlineKeyboardButton(button.label, callback_data=pack_callback(button.action, button.step))
         for button in row]
        for row in reply.buttons
        if row
    ]
    return InlineKeyboardMarkup(rows) if rows else None


def _is_not_modified(error: BadRequest) -> bool:
    return "not modified" in error.message.lower()


class HandlerFailed(Exception):
    """Raised in place of any exception of a handler, naming the handler (the original is the `__cause__`)."""

    def __init__(self, handler: str) -> None:
        super().__init__(handler)
        self.handler = handler


class InboxQueue(asyncio.Queue):  # type: ignore[type-arg]
    """PTB's update queue, with every update written to the inbox before it is queued.

    PTB's Updater puts each fetched update here before it asks for the next batch (which tells Telegram the
    batch was received), and the webhook handler puts it here before answering 200: so an update is on disk
    before Telegram forgets it. A redelivered update (same update_id) is dropped here.
    """

    def __init__(self, inbox: Inbox, clock: Callable[[], dt.datetime], raw: RawUpdates | None = None) -> None:
        super().__init__()
        self.inbox = inbox
        self._clock = clock
        self.raw = raw if raw is not None else RawUpdates()

    async def put(self, item: object) -> None:
        """Keep an update on disk, then queue it; drop it if it was seen before."""
        if isinstance(item, Update):
            body = self.raw.pop(item.update_id, None) or json.dumps(item.to_dict(), ensure_ascii=False)
            if not self.inbox.accept(item.update_id, body, self._clock()):
                log.info("update_redelivered update_id=%s dropped", item.update_id)
                return
        await super().put(item)

    async def requeue(self, item: Update) -> None:
        """Queue an update found waiting in the inbox at start-up (it is on disk already)."""
        await super().put(item)


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """Processes updates of different users concurrently, and the updates of one user one by one, in order.

    Conversation state is per user, so one user's updates must not overlap (a second press would read the
    state before the first press saved it). A chart takes hundreds of milliseconds to draw, and PTB's
    default sequential processing would make every other user wait for it.

    Order: PTB starts one task per update in arrival order. The per-user lock is the first thing such a task
    does (nothing before it suspends), and asyncio.Lock wakes waiters first in, first out.
    """

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES,
                 handled: Callable[[int], None] | None = None) -> None:
        super().__init__(max_concurrent_updates)
        self.locks = KeyedLocks()
        self._handled = handled

    async def process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for the sender's earlier updates, process this one within the global limit, mark it handled."""
        async with self.locks.hold(self._key(update)):
            await super().process_update(update, coroutine)
            if self._handled is not None and isinstance(update, Update):
                self._handled(update.update_id)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the update's handlers."""
        await coroutine

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""

    @staticmethod
    def _key(update: object) -> object:
        if isinstance(update, Update):
            if update.effective_user is not None:
                return ("user", update.effective_user.id)
            if update.effective_chat is not None:
                return ("chat", update.effective_chat.id)
        return ("none", None)


class TelegramAdapter:
    """The handlers: each translates an update into an event, asks the navigator, and sends the outcome."""

    def __init__(self, settings: Settings, navigator: Navigator) -> None:
        self.settings = settings
        self.navigator = navigator
        self._heartbeat: asyncio.Task[None] | None = None
        self._housekeeping: asyncio.Task[None] | None = None

    # --- wiring ------------------------------------------------------------------------------------------------

    def install(self, application: BotApplication) -> None:
        """Add the handlers and the error handler to an application."""
        private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
        # In a group the bot speaks only when spoken to (a command, or a mention checked in on_group): answering
        # every message would be spam and run into Telegram's 20-a-minute group limit. Channel posts: no reply.
        shared = filters.ChatType.GROUPS & filters.UpdateType.MESSAGE & (
            filters.COMMAND | filters.Entity("mention") | filters.REPLY)
        # Edited messages have no handler: re-reading an edit would answer the same message twice.
        application.add_handlers(
            [
                MessageHandler(shared & ~filters.StatusUpdate.ALL, self._named("group", self.on_group)),
                CommandHandler("start", self._named("start", self.on_start), filters=private),
                MessageHandler(private & filters.COMMAND, self._named("command", self.on_command)),
                MessageHandler(private & filters.TEXT, self._named("text", self.on_text)),
                MessageHandler(private & ~filters.StatusUpdate.ALL, self._named("other", self.on_other)),
                CallbackQueryHandler(self._named("button", self.on_button)),
            ]
        )
        application.add_error_handler(self.on_error)

    @staticmethod
    def _named(name: str, callback: Callback) -> Callback:
        """Wrap a handler so that the error handler can tell which one failed."""

        async def wrapped(update: Update, context: Context) -> None:
            try:
                await callback(update, context)
            except Exception as error:
                raise HandlerFailed(name) from error

        wrapped.__name__ = wrapped.__qualname__ = f"on_{name}"
        return wrapped

    async def post_init(self, application: BotApplication) -> None:
        """Publish the command menus: Japanese as the default and for "ja", English for "en"."""
        ja = [BotCommand(name, text) for name, text in self.navigator.bot_commands("ja")]
        en = [BotCommand(name, text) for name, text in self.navigator.bot_commands("en")]
        try:
            await application.bot.set_my_commands(ja)
            await application.bot.set_my_commands(ja, language_code="ja")
            await application.bot.set_my_commands(en, language_code="en")
        except TelegramError as error:  # the bot works without a menu; do not refuse to start over it
            log.warning("set_my_commands failed: %s", type(error).__name__)
        self._heartbeat = asyncio.create_task(self._beat(self.settings.data_dir / HEARTBEAT_FILE))
        self._housekeeping = asyncio.create_task(self._keep_house())
        await self._requeue_waiting(application)

    async def _requeue_waiting(self, application: BotApplication) -> None:
        """Answer what arrived before a crash but was never answered: first, in the order it came."""
        queue = application.update_queue
        self.navigator.inbox.belong_to(application.bot.id)  # a new token (another bot) starts a new inbox
        waiting = self.navigator.inbox.pending()
        for _update_id, body in waiting:
            update = Update.de_json(json.loads(body), application.bot)
            if update is None:
                continue
            if isinstance(queue, InboxQueue):
                await queue.requeue(update)
            else:
                await queue.put(update)
        if waiting:
            log.warning("inbox: %d update(s) left unanswered by the last run, answering now", len(waiting))

    async def _keep_house(self) -> None:
        """Off the event loop, now and then: delete expired conversations and old handled update ids."""
        while True:
            await asyncio.to_thread(self.navigator.housekeeping)
            await asyncio.sleep(HOUSEKEEPING_INTERVAL)

    async def _beat(self, path: Path) -> None:
        """Touch the heartbeat file while the event loop runs (the container's HEALTHCHECK reads it)."""
        while True:
            await asyncio.to_thread(path.touch)
            await asyncio.sleep(HEARTBEAT_INTERVAL)

    async def post_shutdown(self, application: BotApplication) -> None:
        """Stop the heartbeat and close the navigator (its SQLite file)."""
        for task in (self._heartbeat, self._housekeeping):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self.navigator.close()

    # --- handlers ----------------------------------------------------------------------------------------------

    async def on_start(self, update: Update, context: Context) -> None:
        """/start in a private chat, with the deep link's payload if it came from one (t.me/<bot>?start=family)."""
        payload = context.args[0] if context.args else ""
        await self._converse(update, context, Start(payload))

    async def on_command(self, update: Update, context: Context) -> None:
        """Any other /command in a private chat."""
        message = update.effective_message
        assert message is not None and message.text is not None
        head, *rest = message.text.split(maxsplit=1)
        name = head[1:].split("@", 1)[0].lower()  # "/kpi@aomori_bot" -> "kpi"
        event: Event = Start() if name == "start" else CommandIssued(name, rest[0].strip() if rest else "")
        await self._converse(update, context, event)

    async def on_text(self, update: Update, context: Context) -> None:
        """Typed text in a private chat."""
        message = update.effective_message
        assert message is not None and message.text is not None
        await self._converse(update, context, TextTyped(message.text))

    async def on_other(self, update: Update, context: Context) -> None:
        """A sticker, photo, voice message, location ... in a private chat."""
        message = update.effective_message
        assert message is not None
        await self._converse(update, context, UnsupportedMessage(message_kind(message)))

    async def on_button(self, update: Update, context: Context) -> None:
        """A pressed inline button: answered first, exactly once, whatever happens next."""
        query = update.callback_query
        assert query is not None
        try:
            await query.answer()
        except TelegramError as error:  # e.g. the query is too old after a restart: still handle the press
            log.info("answer_callback_query failed: %s", type(error).__name__)
        # Old versions, foreign and forged data become an empty action, which the engine answers as a stale button.
        pressed = unpack_callback(query.data or "") or ButtonPressed("")
        chat = update.effective_chat
        if chat is not None and chat.type != chat.PRIVATE:
            await self.on_group(update, context)
            return
        await self._converse(update, context, pressed)

    async def on_group(self, update: Update, context: Context) -> None:
        """Addressed in a group: one short pointer to a private chat; no engine call, no state."""
        started = time.perf_counter()
        chat = update.effective_chat
        message = update.effective_message
        if chat is None:
            return
        if message is not None and update.callback_query is None and not self._addressed(message, context):
            return
        await context.bot.send_message(chat.id, self.navigator.text("group_chat", _lang(update)))
        self._log_event(update, "group_chat", started, 1)

    @staticmethod
    def _addressed(message: Message, context: Context) -> bool:
        """True for a command, a mention of this bot, or a reply to one of its messages."""
        text = message.text or message.caption or ""
        username = (context.bot.username or "").lower()
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0].lower()
            return "@" not in command or command.endswith(f"@{username}")
        replied = message.reply_to_message
        if replied is not None and replied.from_user is not None and replied.from_user.id == context.bot.id:
            return True
        return bool(username) and f"@{username}" in text.lower()

    async def on_error(self, update: object, context: Context) -> None:
        """Log one line about a failed update (no text, names or token) and apologise to the user."""
        error = context.error
        handler = "-"
        if isinstance(error, HandlerFailed):
            handler = error.handler
            error = error.__cause__ or error
        update_id = update.update_id if isinstance(update, Update) else None
        kind = _update_kind(update) if isinstance(update, Update) else "-"
        chain = []
        cause: BaseException | None = error
        while cause is not None and len(chain) < 5:
            chain.append(type(cause).__name__)
            cause = cause.__cause__ or cause.__context__
        # Exception messages may quote user text; only Telegram's own descriptions are safe to log.
        detail = error.message if isinstance(error, TelegramError) else ""
        if self.settings.telegram_token:
            detail = detail.replace(self.settings.telegram_token, "[token]")
        frames = traceback.extract_tb(error.__traceback__) if error is not None else []
        where = " < ".join(f"{Path(f.filename).name}:{f.lineno}:{f.name}" for f in reversed(frames[-8:]))
        log.error(
            "update_failed update_id=%s update=%s handler=%s error=%s detail=%r traceback=%s",
            update_id, kind, handler, "<-".join(chain) or "-", detail, where or "-",
        )  # fmt: skip
        undelivered = isinstance(error, (NetworkError, RetryAfter)) and not isinstance(error, BadRequest)
        if undelivered:  # every retry spent: say so, count it (health and /stats show it)
            log.error("reply_not_delivered update_id=%s reason=%s", update_id, type(error).__name__)
            self.navigator.delivery_failed(type(error).__name__.lower())
        if isinstance(error, Forbidden) or not isinstance(update, Update) or update.effective_chat is None:
            return  # blocked by the user, or nobody to tell
        try:
            await context.bot.send_message(
                update.effective_chat.id, self.navigator.text("error_apology", _lang(update))
            )
        except TelegramError as apology_error:
            log.warning("apology not sent update_id=%s error=%s", update_id, type(apology_error).__name__)

    # --- the conversation --------------------------------------------------------------------------------------

    async def _converse(self, update: Update, context: Context, event: Event) -> None:
        started = time.perf_counter()
        user = update.effective_user
        if user is None:  # e.g. a message sent on behalf of a chat: nobody to keep a conversation with
            log.info("update_without_sender update_id=%s ignored", update.update_id)
            return
        # A press on a message Telegram no longer sends along has no chat: answer in the private chat (same id).
        chat_id = update.effective_chat.id if update.effective_chat is not None else user.id
        user_context = UserContext(is_staff=user.id in self.settings.staff_ids, language_hint=user.language_code)
        if isinstance(event, CommandIssued) and event.name in STAFF_COMMANDS and user_context.is_staff:
            # /reload reads and embeds the catalog (seconds): in a thread, so that everyone else is served meanwhile.
            outcome = await asyncio.to_thread(self.navigator.handle, f"tg:{user.id}", event, user_context)
        else:
            outcome = self.navigator.handle(f"tg:{user.id}", event, user_context)
        pressed = update.callback_query.message if update.callback_query is not None else None
        await self._send(context, chat_id, outcome, pressed if isinstance(pressed, Message) else None)
        self._log_event(update, type(event).__name__, started, len(outcome.replies))

    async def _send(self, context: Context, chat_id: int, outcome: Outcome, pressed: Message | None) -> None:
        for reply in outcome.replies:
            if reply.edit and pressed is not None and await self._edit(context, pressed, reply):
                pressed = None  # a later reply of the same outcome must not overwrite this one
                continue
            if reply.document is not None:
                await context.bot.send_document(chat_id, self.navigator.render_document(reply),
                                                filename=reply.document.filename, caption=reply.text,
                                                reply_markup=keyboard(reply))
            elif reply.chart is not None or reply.image is not None:
                await self._send_chart(context, chat_id, reply)
            else:
                await self._send_text(context, chat_id, reply.text, keyboard(reply))

    async def _edit(self, context: Context, pressed: Message, reply: Reply) -> bool:
        """Edit the pressed message into the reply; False if it has to be sent as a new message instead."""
        if reply.chart is not None or reply.image is not None or reply.document is not None \
                or utf16_len(reply.text) > MAX_TEXT \
                or not reply.text.strip():
            return False
        try:
            await context.bot.edit_message_text(
                reply.text, chat_id=pressed.chat_id, message_id=pressed.message_id, reply_markup=keyboard(reply)
            )
        except BadRequest as error:
            if _is_not_modified(error):  # the same button pressed twice: the message already shows this
                return True
            # Too old, deleted, or a photo: "message to edit not found", "message can't be edited", ...
            log.info("edit failed, sending instead: %s", error.message)
            return False
        return True

    async def _send_text(self, context: Context, chat_id: int, text: str, markup: InlineKeyboardMarkup | None) -> None:
        chunks = split_text(text, MAX_TEXT)
        if not chunks:
            log.warning("empty reply text skipped")
            return
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            await context.bot.send_message(chat_id, chunk, reply_markup=markup if last else None)

    async def _send_chart(self, context: Context, chat_id: int, reply: Reply) -> None:
        markup = keyboard(reply)
        with contextlib.suppress(TelegramError):
            await context.bot.send_chat_action(chat_id, "upload_photo")
        try:
            png = await asyncio.to_thread(self.navigator.render_picture, reply)
        except Exception as error:  # a picture is a bonus: without it, still send the words
            log.error("chart_failed error=%s", type(error).__name__)
            await self._send_text(context, chat_id, reply.text, markup)
            return
        if reply.text.strip() and utf16_len(reply.text) <= MAX_CAPTION:
            await context.bot.send_photo(chat_id, png, caption=reply.text, reply_markup=markup)
            return
        await self._send_text(context, chat_id, reply.text, None)
        await context.bot.send_photo(chat_id, png, reply_markup=markup)

    @staticmethod
    def _log_event(update: Update, event: str, started: float, replies: int) -> None:
        user = update.effective_user
        log.info(
            "event update=%s event=%s user=%s replies=%d latency_ms=%.1f",
            _update_kind(update), event, _user_tag(user.id if user else None), replies,
            (time.perf_counter() - started) * 1000,
        )  # fmt: skip


def build_application(settings: Settings, navigator: Navigator) -> BotApplication:
    """Build the PTB Application: Bot API URLs from settings, handlers, command menus, per-user ordering."""
    if not settings.telegram_token:
        raise ValueError("settings.telegram_token is not set")
    quiet_library_logging()
    adapter = TelegramAdapter(settings, navigator)
    inbox = navigator.inbox
    raw = RawUpdates()
    processor = PerUserUpdateProcessor(settings.concurrent_updates,
                                       handled=lambda update_id: inbox.done(update_id, navigator.now()))
    application = (
        ApplicationBuilder()
        .token(settings.telegram_token)
        .update_queue(InboxQueue(inbox, navigator.now, raw))
        .base_url(settings.telegram_api_url)
        .base_file_url(api_file_url(settings.telegram_api_url))
        .concurrent_updates(processor)
        .get_updates_request(RetryingRequest(0, settings.retry_backoff, raw, connection_pool_size=1,
                                             read_timeout=settings.api_timeout, connect_timeout=settings.api_timeout))
        .request(RetryingRequest(settings.send_retries, settings.retry_backoff, connection_pool_size=16,
                                 read_timeout=settings.api_timeout, write_timeout=settings.api_timeout,
                                 connect_timeout=settings.api_timeout, pool_timeout=settings.api_timeout))
        .rate_limiter(rate_limiter(settings.send_retries, settings.rate_limit))
        .post_init(adapter.post_init)
        .post_shutdown(adapter.post_shutdown)
        .build()
    )
    adapter.install(application)
    return application


def run(settings: Settings) -> int:
    """Run the bot until interrupted: long polling, or a webhook when settings.webhook_url is set. Exit code."""
    if not settings.telegram_token:
        print(MISSING_TOKEN, file=sys.stderr)
        return 2
    if settings.webhook_url and not _SECRET_RE.fullmatch(settings.webhook_secret or ""):
        print(MISSING_SECRET, file=sys.stderr)
        return 2
    configure_logging(settings, settings.telegram_token)
    quiet_library_logging()
    navigator = open_navigator(settings)
    if isinstance(navigator, int):
        return navigator
    application = build_application(settings, navigator)  # post_shutdown closes the navigator
    try:
        if settings.webhook_url:
            from .webhook import serve  # aiohttp: imported in webhook mode only

            log.info("starting webhook mode")
            asyncio.run(serve(application, settings, webhook_path(settings.telegram_token)))
        else:
            log.info("starting polling mode")
            application.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False,
                                    bootstrap_retries=-1)
    except InvalidToken:
        print(TOKEN_REJECTED, file=sys.stderr)
        return 2
    return 0
