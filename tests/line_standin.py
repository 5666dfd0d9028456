"""A stand-in for LINE's Messaging API on 127.0.0.1, and a LINE platform that sends signed webhook events.

The stand-in answers the calls the adapter makes (reply, push, loading animation) the way LINE documents them:
reply tokens are single-use and can expire, a push retry key that was accepted before answers 409, and a request
that breaks a documented limit (more than 5 messages, a text over 5,000 UTF-16 units, more than 13 quick replies,
a label over 20 characters, postback data over 300, an alt text over 400, an image address that is not HTTPS) is
refused with 400 and recorded as a violation. Faults are queued per endpoint: a status to answer, or a delay.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

REPLY = "/v2/bot/message/reply"
PUSH = "/v2/bot/message/push"
LOADING = "/v2/bot/chat/loading/start"


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, as LINE counts."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class Delivered:
    """One reply or push call LINE accepted (or refused), with the messages it carried."""

    kind: str  # "reply" or "push"
    user: str | None
    messages: list[dict[str, Any]]
    status: int
    retry_key: str | None = None

    @property
    def texts(self) -> list[str]:
        """The texts of the text messages."""
        return [m["text"] for m in self.messages if m.get("type") == "text"]


@dataclass
class Fault:
    """What to do with the next call to one endpoint: answer `status`, or wait `delay` seconds first."""

    status: int | None = None
    delay: float = 0.0


@dataclass
class LineStandin:
    """The Messaging API as the adapter sees it, recording every call."""

    access_token: str = "standin-access-token"
    calls: list[Delivered] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    loading: list[str] = field(default_factory=list)
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    _tokens: dict[str, str] = field(default_factory=dict)  # reply token -> user id, until used
    _expired: set[str] = field(default_factory=set)
    _retry_keys: set[str] = field(default_factory=set)
    _counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    url: str = ""
    _runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        app = web.Application()
        app.router.add_post(REPLY, self._reply)
        app.router.add_post(PUSH, self._push)
        app.router.add_post(LOADING, self._loading)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()

    def issue_token(self, user: str | None) -> str:
        """A fresh reply token for an event of `user`."""
        token = f"rt{next(self._counter):06d}"
        self._tokens[token] = user or ""
        return token

    def expire(self, token: str) -> None:
        """Make a reply token one LINE no longer accepts."""
        self._expired.add(token)

    def fail(self, path: str, *faults: Fault) -> None:
        """Queue faults for the next calls to `path`."""
        self.faults.setdefault(path, []).extend(faults)

    def delivered(self, user: str) -> list[Delivered]:
        """Accepted reply and push calls that reached `user`, in order."""
        return [call for call in self.calls if call.user == user and call.status == 200]

    def messages(self, user: str) -> list[dict[str, Any]]:
        """Every message `user` has received, in order."""
        return [message for call in self.delivered(user) for message in call.messages]

    # --- endpoints ---------------------------------------------------------------------------------------------

    async def _fault(self, path: str) -> web.Response | None:
        """A queued fault with a status: wait its delay, then answer it. A delay alone slows the answer instead
        (`_slow`): the call is accepted at once and its answer comes late, as when a response is lost on the way."""
        queue = self.faults.get(path) or []
        if not queue or queue[0].status is None:
            return None
        fault = queue.pop(0)
        await asyncio.sleep(fault.delay)
        return web.json_response({"message": "fault injected"}, status=fault.status)

    async def _slow(self, path: str, response: web.Response) -> web.Response:
        queue = self.faults.get(path) or []
        if queue and queue[0].status is None:
            await asyncio.sleep(queue.pop(0).delay)
        return response

    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.access_token}"

    async def _reply(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"message": "Authentication failed"}, status=401)
        body = await request.json()
        token, messages = body.get("replyToken", ""), body.get("messages", [])
        if (fault := await self._fault(REPLY)) is not None:
            self.calls.append(Delivered("reply", self._tokens.get(token), messages, fault.status))
            return fault
        if token not in self._tokens or token in self._expired:
            self.calls.append(Delivered("reply", None, messages, 400))
            return web.json_response({"message": "Invalid reply token"}, status=400)
        problems = self._check(messages)
        if problems:
            self.violations += problems
            return web.json_response({"message": "; ".join(problems)}, status=400)
        user = self._tokens.pop(token)  # single use
        self.calls.append(Delivered("reply", user, messages, 200))
        return await self._slow(REPLY, web.json_response({"sentMessages": [{"id": "1"} for _ in messages]}))

    async def _push(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"message": "Authentication failed"}, status=401)
        body = await request.json()
        key = request.headers.get("X-Line-Retry-Key")
        to, messages = body.get("to", ""), body.get("messages", [])
        if key is not None and key in self._retry_keys:
            return web.json_response({"message": "The retry key is already accepted"}, status=409)
        if (fault := await self._fault(PUSH)) is not None:
            self.calls.append(Delivered("push", to, messages, fault.status, key))
            return fault
        problems = self._check(messages)
        if problems:
            self.violations += problems
            return web.json_response({"message": "; ".join(problems)}, status=400)
        if key is not None:
            self._retry_keys.add(key)
        self.calls.append(Delivered("push", to, messages, 200, key))
        return await self._slow(PUSH, web.json_response({"sentMessages": [{"id": "1"} for _ in messages]}))

    async def _loading(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.loading.append(body.get("chatId", ""))
        return web.json_response({}, status=202)

    @staticmethod
    def _check(messages: list[dict[str, Any]]) -> list[str]:
        problems = []
        if not 1 <= len(messages) <= 5:
            problems.append(f"{len(messages)} messages in one call")
        for message in messages:
            kind = message.get("type")
            if kind == "text" and not 1 <= utf16_len(message.get("text", "")) <= 5000:
                problems.append(f"text of {utf16_len(message.get('text', ''))} units")
            if kind == "image":
                for key in ("originalContentUrl", "previewImageUrl"):
                    if not str(message.get(key, "")).startswith("https://") or len(message.get(key, "")) > 2000:
                        problems.append(f"image {key} not an https address")
            if kind == "flex" and not 1 <= len(message.get("altText", "")) <= 400:
                problems.append("flex altText length")
            items = (message.get("quickReply") or {}).get("items", [])
            if len(items) > 13:
                problems.append(f"{len(items)} quick replies")
            actions = [item["action"] for item in items] + list(_flex_actions(message.get("contents")))
            for action in actions:
                if not 1 <= utf16_len(action.get("label", "")) <= 20:
                    problems.append(f"label {action.get('label')!r}")
                if action.get("type") == "postback" and len(action.get("data", "")) > 300:
                    problems.append("postback data over 300")
                if utf16_len(action.get("displayText", "")) > 300:
                    problems.append("displayText over 300")
        return problems


def _flex_actions(node: object) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if isinstance(node.get("action"), dict):
            yield node["action"]
        for value in node.values():
            yield from _flex_actions(value)
    elif isinstance(node, list):
        for value in node:
            yield from _flex_actions(value)


def choices(message: dict[str, Any]) -> list[tuple[str, str]]:
    """The (words, postback data) of a message's quick replies or Flex card choices."""
    found = []
    for item in (message.get("quickReply") or {}).get("items", []):
        action = item["action"]
        found.append((action.get("displayText") or action["label"], action["data"]))
    for action in _flex_actions(message.get("contents")):
        if action.get("type") == "postback":
            found.append((action.get("displayText") or action["label"], action["data"]))
    return found


