"""Local Telegram Bot API stand-in for end-to-end tests.

The stand-in is a tiny HTTP/1.1 server (stdlib only: ``asyncio.start_server`` plus a small request
parser) that speaks the Bot API the way python-telegram-bot 22 uses it.  It always binds
``127.0.0.1`` on a free port, runs its own event loop in a daemon thread (so it can serve an
in-process ``Application`` *and* a bot running as a subprocess), and every wait inside it is
bounded.

Point PTB at it with::

    ApplicationBuilder().token(standin.token).base_url(standin.base_url)
        .base_file_url(standin.base_file_url)

(or simply ``standin.application_builder()``).  PTB then POSTs to ``/bot<TOKEN>/<method>`` with
form-encoded bodies (non-string values JSON-encoded) or ``multipart/form-data`` for uploads.

Test side: inject updates (``send_text``, ``send_command``, ``press_button``, ...), then observe
with ``await standin.next_bot_call(...)`` / ``await standin.wait_for(...)`` and inspect
``standin.messages(chat_id)``, ``standin.calls``, ``standin.photos(chat_id)`` and friends.
All test-side methods are thread-safe.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http import HTTPStatus
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Self, TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit

if TYPE_CHECKING:
    from telegram.ext import ApplicationBuilder

__all__ = [
    "BOT_FIRST_NAME",
    "BOT_ID",
    "BOT_USERNAME",
    "BUTTON_DATA_INVALID",
    "DEFAULT_GROUP_CHAT_ID",
    "DEFAULT_TOKEN",
    "MESSAGE_METHODS",
    "MESSAGE_NOT_MODIFIED",
    "MESSAGE_TOO_LONG",
    "MESSAGE_TO_EDIT_NOT_FOUND",
    "BotApiStandin",
    "RecordedCall",
    "StandinError",
    "StoredMessage",
    "UploadedFile",
]

_LOGGER = logging.getLogger(__name__)
_T = TypeVar("_T")

_HOST: Final = "127.0.0.1"  # never anything else

BOT_ID: Final = 1000
BOT_USERNAME: Final = "aomori_navi_test_bot"
BOT_FIRST_NAME: Final = "Navigator"
DEFAULT_TOKEN: Final = f"{BOT_ID}:standin-test-token"
DEFAULT_GROUP_CHAT_ID: Final = -4_000_000_001

MESSAGE_NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
BUTTON_DATA_INVALID: Final = "Bad Request: BUTTON_DATA_INVALID"
MESSAGE_TOO_LONG: Final = "Bad Request: message is too long"
MESSAGE_TO_EDIT_NOT_FOUND: Final = "Bad Request: message to edit not found"
MESSAGE_TEXT_EMPTY: Final = "Bad Request: message text is empty"
CAPTION_TOO_LONG: Final = "Bad Request: message caption is too long"
QUERY_ID_INVALID: Final = "Bad Request: query is too old and response timeout expired or query ID is invalid"
METHOD_NOT_FOUND: Final = "Not Found: method not found"
GET_UPDATES_CONFLICT: Final = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)
WEBHOOK_ACTIVE_CONFLICT: Final = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)

#: Methods that create or change a message; handy as ``next_bot_call(method=MESSAGE_METHODS)``.
MESSAGE_METHODS: Final = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "editMessageText", "editMessageReplyMarkup", "editMessageCaption"}
)

_MAX_TEXT_LENGTH: Final = 4096
_MAX_CAPTION_LENGTH: Final = 1024
_MAX_CALLBACK_DATA_BYTES: Final = 64
_MAX_BODY_BYTES: Final = 64 * 1024 * 1024
_MAX_POLL_TIMEOUT: Final = 50.0  # Telegram's own upper bound for long polling
_PREDICATE_RECHECK: Final = 0.02  # wait_for predicates may depend on state outside the stand-in

# Parameters whose (form-encoded) value is a plain string and must not be JSON-decoded.
_STRING_PARAMS: Final = frozenset(
    {
        "action",
        "business_connection_id",
        "callback_query_id",
        "caption",
        "description",
        "emoji",
        "file_id",
        "inline_message_id",
        "ip_address",
        "language_code",
        "message_effect_id",
        "name",
        "parse_mode",
        "photo",
        "query",
        "secret_token",
        "short_description",
        "text",
        "title",
        "url",
    }
)
_INLINE_BUTTON_ACTIONS: Final = frozenset(
    {
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    }
)
_CHAT_ACTIONS: Final = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_HTML_TAGS: Final = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
    }
)
_COMMAND_RE: Final = re.compile(r"^[a-z0-9_]{1,32}$")
_API_PATH_RE: Final = re.compile(r"^/bot(?P<token>[^/]*)/(?P<method>[A-Za-z0-9_]+)/?$")
_FILE_PATH_RE: Final = re.compile(r"^/file/bot(?P<token>[^/]*)/(?P<path>.+)$")


class StandinError(Exception):
    """Raised on misuse of the stand-in's test-side API (e.g. pressing a button that is not there)."""


@dataclass
class _FaultPlan:
    share: float
    kinds: tuple[str, ...]
    methods: set[str] | None
    rng: random.Random
    retry_after: int
    slow_seconds: float


class _ApiError(Exception):
    """Internal: a Bot API error reply (``ok: false``)."""

    def __init__(self, error_code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters


def _bad_request(description: str) -> _ApiError:
    return _ApiError(400, description)


@dataclass(frozen=True)
class UploadedFile:
    """One file part of a multipart request."""

    field_name: str
    filename: str | None
    content_type: str | None
    data: bytes


class _Keyboard:
    """Reading the inline keyboard of a recorded call or a stored message (both have ``reply_markup``)."""

    reply_markup: dict[str, Any] | None

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]]:
        """Rows of inline buttons (empty if there are none)."""
        return _inline_rows(self.reply_markup)

    @property
    def callback_data(self) -> list[str]:
        """All ``callback_data`` values of the inline keyboard, row by row."""
        return [b["callback_data"] for row in self.inline_keyboard for b in row if "callback_data" in b]

    @property
    def button_texts(self) -> list[str]:
        """All button labels of the inline keyboard, row by row."""
        return [str(b.get("text", "")) for row in self.inline_keyboard for b in row]


@dataclass(frozen=True)
class RecordedCall(_Keyboard):
    """One Bot API request received by the stand-in, with its decoded params and the reply sent."""

    index: int
    method: str
    params: dict[str, Any]
    chat_id: int | None
    ok: bool
    result: Any = None
    error_code: int | None = None
    description: str | None = None
    files: dict[str, UploadedFile] = field(default_factory=dict)
    timestamp: float = 0.0

    @property
    def text(self) -> str | None:
        """The ``text`` (or ``caption``) parameter, if any."""
        value = self.params.get("text", self.params.get("caption"))
        return value if isinstance(value, str) else None

    @property
    def reply_markup(self) -> dict[str, Any] | None:
        """The decoded ``reply_markup`` parameter, if any."""
        value = self.params.get("reply_markup")
        return value if isinstance(value, dict) else None



@dataclass
class StoredMessage(_Keyboard):
    """Current state of one message in a chat (bot-sent or injected user message)."""

    chat_id: int
    message_id: int
    from_bot: bool
    sender_id: int
    date: int
    kind: str
    text: str | None = None
    raw_text: str | None = None
    parse_mode: str | None = None
    caption: str | None = None
    reply_markup: dict[str, Any] | None = None
    photo: bool = False
    photo_bytes: bytes | None = None
    photo_file_id: str | None = None
    edit_date: int | None = None
    deleted: bool = False
    reply_to_message_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    history: list[tuple[str | None, dict[str, Any] | None]] = field(default_factory=list)


