"""The persistence layer: write-through state, forgetting, expiry, the free-text guard and anonymous counters."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from navigator_bot.storage import JST, EventInbox, Inbox, StateStore, UsageCounters, suppress

T0 = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)  # 2026-11-27 00:30 in Tokyo
STATE = {"persona": "family", "situation": "withdrawn", "answers": {"single-parent": "no"}, "shown": ["job-cafe"]}


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A database file in a fresh temporary folder."""
    return tmp_path / "data" / "navigator.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[StateStore]:
    """A store on a file, closed after the test."""
    with StateStore(db_path) as opened:
        yield opened


def all_rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, read with a separate raw connection."""
    conn = sqlite3.connect(path)
    try:
        tables = [name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {table: conn.execute(f'SELECT * FROM "{table}"').fetchall() for table in tables}
    finally:
        conn.close()


def test_round_trip_and_overwrite(store: StateStore) -> None:
    assert store.load("tg:1") is None
    store.save("tg:1", STATE, T0)
    assert store.load("tg:1") == STATE
    store.save("tg:1", {"persona": "self"}, T0 + timedelta(minutes=1))
    assert store.load("tg:1") == {"persona": "self"}
    store.save("console:local", STATE, T0)
    assert store.count_users() == 2


def test_memory_database() -> None:
    with StateStore(":memory:") as store:
        store.save("console:local", STATE, T0)
        assert store.load("console:local") == STATE


def test_reopen_keeps_data_and_file_is_private(db_path: Path) -> None:
    with StateStore(db_path) as store:
        store.save("tg:1", STATE, T0)
    with StateStore(db_path) as store:
        assert store.load("tg:1") == STATE
    assert db_path.stat().st_mode & 0o777 == 0o600


def test_write_through_survives_kill_9(db_path: Path) -> None:
    script = f"""
import os, signal
from datetime import datetime, UTC
from navigator_bot.storage import StateStore, UsageCounters
store = StateStore({str(db_path)!r})
counters = UsageCounters(store)
now = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)
store.save("tg:1", {{"persona": "family"}}, now)
with store.transaction():
    store.save("tg:2", {{"persona": "self"}}, now)
    counters.increment("persona", "self", now=now)
os.kill(os.getpid(), signal.SIGKILL)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert result.returncode == -9, result.stderr.decode()
    assert db_path.with_name(db_path.name + "-wal").stat().st_size > 0  # recovered from the WAL, not a clean close
    with StateStore(db_path) as store:
        assert store.load("tg:1") == {"persona": "family"}
        assert store.load("tg:2") == {"persona": "self"}
        assert UsageCounters(store).report(T0).daily[date(2026, 11, 27)] == {("persona", "self"): 1}


def test_transaction_is_atomic(store: StateStore) -> None:
    counters = UsageCounters(store)
    with pytest.raises(RuntimeError), store.transaction():
        store.save("tg:1", STATE, T0)
        counters.increment("conversation_started", now=T0)
        raise RuntimeError("handler failed")
    assert store.load("tg:1") is None
    assert counters.report(T0).totals() == {}

    with store.transaction():
        store.save("tg:1", STATE, T0)
        with pytest.raises(RuntimeError), store.transaction():  # a nested block rolls back alone
            store.save("tg:2", STATE, T0)
            raise RuntimeError
        counters.increment("conversation_started", now=T0)
    assert store.load("tg:1") == STATE
    assert store.load("tg:2") is None
    assert counters.report(T0).totals() == {("conversation_started", ""): 1}


