"""A minimal python-telegram-bot bot: the floor the navigator bot is measured against in bench/bench_bot.py.

It makes the same Bot API calls per update as the navigator bot does on a questionnaire journey, and nothing
else: no persistence, no domain logic, no logging.

- /start -> sendMessage with a 4-button inline keyboard
- a button -> answerCallbackQuery, then editMessageText of the pressed message with a 5-button keyboard
- text -> sendMessage with a 2-button keyboard

Concurrency mirrors `navigator_bot.adapters.telegram.build_application`: updates of different users run
concurrently (at most MINIMAL_CONCURRENT_UPDATES at once, default 64 like MAX_CONCURRENT_UPDATES there), the
updates of one user one by one in order (the same per-user lock as its PerUserUpdateProcessor, copied here so that
this bot imports nothing of the navigator). Polling uses the same `run_polling` arguments as `navigator-bot run`.

Usage: MINIMAL_TELEGRAM_TOKEN=... MINIMAL_TELEGRAM_API_URL=http://127.0.0.1:PORT/bot python bench/minimal_bot.py
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Awaitable
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

GREETING = "（1/7）\nこんにちは。これは比較用の最小のボットです。いくつかの質問にボタンでお答えください。"
QUESTION = "（{step}/7）\n比較用の質問です。近いものを選んでください。"
ANSWER = "正社員就職件数\n令和4年度  972件  29.5%\n（比較用の固定の返事です）"


class PerUserProcessor(BaseUpdateProcessor):
    """Different users concurrently (up to the limit), one user's updates one by one, in arrival order."""

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[object, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def _hold(self, key: object) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (None, 0))
        lock = lock or asyncio.Lock()
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    async def process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for the sender's earlier updates, then process this one within the global limit."""
        user = update.effective_user if isinstance(update, Update) else None
        async with self._hold(user.id if user is not None else None):
            await super().process_update(update, coroutine)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the update's handlers."""
        await coroutine

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


def _keyboard(labels: list[str], step: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=f"1|s{step}|{i}")] for i, label in
                                 enumerate(labels)])


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start: a greeting with four buttons."""
    assert update.effective_chat is not None
    markup = _keyboard(["ご本人", "ご家族・周りの方", "支援機関・行政の方", "企業・事業主の方"], 1)
    await context.bot.send_message(update.effective_chat.id, GREETING, reply_markup=markup)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button: answer the query, then edit the pressed message into the next question."""
    query = update.callback_query
    assert query is not None and query.message is not None
    await query.answer()
    step = int((query.data or "1|s1|0").split("|")[1][1:]) + 1  # a new text each step: never "not modified"
    markup = _keyboard(["はい", "いいえ", "わからない", "とばす", "← 戻る"], step)
    await context.bot.edit_message_text(
        QUESTION.format(step=step), chat_id=query.message.chat.id, message_id=query.message.message_id,
        reply_markup=markup,
    )


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Typed text: one fixed answer with two buttons."""
    assert update.effective_chat is not None
    markup = _keyboard(["続きに戻る", "最初から"], 0)
    await context.bot.send_message(update.effective_chat.id, ANSWER, reply_markup=markup)


def main() -> int:
    """Poll the Bot API named in the environment until interrupted."""
    token = os.environ.get("MINIMAL_TELEGRAM_TOKEN")
    api_url = os.environ.get("MINIMAL_TELEGRAM_API_URL", "https://api.telegram.org/bot")
    if not token:
        print("set MINIMAL_TELEGRAM_TOKEN", file=sys.stderr)
        return 2
    limit = int(os.environ.get("MINIMAL_CONCURRENT_UPDATES", "64"))
    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(api_url)
        .concurrent_updates(PerUserProcessor(limit))
        .build()
    )
    application.add_handler(CommandHandler("start", on_start))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    application.add_handler(CallbackQueryHandler(on_button))
    application.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
