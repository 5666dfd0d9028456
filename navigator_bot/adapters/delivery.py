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
import logging
import random
from typing import Any

from telegram.error import NetworkError, TimedOut
from telegram.ext import AIORateLimiter
from telegram.request import HTTPXRequest, RequestData

log = logging.getLogger(__name__)

# getUpdates has its own loop with backoff in PTB's Updater; webhook management runs once at start-up.
NOT_RETRIED = frozenset({"getUpdates", "setWebhook", "deleteWebhook"})


class RetryingRequest(HTTPXRequest):
    """An HTTPXRequest that retries a call on 5xx, timeouts and connection errors, with backoff."""

    def __init__(self, retries: int, backoff: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.retries = retries
        self.backoff = backoff

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
                    return code, payload
                reason = f"http_{code}"
            delay = self.backoff * 2 ** (attempt - 1) * random.uniform(0.5, 1.5)
            log.warning("bot_api_retry method=%s attempt=%d reason=%s wait_s=%.2f", endpoint, attempt, reason, delay)
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")


def rate_limiter(retries: int, per_second: float) -> AIORateLimiter:
    """Return PTB's rate limiter: at most `per_second` messages, a 429 retried `retries` times after Telegram's wait."""
    return AIORateLimiter(overall_max_rate=per_second, max_retries=retries)