def test_forget_deletes_everything(store: StateStore, db_path: Path) -> None:
    counters = UsageCounters(store)
    store.save("tg:424242", {**STATE, "area": "hirosaki-unique-choice"}, T0)
    store.save_settings("tg:424242", {"lang": "en"}, T0)
    counters.increment("persona", "family", now=T0)
    store.save("tg:7", STATE, T0)

    assert store.forget("tg:424242") is True
    assert store.forget("tg:424242") is False
    assert store.load("tg:424242") is None
    assert store.get_settings("tg:424242") == {}
    assert store.load("tg:7") == STATE

    rows = all_rows(db_path)
    assert set(rows) == {"users", "usage_counts", "inbox", "handled", "inbox_owner", "event_inbox", "event_handled"}
    assert not [row for table in rows.values() for row in table if any("424242" in str(value) for value in row)]
    # Nor in the bytes on disk: secure_delete zeroes the rows, the checkpoint empties the WAL.
    for file in db_path.parent.iterdir():
        content = file.read_bytes()
        assert b"424242" not in content, file.name
        assert b"hirosaki-unique-choice" not in content, file.name


def test_forget_inside_transaction(store: StateStore) -> None:
    store.save("tg:1", STATE, T0)
    with store.transaction():
        assert store.forget("tg:1") is True
    assert store.count_users() == 0


def test_purge_expired_boundary(store: StateStore) -> None:
    ttl = timedelta(days=30)
    store.save("tg:old", STATE, T0)
    store.save_settings("tg:old", {"lang": "en"}, T0)
    store.save("tg:new", STATE, T0 + timedelta(days=1))

    assert store.purge_expired(T0 + ttl, ttl) == 0  # untouched for exactly the ttl: kept
    assert store.load("tg:old") == STATE
    assert store.purge_expired(T0 + ttl + timedelta(microseconds=1), ttl) == 1
    assert store.load("tg:old") is None
    assert store.get_settings("tg:old") == {}
    assert store.load("tg:new") == STATE
    assert store.purge_expired(T0 + timedelta(days=31, microseconds=1)) == 1  # default ttl is 30 days
    assert store.count_users() == 0


def test_purge_compares_instants_not_local_times(store: StateStore) -> None:
    store.save("tg:1", STATE, T0.astimezone(JST))
    assert store.purge_expired(T0 + timedelta(days=30), timedelta(days=30)) == 0
    assert store.purge_expired(T0 + timedelta(days=30, seconds=1), timedelta(days=30)) == 1


def test_settings(store: StateStore) -> None:
    assert store.get_settings("tg:1") == {}
    store.save_settings("tg:1", {"lang": "en"}, T0)
    assert store.get_settings("tg:1") == {"lang": "en"}
    assert store.load("tg:1") is None  # settings alone are not a conversation
    store.save("tg:1", STATE, T0 + timedelta(days=20))
    assert store.get_settings("tg:1") == {"lang": "en"}  # saving state keeps settings
    # State and settings share one expiry: the conversation 20 days later keeps the language setting alive.
    assert store.purge_expired(T0 + timedelta(days=45)) == 0
    assert store.get_settings("tg:1") == {"lang": "en"}
    assert store.count_users() == 1


@pytest.mark.parametrize(
    "state",
    [
        {"text": "SECRET-VALUE"},
        {"answers": {"free_text": "SECRET-VALUE"}},
        {"history": [{"choice": "a"}, {"Message": "SECRET-VALUE"}]},
        {"a": {"b": {"c": [[{"query": "SECRET-VALUE"}]]}}},
    ],
)
def test_save_refuses_free_text(store: StateStore, state: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="free text") as error:
        store.save("tg:1", state, T0)
    assert "SECRET-VALUE" not in str(error.value)  # the message may reach a log: it names the key, not the value
    with pytest.raises(ValueError, match="free text"):
        store.save_settings("tg:1", state, T0)
    assert store.count_users() == 0


def test_save_accepts_values_that_merely_mention_text(store: StateStore) -> None:
    store.save("tg:1", {"step": "text", "kinds": ["message"]}, T0)
    assert store.load("tg:1") == {"step": "text", "kinds": ["message"]}


def test_naive_datetimes_are_refused(store: StateStore) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        store.save("tg:1", STATE, datetime(2026, 11, 26, 15, 30))
    with pytest.raises(ValueError, match="timezone-aware"):
        UsageCounters(store).increment("persona", "self", now=datetime(2026, 11, 26, 15, 30))


