"""Persistence: per-user conversation state and settings, and anonymous daily usage counters, in one SQLite file.

Durability: WAL with `synchronous=NORMAL`. A commit is in the WAL file (the OS page cache) before `save()` returns,
so a process crash (kill -9) loses nothing; only an OS crash or power cut can roll back the last few commits, and the
file is never corrupted. `synchronous=FULL` adds an fsync per message (measured on the dev VM: save() median ~45 µs
with NORMAL, 115-270 µs with FULL and a p95 up to 3.5 ms) and buys little: at worst a user answers a question again.
Deletions are the exception: `forget()` and `purge_expired()` end with a checkpoint, which fsyncs, so a deletion the
bot has confirmed stays deleted.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

try:
    JST: tzinfo = ZoneInfo("Asia/Tokyo")
except ZoneInfoNotFoundError:  # a fresh machine may lack tzdata; Japan has had no DST since 1951
    JST = timezone(timedelta(hours=9), "JST")

DEFAULT_TTL = timedelta(days=30)
FREE_TEXT_KEYS = frozenset({"text", "free_text", "message", "query"})
_SCHEMA_VERSION = 1
_METRIC_RE = re.compile(r"[a-z][a-z0-9_]{0,39}")
_KEY_RE = re.compile(r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*)?")  # catalog ids; rejects "tg:123", spaces, free text

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    user_key TEXT PRIMARY KEY NOT NULL,
    state TEXT,
    settings TEXT,
    updated_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS inbox (
    update_id INTEGER PRIMARY KEY NOT NULL,
    body TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS inbox_owner (
    bot_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS handled (
    update_id INTEGER PRIMARY KEY NOT NULL,
    handled_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS event_inbox (
    event_id TEXT PRIMARY KEY NOT NULL,
    channel TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS event_handled (
    event_id TEXT PRIMARY KEY NOT NULL,
    handled_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS usage_counts (
    day TEXT NOT NULL,
    metric TEXT NOT NULL,
    key TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (day, metric, key)
) WITHOUT ROWID;
"""
# Constant SQL strings: the sqlite3 module keeps them prepared in its statement cache.
_LOAD = "SELECT state FROM users WHERE user_key = ?"
_SAVE = (
    "INSERT INTO users (user_key, state, updated_at) VALUES (?, ?, ?) "
    "ON CONFLICT (user_key) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at"
)
_GET_SETTINGS = "SELECT settings FROM users WHERE user_key = ?"
_SAVE_SETTINGS = (
    "INSERT INTO users (user_key, settings, updated_at) VALUES (?, ?, ?) "
    "ON CONFLICT (user_key) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at"
)
_FORGET = "DELETE FROM users WHERE user_key = ?"
_PURGE = "DELETE FROM users WHERE updated_at < ?"
_COUNT_USERS = "SELECT count(*) FROM users"
_INCREMENT = (
    "INSERT INTO usage_counts (day, metric, key, count) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (day, metric, key) DO UPDATE SET count = count + excluded.count"
)
_COUNTS_SINCE = "SELECT day, metric, key, count FROM usage_counts WHERE day >= ? AND day <= ?"


def _utc_stamp(now: datetime) -> str:
    """`now` as fixed-width UTC ISO text, so that string order is time order."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(UTC).isoformat(timespec="microseconds")


def jst_date(now: datetime) -> date:
    """The calendar date in Tokyo at the aware instant `now`."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(JST).date()


def _reject_free_text(value: object, path: str = "") -> None:
    """Raise ValueError if a dict at any depth has a key that suggests typed text; names the path, never the value."""
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and key.casefold() in FREE_TEXT_KEYS:
                raise ValueError(f"refusing to store free text: key {where!r}; store choice ids only")
            _reject_free_text(item, where)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _reject_free_text(item, f"{path}[{index}]")


