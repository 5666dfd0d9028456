"""The LINE adapter: LINE webhook events into dialogue events, the engine's outcomes into LINE messages.

Nothing here decides what to say. The webhook server (aiohttp) checks each request in order — declared size,
then `X-Line-Signature` (HMAC-SHA256 of the raw body with the channel secret, through the SDK's validator) —
before reading a single event; a missing or wrong signature gets 400 and nothing is processed. Each event is
written to the inbox (`EventInbox`) before LINE hears 200, so a crash loses none, and is handled once: a
redelivered event (same `webhookEventId`) is dropped. Events are handled off the request path, one person's in
the order they came.

Replies use the event's reply token first (free, and the answer LINE expects); when the token has expired (the
bot was down, or the work took long) or LINE refuses it, the same messages are pushed instead, with a retry key so
that a retried push is never shown twice.

Privacy: LINE user ids become pseudonymous keys like Telegram's (HMAC with the data folder's key, under the
`line:` namespace); typed text is never stored beyond the inbox's few seconds, and never logged.
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
import signal
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import (
    AsyncApiClient,
    AsyncMessagingApi,
    Configuration,
    Message,
    PushMessageRequest,
    ReplyMessageRequest,
    ShowLoadingAnimationRequest,
    TextMessage,
)
from linebot.v3.messaging.exceptions import ApiException
from linebot.v3.webhook import SignatureValidator
from linebot.v3.webhooks import (
    Event as LineEvent,
)
from linebot.v3.webhooks import (
    FollowEvent,
    GroupSource,
    JoinEvent,
    MessageEvent,
    PostbackEvent,
    RoomSource,
    TextMessageContent,
    UnfollowEvent,
    UserMentionee,
    UserSource,
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
)
from ..dialogue import unpack_callback as unpack_postback
from ..storage import EventInbox
from .line_media import MEDIA_ROUTE, MediaStore
from .line_messages import LinePicture, batches, reply_messages
from .ordering import KeyedLocks
from .startup import configure_logging, open_navigator

if TYPE_CHECKING:
    from ..app import Navigator

log = logging.getLogger(__name__)

WEBHOOK_ROUTE = "/line/webhook"
SIGNATURE_HEADER = "X-Line-Signature"
REPLY_WINDOW = dt.timedelta(seconds=50)  # a reply token older than this is not tried (LINE: about a minute)
STAFF_COMMANDS = frozenset({"reload", "stats"})
HOUSEKEEPING_INTERVAL = 3600.0
SHUTDOWN_GRACE = 10.0  # seconds given to events in progress when the server stops
_COMMAND = re.compile(r"/([A-Za-z_]{1,32})(?:@\S+)?(?:\s+(.*))?", re.DOTALL)
_USER_SALT = secrets.token_bytes(16)  # per process, for log lines only
MISSING_CREDENTIALS = (
    "The LINE channel needs NAVIGATOR_LINE_CHANNEL_SECRET and NAVIGATOR_LINE_CHANNEL_ACCESS_TOKEN (LINE Developers "
    "console → your Messaging API channel: Basic settings → Channel secret; Messaging API → Channel access token).\n"
    "LINE で動かすには NAVIGATOR_LINE_CHANNEL_SECRET と NAVIGATOR_LINE_CHANNEL_ACCESS_TOKEN が必要です"
    "（LINE Developers コンソールの Messaging API チャネル：チャネル基本設定 → チャネルシークレット、"
    "Messaging API設定 → チャネルアクセストークン）。"
)


def _user_tag(user_id: str | None) -> str:
    if not user_id:
        return "-"
    return hashlib.blake2s(user_id.encode(), key=_USER_SALT, digest_size=4).hexdigest()


def quiet_library_logging() -> None:
    """Keep the SDK's debug lines (request and response bodies: what people typed and were told) out of the logs."""
    logging.getLogger("linebot").setLevel(max(logging.INFO, logging.getLogger().getEffectiveLevel()))


def listening_prefix(public_url: str | None) -> str:
    """Return the path prefix the server listens under: the public URL's own path (a reverse proxy's prefix)."""
    prefix = urlsplit(public_url or "").path.strip("/")
    return f"/{prefix}" if prefix else ""


def text_event(text: str) -> Event:
    """Turn typed text into an event: /commands as on Telegram (`/kpi csv`), anything else as typed text."""
    match = _COMMAND.fullmatch(text.strip())
    if match is None:
        return TextTyped(text)
    name = match.group(1).lower()
    return Start() if name == "start" else CommandIssued(name, (match.group(2) or "").strip())