def test_threads_share_the_store(store: StateStore) -> None:
    def work(worker: int) -> None:
        for n in range(100):
            store.save(f"tg:{worker}-{n}", {"n": n}, T0)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.count_users() == 400


def test_counters_use_the_tokyo_date(store: StateStore) -> None:
    counters = UsageCounters(store)
    counters.increment("conversation_started", now=datetime(2026, 11, 26, 14, 59, 59, tzinfo=UTC))  # 23:59:59 JST
    counters.increment("conversation_started", now=datetime(2026, 11, 26, 15, 0, tzinfo=UTC))  # midnight JST
    counters.increment("conversation_started", now=T0, by=2)
    daily = counters.report(T0).daily
    assert daily[date(2026, 11, 26)] == {("conversation_started", ""): 1}
    assert daily[date(2026, 11, 27)] == {("conversation_started", ""): 3}
    assert list(daily) == [date(2026, 11, 21) + timedelta(days=n) for n in range(7)]


def test_counters_per_iso_week(store: StateStore) -> None:
    counters = UsageCounters(store)
    sunday_late = datetime(2026, 11, 29, 14, 59, tzinfo=UTC)  # Sun 29 Nov 23:59 JST, ISO week 48
    monday_early = datetime(2026, 11, 29, 15, 1, tzinfo=UTC)  # Mon 30 Nov 00:01 JST, ISO week 49
    counters.increment("measure_shown", "job-cafe", now=sunday_late, by=3)
    counters.increment("measure_shown", "job-cafe", now=monday_early)
    counters.increment("measure_shown", "saposute", now=monday_early)
    counters.increment("measure_shown", "job-cafe", now=monday_early - timedelta(weeks=4))  # too old for the report

    report = counters.report(monday_early, days=2)
    assert list(report.weekly) == [date(2026, 11, 9), date(2026, 11, 16), date(2026, 11, 23), date(2026, 11, 30)]
    assert report.weekly[date(2026, 11, 23)] == {("measure_shown", "job-cafe"): 3}
    assert report.weekly[date(2026, 11, 30)] == {("measure_shown", "job-cafe"): 1, ("measure_shown", "saposute"): 1}
    assert report.weekly[date(2026, 11, 16)] == {}
    assert report.totals() == {("measure_shown", "job-cafe"): 4, ("measure_shown", "saposute"): 1}
    text = report.format("en")
    assert "2026-W48 (11/23–)" in text
    assert "2026-W49 (11/30–)" in text


def test_small_counts_are_suppressed(store: StateStore) -> None:
    counters = UsageCounters(store)
    day1, day2 = T0 - timedelta(days=1), T0
    counters.increment("conversation_started", now=day2, by=5)
    counters.increment("persona", "self", now=day2)
    counters.increment("persona", "family", now=day2, by=4)
    counters.increment("situation", "withdrawn", now=day1, by=2)
    counters.increment("situation", "withdrawn", now=day2, by=2)  # total 4
    counters.increment("measure_opened", "job-cafe", now=day1, by=3)
    counters.increment("measure_opened", "job-cafe", now=day2, by=3)  # total 6
    report = counters.report(T0)

    ja = report.format("ja").splitlines()
    daily = ja[ja.index("【日別】") : ja.index("【週別】")]
    totals = ja[ja.index("【合計 7日間】") :]
    assert "・相談開始: 5" in daily
    assert "・利用者 self: <5" in daily
    assert "・利用者 family: <5" in daily
    assert "・施策詳細 job-cafe: <5" in daily
    assert "・状況 withdrawn: <5" in totals
    assert "・施策詳細 job-cafe: 5" in totals  # 6, rounded to 5
    assert "11/25 (水): 0" in daily

    en = report.format("en")
    assert "・persona family: <5" in en
    assert "・measure opened job-cafe: 5" in en
    for text in (report.format("ja"), en):
        assert max(len(line) for line in text.splitlines()) <= 40
        for count in "1234":
            assert f": {count}\n" not in text + "\n"


