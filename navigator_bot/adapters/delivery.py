"""Delivery that survives Telegram: every Bot API call (send, edit, answer) is retried a bounded number of times.

- 429 Too Many Requests: PTB's AIORateLimiter waits the `retry_after` Telegram gives, then tries again; it also
  keeps the bot under Telegram's flood limits (about 30 messages a second, 20 a minute in a group).
- 5xx, timeouts and dropped connections: `RetryingRequest` tries again after an exponential backoff with jitter.
A call that still fails raises to the handler; the error handler logs it with a reason and counts it.

A retried call after a timeout may have reached Telegram the first time: a reply can then arrive twice. That is
the price of never losing one (at-least-once delivery).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from typing import Any

from telegram.error import NetworkError, TimedOut
from telegram.ext import AIORateLimiter
from telegram.request import HTTPXRequest, RequestData

log = logging.getLogger(__name__)

# getUpdates has its own loop with backoff in PTB's Updater; webhook management runs once at start-up.
NOT_RETRIED = frozenset({"getUpdates", "setWebhook", "deleteWebhook"})


class RawUpdates(dict[int, str]):
    """The JSON of updates as Telegram sent them, by update_id, until the inbox has stored them.

    Serialising an update back from PTB's objects (to_dict) costs about as much as the engine's work on it; the
    text as received is at hand in the getUpdates answer and the webhook's body.
    """


class RetryingRequest(HTTPXRequest):
    """An HTTPXRequest that retries a call on 5xx, timeouts and connection errors, with backoff."""

    def __init__(self, retries: int, backoff: float, raw_updates: RawUpdates | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.retries = retries
        self.backoff = backoff
        self.raw_updates = raw_updates

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = HTTPXRequest.DEFAULT_NONE,
        write_timeout: Any = HTTPXRequest.DEFAULT_NONE,
        connect_timeout: Any = HTTPXRequest.DEFAULT_NONE,
        pool_timeout: Any = HTTPXRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send the request; on a transient failure wait and send it again, at most `retries` more times."""
        endpoint = url.rsplit("/", 1)[-1]
        attempts = 1 if endpoint in NOT_RETRIED else self.retries + 1
        for attempt in range(1, attempts + 1):
            try:
                code, payload = await super().do_request(
                    url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
                )
            except (TimedOut, NetworkError) as error:
                if attempt >= attempts:
                    raise
                reason = type(error).__name__
            else:
                if code < 500 or attempt >= attempts:
                    if endpoint == "getUpdates" and code == 200 and self.raw_updates is not None:
                        self._keep_raw(payload)
                    return code, payload
                reason = f"http_{code}"
            delay = self.backoff * 2 ** (attempt - 1) * random.uniform(0.5, 1.5)
            log.warning("bot_api_retry method=%s attempt=%d reason=%s wait_s=%.2f", endpoint, attempt, reason, delay)
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")


    def _keep_raw(self, payload: bytes) -> None:
        """Remember each update's JSON as received, for the inbox."""
        assert self.raw_updates is not None
        for update in json.loads(payload).get("result") or []:
            self.raw_updates[int(update["update_id"])] = json.dumps(update, ensure_ascii=False)


def rate_limiter(retries: int, per_second: float) -> AIORateLimiter:
    """Return PTB's rate limiter: at most `per_second` messages, a 429 retried `retries` times after Telegram's wait."""
    return AIORateLimiter(overall_max_rate=per_second, max_retries=retries)