class LineSender:
    """Reply and push calls with retries: 429, 5xx, timeouts and lost connections are retried with backoff."""

    def __init__(self, api: AsyncMessagingApi, settings: Settings) -> None:
        self._api = api
        self._retries = settings.send_retries
        self._backoff = settings.retry_backoff
        self._timeout = settings.api_timeout

    async def reply(self, token: str, messages: list[Message]) -> bool:
        """Send with the reply token; False when LINE refuses the token (expired or used) or every retry failed."""
        request = ReplyMessageRequest(replyToken=token, messages=messages)
        return await self._call("reply", lambda: self._api.reply_message(request, _request_timeout=self._timeout))

    async def push(self, to: str, messages: list[Message]) -> bool:
        """Push to a user; one retry key for every attempt, so LINE shows the messages once. False if it failed."""
        request = PushMessageRequest(to=to, messages=messages)
        key = str(uuid.uuid4())
        return await self._call("push", lambda: self._api.push_message(request, x_line_retry_key=key,
                                                                         _request_timeout=self._timeout))

    async def loading(self, chat_id: str) -> None:
        """Show the typing dots while a picture is drawn (best effort: one try, errors ignored)."""
        with contextlib.suppress(ApiException, aiohttp.ClientError, TimeoutError):
            await self._api.show_loading_animation(ShowLoadingAnimationRequest(chatId=chat_id, loadingSeconds=20),
                                                   _request_timeout=self._timeout)

    async def _call(self, what: str, send: Callable[[], Awaitable[object]]) -> bool:
        delay = self._backoff
        for attempt in range(self._retries + 1):
            try:
                await send()
                return True
            except ApiException as error:
                status = error.status or 0
                if what == "push" and status == 409:  # the same retry key was accepted before: delivered
                    return True
                if status != 429 and status < 500:
                    log.info("line_%s_refused status=%d", what, status)  # the body may quote data: not logged
                    return False
                reason = f"status={status}"
            except (aiohttp.ClientError, TimeoutError) as error:
                reason = type(error).__name__
            if attempt < self._retries:
                log.warning("line_%s_retry attempt=%d reason=%s", what, attempt + 1, reason)
                await asyncio.sleep(delay)
                delay *= 2
        log.error("line_%s_failed reason=%s", what, reason)
        return False