@pytest.mark.parametrize("count, shown", [(0, "0"), (1, "<5"), (4, "<5"), (5, "5"), (6, "5"), (8, "10"),
                                          (123, "125"), (1234, "1,235")])
def test_suppress(count: int, shown: str) -> None:
    assert suppress(count) == shown


def test_counters_hold_no_user_identifiers(store: StateStore, db_path: Path) -> None:
    counters = UsageCounters(store)
    with store.transaction():
        store.save("tg:987654", STATE, T0)
        counters.increment("conversation_started", now=T0)
        counters.increment("persona", "family", now=T0)
    for bad_key in ("tg:987654", "console:local", "助けてください", "Job Cafe", "x" * 65):
        with pytest.raises(ValueError):
            counters.increment("measure_opened", bad_key, now=T0)
    with pytest.raises(ValueError):
        counters.increment("tg:987654", now=T0)

    conn = sqlite3.connect(db_path)
    try:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(usage_counts)")]
        rows = conn.execute("SELECT * FROM usage_counts").fetchall()
    finally:
        conn.close()
    assert columns == ["day", "metric", "key", "count"]
    assert sorted(rows) == [("2026-11-27", "conversation_started", "", 1), ("2026-11-27", "persona", "family", 1)]


def test_inbox_keeps_updates_until_handled_and_drops_redeliveries(store: StateStore, db_path: Path) -> None:
    inbox = Inbox(store)
    assert inbox.accept(10, '{"update_id": 10, "text": "secret-typed-words"}', T0)
    assert inbox.accept(11, '{"update_id": 11}', T0)
    assert not inbox.accept(10, '{"update_id": 10}', T0)  # delivered again while waiting
    assert [update_id for update_id, _ in inbox.pending()] == [10, 11] and inbox.waiting() == 2
    inbox.done(10, T0)
    assert not inbox.accept(10, '{"update_id": 10}', T0)  # delivered again after it was answered
    assert [update_id for update_id, _ in inbox.pending()] == [11]
    store.checkpoint()
    for file in db_path.parent.iterdir():  # the typed words are gone from the file once answered
        assert b"secret-typed-words" not in file.read_bytes(), file.name
    assert inbox.forget_handled(T0 + timedelta(days=3)) == 1
    assert inbox.accept(10, '{"update_id": 10}', T0 + timedelta(days=3))  # ids are kept for two days only
    inbox.done(10, T0)
    inbox.belong_to(111)
    inbox.belong_to(111)
    assert not inbox.accept(10, "{}", T0)  # the same bot: still handled
    inbox.belong_to(222)  # another bot (a new token): its update ids are its own
    assert inbox.accept(10, "{}", T0) and [update_id for update_id, _ in inbox.pending()] == [10]


def test_counters_older_than_the_retention_are_purged(store: StateStore) -> None:
    counters = UsageCounters(store)
    counters.increment("persona", "family", now=T0 - timedelta(days=401))
    counters.increment("persona", "family", now=T0 - timedelta(days=399))
    assert counters.purge(T0, keep_days=400) == 1
    assert counters.purge(T0, keep_days=400) == 0


def test_event_inbox_keeps_events_until_done_and_drops_redeliveries(store: StateStore) -> None:
    """LINE events by string id: kept before the 200, handled once, ids per channel, old ids forgotten."""
    line, other = EventInbox(store, "line"), EventInbox(store, "other")
    assert line.accept("01HX", '{"type":"message"}', T0) is True
    assert line.accept("01HX", '{"type":"message"}', T0) is False  # redelivered while waiting
    assert other.accept("01HX", "{}", T0) is True  # another channel's id space
    assert line.pending() == [("01HX", '{"type":"message"}')] and line.waiting() == 1
    line.done("01HX", T0)
    assert line.pending() == [] and line.accept("01HX", "{}", T0) is False  # redelivered after handling
    assert line.forget_handled(T0 + timedelta(days=3)) == 1
    assert line.accept("01HX", "{}", T0 + timedelta(days=3)) is True
