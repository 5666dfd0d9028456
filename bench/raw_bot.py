"""The floor: a bot written straight on httpx, making the same Bot API calls per update as bench/minimal_bot.py.

No framework, no persistence: long polling with getUpdates, then per update /start → sendMessage (4 buttons),
a button → answerCallbackQuery + editMessageText (5 buttons), text → sendMessage (2 buttons). Users' updates run
concurrently up to RAW_CONCURRENT_UPDATES, one user's in order. bench/bench_bot.py compares the CPU each bot spends
per update with this one's: what python-telegram-bot and the navigator add on top of the HTTP calls themselves.

Usage: RAW_TELEGRAM_TOKEN=... RAW_TELEGRAM_API_URL=http://127.0.0.1:PORT/bot python bench/raw_bot.py
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from typing import Any

import httpx

GREETING = "（1/7）\nこんにちは。これは比較用の最小のボットです。いくつかの質問にボタンでお答えください。"
QUESTION = "（{step}/7）\n比較用の質問です。近いものを選んでください。"
ANSWER = "正社員就職件数\n令和4年度  972件  29.5%\n（比較用の固定の返事です）"


def _keyboard(labels: list[str], step: int) -> str:
    rows = [[{"text": label, "callback_data": f"1|s{step}|{i}"}] for i, label in enumerate(labels)]
    return json.dumps({"inline_keyboard": rows}, ensure_ascii=False)


class RawBot:
    """getUpdates in a loop; each update handled in a task, one user's in order."""

    def __init__(self, client: httpx.AsyncClient, base: str, limit: int) -> None:
        self.client = client
        self.base = base
        self.slots = asyncio.Semaphore(limit)
        self.tails: dict[int, asyncio.Task[None]] = {}

    async def call(self, method: str, **params: Any) -> Any:
        """One Bot API call (form-encoded, like PTB)."""
        response = await self.client.post(f"{self.base}/{method}", data=params)
        return response.json().get("result")

    async def handle(self, update: dict[str, Any]) -> None:
        """Answer one update."""
        async with self.slots:
            if "callback_query" in update:
                query = update["callback_query"]
                await self.call("answerCallbackQuery", callback_query_id=query["id"])
                step = int(query.get("data", "1|s1|0").split("|")[1][1:]) + 1
                message = query["message"]
                await self.call("editMessageText", chat_id=message["chat"]["id"], message_id=message["message_id"],
                                text=QUESTION.format(step=step),
                                reply_markup=_keyboard(["はい", "いいえ", "わからない", "とばす", "← 戻る"], step))
            elif "message" in update:
                message = update["message"]
                chat = message["chat"]["id"]
                if message.get("text", "").startswith("/start"):
                    await self.call("sendMessage", chat_id=chat, text=GREETING, reply_markup=_keyboard(
                        ["ご本人", "ご家族・周りの方", "支援機関・行政の方", "企業・事業主の方"], 1))
                else:
                    await self.call("sendMessage", chat_id=chat, text=ANSWER,
                                    reply_markup=_keyboard(["続きに戻る", "最初から"], 0))

    def schedule(self, update: dict[str, Any]) -> None:
        """Run the update after the same user's earlier ones."""
        sender = (update.get("callback_query") or update.get("message") or {}).get("from", {}).get("id", 0)
        before = self.tails.get(sender)

        async def run() -> None:
            if before is not None:
                await asyncio.wait([before])
            await self.handle(update)

        task = asyncio.create_task(run())
        self.tails[sender] = task
        task.add_done_callback(lambda done: self.tails.pop(sender, None) if self.tails.get(sender) is done else None)

    async def poll(self, stop: asyncio.Event) -> None:
        """Long-poll getUpdates until stopped."""
        offset = 0
        while not stop.is_set():
            updates = await self.call("getUpdates", offset=offset, timeout=10) or []
            for update in updates:
                offset = max(offset, update["update_id"] + 1)
                self.schedule(update)


async def main_async(token: str, api_url: str, limit: int) -> None:
    """Run the raw bot until SIGINT."""
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGINT, stop.set)
    limits = httpx.Limits(max_connections=limit + 1, max_keepalive_connections=limit + 1)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        bot = RawBot(client, f"{api_url}{token}", limit)
        poller = asyncio.create_task(bot.poll(stop))
        await stop.wait()
        poller.cancel()


def main() -> int:
    """Read the environment and run."""
    token = os.environ.get("RAW_TELEGRAM_TOKEN")
    if not token:
        print("set RAW_TELEGRAM_TOKEN", file=sys.stderr)
        return 2
    api_url = os.environ.get("RAW_TELEGRAM_API_URL", "https://api.telegram.org/bot")
    asyncio.run(main_async(token, api_url, int(os.environ.get("RAW_CONCURRENT_UPDATES", "16"))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