def _inline_rows(markup: dict[str, Any] | None) -> list[list[dict[str, Any]]]:
    if not isinstance(markup, dict):
        return []
    rows = markup.get("inline_keyboard")
    if not isinstance(rows, list):
        return []
    return [list(row) for row in rows if isinstance(row, list)]


def _inline_markup_or_none(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    """What Telegram keeps on a message: only a non-empty inline keyboard."""
    if isinstance(markup, dict) and any(_inline_rows(markup)):
        return {"inline_keyboard": _inline_rows(markup)}
    return None


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _decode_value(name: str, value: Any) -> Any:
    if not isinstance(value, str) or name in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _decode_params(raw: dict[str, Any]) -> dict[str, Any]:
    return {name: _decode_value(name, value) for name, value in raw.items()}


class _TelegramHtml(HTMLParser):
    """Validates Telegram-style HTML and extracts the plain text."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self._source = source
        self._lines = source.splitlines(keepends=True)
        self.parts: list[str] = []
        self.stack: list[str] = []
        self.error: str | None = None

    def _byte_offset(self) -> int:
        line, col = self.getpos()
        prefix = "".join(self._lines[: line - 1]) + (self._lines[line - 1][:col] if self._lines else "")
        return len(prefix.encode("utf-8"))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Validate an opening tag against Telegram's supported set."""
        if self.error:
            return
        if tag not in _HTML_TAGS:
            self.error = f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}'
            return
        if tag == "span" and dict(attrs).get("class") != "tg-spoiler":
            self.error = f'Tag "span" must have class "tg-spoiler" at byte offset {self._byte_offset()}'
            return
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Treat ``<tag/>`` as an opening plus a closing tag."""
        self.handle_starttag(tag, attrs)
        if not self.error:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        """Check that closing tags nest properly."""
        if self.error:
            return
        if not self.stack:
            self.error = f"Unexpected end tag at byte offset {self._byte_offset()}"
        elif self.stack[-1] != tag:
            self.error = (
                f'Unmatched end tag at byte offset {self._byte_offset()}, expected "</{self.stack[-1]}>", '
                f'found "</{tag}>"'
            )
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        """Collect the visible text."""
        self.parts.append(data)


def _render_text(raw: str, parse_mode: str | None) -> str:
    """Plain text of a message as Telegram stores it (HTML is validated and stripped)."""
    if parse_mode and parse_mode.upper() == "HTML":
        parser = _TelegramHtml(raw)
        parser.feed(raw)
        parser.close()
        if parser.error is None and parser.stack:
            parser.error = f'Can\'t find end tag corresponding to start tag "{parser.stack[-1]}"'
        if parser.error:
            raise _bad_request(f"Bad Request: can't parse entities: {parser.error}")
        return "".join(parser.parts).strip()
    # Markdown modes are stored verbatim (not rendered).
    return raw.strip()


def _validate_reply_markup(markup: Any) -> dict[str, Any] | None:
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _bad_request("Bad Request: can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        return markup
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad_request("Bad Request: can't parse reply keyboard markup JSON object")
    for row in rows:
        for button in row:
            if not isinstance(button, dict):
                raise _bad_request("Bad Request: can't parse inline keyboard button: Object expected")
            if not _INLINE_BUTTON_ACTIONS & button.keys():
                raise _bad_request(
                    "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                )
            if "callback_data" in button:
                data = button["callback_data"]
                if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= _MAX_CALLBACK_DATA_BYTES:
                    raise _bad_request(BUTTON_DATA_INVALID)
            if "url" in button:
                url = button["url"]
                if not isinstance(url, str) or not re.match(r"^(https?|tg)://\S+$", url):
                    raise _bad_request(f"Bad Request: inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
    return markup


def _parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, str], dict[str, UploadedFile]]:
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        raise _bad_request("Bad Request: can't parse multipart/form-data: boundary is missing")
    delimiter = b"--" + match.group(1).strip().encode("latin-1")
    fields: dict[str, str] = {}
    files: dict[str, UploadedFile] = {}
    for part in body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        part = part.removeprefix(b"\r\n").removesuffix(b"\r\n")
        head, sep, content = part.partition(b"\r\n\r\n")
        if not sep:
            continue
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        params = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', disposition))
        name = unquote(params.get("name", ""))
        if "filename" in params:
            files[name] = UploadedFile(
                field_name=name,
                filename=unquote(params["filename"]),
                content_type=headers.get("content-type"),
                data=content,
            )
        else:
            fields[name] = content.decode("utf-8")
    return fields, files


@dataclass
class _Chat:
    id: int
    type: str
    title: str | None = None
    user_id: int | None = None

    def to_dict(self, users: dict[int, dict[str, Any]]) -> dict[str, Any]:
        """The Bot API ``Chat`` object."""
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private":
            user = users.get(self.user_id or self.id, {})
            data["first_name"] = user.get("first_name", f"User{self.id}")
            for key in ("last_name", "username"):
                if user.get(key):
                    data[key] = user[key]
        else:
            data["title"] = self.title or "Test group"
        return data


@dataclass
class _CallbackQuery:
    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answered: bool = False


class BotApiStandin:
    """A local, in-memory Telegram Bot API server for end-to-end tests (binds 127.0.0.1 only)."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        port: int = 0,
        expected_token: str | None = None,
        strict_chats: bool = False,
        record_get_updates: bool = False,
        max_poll_timeout: float = _MAX_POLL_TIMEOUT,
        idle_connection_timeout: float = 120.0,
        max_lifetime: float | None = 3600.0,
    ) -> None:
        """Configure (not start) the stand-in; ``token`` is what ``application_builder`` uses."""
        self.token = token
        self._requested_port = port
        self._expected_token = expected_token
        self._strict_chats = strict_chats
        self._record_get_updates = record_get_updates
        self._max_poll_timeout = max(0.0, min(max_poll_timeout, _MAX_POLL_TIMEOUT))
        self._idle_timeout = idle_connection_timeout
        self._max_lifetime = max_lifetime

        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._async_waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

        # server/thread state
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._port: int | None = None
        self._conn_tasks: set[asyncio.Task[Any]] = set()

        # Bot API state (guarded by _lock)
        self._calls: list[RecordedCall] = []
        self._consumed: set[int] = set()
        self._unknown_methods: list[str] = []
        self._tokens_seen: set[str] = set()
        self._users: dict[int, dict[str, Any]] = {}
        self._chats: dict[int, _Chat] = {}
        self._messages: dict[int, dict[int, StoredMessage]] = {}
        self._next_message_id: dict[int, int] = {}
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._delivered_update_id = 0
        self._confirmed_update_id = 0
        self._poll_generation = 0
        self._get_updates_count = 0
        self._callback_ids = itertools.count(4_000_000_000_000_001)
        self._callback_queries: dict[str, _CallbackQuery] = {}
        self._answered_callback_ids: list[str] = []
        self._callback_answers: list[dict[str, Any]] = []
        self._file_ids = itertools.count(1)
        self._files: dict[str, tuple[bytes, str]] = {}
        self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._webhook: dict[str, Any] | None = None
        self._blocked_users: set[int] = set()
        self._injected_errors: dict[str, list[_ApiError]] = {}
        self._faults: _FaultPlan | None = None
        self._documents: dict[int, list[tuple[str, bytes]]] = {}
        self.faults: collections.Counter[str] = collections.Counter()  # faults injected, by kind
        self._handlers: dict[str, Callable[[dict[str, Any], dict[str, UploadedFile]], Any]] = {
            "getme": self._m_get_me,
            "logout": self._m_true,
            "close": self._m_true,
            "deletewebhook": self._m_delete_webhook,
            "setwebhook": self._m_set_webhook,
            "getwebhookinfo": self._m_get_webhook_info,
            "sendmessage": self._m_send_message,
            "sendphoto": self._m_send_photo,
            "senddocument": self._m_send_document,
            "editmessagetext": self._m_edit_message_text,
            "editmessagereplymarkup": self._m_edit_message_reply_markup,
            "editmessagecaption": self._m_edit_message_caption,
            "deletemessage": self._m_delete_message,
            "answercallbackquery": self._m_answer_callback_query,
            "sendchataction": self._m_send_chat_action,
            "setmycommands": self._m_set_my_commands,
            "deletemycommands": self._m_delete_my_commands,
            "getmycommands": self._m_get_my_commands,
            "getfile": self._m_get_file,
        }

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def start_in_thread(cls, **kwargs: Any) -> Self:
        """Create and start a stand-in (its server runs in a daemon thread); call ``stop()`` later."""
        standin = cls(**kwargs)
        standin.start()
        return standin

    def start(self, timeout: float = 10.0) -> Self:
        """Start serving in a background thread; returns once the port is bound."""
        with self._lock:
            if self._thread is not None:
                raise StandinError("BotApiStandin is already started")
            self._ready.clear()
            self._startup_error = None
            self._thread = threading.Thread(target=self._thread_main, name="botapi-standin", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            self.stop()
            raise StandinError("BotApiStandin did not start in time")
        if self._startup_error is not None:
            error = self._startup_error
            self.stop()
            raise StandinError(f"BotApiStandin failed to start: {error!r}") from error
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the server, close all connections and join the thread (idempotent)."""
        thread, loop, stop_event = self._thread, self._loop, self._stop_event
        if thread is None:
            return
        if loop is not None and stop_event is not None:
            with contextlib.suppress(RuntimeError):  # loop already closed
                loop.call_soon_threadsafe(stop_event.set)
        thread.join(timeout)
        if thread.is_alive():
            _LOGGER.warning("BotApiStandin thread did not stop within %.1fs", timeout)
        with self._lock:
            self._thread = None
            self._notify_locked()

    @property
    def running(self) -> bool:
        """Whether the server thread is alive."""
        thread = self._thread
        return thread is not None and thread.is_alive() and self._port is not None

    async def __aenter__(self) -> Self:
        """Start the stand-in (``async with BotApiStandin() as standin:``)."""
        return self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the stand-in."""
        self.stop()

    def __enter__(self) -> Self:
        """Start the stand-in (``with BotApiStandin() as standin:``)."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the stand-in."""
        self.stop()

    @property
    def port(self) -> int:
        """The bound TCP port on 127.0.0.1."""
        if self._port is None:
            raise StandinError("BotApiStandin is not started")
        return self._port

    @property
    def url(self) -> str:
        """Root URL, e.g. ``http://127.0.0.1:54321``."""
        return f"http://{_HOST}:{self.port}"

    @property
    def base_url(self) -> str:
        """Value for ``ApplicationBuilder.base_url`` (PTB appends the token)."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for ``ApplicationBuilder.base_file_url`` (PTB appends the token)."""
        return f"{self.url}/file/bot"

    def application_builder(self, token: str | None = None) -> ApplicationBuilder:
        """A PTB ``ApplicationBuilder`` already pointed at this stand-in."""
        from telegram.ext import ApplicationBuilder  # local import: module stays stdlib-only

        return ApplicationBuilder().token(token or self.token).base_url(self.base_url).base_file_url(self.base_file_url)

    def __repr__(self) -> str:
        """Short description with the URL."""
        where = f"http://{_HOST}:{self._port}" if self._port else "not started"
        return f"<BotApiStandin {where}>"

    # ------------------------------------------------------------------ notification / waiting

    def _notify_locked(self) -> None:
        self._cond.notify_all()
        for waiter in list(self._async_waiters):
            loop, event = waiter
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # that loop is closed
                self._async_waiters.discard(waiter)

    async def _await_ready(self, probe: Callable[[], _T | None], timeout: float, recheck: float | None = None) -> _T:
        """Await until ``probe()`` returns non-None (re-run on each state change, and every ``recheck``
        seconds if given); raises ``TimeoutError`` after ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        waiter = (loop, event)
        with self._lock:
            self._async_waiters.add(waiter)
        try:
            deadline = loop.time() + max(0.0, timeout)
            while True:
                event.clear()
                value = probe()
                if value is not None:
                    return value
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise TimeoutError
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(min(remaining, recheck) if recheck else remaining):
                        await event.wait()
        finally:
            with self._lock:
                self._async_waiters.discard(waiter)

    def _wait_ready_sync(self, probe: Callable[[], _T | None], timeout: float, recheck: float | None = None) -> _T:
        deadline = time.monotonic() + max(0.0, timeout)
        with self._cond:
            while True:
                value = probe()
                if value is not None:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError
                self._cond.wait(min(remaining, recheck) if recheck else remaining)

    async def wait_for(self, predicate: Callable[[], _T], timeout: float = 5.0, description: str | None = None) -> _T:
        """Await until the zero-argument ``predicate()`` is truthy (re-checked on state changes and every 20 ms)."""

        def probe() -> _T | None:
            value = predicate()
            return value if value else None

        try:
            return await self._await_ready(probe, timeout, recheck=_PREDICATE_RECHECK)
        except TimeoutError:
            raise TimeoutError(self._timeout_message(description or repr(predicate), timeout)) from None

    def wait_for_sync(self, predicate: Callable[[], _T], timeout: float = 5.0, description: str | None = None) -> _T:
        """Blocking variant of :meth:`wait_for` for synchronous tests and benchmarks."""

        def probe() -> _T | None:
            value = predicate()
            return value if value else None

        try:
            return self._wait_ready_sync(probe, timeout, recheck=_PREDICATE_RECHECK)
        except TimeoutError:
            raise TimeoutError(self._timeout_message(description or repr(predicate), timeout)) from None

    def _take_call(
        self, method: str | Iterable[str] | None, chat_id: int | None, include_errors: bool
    ) -> RecordedCall | None:
        methods = {method} if isinstance(method, str) else (set(method) if method is not None else None)
        with self._lock:
            for call in self._calls:
                if call.index in self._consumed:
                    continue
                if methods is not None and call.method not in methods:
                    continue
                if chat_id is not None and call.chat_id != chat_id:
                    continue
                if not include_errors and not call.ok:
                    continue
                self._consumed.add(call.index)
                return call
        return None

    async def next_bot_call(
        self,
        method: str | Iterable[str] | None = None,
        chat_id: int | None = None,
        timeout: float = 5.0,
        *,
        include_errors: bool = True,
    ) -> RecordedCall:
        """Await the oldest not-yet-taken recorded call matching ``method``/``chat_id`` and take it.

        Every call is handed out at most once, so "act, then await the next reply in that chat" is
        race-free even when the reply arrived before the await.  Non-matching calls stay available.
        ``answerCallbackQuery`` calls are attributed to the chat of the pressed message.
        """
        try:
            return await self._await_ready(lambda: self._take_call(method, chat_id, include_errors), timeout)
        except TimeoutError:
            what = f"bot call method={method!r} chat_id={chat_id!r}"
            raise TimeoutError(self._timeout_message(what, timeout)) from None

    def next_bot_call_sync(
        self,
        method: str | Iterable[str] | None = None,
        chat_id: int | None = None,
        timeout: float = 5.0,
        *,
        include_errors: bool = True,
    ) -> RecordedCall:
        """Blocking variant of :meth:`next_bot_call`."""
        try:
            return self._wait_ready_sync(lambda: self._take_call(method, chat_id, include_errors), timeout)
        except TimeoutError:
            what = f"bot call method={method!r} chat_id={chat_id!r}"
            raise TimeoutError(self._timeout_message(what, timeout)) from None

    def consume_all(self) -> None:
        """Mark every call recorded so far as taken (e.g. to skip start-up calls)."""
        with self._lock:
            self._consumed.update(call.index for call in self._calls)

    async def wait_updates_fetched(self, timeout: float = 5.0) -> None:
        """Await until the bot has fetched (via getUpdates) every update injected so far."""
        with self._lock:
            target = self._updates[-1]["update_id"] if self._updates else 0
        await self.wait_for(lambda: self._delivered_update_id >= target, timeout, f"updates up to {target} fetched")

    def _timeout_message(self, what: str, timeout: float) -> str:
        with self._lock:
            recent = [
                f"#{c.index} {c.method} chat={c.chat_id} ok={c.ok} {(c.text or c.description or '')[:60]!r}"
                for c in self._calls[-8:]
            ]
            pending = len(self._updates)
        lines = "\n  ".join(recent) or "(none)"
        return f"Timed out after {timeout}s waiting for {what}; pending updates={pending}; last calls:\n  {lines}"

    # ------------------------------------------------------------------ observation

    @property
    def calls(self) -> list[RecordedCall]:
        """Snapshot of all recorded Bot API calls in arrival order (getUpdates excluded by default)."""
        with self._lock:
            return list(self._calls)

    def calls_for(self, method: str | None = None, chat_id: int | None = None) -> list[RecordedCall]:
        """Recorded calls filtered by method name and/or chat id (does not consume them)."""
        with self._lock:
            return [
                c
                for c in self._calls
                if (method is None or c.method == method) and (chat_id is None or c.chat_id == chat_id)
            ]

    def messages(self, chat_id: int, *, include_user: bool = False) -> list[StoredMessage]:
        """Current (not deleted) messages in a chat, by message_id; bot messages only by default."""
        with self._lock:
            return [
                m for m in self._messages.get(chat_id, {}).values() if not m.deleted and (include_user or m.from_bot)
            ]

    def message(self, chat_id: int, message_id: int) -> StoredMessage | None:
        """One stored message (bot or user, deleted ones included) or ``None``."""
        with self._lock:
            return self._messages.get(chat_id, {}).get(message_id)

    def last_message(self, chat_id: int) -> StoredMessage | None:
        """The newest current bot message in a chat, or ``None``."""
        msgs = self.messages(chat_id)
        return msgs[-1] if msgs else None

    def photos(self, chat_id: int) -> list[bytes]:
        """Bytes of photos the bot uploaded to a chat (photos sent by URL have no bytes: skipped)."""
        with self._lock:
            return [
                m.photo_bytes
                for m in self._messages.get(chat_id, {}).values()
                if m.from_bot and m.photo and m.photo_bytes is not None
            ]

    @property
    def answered_callback_ids(self) -> list[str]:
        """Callback query ids answered by the bot, in answer order."""
        with self._lock:
            return list(self._answered_callback_ids)

    @property
    def callback_answers(self) -> list[dict[str, Any]]:
        """Decoded params of each successful answerCallbackQuery (text, show_alert, ...)."""
        with self._lock:
            return [dict(a) for a in self._callback_answers]

    @property
    def unknown_methods(self) -> list[str]:
        """Names of methods the stand-in does not implement that the bot called."""
        with self._lock:
            return list(self._unknown_methods)

    @property
    def tokens_seen(self) -> set[str]:
        """Bot tokens seen in request paths."""
        with self._lock:
            return set(self._tokens_seen)

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Injected updates not yet confirmed by a getUpdates offset."""
        with self._lock:
            return [json.loads(json.dumps(u)) for u in self._updates]

    @property
    def get_updates_count(self) -> int:
        """How many getUpdates requests were served."""
        with self._lock:
            return self._get_updates_count

    @property
    def webhook(self) -> dict[str, Any] | None:
        """Params of the active webhook (``setWebhook``), or ``None``."""
        with self._lock:
            return dict(self._webhook) if self._webhook else None

    def commands(self, scope: dict[str, Any] | None = None, language_code: str = "") -> list[dict[str, Any]]:
        """Bot commands currently set for a scope/language (default scope if ``None``)."""
        with self._lock:
            return [dict(c) for c in self._commands.get(self._commands_key(scope, language_code), [])]

    # ------------------------------------------------------------------ test-side control

    def add_user(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "ja",
    ) -> dict[str, Any]:
        """Register/replace a user (otherwise users are auto-created with ``language_code='ja'``)."""
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name or f"User{user_id}"}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        with self._lock:
            self._users[user_id] = user
            return dict(user)

    def block_bot(self, user_id: int, blocked: bool = True) -> None:
        """Simulate the user blocking (or unblocking) the bot: sends then fail with 403."""
        with self._lock:
            if blocked:
                self._blocked_users.add(user_id)
            else:
                self._blocked_users.discard(user_id)

    def fail_next(
        self,
        method: str,
        description: str = "Bad Request: injected error",
        error_code: int = 400,
        *,
        parameters: dict[str, Any] | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail with the given error (e.g. 429 retry_after)."""
        with self._lock:
            self._injected_errors.setdefault(method.lower(), []).extend(
                _ApiError(error_code, description, parameters) for _ in range(times)
            )

    def fault_plan(
        self,
        share: float,
        kinds: Iterable[str] = ("429", "502", "drop", "slow"),
        *,
        methods: Iterable[str] | None = None,
        seed: int = 1,
        retry_after: int = 1,
        slow_seconds: float = 1.0,
    ) -> None:
        """Make a share of Bot API calls (not getUpdates) misbehave as Telegram does, at random (seeded).

        Kinds: "429" (flood control with retry_after; not processed), "502" (bad gateway; not processed),
        "drop" (the connection closes without an answer; not processed), "slow" (answered after
        ``slow_seconds``, past a short client timeout; processed, so a retry can duplicate it).
        """
        with self._lock:
            self._faults = _FaultPlan(share, tuple(kinds), {m.lower() for m in methods} if methods else None,
                                      random.Random(seed), retry_after, slow_seconds)

    def clear_faults(self) -> None:
        """Stop injecting faults."""
        with self._lock:
            self._faults = None

    def _pick_fault(self, target: str) -> str | None:
        match = _API_PATH_RE.match(urlsplit(target).path)
        with self._lock:
            plan = self._faults
            if plan is None or match is None:
                return None
            method = match.group("method").lower()
            if method == "getupdates" or (plan.methods is not None and method not in plan.methods):
                return None
            if plan.rng.random() >= plan.share:
                return None
            kind = plan.rng.choice(plan.kinds)
            self.faults[kind] += 1
            return kind

    def inject_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw update dict (``update_id`` is assigned); returns a copy of the queued update."""
        with self._lock:
            update = dict(update)
            update["update_id"] = next(self._update_ids)
            self._updates.append(update)
            self._notify_locked()
            return json.loads(json.dumps(update))

    def send_text(
        self,
        user_id: int,
        text: str,
        chat_type: str = "private",
        *,
        chat_id: int | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Inject a text message from a user; returns the update dict."""
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        return self._inject_message(user_id, chat_type, chat_id, "text", content)

    def send_group_text(self, user_id: int, text: str, chat_id: int = DEFAULT_GROUP_CHAT_ID) -> dict[str, Any]:
        """Inject a text message from a user in a group chat (negative chat id)."""
        return self.send_text(user_id, text, "group", chat_id=chat_id)

    def send_command(
        self,
        user_id: int,
        command: str,
        args: str = "",
        chat_type: str = "private",
        *,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        """Inject ``/command [args]`` with a ``bot_command`` entity; returns the update dict."""
        command = command if command.startswith("/") else f"/{command}"
        text = f"{command} {args}".rstrip() if args else command
        entity = {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
        return self._inject_message(user_id, chat_type, chat_id, "text", {"text": text, "entities": [entity]})

    def send_sticker(
        self, user_id: int, emoji: str = "👍", chat_type: str = "private", *, chat_id: int | None = None
    ) -> dict[str, Any]:
        """Inject a sticker message; returns the update dict."""
        file_id, unique_id = self._register_file(b"STICKER", "stickers")
        sticker = {
            "file_id": file_id,
            "file_unique_id": unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": 7,
        }
        return self._inject_message(user_id, chat_type, chat_id, "sticker", {"sticker": sticker})

    def send_photo_from_user(
        self,
        user_id: int,
        data: bytes = b"\x89PNG\r\n\x1a\nstandin-user-photo",
        caption: str | None = None,
        chat_type: str = "private",
        *,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        """Inject a photo message (bytes downloadable via getFile); returns the update dict."""
        sizes = []
        for width, height in ((90, 90), (800, 600)):
            file_id, unique_id = self._register_file(data, "photos")
            sizes.append(
                {
                    "file_id": file_id,
                    "file_unique_id": unique_id,
                    "width": width,
                    "height": height,
                    "file_size": len(data),
                }
            )
        content: dict[str, Any] = {"photo": sizes}
        if caption is not None:
            content["caption"] = caption
        return self._inject_message(user_id, chat_type, chat_id, "photo", content)

    def send_voice(
        self,
        user_id: int,
        duration: int = 3,
        data: bytes = b"OggS-standin-voice",
        chat_type: str = "private",
        *,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        """Inject a voice message; returns the update dict."""
        file_id, unique_id = self._register_file(data, "voice")
        voice = {
            "file_id": file_id,
            "file_unique_id": unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": len(data),
        }
        return self._inject_message(user_id, chat_type, chat_id, "voice", {"voice": voice})

    def send_location(
        self,
        user_id: int,
        latitude: float = 40.8246,
        longitude: float = 140.7406,
        chat_type: str = "private",
        *,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        """Inject a location message (default: Aomori city); returns the update dict."""
        location = {"latitude": latitude, "longitude": longitude}
        return self._inject_message(user_id, chat_type, chat_id, "location", {"location": location})

    def press_button(
        self,
        user_id: int,
        message_id: int,
        callback_data: str,
        *,
        chat_id: int | None = None,
        strict: bool = True,
    ) -> str:
        """Inject a callback query for a bot message's inline button; returns the callback query id.

        With ``strict`` (default) the message must exist, be the bot's, and currently carry a button
        with exactly this ``callback_data`` — as with a real client.
        """
        with self._lock:
            user = self._user(user_id)
            chat_id = user_id if chat_id is None else chat_id
            stored = self._messages.get(chat_id, {}).get(message_id)
            if strict:
                if stored is None or stored.deleted:
                    raise StandinError(f"no message {message_id} in chat {chat_id}")
                if not stored.from_bot:
                    raise StandinError(f"message {message_id} in chat {chat_id} was not sent by the bot")
                if callback_data not in stored.callback_data:
                    raise StandinError(
                        f"message {message_id} in chat {chat_id} has no button with callback_data "
                        f"{callback_data!r}; available: {stored.callback_data!r}"
                    )
            query_id = str(next(self._callback_ids))
            query: dict[str, Any] = {
                "id": query_id,
                "from": dict(user),
                "chat_instance": str(abs(chat_id) * 7919 + 13),
                "data": callback_data,
            }
            if stored is not None and not stored.deleted:
                query["message"] = self._message_dict(stored)
            self._callback_queries[query_id] = _CallbackQuery(query_id, user_id, chat_id, message_id, callback_data)
        self.inject_update({"callback_query": query})
        return query_id

    # ------------------------------------------------------------------ internals: state helpers

    def _user(self, user_id: int) -> dict[str, Any]:
        user = self._users.get(user_id)
        if user is None:
            user = self.add_user(user_id)
        return user

    def _chat(self, chat_id: int, chat_type: str | None = None, user_id: int | None = None) -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            if chat_type is None:
                chat_type = "private" if chat_id > 0 else "group"
            chat = _Chat(chat_id, chat_type, user_id=user_id if chat_type == "private" else None)
            self._chats[chat_id] = chat
        return chat

    def _allocate_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def _register_file(self, data: bytes, folder: str) -> tuple[str, str]:
        with self._lock:
            n = next(self._file_ids)
            file_id = f"AgAC-standin-file-{n}"
            self._files[file_id] = (data, f"{folder}/file_{n}")
            return file_id, f"AQAD-standin-u{n}"

    def _inject_message(
        self, user_id: int, chat_type: str, chat_id: int | None, kind: str, content: dict[str, Any]
    ) -> dict[str, Any]:
        with self._lock:
            user = self._user(user_id)
            if chat_id is None:
                chat_id = user_id if chat_type == "private" else DEFAULT_GROUP_CHAT_ID
            if chat_type == "private" and chat_id != user_id:
                raise StandinError("a private chat's id must equal the user's id")
            if chat_type != "private" and chat_id >= 0:
                raise StandinError("group chats need a negative chat id")
            chat = self._chat(chat_id, chat_type, user_id)
            message_id = self._allocate_message_id(chat_id)
            date = int(time.time())
            stored = StoredMessage(
                chat_id=chat_id,
                message_id=message_id,
                from_bot=False,
                sender_id=user_id,
                date=date,
                kind=kind,
                text=content.get("text"),
                raw_text=content.get("text"),
                caption=content.get("caption"),
                photo=kind == "photo",
                extra={k: v for k, v in content.items() if k not in ("text", "caption")},
            )
            self._messages.setdefault(chat_id, {})[message_id] = stored
            message = {
                "message_id": message_id,
                "from": dict(user),
                "chat": chat.to_dict(self._users),
                "date": date,
                **json.loads(json.dumps(content)),
            }
            return self.inject_update({"message": message})

    def _message_dict(self, m: StoredMessage, *, with_reply: bool = True) -> dict[str, Any]:
        chat = self._chat(m.chat_id)
        sender = self._bot_user() if m.from_bot else dict(self._user(m.sender_id))
        data: dict[str, Any] = {
            "message_id": m.message_id,
            "from": sender,
            "chat": chat.to_dict(self._users),
            "date": m.date,
        }
        if m.edit_date is not None:
            data["edit_date"] = m.edit_date
        if m.text is not None:
            data["text"] = m.text
        if m.photo and m.from_bot:
            data["photo"] = [
                {
                    "file_id": m.photo_file_id or "AgAC-standin-url-photo",
                    "file_unique_id": f"AQAD-standin-{m.chat_id}-{m.message_id}",
                    "width": 800,
                    "height": 600,
                    "file_size": len(m.photo_bytes or b""),
                }
            ]
        if m.caption is not None:
            data["caption"] = m.caption
        data.update(json.loads(json.dumps(m.extra)))
        markup = _inline_markup_or_none(m.reply_markup)
        if markup is not None:
            data["reply_markup"] = markup
        if with_reply and m.reply_to_message_id is not None:
            replied = self._messages.get(m.chat_id, {}).get(m.reply_to_message_id)
            if replied is not None:
                data["reply_to_message"] = self._message_dict(replied, with_reply=False)
        return data

    @staticmethod
    def _bot_user() -> dict[str, Any]:
        return {"id": BOT_ID, "is_bot": True, "first_name": BOT_FIRST_NAME, "username": BOT_USERNAME}

    @staticmethod
    def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
        scope = scope if isinstance(scope, dict) else {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(language_code or "")

    # ------------------------------------------------------------------ internals: Bot API methods

    def _target_chat(self, params: dict[str, Any]) -> _Chat:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _bad_request("Bad Request: chat_id is empty")
        if isinstance(chat_id, bool) or not isinstance(chat_id, int):
            raise _bad_request("Bad Request: chat not found")
        if chat_id not in self._chats and self._strict_chats:
            raise _bad_request("Bad Request: chat not found")
        chat = self._chat(chat_id)
        if chat.type == "private" and chat.id in self._blocked_users:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _existing_message(self, params: dict[str, Any], not_found: str) -> StoredMessage:
        chat = self._target_chat(params)
        message_id = params.get("message_id")
        if not isinstance(message_id, int) or isinstance(message_id, bool):
            raise _bad_request("Bad Request: message identifier is not specified")
        stored = self._messages.get(chat.id, {}).get(message_id)
        if stored is None or stored.deleted:
            raise _bad_request(not_found)
        return stored

    def _reply_to(self, chat_id: int, params: dict[str, Any]) -> int | None:
        reply = params.get("reply_parameters")
        if isinstance(reply, dict):
            message_id, allow = reply.get("message_id"), reply.get("allow_sending_without_reply", False)
        elif params.get("reply_to_message_id") is not None:
            message_id = params.get("reply_to_message_id")
            allow = params.get("allow_sending_without_reply", False)
        else:
            return None
        stored = self._messages.get(chat_id, {}).get(message_id) if isinstance(message_id, int) else None
        if stored is None or stored.deleted:
            if allow:
                return None
            raise _bad_request("Bad Request: message to be replied not found")
        return stored.message_id

    def _checked_text(self, params: dict[str, Any]) -> tuple[str, str, str | None]:
        raw = params.get("text")
        if not isinstance(raw, str) or not raw.strip():
            raise _bad_request(MESSAGE_TEXT_EMPTY)
        parse_mode = params.get("parse_mode") if isinstance(params.get("parse_mode"), str) else None
        plain = _render_text(raw, parse_mode)
        if not plain:
            raise _bad_request(MESSAGE_TEXT_EMPTY)
        if _utf16_len(plain) > _MAX_TEXT_LENGTH:
            raise _bad_request(MESSAGE_TOO_LONG)
        return plain, raw, parse_mode

    def _checked_caption(self, params: dict[str, Any]) -> tuple[str | None, str | None]:
        raw = params.get("caption")
        if raw is None or raw == "":
            return None, None
        if not isinstance(raw, str):
            raw = str(raw)
        parse_mode = params.get("parse_mode") if isinstance(params.get("parse_mode"), str) else None
        plain = _render_text(raw, parse_mode)
        if _utf16_len(plain) > _MAX_CAPTION_LENGTH:
            raise _bad_request(CAPTION_TOO_LONG)
        return plain or None, raw

    def _m_true(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        return True

    def _m_get_me(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _m_delete_webhook(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        self._webhook = None
        if params.get("drop_pending_updates") is True:
            self._updates.clear()
        return True

    def _m_set_webhook(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        url = params.get("url")
        if not url:
            return self._m_delete_webhook(params, files)
        if not isinstance(url, str) or not url.startswith("https://"):
            raise _bad_request("Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        self._webhook = {k: v for k, v in params.items() if k != "certificate"}
        if params.get("drop_pending_updates") is True:
            self._updates.clear()
        return True

    def _m_get_webhook_info(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        return {
            "url": (self._webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    def _m_send_message(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        chat = self._target_chat(params)
        plain, raw, parse_mode = self._checked_text(params)
        markup = _validate_reply_markup(params.get("reply_markup"))
        reply_to = self._reply_to(chat.id, params)
        stored = StoredMessage(
            chat_id=chat.id,
            message_id=self._allocate_message_id(chat.id),
            from_bot=True,
            sender_id=BOT_ID,
            date=int(time.time()),
            kind="text",
            text=plain,
            raw_text=raw,
            parse_mode=parse_mode,
            reply_markup=markup,
            reply_to_message_id=reply_to,
        )
        stored.history.append((plain, _inline_markup_or_none(markup)))
        self._messages.setdefault(chat.id, {})[stored.message_id] = stored
        return self._message_dict(stored)

    def _m_send_photo(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        chat = self._target_chat(params)
        photo_param = params.get("photo")
        upload: UploadedFile | None = None
        if isinstance(photo_param, str) and photo_param.startswith("attach://"):
            upload = files.get(photo_param.removeprefix("attach://"))
        elif "photo" in files:
            upload = files["photo"]
        data: bytes | None
        if upload is not None:
            data = upload.data
        elif isinstance(photo_param, str) and photo_param in self._files:
            data = self._files[photo_param][0]
        elif isinstance(photo_param, str) and re.match(r"^https?://", photo_param):
            data = None  # never fetched: the stand-in touches no network
        elif photo_param:
            raise _bad_request("Bad Request: wrong file identifier/HTTP URL specified")
        else:
            raise _bad_request("Bad Request: there is no photo in the request")
        if data is not None and not data:
            raise _bad_request("Bad Request: file must be non-empty")
        caption, raw_caption = self._checked_caption(params)
        markup = _validate_reply_markup(params.get("reply_markup"))
        reply_to = self._reply_to(chat.id, params)
        file_id = self._register_file(data, "photos")[0] if data is not None else None
        stored = StoredMessage(
            chat_id=chat.id,
            message_id=self._allocate_message_id(chat.id),
            from_bot=True,
            sender_id=BOT_ID,
            date=int(time.time()),
            kind="photo",
            caption=caption,
            raw_text=raw_caption,
            parse_mode=params.get("parse_mode") if isinstance(params.get("parse_mode"), str) else None,
            reply_markup=markup,
            photo=True,
            photo_bytes=data,
            photo_file_id=file_id,
            reply_to_message_id=reply_to,
        )
        stored.history.append((caption, _inline_markup_or_none(markup)))
        self._messages.setdefault(chat.id, {})[stored.message_id] = stored
        return self._message_dict(stored)

    def _m_send_document(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        chat = self._target_chat(params)
        param = params.get("document")
        upload = files.get(param.removeprefix("attach://")) if isinstance(param, str) and param.startswith(
            "attach://") else files.get("document")
        if upload is None or not upload.data:
            raise _bad_request("Bad Request: there is no document in the request")
        caption, raw_caption = self._checked_caption(params)
        markup = _validate_reply_markup(params.get("reply_markup"))
        file_id = self._register_file(upload.data, "documents")[0]
        stored = StoredMessage(
            chat_id=chat.id, message_id=self._allocate_message_id(chat.id), from_bot=True, sender_id=BOT_ID,
            date=int(time.time()), kind="document", caption=caption, raw_text=raw_caption, reply_markup=markup,
            extra={"document": {"file_id": file_id, "file_unique_id": f"AQAD-doc-{chat.id}",
                                "file_name": upload.filename or "file", "file_size": len(upload.data)}},
        )
        stored.history.append((caption, _inline_markup_or_none(markup)))
        self._messages.setdefault(chat.id, {})[stored.message_id] = stored
        self._documents.setdefault(chat.id, []).append((upload.filename or "", upload.data))
        return self._message_dict(stored)

    def documents(self, chat_id: int) -> list[tuple[str, bytes]]:
        """(file name, bytes) of the documents the bot sent to a chat, in order."""
        with self._lock:
            return list(self._documents.get(chat_id, []))

    def _editable(self, params: dict[str, Any]) -> StoredMessage:
        stored = self._existing_message(params, MESSAGE_TO_EDIT_NOT_FOUND)
        if not stored.from_bot:
            raise _bad_request("Bad Request: message can't be edited")
        return stored

    def _m_edit_message_text(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        plain, raw, parse_mode = self._checked_text(params)
        markup = _validate_reply_markup(params.get("reply_markup"))
        if params.get("inline_message_id"):
            return True
        stored = self._editable(params)
        if stored.text is None:
            raise _bad_request("Bad Request: there is no text in the message to edit")
        new_inline = _inline_markup_or_none(markup)
        if (plain, raw) == (stored.text, stored.raw_text) and new_inline == _inline_markup_or_none(stored.reply_markup):
            raise _bad_request(MESSAGE_NOT_MODIFIED)
        stored.text, stored.raw_text, stored.parse_mode = plain, raw, parse_mode
        stored.reply_markup = new_inline
        stored.edit_date = int(time.time())
        stored.history.append((plain, new_inline))
        return self._message_dict(stored)

    def _m_edit_message_caption(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        caption, raw = self._checked_caption(params)
        markup = _validate_reply_markup(params.get("reply_markup"))
        if params.get("inline_message_id"):
            return True
        stored = self._editable(params)
        if not stored.photo:
            raise _bad_request("Bad Request: there is no caption in the message to edit")
        new_inline = _inline_markup_or_none(markup)
        if caption == stored.caption and new_inline == _inline_markup_or_none(stored.reply_markup):
            raise _bad_request(MESSAGE_NOT_MODIFIED)
        stored.caption, stored.raw_text = caption, raw
        stored.reply_markup = new_inline
        stored.edit_date = int(time.time())
        stored.history.append((caption, new_inline))
        return self._message_dict(stored)

    def _m_edit_message_reply_markup(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        markup = _validate_reply_markup(params.get("reply_markup"))
        if params.get("inline_message_id"):
            return True
        stored = self._editable(params)
        new_inline = _inline_markup_or_none(markup)
        if new_inline == _inline_markup_or_none(stored.reply_markup):
            raise _bad_request(MESSAGE_NOT_MODIFIED)
        stored.reply_markup = new_inline
        stored.edit_date = int(time.time())
        stored.history.append((stored.text if stored.text is not None else stored.caption, new_inline))
        return self._message_dict(stored)

    def _m_delete_message(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        stored = self._existing_message(params, "Bad Request: message to delete not found")
        stored.deleted = True
        return True

    def _m_answer_callback_query(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        query_id = params.get("callback_query_id")
        query = self._callback_queries.get(query_id) if isinstance(query_id, str) else None
        if query is None or query.answered:
            raise _bad_request(QUERY_ID_INVALID)
        text = params.get("text")
        if isinstance(text, str) and _utf16_len(text) > 200:
            raise _bad_request("Bad Request: MESSAGE_TOO_LONG")
        query.answered = True
        self._answered_callback_ids.append(query.id)
        self._callback_answers.append(dict(params))
        return True

    def _m_send_chat_action(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        self._target_chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad_request("Bad Request: wrong parameter action in request")
        return True

    def _m_set_my_commands(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad_request("Bad Request: can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_RE.match(str(command.get("command", ""))):
                raise _bad_request("Bad Request: BOT_COMMAND_INVALID")
            description = command.get("description")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise _bad_request("Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        if commands:
            self._commands[key] = [{"command": c["command"], "description": c["description"]} for c in commands]
        else:
            self._commands.pop(key, None)
        return True

    def _m_delete_my_commands(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        self._commands.pop(self._commands_key(params.get("scope"), params.get("language_code")), None)
        return True

    def _m_get_my_commands(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> list[Any]:
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        return [dict(c) for c in self._commands.get(key, [])]

    def _m_get_file(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        file_id = params.get("file_id")
        entry = self._files.get(file_id) if isinstance(file_id, str) else None
        if entry is None:
            raise _bad_request("Bad Request: invalid file_id")
        data, path = entry
        return {
            "file_id": file_id,
            "file_unique_id": f"AQAD-standin-{path.rsplit('_', 1)[-1]}",
            "file_size": len(data),
            "file_path": path,
        }

    async def _m_get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = params.get("offset")
        limit = params.get("limit", 100)
        timeout = params.get("timeout", 0)
        limit = max(1, min(100, limit if isinstance(limit, int) else 100))
        timeout_s = float(timeout) if isinstance(timeout, int | float) and not isinstance(timeout, bool) else 0.0
        timeout_s = max(0.0, min(timeout_s, self._max_poll_timeout))
        with self._lock:
            self._get_updates_count += 1
            if self._webhook is not None:
                raise _ApiError(409, WEBHOOK_ACTIVE_CONFLICT)
            if isinstance(offset, int) and not isinstance(offset, bool):
                if offset < 0:
                    del self._updates[: max(0, len(self._updates) + offset)]
                else:
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                    self._confirmed_update_id = max(self._confirmed_update_id, offset - 1)
            # A newer getUpdates terminates an older, still pending one (as Telegram does).
            self._poll_generation += 1
            generation = self._poll_generation
            self._notify_locked()

        def probe() -> list[dict[str, Any]] | _ApiError | None:
            with self._lock:
                if generation != self._poll_generation:
                    return _ApiError(409, GET_UPDATES_CONFLICT)
                batch = self._updates[:limit]
                if not batch:
                    return None
                self._delivered_update_id = max(self._delivered_update_id, batch[-1]["update_id"])
                self._notify_locked()
                return json.loads(json.dumps(batch))

        try:
            outcome = await self._await_ready(probe, timeout_s)
        except TimeoutError:
            return []
        if isinstance(outcome, _ApiError):
            raise outcome
        return outcome

    # ------------------------------------------------------------------ internals: HTTP server

    def _thread_main(self) -> None:
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:
            if not self._ready.is_set():
                self._startup_error = exc
            else:
                _LOGGER.exception("BotApiStandin server crashed")
        finally:
            self._ready.set()
            with contextlib.suppress(Exception):
                loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            self._loop = None
            self._port = None

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        server = await asyncio.start_server(self._handle_connection, host=_HOST, port=self._requested_port)
        self._port = server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._max_lifetime):
                    await self._stop_event.wait()
        finally:
            server.close()
            tasks = list(self._conn_tasks)
            for task in tasks:
                task.cancel()
            if tasks:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(3):
                        await asyncio.gather(*tasks, return_exceptions=True)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(3):
                    await server.wait_closed()

    async def _handle_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._conn_tasks.add(task)
        try:
            await self._serve_connection(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            pass
        except asyncio.CancelledError:
            pass
        except Exception:
            _LOGGER.exception("BotApiStandin: error while serving a connection")
        finally:
            if task is not None:
                self._conn_tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                async with asyncio.timeout(1):
                    await writer.wait_closed()

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                async with asyncio.timeout(self._idle_timeout):
                    head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                return  # client closed the keep-alive connection
            lines = head.decode("latin-1").split("\r\n")
            try:
                http_method, target, version = lines[0].split(" ", 2)
            except ValueError:
                await self._write_response(
                    writer, 400, {"ok": False, "error_code": 400, "description": "Bad Request"}, False
                )
                return
            headers: dict[str, str] = {}
            for line in lines[1:]:
                if not line:
                    continue
                key, _, value = line.partition(":")
                key = key.strip().lower()
                headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
            async with asyncio.timeout(60):
                body = await self._read_body(reader, headers)
            connection = headers.get("connection", "").lower()
            keep_alive = "close" not in connection if version.upper() == "HTTP/1.1" else "keep-alive" in connection
            fault = self._pick_fault(target)
            if fault == "drop":
                return  # the connection closes with no answer
            if fault in ("429", "502"):
                plan = self._faults
                error = (_ApiError(429, f"Too Many Requests: retry after {plan.retry_after if plan else 1}",
                                   {"retry_after": plan.retry_after if plan else 1})
                         if fault == "429" else _ApiError(502, "Bad Gateway"))
                payload: dict[str, Any] = {"ok": False, "error_code": error.error_code,
                                           "description": error.description}
                if error.parameters:
                    payload["parameters"] = error.parameters
                await self._write_response(writer, error.error_code, payload, keep_alive)
                if not keep_alive:
                    return
                continue
            if fault == "slow" and self._faults is not None:
                await asyncio.sleep(self._faults.slow_seconds)
            status, payload = await self._route(http_method.upper(), target, headers, body)
            await self._write_response(writer, status, payload, keep_alive)
            if not keep_alive:
                return

    @staticmethod
    async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            chunks = bytearray()
            while True:
                size_line = await reader.readuntil(b"\r\n")
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while await reader.readuntil(b"\r\n") != b"\r\n":
                        pass
                    return bytes(chunks)
                if len(chunks) + size > _MAX_BODY_BYTES:
                    raise ConnectionError("request body too large")
                chunks += await reader.readexactly(size)
                await reader.readexactly(2)
        length = int(headers.get("content-length", "0") or 0)
        if length > _MAX_BODY_BYTES:
            raise ConnectionError("request body too large")
        return await reader.readexactly(length) if length else b""

    @staticmethod
    async def _write_response(
        writer: asyncio.StreamWriter, status: int, payload: dict[str, Any] | bytes, keep_alive: bool
    ) -> None:
        if isinstance(payload, bytes):
            body, content_type = payload, "application/octet-stream"
        else:
            body, content_type = json.dumps(payload, ensure_ascii=False).encode("utf-8"), "application/json"
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
        head = (
            f"HTTP/1.1 {status} {reason}\r\n"
            "Server: botapi-standin\r\n"
            f"Content-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n"
            "\r\n"
        )
        writer.write(head.encode("latin-1") + body)
        await writer.drain()

    async def _route(
        self, http_method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any] | bytes]:
        split = urlsplit(target)
        path = split.path
        if match := _FILE_PATH_RE.match(path):
            return self._serve_file(unquote(match.group("path")))
        match = _API_PATH_RE.match(path)
        if match is None or http_method not in ("GET", "POST") or not match.group("token"):
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        raw: dict[str, Any] = dict(parse_qsl(split.query, keep_blank_values=True))
        files: dict[str, UploadedFile] = {}
        content_type = headers.get("content-type", "")
        try:
            if content_type.startswith("multipart/form-data"):
                fields, files = _parse_multipart(body, content_type)
                raw.update(fields)
            elif content_type.startswith("application/json") and body:
                decoded = json.loads(body)
                if not isinstance(decoded, dict):
                    raise _bad_request("Bad Request: parameters must be a JSON object")
                raw.update(decoded)
            elif body:
                raw.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except _ApiError as exc:
            return exc.error_code, {"ok": False, "error_code": exc.error_code, "description": exc.description}
        except ValueError:
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: can't parse request"}
        return await self._dispatch(match.group("token"), match.group("method"), raw, files)

    def _serve_file(self, file_path: str) -> tuple[int, dict[str, Any] | bytes]:
        with self._lock:
            for data, path in self._files.values():
                if path == file_path:
                    return 200, data
        return 404, {"ok": False, "error_code": 404, "description": "Not Found"}

    async def _dispatch(
        self, token: str, method: str, raw: dict[str, Any], files: dict[str, UploadedFile]
    ) -> tuple[int, dict[str, Any]]:
        params = _decode_params(raw)
        key = method.lower()
        with self._lock:
            self._tokens_seen.add(token)
            error: _ApiError | None = None
            if self._expected_token is not None and token != self._expected_token:
                error = _ApiError(401, "Unauthorized")
            elif self._injected_errors.get(key):
                error = self._injected_errors[key].pop(0)
            elif key not in self._handlers and key != "getupdates":
                error = _ApiError(404, METHOD_NOT_FOUND)
                self._unknown_methods.append(method)
            if error is not None:
                return self._finish(method, params, files, None, error, record=True)
            if key != "getupdates":
                try:
                    result = self._handlers[key](params, files)
                except _ApiError as exc:
                    return self._finish(method, params, files, None, exc, record=True)
                return self._finish(method, params, files, result, None, record=True)
        try:
            updates = await self._m_get_updates(params)
        except _ApiError as exc:
            with self._lock:
                return self._finish(method, params, files, None, exc, record=self._record_get_updates)
        with self._lock:
            return self._finish(method, params, files, updates, None, record=self._record_get_updates)

    def _finish(
        self,
        method: str,
        params: dict[str, Any],
        files: dict[str, UploadedFile],
        result: Any,
        error: _ApiError | None,
        *,
        record: bool,
    ) -> tuple[int, dict[str, Any]]:
        """Record the call (caller holds the lock) and build the HTTP status and JSON reply."""
        if record:
            chat_id = params.get("chat_id")
            if not isinstance(chat_id, int) or isinstance(chat_id, bool):
                chat_id = None
            if method.lower() == "answercallbackquery":
                query = self._callback_queries.get(str(params.get("callback_query_id")))
                chat_id = query.chat_id if query else None
            self._calls.append(
                RecordedCall(
                    index=len(self._calls),
                    method=method,
                    params=params,
                    chat_id=chat_id,
                    ok=error is None,
                    result=json.loads(json.dumps(result)) if error is None else None,
                    error_code=error.error_code if error else None,
                    description=error.description if error else None,
                    files=dict(files),
                    timestamp=time.time(),
                )
            )
            self._notify_locked()
        if error is None:
            return 200, {"ok": True, "result": result}
        reply: dict[str, Any] = {"ok": False, "error_code": error.error_code, "description": error.description}
        if error.parameters:
            reply["parameters"] = error.parameters
        return error.error_code, reply