class LineAdapter:
    """Receives signed webhook bodies, hands events to the navigator in order, sends the replies."""

    def __init__(self, settings: Settings, navigator: Navigator, api: AsyncMessagingApi) -> None:
        assert settings.line_channel_secret
        self.settings = settings
        self.navigator = navigator
        self.inbox = EventInbox(navigator.store, "line")
        self.media = MediaStore(settings.data_dir / "line-media", settings.line_public_url,
                                dt.timedelta(hours=settings.line_media_ttl_hours))
        self.sender = LineSender(api, settings)
        self._signatures = SignatureValidator(settings.line_channel_secret)
        self._locks = KeyedLocks()
        self._tasks: set[asyncio.Task[None]] = set()
        self._timers: list[asyncio.Task[None]] = []

    # --- the web server ----------------------------------------------------------------------------------------

    def web_app(self) -> web.Application:
        """Return the aiohttp application: the webhook and the media files, under the public URL's path."""
        prefix = listening_prefix(self.settings.line_public_url)
        app = web.Application(client_max_size=self.settings.webhook_max_body)
        app.router.add_post(prefix + WEBHOOK_ROUTE, self.receive)
        app.router.add_get(prefix + MEDIA_ROUTE, self.media.handler(self.navigator.now))
        return app

    async def receive(self, request: web.Request) -> web.Response:
        """Check and keep a webhook request's events, then answer 200; they are handled after the answer."""
        length = request.content_length
        if length is None:
            return web.Response(status=411)  # LINE always sends Content-Length
        if length > self.settings.webhook_max_body:
            return web.Response(status=413)
        signature = request.headers.get(SIGNATURE_HEADER, "")
        if not signature:
            log.warning("line_webhook_refused reason=no-signature")
            return web.Response(status=400)
        raw = await request.read()
        try:
            body = raw.decode("utf-8")
            if not self._signatures.validate(body, signature):
                raise InvalidSignatureError("bad signature")
            events = json.loads(body)["events"]
            if not isinstance(events, list):
                raise TypeError("events is not a list")
        except InvalidSignatureError:
            log.warning("line_webhook_refused reason=bad-signature")
            return web.Response(status=400)
        except (UnicodeDecodeError, ValueError, TypeError, KeyError) as error:
            log.warning("line_webhook_refused reason=%s", type(error).__name__)  # the content is never logged
            return web.Response(status=400)
        now = self.navigator.now()
        for event in events:  # an empty list is LINE's "Verify" call: 200 and nothing to do
            if not isinstance(event, dict):
                continue
            event_id = str(event.get("webhookEventId") or
                           hashlib.sha256(json.dumps(event, sort_keys=True).encode()).hexdigest())
            if self.inbox.accept(event_id, json.dumps(event, ensure_ascii=False), now):  # on disk before the 200
                self._spawn(event_id, event)
            else:
                log.info("line_event_redelivered ignored")
        return web.Response(status=200)

    # --- life cycle --------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Requeue events that arrived before a crash, and start the housekeeping and heartbeat timers."""
        for event_id, body in self.inbox.pending():
            try:
                self._spawn(event_id, json.loads(body))
            except ValueError:
                self.inbox.done(event_id, self.navigator.now())
        if self.inbox.waiting():
            log.info("line_requeued events=%d", self.inbox.waiting())
        self._timers = [asyncio.create_task(self._keep_house()),
                        asyncio.create_task(self._beat(self.settings.data_dir / HEARTBEAT_FILE))]

    async def stop(self) -> None:
        """Let events in progress finish (briefly), then stop the timers; unfinished events stay in the inbox."""
        for timer in self._timers:
            timer.cancel()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=SHUTDOWN_GRACE)
        for task in list(self._tasks):
            task.cancel()
        for task in (*self._timers, *self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def idle(self) -> None:
        """Wait until every accepted event has been handled (tests and shutdown)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def _keep_house(self) -> None:
        while True:
            await asyncio.sleep(HOUSEKEEPING_INTERVAL)
            now = self.navigator.now()
            await asyncio.to_thread(self.navigator.housekeeping)
            self.inbox.forget_handled(now)
            await asyncio.to_thread(self.media.purge, now)

    async def _beat(self, path: Path) -> None:
        while True:
            with contextlib.suppress(OSError):
                path.touch()
            await asyncio.sleep(HEARTBEAT_INTERVAL)

    def _spawn(self, event_id: str, event: dict[str, Any]) -> None:
        task = asyncio.create_task(self._process(event_id, event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- events ------------------------------------------------------------------------------------------------

    async def _process(self, event_id: str, raw: dict[str, Any]) -> None:
        source = raw.get("source") if isinstance(raw.get("source"), dict) else {}
        key = source.get("userId") or source.get("groupId") or source.get("roomId") or event_id
        async with self._locks.hold(key):
            started = time.perf_counter()
            kind = str(raw.get("type", "-"))
            try:
                replies = await self._handle(raw)
                log.info("event channel=line type=%s user=%s replies=%d latency_ms=%.1f", kind,
                         _user_tag(source.get("userId")), replies, (time.perf_counter() - started) * 1000)
            except Exception as error:  # one failed event must not stop the others; the text is never logged
                log.error("line_event_failed type=%s error=%s", kind, type(error).__name__)
                await self._apologise(raw)
            finally:
                self.inbox.done(event_id, self.navigator.now())

    async def _handle(self, raw: dict[str, Any]) -> int:
        try:
            event = LineEvent.from_dict(raw)
        except (ValueError, TypeError) as error:  # an event type this SDK does not know: nothing to answer
            log.info("line_event_unknown type=%s error=%s", raw.get("type"), type(error).__name__)
            return 0
        source = event.source
        if isinstance(source, GroupSource | RoomSource):
            return await self._group(event)
        if not isinstance(source, UserSource) or not source.user_id:
            return 0
        user_id = source.user_id
        if isinstance(event, UnfollowEvent):  # blocked or removed: delete everything, as /forget does
            self.navigator.forget(f"line:{user_id}")
            return 0
        dialogue_event = self._dialogue_event(event)
        if dialogue_event is None:
            return 0
        context = UserContext(is_staff=user_id in self.settings.line_staff_ids)
        if isinstance(dialogue_event, CommandIssued) and dialogue_event.name in STAFF_COMMANDS and context.is_staff:
            outcome = await asyncio.to_thread(self.navigator.handle, f"line:{user_id}", dialogue_event, context)
        else:
            outcome = self.navigator.handle(f"line:{user_id}", dialogue_event, context)
        await self.deliver(user_id, getattr(event, "reply_token", None), event.timestamp, outcome)
        return len(outcome.replies)

    @staticmethod
    def _dialogue_event(event: LineEvent) -> Event | None:
        if isinstance(event, FollowEvent):
            return Start()
        if isinstance(event, PostbackEvent):
            # Old versions, foreign and forged data become an empty action: the engine answers it as a stale button.
            return unpack_postback(event.postback.data) or ButtonPressed("")
        if isinstance(event, MessageEvent):
            if isinstance(event.message, TextMessageContent):
                return text_event(event.message.text)
            return UnsupportedMessage(str(event.message.type or "other"))
        return None  # unsend, video played, membership ...: nothing to say

    async def _group(self, event: LineEvent) -> int:
        """In a group or room: a pointer to a one-to-one chat when added or addressed; no engine call, no state."""
        addressed = isinstance(event, JoinEvent)
        if isinstance(event, MessageEvent) and isinstance(event.message, TextMessageContent):
            mentioned = event.message.mention is not None and any(
                isinstance(m, UserMentionee) and m.is_self for m in event.message.mention.mentionees)
            addressed = mentioned or event.message.text.startswith("/")
        token = getattr(event, "reply_token", None)
        if not addressed or not token:
            return 0
        await self.sender.reply(token, [TextMessage(text=self.navigator.text("line_group_chat", "ja"))])
        return 1

    # --- replies -----------------------------------------------------------------------------------------------

    async def deliver(self, user_id: str, reply_token: str | None, timestamp_ms: int, outcome: Outcome) -> None:
        """Send an outcome: the first five messages with the reply token while it is fresh, the rest pushed."""
        messages: list[Message] = []
        for index, reply in enumerate(outcome.replies):
            picture, link = None, None
            if reply.chart is not None or reply.image is not None:
                await self.sender.loading(user_id)
                picture = await self._picture(reply)
            if reply.document is not None:
                data = self.navigator.render_document(reply)
                link = self.media.put(data, "csv", self.navigator.now()) or \
                    self.navigator.text("line_file_unavailable", "ja")
            messages += reply_messages(reply, picture, last=index == len(outcome.replies) - 1, link=link)
        groups = batches(messages)
        if not groups:
            return
        sent_at = dt.datetime.fromtimestamp(timestamp_ms / 1000, dt.UTC)
        fresh = reply_token is not None and self.navigator.now() - sent_at < REPLY_WINDOW
        first = groups.pop(0)
        if not (fresh and reply_token and await self.sender.reply(reply_token, first)):
            await self._push(user_id, first)
        for group in groups:
            await self._push(user_id, group)

    async def _push(self, user_id: str, messages: list[Message]) -> None:
        if not await self.sender.push(user_id, messages):
            self.navigator.delivery_failed("line_push")

    async def _picture(self, reply: Reply) -> LinePicture | None:
        try:
            png = await asyncio.to_thread(self.navigator.render_picture, reply)
        except Exception as error:  # a picture is a bonus: without it, still send the words
            log.error("chart_failed error=%s", type(error).__name__)
            return None
        url = self.media.put(png, "png", self.navigator.now())
        return LinePicture(url, url) if url else None

    async def _apologise(self, raw: dict[str, Any]) -> None:
        source = raw.get("source") if isinstance(raw.get("source"), dict) else {}
        user_id = source.get("userId") if source.get("type") == "user" else None
        if not user_id:
            return
        with contextlib.suppress(Exception):
            await self.sender.push(user_id, [TextMessage(text=self.navigator.text("error_apology", "ja"))])


def messaging_api(settings: Settings) -> tuple[AsyncApiClient, AsyncMessagingApi]:
    """Return the SDK's async client for the configured Messaging API base URL (LINE's own, or a stand-in)."""
    configuration = Configuration(host=settings.line_api_url.rstrip("/"),
                                  access_token=settings.line_channel_access_token)
    client = AsyncApiClient(configuration)
    return client, AsyncMessagingApi(client)


async def serve(settings: Settings, navigator: Navigator, stop: asyncio.Event | None = None,
                ready: Callable[[LineAdapter, int], None] | None = None) -> None:
    """Run the LINE webhook server until `stop` is set (or SIGINT / SIGTERM); `ready` gets the adapter and port."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    client, api = messaging_api(settings)
    adapter = LineAdapter(settings, navigator, api)
    runner = web.AppRunner(adapter.web_app(), access_log=None)  # access lines would name the media addresses
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.webhook_listen, settings.line_port)
        await site.start()
        port = runner.addresses[0][1] if runner.addresses else settings.line_port
        log.info("line webhook listening on %s:%d%s%s", settings.webhook_listen, port,
                 listening_prefix(settings.line_public_url), WEBHOOK_ROUTE)
        if not settings.line_public_url:
            log.warning("NAVIGATOR_LINE_PUBLIC_URL is not set: charts and memo pictures are sent as text only")
        await adapter.start()
        if ready is not None:
            ready(adapter, port)
        await stop.wait()
    finally:
        await runner.cleanup()  # no new events; those in progress finish or stay in the inbox
        await adapter.stop()
        await client.close()


def run(settings: Settings) -> int:
    """Run the LINE channel until interrupted; the exit code (2 when the channel's credentials are missing)."""
    if not settings.line_channel_secret or not settings.line_channel_access_token:
        print(MISSING_CREDENTIALS, file=sys.stderr)
        return 2
    configure_logging(settings, settings.line_channel_access_token)
    quiet_library_logging()
    navigator = open_navigator(settings)
    if isinstance(navigator, int):
        return navigator
    try:
        asyncio.run(serve(settings, navigator))
    finally:
        navigator.close()
    return 0