def _to_json(value: dict[str, Any], what: str) -> str:
    """Check and serialise a state or settings dict."""
    if not isinstance(value, dict):
        raise TypeError(f"{what} must be a dict, not {type(value).__name__}")
    _reject_free_text(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _open_private(path: Path) -> None:
    """Create the database file readable by its owner only; SQLite gives the -wal and -shm files the same mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


class StorageError(RuntimeError):
    """The data folder or database cannot be used as it is; the message says what to do."""


class StateStore:
    """Per-user conversation state and settings, written through to one SQLite file.

    Callers must pass only choices (persona, situation, answer and measure ids, the language), never text the user
    typed; `save()` refuses dicts with a "text", "free_text", "message" or "query" key at any depth as a safety net.
    Keys are opaque strings chosen by the adapter ("tg:12345", "console:local"). State and settings share one
    `updated_at`, so they expire together. Safe from several threads (one connection behind a lock); on asyncio,
    call it directly from the loop, and never `await` inside `transaction()`.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        """Open (creating if needed) the database at `path`; ":memory:" gives a private in-memory one."""
        if str(path) != ":memory:":
            file = Path(path)
            if file.exists() and file.stat().st_size == 0:
                raise StorageError(f"{file} is empty (0 bytes): restore it from a backup, or delete it to start with "
                                   "no stored conversations")
            _open_private(file)
        self._lock = threading.RLock()
        self._depth = 0
        self._checkpoint_due = False
        # isolation_level=None: autocommit, so each write is its own transaction unless inside transaction().
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            self._open(path)
        except sqlite3.DatabaseError as error:
            self._conn.close()
            raise StorageError(f"{path} cannot be used as the database ({error}): restore it from a backup, or "
                               "move it away to start with no stored conversations") from error

    def _open(self, path: str | os.PathLike[str]) -> None:
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = NORMAL")
        self._conn.execute("PRAGMA secure_delete = ON")  # zero deleted and overwritten rows in the file
        self._conn.execute("PRAGMA busy_timeout = 5000")  # a maintenance CLI may open the same file
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        if version not in (0, _SCHEMA_VERSION):
            self._conn.close()
            raise RuntimeError(f"{path}: schema version {version}, expected {_SCHEMA_VERSION}")
        self._conn.executescript(_SCHEMA)
        self._conn.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
        if self._conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise sqlite3.DatabaseError("the integrity check failed")

    def load(self, user_key: str) -> dict[str, Any] | None:
        """The saved conversation state of one user, or None."""
        with self._lock:
            row = self._conn.execute(_LOAD, (user_key,)).fetchone()
        return None if row is None or row[0] is None else json.loads(row[0])

    def save(self, user_key: str, state: dict[str, Any], now: datetime) -> None:
        """Write one user's conversation state through to disk (one UPSERT); refuses free-text keys."""
        self._write(_SAVE, (user_key, _to_json(state, "state"), _utc_stamp(now)))

    def get_settings(self, user_key: str) -> dict[str, Any]:
        """One user's settings (e.g. {"lang": "en"}), empty if none."""
        with self._lock:
            row = self._conn.execute(_GET_SETTINGS, (user_key,)).fetchone()
        return {} if row is None or row[0] is None else json.loads(row[0])

    def save_settings(self, user_key: str, settings: dict[str, Any], now: datetime) -> None:
        """Write one user's settings through to disk; refuses free-text keys like `save()`."""
        self._write(_SAVE_SETTINGS, (user_key, _to_json(settings, "settings"), _utc_stamp(now)))

    def forget(self, user_key: str) -> bool:
        """Delete everything stored about one user, durably; True if there was anything."""
        with self._lock:
            deleted = self._conn.execute(_FORGET, (user_key,)).rowcount > 0
            if deleted:
                self._scrub()
            return deleted

    def purge_expired(self, now: datetime, ttl: timedelta = DEFAULT_TTL) -> int:
        """Delete users untouched for longer than `ttl` (exactly `ttl` is kept); the number deleted."""
        if ttl <= timedelta(0):
            raise ValueError("ttl must be positive")
        with self._lock:
            deleted = self._conn.execute(_PURGE, (_utc_stamp(now - ttl),)).rowcount
            if deleted:
                self._scrub()
            return deleted

    def count_users(self) -> int:
        """How many users have state or settings stored."""
        with self._lock:
            return self._conn.execute(_COUNT_USERS).fetchone()[0]

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Make the writes in the block one atomic transaction (nested blocks become savepoints)."""
        with self._lock:
            depth = self._depth
            self._conn.execute("BEGIN IMMEDIATE" if depth == 0 else f"SAVEPOINT sp{depth}")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth = depth
                if depth == 0:
                    self._conn.execute("ROLLBACK")
                else:
                    self._conn.execute(f"ROLLBACK TO sp{depth}")
                    self._conn.execute(f"RELEASE sp{depth}")
                raise
            self._depth = depth
            self._conn.execute("COMMIT" if depth == 0 else f"RELEASE sp{depth}")
            if depth == 0 and self._checkpoint_due:
                self._scrub()

    def checkpoint(self) -> None:
        """Copy the write-ahead log into the file and empty it (deleted rows' old pages go with it)."""
        with self._lock:
            self._scrub()

    def close(self) -> None:
        """Close the connection (SQLite checkpoints and removes the WAL file); idempotent."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Self:
        """Use the store as a context manager that closes it."""
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Close the store."""
        self.close()

    def _write(self, sql: str, params: tuple[object, ...]) -> None:
        with self._lock:
            self._conn.execute(sql, params)

    def _read(self, sql: str, params: tuple[object, ...]) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def _scrub(self) -> None:
        # After a deletion: copy the zeroed pages into the database file and empty the WAL, which still holds the
        # deleted rows' old pages. The checkpoint fsyncs, which makes the deletion survive a power cut too.
        if self._depth:
            self._checkpoint_due = True
            return
        self._checkpoint_due = False
        self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


class Inbox:
    """Updates on disk from the moment they arrive until they are answered, so that a crash loses none.

    An update is written here before Telegram is told it was received (before the next getUpdates, or before the
    webhook answers 200), processed once, then deleted. Its body holds what the person typed: it stays only while
    waiting (seconds), and `secure_delete` zeroes it on deletion. Ids of handled updates are kept for a while so
    that an update Telegram delivers again is not answered twice.
    """

    def __init__(self, store: StateStore) -> None:
        self._store = store

    def belong_to(self, bot_id: int) -> None:
        """Use the inbox for this bot: update ids are counted per bot, so another bot's are forgotten."""
        with self._store.transaction():
            rows = self._store._read("SELECT bot_id FROM inbox_owner", ())
            if rows and int(rows[0][0]) == bot_id:
                return
            self._store._write("DELETE FROM inbox_owner", ())
            self._store._write("INSERT INTO inbox_owner (bot_id) VALUES (?)", (bot_id,))
            if rows:
                self._store._write("DELETE FROM inbox", ())
                self._store._write("DELETE FROM handled", ())

    def accept(self, update_id: int, body: str, now: datetime) -> bool:
        """Keep an arriving update; False when it is waiting already or was handled (a redelivery)."""
        with self._store.transaction():
            if self._store._read("SELECT 1 FROM handled WHERE update_id = ?", (update_id,)):
                return False
            cursor = self._store._conn.execute(
                "INSERT OR IGNORE INTO inbox (update_id, body, received_at) VALUES (?, ?, ?)",
                (update_id, body, _utc_stamp(now)))
            return cursor.rowcount > 0

    def done(self, update_id: int, now: datetime) -> None:
        """Mark an update handled: its body is deleted, its id remembered."""
        with self._store.transaction():
            self._store._write("DELETE FROM inbox WHERE update_id = ?", (update_id,))
            self._store._write("INSERT OR IGNORE INTO handled (update_id, handled_at) VALUES (?, ?)",
                               (update_id, _utc_stamp(now)))

    def pending(self) -> list[tuple[int, str]]:
        """Return the updates that arrived but were never handled (after a crash), oldest first."""
        return [(int(row[0]), str(row[1])) for row in
                self._store._read("SELECT update_id, body FROM inbox ORDER BY update_id", ())]

    def waiting(self) -> int:
        """How many updates wait in the inbox."""
        return int(self._store._read("SELECT count(*) FROM inbox", ())[0][0])

    def forget_handled(self, now: datetime, keep: timedelta = timedelta(days=2)) -> int:
        """Drop the ids of updates handled longer ago than `keep` (Telegram keeps updates 24 hours)."""
        with self._store._lock:
            return self._store._conn.execute("DELETE FROM handled WHERE handled_at < ?",
                                             (_utc_stamp(now - keep),)).rowcount


class EventInbox:
    """Webhook events of a channel whose ids are strings (LINE's `webhookEventId`), on disk until answered.

    The same promise as `Inbox`: an event is written here before the webhook answers 200, handled once, then its
    body (what the person typed) is deleted and its id remembered for a while, so that a redelivery is not answered
    twice. Ids carry the channel's prefix ("line:01H..."), so channels never collide.
    """

    def __init__(self, store: StateStore, channel: str) -> None:
        self._store = store
        self._channel = channel

    def _id(self, event_id: str) -> str:
        return f"{self._channel}:{event_id}"

    def accept(self, event_id: str, body: str, now: datetime) -> bool:
        """Keep an arriving event; False when it is waiting already or was handled (a redelivery)."""
        key = self._id(event_id)
        with self._store.transaction():
            if self._store._read("SELECT 1 FROM event_handled WHERE event_id = ?", (key,)):
                return False
            cursor = self._store._conn.execute(
                "INSERT OR IGNORE INTO event_inbox (event_id, channel, body, received_at) VALUES (?, ?, ?, ?)",
                (key, self._channel, body, _utc_stamp(now)))
            return cursor.rowcount > 0

    def done(self, event_id: str, now: datetime) -> None:
        """Mark an event handled: its body is deleted, its id remembered."""
        key = self._id(event_id)
        with self._store.transaction():
            self._store._write("DELETE FROM event_inbox WHERE event_id = ?", (key,))
            self._store._write("INSERT OR IGNORE INTO event_handled (event_id, handled_at) VALUES (?, ?)",
                               (key, _utc_stamp(now)))

    def pending(self) -> list[tuple[str, str]]:
        """Return the events that arrived but were never handled (after a crash), oldest first."""
        prefix = len(self._channel) + 1
        rows = self._store._read("SELECT event_id, body FROM event_inbox WHERE channel = ? "
                                 "ORDER BY received_at, rowid", (self._channel,))
        return [(str(row[0])[prefix:], str(row[1])) for row in rows]

    def waiting(self) -> int:
        """How many events of this channel wait in the inbox."""
        return int(self._store._read("SELECT count(*) FROM event_inbox WHERE channel = ?", (self._channel,))[0][0])

    def forget_handled(self, now: datetime, keep: timedelta = timedelta(days=2)) -> int:
        """Drop the ids of events handled longer ago than `keep` (LINE redelivers for a shorter time)."""
        with self._store._lock:
            return self._store._conn.execute("DELETE FROM event_handled WHERE handled_at < ?",
                                             (_utc_stamp(now - keep),)).rowcount


MetricKey = tuple[str, str]


class UsageCounters:
    """Anonymous usage counts per Tokyo calendar day, metric and key, in the store's file (table usage_counts).

    Nothing identifies a person: no user keys, no time finer than the day. Metrics and keys must look like ids
    ("persona", "job-cafe"); anything else (free text, "tg:123") is refused.
    """

    def __init__(self, store: StateStore) -> None:
        """Count into `store`'s database, so `store.transaction()` can cover state and counters together."""
        self._store = store

    def increment(self, metric: str, key: str = "", *, now: datetime, by: int = 1) -> None:
        """Add `by` to today's (Tokyo date of `now`) count of `metric` for `key`, e.g. ("persona", "family")."""
        if not _METRIC_RE.fullmatch(metric):
            raise ValueError(f"metric must be a lowercase id, got {metric!r}")
        if len(key) > 64 or not _KEY_RE.fullmatch(key):
            raise ValueError("key must be a catalog id (lowercase letters, digits, '-', '_', '.') or empty")
        if by < 1:
            raise ValueError("by must be at least 1")
        self._store._write(_INCREMENT, (jst_date(now).isoformat(), metric, key, by))

    def purge(self, now: datetime, keep_days: int) -> int:
        """Delete counters of days older than `keep_days` (Tokyo dates); the number of rows deleted."""
        cutoff = (jst_date(now) - timedelta(days=keep_days)).isoformat()
        with self._store._lock:
            return self._store._conn.execute("DELETE FROM usage_counts WHERE day < ?", (cutoff,)).rowcount

    def report(self, now: datetime, days: int = 7) -> UsageReport:
        """Raw counts for the last `days` Tokyo days and the last 4 ISO weeks, both ending today."""
        if days < 1:
            raise ValueError("days must be at least 1")
        today = jst_date(now)
        day_list = tuple(today - timedelta(days=n) for n in range(days - 1, -1, -1))
        this_monday = today - timedelta(days=today.weekday())
        week_list = tuple(this_monday - timedelta(weeks=n) for n in range(3, -1, -1))
        start = min(day_list[0], week_list[0])
        daily: dict[date, dict[MetricKey, int]] = {d: {} for d in day_list}
        weekly: dict[date, dict[MetricKey, int]] = {w: {} for w in week_list}
        for day_text, metric, key, count in self._store._read(_COUNTS_SINCE, (start.isoformat(), today.isoformat())):
            day = date.fromisoformat(day_text)
            if day in daily:
                daily[day][metric, key] = daily[day].get((metric, key), 0) + count
            monday = day - timedelta(days=day.weekday())
            if monday in weekly:
                weekly[monday][metric, key] = weekly[monday].get((metric, key), 0) + count
        return UsageReport(daily=daily, weekly=weekly)


_METRIC_ORDER = (
    "conversation_started", "persona", "situation", "measure_shown", "measure_opened", "kpi_question", "crisis_reply",
)  # fmt: skip
_LABELS: dict[str, dict[str, str]] = {
    "ja": {
        "conversation_started": "相談開始",
        "persona": "利用者",
        "situation": "状況",
        "measure_shown": "施策表示",
        "measure_opened": "施策詳細",
        "kpi_question": "KPI質問",
        "crisis_reply": "相談窓口案内",
        "title": "利用状況（日本時間）",
        "note": "※1〜4件は「<5」、5件以上は5件単位に丸めて表示",
        "headline": "今週の相談開始: {this}（先週 {last}）",
        "daily": "【日別】",
        "weekly": "【週別】",
        "total": "【合計 {days}日間】",
    },
    "en": {
        "conversation_started": "conversations",
        "persona": "persona",
        "situation": "situation",
        "measure_shown": "measure shown",
        "measure_opened": "measure opened",
        "kpi_question": "KPI question",
        "crisis_reply": "crisis reply",
        "title": "Usage (Japan time)",
        "note": "Counts of 1-4 are shown as <5;\nlarger counts are rounded to 5.",
        "headline": "This week: {this} (last week {last})",
        "daily": "[Daily]",
        "weekly": "[Weekly]",
        "total": "[Total, {days} days]",
    },
}
_WEEKDAYS = {"ja": tuple("月火水木金土日"), "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}


def suppress(count: int) -> str:
    """A count as shown to staff: 1-4 become "<5", larger ones are rounded to a multiple of 5.

    Rounding every shown count keeps a suppressed one from being worked out by subtraction (a total of 7 and a
    day of 6 would tell that the other day was 1).
    """
    if count == 0:
        return "0"
    if count < 5:
        return "<5"
    return f"{(count + 2) // 5 * 5:,}"


Namer = Callable[[str, str, str], str]  # (metric, key, lang) -> words a member of staff reads


@dataclass(frozen=True)
class UsageReport:
    """Raw counts per Tokyo day and per ISO week (keyed by its Monday), oldest first; only `format()` is for people."""

    daily: dict[date, dict[MetricKey, int]]
    weekly: dict[date, dict[MetricKey, int]]

    def totals(self) -> dict[MetricKey, int]:
        """Counts summed over the daily window."""
        summed: dict[MetricKey, int] = {}
        for counts in self.daily.values():
            for metric_key, count in counts.items():
                summed[metric_key] = summed.get(metric_key, 0) + count
        return summed

    def format(self, lang: Literal["ja", "en"] = "ja", name: Namer | None = None) -> str:
        """A short-lined plain-text report for a Telegram message: a headline (this week against the week before),
        then days and weeks, counts of 1-4 shown as "<5" and the rest rounded to 5; `name` gives readable labels."""
        labels, weekdays = _LABELS.get(lang, _LABELS["ja"]), _WEEKDAYS.get(lang, _WEEKDAYS["ja"])
        days = list(self.daily)
        lines = [labels["title"], f"{days[0].isoformat()} – {days[-1].isoformat()}", labels["note"], ""]
        weeks = list(self.weekly)
        if weeks:
            this_week = sum(n for (metric, _), n in self.weekly[weeks[-1]].items() if metric == "conversation_started")
            last_week = sum(n for (metric, _), n in self.weekly[weeks[-2]].items()
                            if metric == "conversation_started") if len(weeks) > 1 else 0
            lines += [labels["headline"].format(this=suppress(this_week), last=suppress(last_week)), ""]

        lines.append(labels["daily"])
        for day in reversed(days):
            heading = f"{day:%m/%d} ({weekdays[day.weekday()]})"
            lines.extend(self._block(heading, self.daily[day], labels, name))
        lines += ["", labels["weekly"]]
        for monday in reversed(self.weekly):
            year, week, _ = monday.isocalendar()
            lines.extend(self._block(f"{year}-W{week:02d} ({monday:%m/%d}–)", self.weekly[monday], labels, name))
        lines += ["", labels["total"].format(days=len(days))]
        lines.extend(self._items(self.totals(), labels, name) or ["0"])
        return "\n".join(lines)

    @classmethod
    def _block(cls, heading: str, counts: dict[MetricKey, int], labels: dict[str, str],
               name: Namer | None) -> list[str]:
        items = cls._items(counts, labels, name)
        return [heading, *items] if items else [f"{heading}: 0"]

    @staticmethod
    def _items(counts: dict[MetricKey, int], labels: dict[str, str], name: Namer | None) -> list[str]:
        def order(metric_key: MetricKey) -> tuple[int, str, str]:
            metric, key = metric_key
            rank = _METRIC_ORDER.index(metric) if metric in _METRIC_ORDER else len(_METRIC_ORDER)
            return rank, metric, key

        lines = []
        lang = "en" if labels is _LABELS["en"] else "ja"
        for metric, key in sorted((mk for mk, n in counts.items() if n), key=order):
            if name is not None:
                label = name(metric, key, lang)
            else:
                label = f"{labels.get(metric, metric)} {key}" if key else labels.get(metric, metric)
            lines.append(f"・{label}: {suppress(counts[metric, key])}")
        return lines
