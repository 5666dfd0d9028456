"""Nothing lost: replies get through Telegram's faults (429, 5xx, timeouts, dropped connections) and a kill -9.

The faults are injected in the Bot API stand-in on 127.0.0.1, never mocked inside the bot.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from navigator_bot.config import Settings
from tests.botapi_standin import BotApiStandin
from tests.test_telegram_e2e import PERSONAS, Harness, _clean_env

ROOT = Path(__file__).resolve().parents[1]


def _settings(standin: BotApiStandin, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in os.environ.keys() - _clean_env().keys():
        monkeypatch.delenv(name)
    monkeypatch.setenv("NAVIGATOR_TELEGRAM_TOKEN", standin.token)
    monkeypatch.setenv("NAVIGATOR_TELEGRAM_API_URL", f"{standin.url}/bot")
    # Short timeouts and backoff, so that a test of many faults takes seconds, not minutes.
    return Settings(data_dir=data_dir, send_retries=6, retry_backoff=0.05, api_timeout=0.5, semantic=False)


@pytest_asyncio.fixture
async def faulty(standin: BotApiStandin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                 caplog: pytest.LogCaptureFixture) -> AsyncIterator[Harness]:
    caplog.set_level(logging.INFO)
    harness = Harness(standin, _settings(standin, tmp_path / "data", monkeypatch))
    await harness.start()
    try:
        yield harness
    finally:
        standin.clear_faults()
        await harness.stop()


async def _press(harness: Harness, user_id: int, label: str) -> None:
    """Press a button as a person would, without asserting how often Telegram saw it answered."""
    message, data = harness.user(user_id).find(label)
    query_id = harness.standin.press_button(user_id, message.message_id, data)
    await harness.finished(("query", query_id), timeout=30)


async def test_every_user_gets_every_answer_with_a_fifth_of_calls_failing(
        faulty: Harness, standin: BotApiStandin, caplog: pytest.LogCaptureFixture) -> None:
    standin.fault_plan(0.2, seed=7, retry_after=1, slow_seconds=0.8)
    users = [9100 + index for index in range(12)]
    for user_id in users:
        faulty.user(user_id)
    starts = [standin.send_command(user_id, "start") for user_id in users]
    await asyncio.gather(*(faulty.finished(("update", update["update_id"]), timeout=30) for update in starts))
    await asyncio.gather(*(_press(faulty, user_id, PERSONAS["family"]) for user_id in users))
    standin.clear_faults()
    assert sum(standin.faults.values()) >= 4, standin.faults  # the faults did happen
    for user_id in users:
        current = faulty.user(user_id).current()
        assert faulty.text("ask_situation_family") in (current.text or ""), user_id
    lines = [record.getMessage() for record in caplog.records]
    assert not [line for line in lines if line.startswith("reply_not_delivered")]
    assert [line for line in lines if line.startswith("bot_api_retry")]


async def test_two_429s_in_a_row_are_waited_out(faulty: Harness, standin: BotApiStandin) -> None:
    standin.fail_next("sendMessage", "Too Many Requests: retry after 1", 429, parameters={"retry_after": 1},
                      times=2)
    started = time.monotonic()
    step = await faulty.user(9200).command("start")
    assert time.monotonic() - started >= 1.9  # Telegram's retry_after honoured, twice
    assert faulty.text("ask_persona") in step.text


async def test_a_reply_that_cannot_be_sent_is_logged_and_counted(
        faulty: Harness, standin: BotApiStandin, caplog: pytest.LogCaptureFixture) -> None:
    standin.fail_next("sendMessage", "Bad Gateway", 502, times=40)  # every retry, and the apology's
    faulty.user(9300)
    update = standin.send_command(9300, "start")
    await faulty.finished(("update", update["update_id"]), timeout=30)
    lines = [record.getMessage() for record in caplog.records]
    assert [line for line in lines if line.startswith("reply_not_delivered")]
    faulty.expected_failures = 1
    assert faulty.navigator is not None
    report = faulty.navigator.counters.report(faulty.navigator.now())
    assert any(metric == "send_failed" for metric, _ in report.totals())


def _run_bot(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "navigator_bot", "run"], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=log.open("ab"))


def test_kill_9_loses_no_acknowledged_update(standin_thread: BotApiStandin, tmp_path: Path) -> None:
    standin = standin_thread
    data = tmp_path / "data"
    env = {**_clean_env(), "NAVIGATOR_TELEGRAM_TOKEN": standin.token,
           "NAVIGATOR_TELEGRAM_API_URL": f"{standin.url}/bot", "NAVIGATOR_DATA_DIR": str(data),
           "NAVIGATOR_SEMANTIC": "false", "NAVIGATOR_CONCURRENT_UPDATES": "4"}
    log = tmp_path / "bot.log"
    users = [9400 + index for index in range(60)]
    for user_id in users:
        standin.add_user(user_id, f"テスト{user_id}")
    # Every reply takes a while, so that many updates are fetched (acknowledged) but not yet answered.
    standin.fault_plan(1.0, ("slow",), methods=("sendMessage",), slow_seconds=0.25)
    bot = _run_bot(env, log)
    try:
        for user_id in users:
            standin.send_command(user_id, "start")
        standin.wait_for_sync(lambda: len(standin.calls_for("sendMessage")) >= 5, timeout=30,
                              description="the bot is answering")
        bot.kill()  # kill -9
        bot.wait(timeout=10)
        answered = {user_id for user_id in users if standin.messages(user_id)}
        assert len(answered) < len(users), "the kill came too late to test anything"
        standin.clear_faults()
        bot = _run_bot(env, log)
        standin.wait_for_sync(lambda: all(standin.messages(user_id) for user_id in users), timeout=60,
                              description="every user answered after the restart")
    finally:
        bot.kill()
        bot.wait(timeout=10)
    with sqlite3.connect(data / "navigator.sqlite3") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert "answering now" in log.read_text(encoding="utf-8")  # the inbox was read back


async def test_other_users_are_served_during_a_reload(standin: BotApiStandin, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch, catalog_copy: Path) -> None:
    settings = _settings(standin, tmp_path / "data", monkeypatch).model_copy(
        update={"catalog_dir": catalog_copy, "semantic": True, "staff_ids": frozenset({9501})})
    harness = Harness(standin, settings)
    await harness.start()
    try:
        # New passages for the model to read: the reload has real work to do (embedding them takes seconds).
        language = catalog_copy / "language.yaml"
        text = language.read_text(encoding="utf-8")
        extra = "".join(f'    - "青森の{n}番目の観光名所への行き方を教えてください"\n' for n in range(150))
        language.write_text(text.replace("  off_topic:\n", "  off_topic:\n" + extra, 1), encoding="utf-8")
        harness.user(9501)
        reload_update = standin.send_command(9501, "reload")
        gaps: list[float] = []

        async def tick() -> None:  # what every other user's update needs: an event loop that is not blocked
            last = time.monotonic()
            for _ in range(40):
                await asyncio.sleep(0.05)
                now = time.monotonic()
                gaps.append(now - last)
                last = now

        await tick()
        step = await harness.user(9502).command("start")
        await harness.finished(("update", reload_update["update_id"]), timeout=120)
        reloaded = standin.calls_for("sendMessage", chat_id=9501)[-1]
        assert harness.text("ask_persona") in step.text
        assert "カタログを読み込み直しました" in (reloaded.text or "")
        assert max(gaps) < 0.5, f"the event loop stood still for {max(gaps):.1f} s during the reload"
    finally:
        await harness.stop()
