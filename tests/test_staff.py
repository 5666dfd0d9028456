"""Staff operations through the Navigator: /stats counts, /reload, staff-only refusal, storage privacy."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from navigator_bot.app import Navigator
from navigator_bot.config import Settings
from navigator_bot.dialogue import ButtonPressed, CommandIssued, Start, TextTyped, UserContext

STAFF = UserContext(is_staff=True, language_hint="ja")
PUBLIC = UserContext(is_staff=False, language_hint="ja")
NOW = dt.datetime(2026, 11, 26, 3, 0, tzinfo=dt.UTC)


@pytest.fixture
def navigator(tmp_path: Path, catalog_copy: Path) -> Navigator:
    settings = Settings(data_dir=tmp_path / "data", catalog_dir=catalog_copy)
    nav = Navigator.from_settings(settings, clock=lambda: NOW)
    yield nav
    nav.close()


def _text(navigator: Navigator, user: str, event: object, context: UserContext = PUBLIC) -> str:
    return "\n".join(reply.text for reply in navigator.handle(user, event, context).replies)


def test_stats_counts_and_suppresses_small_numbers(navigator: Navigator) -> None:
    for index in range(6):
        navigator.handle(f"u{index}", Start(), PUBLIC)
        navigator.handle(f"u{index}", ButtonPressed("p:family" if index < 5 else "p:self"), PUBLIC)
    navigator.handle("u0", TextTyped("R4の就職件数は？"), PUBLIC)
    report = _text(navigator, "staff", CommandIssued("stats"), STAFF)
    lines = report.split("\n")
    assert "・相談開始: 5" in lines, report  # 6, rounded to 5
    assert "・利用者: ご家族・周りの方: 5" in lines, report
    assert any("ご本人" in line and "<5" in line for line in lines), report
    assert not any(line.rstrip().endswith(": 1") for line in lines), report


def test_staff_commands_refused_to_others(navigator: Navigator) -> None:
    for command in ("stats", "reload"):
        assert "担当者の方だけ" in _text(navigator, "someone", CommandIssued(command), PUBLIC)


def test_reload_keeps_the_running_catalog_on_error(navigator: Navigator, catalog_copy: Path) -> None:
    kpis = catalog_copy / "kpis.yaml"
    kpis.write_text(kpis.read_text(encoding="utf-8").replace("result: 972,", "result: 927,"), encoding="utf-8")
    reply = _text(navigator, "staff", CommandIssued("reload"), STAFF)
    assert "読み込み直しませんでした" in reply and "kpis.yaml:" in reply
    assert "972" in _text(navigator, "u", TextTyped("R4の就職件数は？"))


def test_reload_applies_a_good_catalog_and_old_buttons_stay_friendly(navigator: Navigator,
                                                                     catalog_copy: Path) -> None:
    navigator.handle("u", Start(), PUBLIC)
    navigator.handle("u", ButtonPressed("p:self"), PUBLIC)
    measures = catalog_copy / "measures.yaml"
    text = measures.read_text(encoding="utf-8")
    start = text.index("  - id: good-practice-sharing")
    end = text.index("  - id: awareness-site")
    measures.write_text(text[:start] + text[end:], encoding="utf-8")
    questionnaire = catalog_copy / "questionnaire.yaml"
    questionnaire.write_text(questionnaire.read_text(encoding="utf-8").replace(", good-practice-sharing", ""),
                             encoding="utf-8")
    reply = _text(navigator, "staff", CommandIssued("reload"), STAFF)
    assert "25 measures" in reply
    assert "古くなって" in _text(navigator, "u", ButtonPressed("m:good-practice-sharing"))
    assert "いまのご状況" in _text(navigator, "u", ButtonPressed("resume"))  # the conversation survived


def test_storage_holds_no_chat_ids_and_no_typed_text(navigator: Navigator, tmp_path: Path) -> None:
    navigator.handle("tg:424242", Start(), PUBLIC)
    navigator.handle("tg:424242", TextTyped("山田花子、青森市に住んでいます"), PUBLIC)
    navigator.close()
    raw = b"".join(path.read_bytes() for path in (tmp_path / "data").glob("navigator.sqlite3*"))
    assert b"424242" not in raw and "山田".encode() not in raw
    rows = sqlite3.connect(tmp_path / "data" / "navigator.sqlite3").execute("SELECT user_key FROM users").fetchall()
    assert len(rows) == 1 and "424242" not in rows[0][0]


def test_state_expires_after_the_ttl(tmp_path: Path, catalog_copy: Path) -> None:
    clock = [NOW]
    settings = Settings(data_dir=tmp_path / "data", catalog_dir=catalog_copy, state_ttl_days=30)
    navigator = Navigator.from_settings(settings, clock=lambda: clock[0])
    navigator.handle("u", ButtonPressed("p:self"), PUBLIC)
    assert navigator.has_conversation("u")
    clock[0] = NOW + dt.timedelta(days=30, hours=7)
    navigator.housekeeping()  # the adapters run it on a timer, off the event loop
    assert not navigator.has_conversation("u")
    navigator.close()


def test_health_command_checks_the_heartbeat(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys
    import time

    env = {**os.environ, "NAVIGATOR_DATA_DIR": str(tmp_path)}

    def health() -> int:
        return subprocess.run([sys.executable, "-m", "navigator_bot", "health"], env=env, capture_output=True,
                              timeout=60, check=False).returncode

    assert health() == 0  # no bot has run yet: the catalog loads
    beat = tmp_path / "heartbeat"
    beat.touch()
    assert health() == 0
    old = time.time() - 600
    os.utime(beat, (old, old))
    assert health() == 1