@dataclass
class LinePlatform:
    """LINE's side of the webhook: builds events as LINE sends them, signs the body and posts it."""

    secret: str
    standin: LineStandin
    webhook_url: str = ""
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def event(self, user: str, kind: str, body: dict[str, Any], *, source: dict[str, Any] | None = None,
              age: float = 0.0, reply: bool = True) -> dict[str, Any]:
        """One webhook event of `kind` from `user` (a fresh reply token unless `reply` is False)."""
        number = next(self._ids)
        event = {
            "type": kind,
            "mode": "active",
            "timestamp": int((time.time() - age) * 1000),
            "source": source or {"type": "user", "userId": user},
            "webhookEventId": f"01HTESTEVENT{number:014d}",
            "deliveryContext": {"isRedelivery": False},
            **body,
        }
        if reply:
            event["replyToken"] = self.standin.issue_token(user)
        return event

    def text(self, user: str, text: str, **options: Any) -> dict[str, Any]:
        """A text message event."""
        number = next(self._ids)
        message = {"type": "text", "id": str(number), "quoteToken": f"q{number}", "text": text}
        return self.event(user, "message", {"message": message}, **options)

    def postback(self, user: str, data: str, **options: Any) -> dict[str, Any]:
        """A postback event (a button press)."""
        return self.event(user, "postback", {"postback": {"data": data}}, **options)

    def follow(self, user: str) -> dict[str, Any]:
        """A follow event (added as a friend)."""
        return self.event(user, "follow", {"follow": {"isUnblocked": False}})

    def unfollow(self, user: str) -> dict[str, Any]:
        """An unfollow event (blocked): no reply token."""
        return self.event(user, "unfollow", {}, reply=False)

    def sticker(self, user: str) -> dict[str, Any]:
        """A sticker message event."""
        number = next(self._ids)
        message = {"type": "sticker", "id": str(number), "quoteToken": f"q{number}", "packageId": "1",
                   "stickerId": "1", "stickerResourceType": "STATIC"}
        return self.event(user, "message", {"message": message})

    def sign(self, body: bytes) -> str:
        """X-Line-Signature of a body: base64 of HMAC-SHA256 with the channel secret."""
        return base64.b64encode(hmac.new(self.secret.encode(), body, hashlib.sha256).digest()).decode()

    async def post(self, events: list[dict[str, Any]], *, signature: str | None = "sign",
                   body: bytes | None = None) -> int:
        """Post events as LINE does; `signature` "sign" signs properly, None leaves the header out. The status."""
        raw = body if body is not None else json.dumps({"destination": "Ubot", "events": events},
                                                       ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"}
        if signature == "sign":
            headers["X-Line-Signature"] = self.sign(raw)
        elif signature is not None:
            headers["X-Line-Signature"] = signature
        async with aiohttp.ClientSession() as session, \
                session.post(self.webhook_url, data=raw, headers=headers) as response:
            return response.status
