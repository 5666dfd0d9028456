"""End-to-end figures of the Telegram bot: throughput and latency against a minimal PTB bot, start-up, memory, and
the SQLite write-through cost per update.

Usage: .venv/bin/python bench/bench_bot.py [--users N] [--rounds R] [--quick]
       (default: 50 users, 6 rounds per bot, ~2 min; --quick: 20 users, 2 rounds, live growth replaced by an
       in-process pre-fill of the SQLite file, ~30 s)

1. Throughput and latency: the local Bot API stand-in (tests/botapi_standin.py) runs in a thread of this process;
   the real bot (`python -m navigator_bot run`, SQLite on) and bench/minimal_bot.py (same Bot API calls, same
   per-user concurrency, nothing else) run as subprocesses, each polling its own stand-in. N users at once each do
   /start, persona, situation, every question (buttons read off the latest keyboard), then type one KPI question;
   each update waits for its reply. Rounds alternate which bot goes first (an even number of rounds: the bot that
   goes second is slower, having idled); updates/s and latencies are medians over rounds, the ratio is the
   geometric mean of the per-round ratios, which cancels that order effect.
   Latency = stand-in's record time of the first sendMessage/editMessageText in the user's chat minus the time
   the update was injected (under load it is mostly queueing behind the other users; the same journey by one
   user alone gives the reply time itself). Target: navigator/minimal updates/s >= 0.8. Both bots use the update
   processor that build_application() configures (PerUserUpdateProcessor, 64 concurrent updates; read from the
   real application at run time and passed to the minimal bot).
2. Start-up: launch of `navigator-bot run` to its first getUpdates (target < 1.5 s), and cold `navigator-bot ask`.
3. Memory: peak RSS (VmHWM) of the running bot once 1,000 users' state are stored (target < 120 MB).
4. SQLite write-through: Navigator.handle() for a button press with 10 vs 10,000 users stored, and the engine
   alone as the floor.

Figures are ratios measured in the same run; the machine is shared, so absolute numbers are indicative only.
Writes bench/out/bench_bot.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from navigator_bot.adapters.telegram import build_application  # noqa: E402
from navigator_bot.app import Navigator  # noqa: E402
from navigator_bot.config import Settings  # noqa: E402
from navigator_bot.dialogue import Button, ButtonPressed, Outcome, Start, UserContext  # noqa: E402
from navigator_bot.engine import ConversationState  # noqa: E402
from tests.botapi_standin import BotApiStandin, RecordedCall  # noqa: E402

OUT = ROOT / "bench" / "out" / "bench_bot.json"
MINIMAL_BOT = ROOT / "bench" / "minimal_bot.py"
RAW_BOT = ROOT / "bench" / "raw_bot.py"
REPLY_METHODS = frozenset({"sendMessage", "editMessageText"})
KPI_TEXT = "R4の就職件数は？"
PERSONAS = ("ご本人", "ご家族・周りの方")  # both are asked for a situation, as the journey needs
PREFERRED = ("不安定な働き方・非正規", "はい", "関心がある", "そうしたい", "心配がある", "むずかしい")
RESULTS_MARKER = "番号のボタンで、くわしく見られます"  # in both results_intro and results_intro_family
KPI_MARKER = "972"  # R4 正社員就職件数 in the catalog
STEP_TIMEOUT = 20.0  # seconds one update may take before the run is declared failed
TARGETS = {"throughput_ratio": 0.95, "cpu_vs_floor": 1.4, "startup_s": 1.5, "peak_rss_mb": 150.0}
MEMORY_USERS = 1000
LOAD_BUDGET_S = 100.0  # after this many seconds of load rounds, stop at the next even round count (at least 4)


# --- small helpers ------------------------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    """Return the nearest-rank value below which `fraction` of the values lie."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def machine() -> dict[str, Any]:
    """Describe the machine: cores, CPU model, Python and OS."""
    model = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"nproc": os.cpu_count(), "cpu_model": model, "python": platform.python_version(),
            "platform": platform.platform()}


def proc_status_kb(pid: int, field_name: str) -> int:
    """Return a kB field (VmHWM, VmRSS) of /proc/<pid>/status."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    raise KeyError(field_name)


def proc_cpu_seconds(pid: int) -> float:
    """Return user + system CPU seconds a process has used so far (/proc/<pid>/stat)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu_ticks() -> tuple[int, int, int]:
    """Return (total, idle + iowait, steal) ticks of all CPUs from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as stat:
        values = [int(value) for value in stat.readline().split()[1:]]
    return sum(values[:8]), values[3] + values[4], values[7]


def clean_env(**extra: str) -> dict[str, str]:
    """Return this process's environment without NAVIGATOR_*/TELEGRAM_* settings, plus `extra`."""
    keep = {"NAVIGATOR_EMBEDDING_CACHE_DIR"}  # the warm embedding cache primed by main()
    env = {k: v for k, v in os.environ.items()
           if k in keep or not k.startswith(("NAVIGATOR_", "MINIMAL_", "TELEGRAM_"))}
    return env | extra


def prime_embedding_cache(folder: Path) -> None:
    """Embed the catalog once into `folder` and point every navigator started here at it (a warm start)."""
    from navigator_bot.catalog import load_catalog
    from navigator_bot.i18n import Translator
    from navigator_bot.understanding import Understanding
    from navigator_bot.understanding.semantic import load_encoder

    encoder, status = load_encoder()
    print(f"embedding model: {status.detail}", flush=True)
    if encoder is not None:
        Understanding(load_catalog(), Translator(), encoder=encoder, cache_dir=folder)
    os.environ["NAVIGATOR_EMBEDDING_CACHE_DIR"] = str(folder)


def navigator_command() -> list[str]:
    """Return the `navigator-bot` console script of this venv (or `python -m navigator_bot`)."""
    script = Path(sys.executable).parent / "navigator-bot"
    return [str(script)] if script.exists() else [sys.executable, "-m", "navigator_bot"]


# --- bot subprocesses ---------------------------------------------------------------------------------------------


@dataclass
class BotProcess:
    """One bot running as a subprocess against a stand-in; its output goes to a log file."""

    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    launched: float

    @property
    def pid(self) -> int:
        """The process id."""
        return self.proc.pid

    def check_alive(self) -> None:
        """Raise if the process has exited (with the tail of its log)."""
        if self.proc.poll() is not None:
            tail = self.log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{tail}")

    def stop(self) -> None:
        """SIGINT (a clean PTB shutdown), then kill after 10 s; idempotent."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


@contextmanager
def bot_process(kind: str, standin: BotApiStandin, workdir: Path, command: list[str] | None = None,
                concurrency: int = 64) -> Iterator[BotProcess]:
    """Start the navigator ("navigator") or the minimal bot ("minimal") against `standin`; always stopped."""
    workdir.mkdir(parents=True, exist_ok=True)
    if kind == "navigator":
        argv = command or [sys.executable, "-m", "navigator_bot", "run"]
        # Telegram's own limit (30 messages a second, NAVIGATOR_RATE_LIMIT) is lifted here: the rounds measure
        # what the bot can process, against bots that have no such limit.
        env = clean_env(NAVIGATOR_TELEGRAM_TOKEN=standin.token, NAVIGATOR_TELEGRAM_API_URL=f"{standin.url}/bot",
                        NAVIGATOR_DATA_DIR=str(workdir / "data"), NAVIGATOR_LOG_LEVEL="INFO",
                        NAVIGATOR_RATE_LIMIT="100000")
    elif kind == "raw":
        argv = command or [sys.executable, str(RAW_BOT)]
        env = clean_env(RAW_TELEGRAM_TOKEN=standin.token, RAW_TELEGRAM_API_URL=f"{standin.url}/bot",
                        RAW_CONCURRENT_UPDATES=str(concurrency))
    else:
        argv = command or [sys.executable, str(MINIMAL_BOT)]
        env = clean_env(MINIMAL_TELEGRAM_TOKEN=standin.token, MINIMAL_TELEGRAM_API_URL=f"{standin.url}/bot",
                        MINIMAL_CONCURRENT_UPDATES=str(concurrency))
    log_path = workdir / f"{kind}-{time.monotonic_ns()}.log"
    with open(log_path, "wb") as log:
        launched = time.time()
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    bot = BotProcess(kind, proc, log_path, launched)
    try:
        yield bot
    finally:
        bot.stop()


def wait_polling(standin: BotApiStandin, bot: BotProcess, timeout: float = 30.0) -> None:
    """Wait until the bot has issued its first getUpdates."""
    deadline = time.monotonic() + timeout
    while standin.get_updates_count == 0:
        bot.check_alive()
        if time.monotonic() > deadline:
            raise TimeoutError(f"{bot.name} did not start polling within {timeout} s")
        with suppress(TimeoutError):
            standin.wait_for_sync(lambda: standin.get_updates_count > 0, timeout=0.5)


# --- the load driver ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One update a simulated user sends: "start", "press" (a label, or None for the first button) or "text"."""

    kind: str
    arg: str | None = None
    expect: str | None = None  # text the reply must contain (navigator only)


@dataclass
class SimUser:
    """A simulated user walking through its steps; every update waits for its reply."""

    user_id: int
    steps: list[Step]
    index: int = 0
    injected: float = 0.0
    replied: bool = False
    message_id: int | None = None
    buttons: list[tuple[str, str]] = field(default_factory=list)  # (label, callback_data) of the latest keyboard


@dataclass
class RoundResult:
    """What one load round measured."""

    updates: int
    wall_s: float
    latencies: list[float]
    bot_cpu_s: float
    harness_cpu_s: float
    machine_busy_share: float  # of all cores, by anything (the bot, this harness, other tenants)
    steal_share: float  # of all cores' time, taken by the hypervisor for other VMs
    polls: int  # getUpdates requests the bot made during the round
    failed_checks: int

    @property
    def updates_per_s(self) -> float:
        """Updates handled per second over the whole round."""
        return self.updates / self.wall_s

    def summary(self) -> dict[str, float]:
        """The round's figures as JSON-ready numbers."""
        return {
            "updates": self.updates,
            "wall_s": round(self.wall_s, 4),
            "updates_per_s": round(self.updates_per_s, 2),
            "latency_median_ms": round(statistics.median(self.latencies) * 1e3, 2),
            "latency_p99_ms": round(percentile(self.latencies, 0.99) * 1e3, 2),
            "bot_cpu_ms_per_update": round(self.bot_cpu_s / self.updates * 1e3, 3),
            "harness_cpu_share": round(self.harness_cpu_s / self.wall_s, 3),
            "machine_busy_share": round(self.machine_busy_share, 3),
            "steal_share": round(self.steal_share, 3),
            "updates_per_poll": round(self.updates / max(1, self.polls), 2),
            "failed_checks": self.failed_checks,
        }


def _inject(standin: BotApiStandin, user: SimUser) -> None:
    step = user.steps[user.index]
    user.replied = False
    if step.kind == "start":
        user.injected = time.time()
        standin.send_command(user.user_id, "/start")
    elif step.kind == "text":
        user.injected = time.time()
        standin.send_text(user.user_id, step.arg or "")
    else:
        if step.arg is None:
            data = user.buttons[0][1]
        else:
            data = next((d for label, d in user.buttons if label == step.arg), "")
            if not data:
                raise RuntimeError(f"user {user.user_id}: no button {step.arg!r} in {[b for b, _ in user.buttons]}")
        assert user.message_id is not None
        user.injected = time.time()
        standin.press_button(user.user_id, user.message_id, data)


def _keyboard_of(call: RecordedCall) -> tuple[int | None, list[tuple[str, str]]]:
    message_id = call.params.get("message_id") if call.method == "editMessageText" else (call.result or {}).get(
        "message_id")
    buttons = [(str(b.get("text", "")), b["callback_data"]) for row in call.inline_keyboard for b in row
               if "callback_data" in b]
    return message_id, buttons


def drive(standin: BotApiStandin, bot: BotProcess, users: list[SimUser], concurrency: int,
          timeout: float) -> RoundResult:
    """Run the users' steps against the bot (at most `concurrency` users active) and measure every reply."""
    by_id = {user.user_id: user for user in users}
    waiting = list(reversed(users))
    active: dict[int, SimUser] = {}
    latencies: list[float] = []
    failed = 0
    seen = len(standin.calls)
    cpu0, harness0, ticks0 = proc_cpu_seconds(bot.pid), time.process_time(), machine_cpu_ticks()
    polls0 = standin.get_updates_count
    first = time.time()
    last_reply = first
    deadline = time.monotonic() + timeout
    while waiting and len(active) < concurrency:
        user = waiting.pop()
        active[user.user_id] = user
        _inject(standin, user)
    while active:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{bot.name}: {len(active)} users still waiting after {timeout} s")
        oldest = min(user.injected for user in active.values())
        if time.time() - oldest > STEP_TIMEOUT:
            bot.check_alive()
            raise TimeoutError(f"{bot.name}: an update went unanswered for {STEP_TIMEOUT} s")
        try:
            standin.wait_for_sync(lambda seen=seen: len(standin.calls) > seen, timeout=0.5)
        except TimeoutError:
            bot.check_alive()
            continue
        new = standin.calls[seen:]
        seen += len(new)
        for call in new:
            user = by_id.get(call.chat_id) if call.method in REPLY_METHODS and call.ok else None
            if user is None or user.user_id not in active:
                continue
            if not user.replied:
                user.replied = True
                latencies.append(call.timestamp - user.injected)
            message_id, buttons = _keyboard_of(call)
            if not buttons:
                continue  # a reply of several messages: its keyboard comes with the last one
            expect = user.steps[user.index].expect
            if expect is not None and expect not in (call.text or ""):
                failed += 1
            user.message_id, user.buttons = message_id, buttons
            last_reply = max(last_reply, call.timestamp)
            user.index += 1
            if user.index < len(user.steps):
                _inject(standin, user)
                continue
            del active[user.user_id]
            if waiting:
                nxt = waiting.pop()
                active[nxt.user_id] = nxt
                _inject(standin, nxt)
    updates = sum(len(user.steps) for user in users)
    ticks = [now - then for now, then in zip(machine_cpu_ticks(), ticks0, strict=True)]
    total = max(1, ticks[0])
    return RoundResult(updates, last_reply - first, latencies, proc_cpu_seconds(bot.pid) - cpu0,
                       time.process_time() - harness0, 1 - ticks[1] / total, ticks[2] / total,
                       standin.get_updates_count - polls0, failed)


def navigator_journey(persona: str) -> list[Step]:
    """Find the questionnaire journey of a persona in-process: /start, persona, situation, questions, a KPI text."""
    with tempfile.TemporaryDirectory() as tmp:
        navigator = Navigator.from_settings(Settings(data_dir=Path(tmp)))
        try:
            context = UserContext(language_hint="ja")
            outcome = navigator.handle("tg:1", Start(), context)
            steps = [Step("start")]
            label = persona
            for _ in range(15):
                buttons = [button for reply in outcome.replies for row in reply.buttons for button in row]
                action = next(button.action for button in buttons if button.label == label)
                outcome = navigator.handle("tg:1", ButtonPressed(action), context)
                text = "\n".join(reply.text for reply in outcome.replies)
                steps.append(Step("press", label, RESULTS_MARKER if RESULTS_MARKER in text else None))
                if RESULTS_MARKER in text:
                    break
                offered = [button.label for reply in outcome.replies for row in reply.buttons for button in row]
                label = next((choice for choice in PREFERRED if choice in offered), offered[0])
            else:
                raise RuntimeError(f"no results for persona {persona} after 15 presses")
        finally:
            navigator.close()
    return [*steps, Step("text", KPI_TEXT, KPI_MARKER)]


def make_users(kind: str, journeys: list[list[Step]], count: int, first_id: int) -> list[SimUser]:
    """Users for one round: the navigator follows the journeys; the minimal bot gets as many updates of each kind."""
    users = []
    for n in range(count):
        steps = journeys[n % len(journeys)]
        if kind in ("minimal", "raw"):
            steps = [Step(step.kind, None if step.kind == "press" else step.arg) for step in steps]
        users.append(SimUser(first_id + n, steps))
    return users


# --- 1. throughput and latency ------------------------------------------------------------------------------------


def concurrency_of_real_bot() -> tuple[str, int]:
    """Return the update processor build_application() configures (class name, max concurrent updates)."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), NAVIGATOR_TELEGRAM_TOKEN="1:bench")
        navigator = Navigator.from_settings(settings)
        try:
            processor = build_application(settings, navigator).update_processor
        finally:
            navigator.close()
    return type(processor).__name__, processor.max_concurrent_updates


def bench_load(args: argparse.Namespace, workdir: Path, memory: dict[str, Any]) -> dict[str, Any]:
    """Interleaved rounds against both bots; then grow the navigator's store to 1,000 users and read its VmHWM."""
    processor, limit = concurrency_of_real_bot()
    journeys = [navigator_journey(persona) for persona in PERSONAS]
    results: dict[str, list[RoundResult]] = {"navigator": [], "minimal": [], "raw": []}
    if args.quick:  # live growth to 1,000 users takes ~25 s: store most of them in-process instead
        prefill(workdir / "navigator" / "data", MEMORY_USERS - 10 - args.users * args.rounds)
        memory["navigator_users_prefilled_in_process"] = MEMORY_USERS - 10 - args.users * args.rounds
    standins = {name: BotApiStandin.start_in_thread(idle_connection_timeout=600) for name in results}
    try:
        with (
            bot_process("navigator", standins["navigator"], workdir / "navigator") as navigator,
            bot_process("minimal", standins["minimal"], workdir / "minimal", concurrency=limit) as minimal,
            bot_process("raw", standins["raw"], workdir / "raw", concurrency=limit) as raw,
        ):
            bots = {"navigator": navigator, "minimal": minimal, "raw": raw}
            for name, bot in bots.items():
                wait_polling(standins[name], bot)
                memory[f"{name}_idle_hwm_kb"] = proc_status_kb(bot.pid, "VmHWM")
            for name, bot in bots.items():  # warm-up: first-use costs (imports, caches, connections)
                drive(standins[name], bot, make_users(name, journeys, 10, 1), limit, 60)
            load_started = time.monotonic()
            for round_no in range(args.rounds):
                if round_no >= 4 and round_no % 2 == 0 and time.monotonic() - load_started > LOAD_BUDGET_S:
                    print(f"  (stopping after {round_no} rounds: over the {LOAD_BUDGET_S:.0f} s budget)")
                    break
                order = ["navigator", "minimal", "raw"] if round_no % 2 == 0 else ["raw", "minimal", "navigator"]
                for name in order:
                    users = make_users(name, journeys, args.users, 100_000 * (round_no + 1))
                    result = drive(standins[name], bots[name], users, args.users, 90)
                    results[name].append(result)
                    figures = result.summary()
                    print(f"  round {round_no + 1} {name:9s}: {figures['updates_per_s']:7.1f} updates/s, "
                          f"latency median {figures['latency_median_ms']:6.1f} ms p99 "
                          f"{figures['latency_p99_ms']:6.1f} ms, bot CPU {figures['bot_cpu_ms_per_update']:5.2f} "
                          f"ms/update, {figures['updates_per_poll']:4.1f} updates/poll, harness "
                          f"{figures['harness_cpu_share']:.0%} of a core, machine busy "
                          f"{figures['machine_busy_share']:.0%}, steal {figures['steal_share']:.0%}", flush=True)
            solo: dict[str, list[float]] = {name: [] for name in ("navigator", "minimal")}
            for rep in range(4):  # one user alone: the reply time without queueing behind other users
                for name in (["navigator", "minimal"] if rep % 2 == 0 else ["minimal", "navigator"]):
                    users = make_users(name, journeys, 1, 500_000 + rep)
                    solo[name] += drive(standins[name], bots[name], users, 1, 30).latencies
            memory["minimal_after_load_hwm_kb"] = proc_status_kb(minimal.pid, "VmHWM")
            data_dir = workdir / "navigator" / "data"
            memory.update(grow_to(standins["navigator"], navigator, data_dir, journeys[1], args.quick))
    finally:
        for standin in standins.values():
            standin.stop()

    def med(name: str, key: str) -> float:
        return statistics.median(result.summary()[key] for result in results[name])

    out: dict[str, Any] = {"concurrency": {"navigator": f"{processor}({limit})",
                                           "minimal": f"per-user lock copy of {processor}({limit})"},
                           "users": args.users, "rounds": args.rounds,
                           "updates_per_round": results["navigator"][0].updates}
    for name in results:
        out[name] = {key: med(name, key) for key in results[name][0].summary()}
        out[name]["rounds"] = [result.summary() for result in results[name]]
        if name in solo:
            out[name]["one_user_latency_median_ms"] = round(statistics.median(solo[name]) * 1e3, 2)
            out[name]["one_user_latency_p99_ms"] = round(percentile(solo[name], 0.99) * 1e3, 2)
    out["rounds"] = len(results["navigator"])
    ratios = [n.updates_per_s / m.updates_per_s for n, m in zip(results["navigator"], results["minimal"], strict=True)]
    # Whichever bot runs second in a round is measurably slower (it idled through the other's round); rounds
    # alternate the order, so the geometric mean of the per-round ratios over an even number of rounds cancels that.
    out["throughput_ratio"] = round(statistics.geometric_mean(ratios), 3)
    out["throughput_ratio_per_round"] = [round(ratio, 3) for ratio in ratios]
    out["throughput_ratio_of_medians"] = round(out["navigator"]["updates_per_s"] / out["minimal"]["updates_per_s"], 3)
    pair = ("navigator", "minimal")
    first = [results[name][r].updates_per_s for r in range(len(ratios)) for name in pair
             if (name == "navigator") == (r % 2 == 0)]
    second = [results[name][r].updates_per_s for r in range(len(ratios)) for name in pair
              if (name == "navigator") != (r % 2 == 0)]
    out["order_effect_second_vs_first"] = round(statistics.geometric_mean(second) / statistics.geometric_mean(first), 3)
    out["cpu_per_update_ratio"] = round(out["navigator"]["bot_cpu_ms_per_update"]
                                        / out["minimal"]["bot_cpu_ms_per_update"], 2)
    # The floor: the same HTTP calls made straight on httpx. What each bot spends per update on top of it.
    floor = out["raw"]["bot_cpu_ms_per_update"]
    out["cpu_per_update_vs_floor"] = {name: round(out[name]["bot_cpu_ms_per_update"] / floor, 2)
                                      for name in ("navigator", "minimal")}
    return out


# --- 3. memory ----------------------------------------------------------------------------------------------------


def prefill(data_dir: Path, count: int) -> None:
    """Store `count` users (after /start and a persona press) through Navigator in-process, before the bot starts."""
    navigator = Navigator.from_settings(Settings(data_dir=data_dir))
    try:
        context = UserContext(language_hint="ja")
        for n in range(count):
            user = f"tg:{800_000 + n}"
            outcome = navigator.handle(user, Start(), context)
            action = next(button.action for button in _buttons(outcome) if button.label == PERSONAS[0])
            navigator.handle(user, ButtonPressed(action), context)
    finally:
        navigator.close()


def stored_users(data_dir: Path) -> int:
    """Count the users with state in the bot's SQLite file (read-only)."""
    with closing(sqlite3.connect(f"file:{data_dir / 'navigator.sqlite3'}?mode=ro", uri=True)) as conn:
        return int(conn.execute("SELECT count(*) FROM users").fetchone()[0])


def grow_to(standin: BotApiStandin, bot: BotProcess, data_dir: Path, journey: list[Step],
            quick: bool) -> dict[str, Any]:
    """Drive new users through /start + persona until 1,000 are stored, then a round of traffic; read VmHWM."""
    before = stored_users(data_dir)
    missing = max(0, MEMORY_USERS - before)
    steps = [Step("start"), Step("press", PERSONAS[0])]
    users = [SimUser(900_000 + n, steps) for n in range(missing)]
    started = time.monotonic()
    if users:
        drive(standin, bot, users, 100, 120)
    grow_s = time.monotonic() - started
    drive(standin, bot, [SimUser(990_000 + n, journey) for n in range(20 if quick else 50)], 50, 60)
    return {
        "navigator_users_stored": stored_users(data_dir),
        "navigator_users_driven_for_memory": missing,
        "navigator_grow_s": round(grow_s, 2),
        "navigator_hwm_kb": proc_status_kb(bot.pid, "VmHWM"),
        "navigator_rss_kb": proc_status_kb(bot.pid, "VmRSS"),
    }


# --- 2. start-up --------------------------------------------------------------------------------------------------


def startup_once(kind: str, workdir: Path) -> tuple[float, float]:
    """Launch a bot with one /start waiting; return seconds to its first getUpdates and to its first reply."""
    standin = BotApiStandin.start_in_thread(record_get_updates=True)
    try:
        standin.send_command(1, "/start")  # pending: the first getUpdates returns (and is recorded) at once
        command = [*navigator_command(), "run"] if kind == "navigator" else None
        with bot_process(kind, standin, workdir, command) as bot:
            def polled() -> list[RecordedCall]:
                bot.check_alive()
                return standin.calls_for("getUpdates")

            first_poll = standin.wait_for_sync(polled, timeout=30, description="first getUpdates")[0]
            reply = standin.next_bot_call_sync("sendMessage", chat_id=1, timeout=30)
            return first_poll.timestamp - bot.launched, reply.timestamp - bot.launched
    finally:
        standin.stop()


def bench_startup(reps: int, workdir: Path) -> dict[str, Any]:
    """Median start-up of `navigator-bot run` and of the minimal bot (interleaved), and of a cold `ask`."""
    runs: dict[str, list[tuple[float, float]]] = {"navigator": [], "minimal": []}
    for rep in range(reps):
        for kind in runs:
            # A fresh data folder each time: every stand-in numbers its updates from 1, and a data folder that
            # handled update 1 before would rightly take it for a redelivery (the embedding cache stays shared).
            runs[kind].append(startup_once(kind, workdir / f"startup-{kind}-{rep}"))
    asks = []
    for _ in range(reps):
        started = time.perf_counter()
        done = subprocess.run([*navigator_command(), "ask", KPI_TEXT], cwd=ROOT, env=clean_env(), timeout=60,
                              capture_output=True, text=True, check=False)
        asks.append(time.perf_counter() - started)
        if done.returncode != 0 or KPI_MARKER not in done.stdout:
            raise RuntimeError(f"navigator-bot ask failed: {done.returncode} {done.stderr[-500:]}")
    out: dict[str, Any] = {"reps": reps}
    for kind, values in runs.items():
        out[kind] = {
            "to_first_get_updates_s": round(statistics.median(v[0] for v in values), 3),
            "to_first_reply_s": round(statistics.median(v[1] for v in values), 3),
            "all_to_first_get_updates_s": [round(v[0], 3) for v in values],
        }
    out["ask_cold_s"] = round(statistics.median(asks), 3)
    out["all_ask_cold_s"] = [round(v, 3) for v in asks]
    return out


# --- 4. SQLite write-through --------------------------------------------------------------------------------------


def _buttons(outcome: Outcome) -> list[Button]:
    return [button for reply in outcome.replies for row in reply.buttons for button in row]


def bench_write_through(samples: int, workdir: Path) -> dict[str, Any]:
    """Time Navigator.handle (a persona press) with 10 vs 10,000 users stored, and the engine alone."""
    context = UserContext(language_hint="ja")
    now = dt.datetime.now(dt.UTC)
    navigators: dict[int, Navigator] = {}
    try:
        for size in (10, 10_000):
            navigator = Navigator.from_settings(Settings(data_dir=workdir / f"store-{size}"))
            navigators[size] = navigator
            navigator.handle("tg:seed", Start(), context)  # also runs the first purge
            start_state = navigator.store.load(navigator.user_key("tg:seed"))
            assert start_state is not None
            with navigator.store.transaction():
                for n in range(size):
                    navigator.store.save(navigator.user_key(f"tg:{n}"), start_state, now)
        first = navigators[10]
        outcome = first.handle("tg:seed", Start(), context)
        action = next(button.action for button in _buttons(outcome) if button.label == PERSONAS[0])
        start_state = first.store.load(first.user_key("tg:seed"))
        assert start_state is not None
        event = ButtonPressed(action)
        timings: dict[str, list[float]] = {"handle_10": [], "handle_10000": [], "engine_only": []}
        engine = first._domain.engine  # the engine alone, as Navigator.handle calls it
        for n in range(samples):
            for size, navigator in navigators.items():
                user = f"tg:{(n * 7919) % size}"
                navigator.store.save(navigator.user_key(user), start_state, now)  # untimed: same state each time
                started = time.perf_counter()
                navigator.handle(user, event, context)
                timings[f"handle_{size}"].append(time.perf_counter() - started)
            state = ConversationState.model_validate(start_state)
            started = time.perf_counter()
            engine.handle(state, event, context)
            timings["engine_only"].append(time.perf_counter() - started)
        users_stored = {size: navigator.store.count_users() for size, navigator in navigators.items()}
    finally:
        for navigator in navigators.values():
            navigator.close()
    warm = max(1, samples // 10)  # drop the first tenth: first-use costs
    medians = {key: statistics.median(values[warm:]) * 1e6 for key, values in timings.items()}
    return {
        "samples": samples - warm,
        "users_stored": users_stored,
        "handle_10_users_us": round(medians["handle_10"], 1),
        "handle_10000_users_us": round(medians["handle_10000"], 1),
        "ratio_10000_vs_10": round(medians["handle_10000"] / medians["handle_10"], 3),
        "engine_only_us": round(medians["engine_only"], 1),
        "persistence_adds_us": round(medians["handle_10000"] - medians["engine_only"], 1),
        "handle_p99_10000_us": round(percentile(timings["handle_10000"][warm:], 0.99) * 1e6, 1),
    }


# --- report -------------------------------------------------------------------------------------------------------


def table(figures: dict[str, Any]) -> str:
    """Format the headline figures as a compact text table."""
    load, start, mem, sql = figures["load"], figures["startup"], figures["memory"], figures["write_through"]
    nav, mini = load["navigator"], load["minimal"]
    rows: list[tuple[str, str, str, str]] = [
        ("figure", "navigator", "minimal", "ratio / target"),
        ("updates/s (median of rounds)", f"{nav['updates_per_s']:.1f}", f"{mini['updates_per_s']:.1f}",
         f"{load['throughput_ratio']:.2f}* (>= {TARGETS['throughput_ratio']})"),
        ("latency median ms", f"{nav['latency_median_ms']:.1f}", f"{mini['latency_median_ms']:.1f}", ""),
        ("latency p99 ms", f"{nav['latency_p99_ms']:.1f}", f"{mini['latency_p99_ms']:.1f}", ""),
        ("1 user alone: latency median ms", f"{nav['one_user_latency_median_ms']:.1f}",
         f"{mini['one_user_latency_median_ms']:.1f}", ""),
        ("1 user alone: latency p99 ms", f"{nav['one_user_latency_p99_ms']:.1f}",
         f"{mini['one_user_latency_p99_ms']:.1f}", ""),
        ("bot CPU ms/update", f"{nav['bot_cpu_ms_per_update']:.2f}", f"{mini['bot_cpu_ms_per_update']:.2f}",
         f"{load['cpu_per_update_ratio']:.2f}x"),
        (f"  vs raw httpx floor ({load['raw']['bot_cpu_ms_per_update']:.2f} ms/update)",
         f"{load['cpu_per_update_vs_floor']['navigator']:.2f}x", f"{load['cpu_per_update_vs_floor']['minimal']:.2f}x",
         f"<= {TARGETS['cpu_vs_floor']}x"),
        ("start -> 1st getUpdates s", f"{start['navigator']['to_first_get_updates_s']:.2f}",
         f"{start['minimal']['to_first_get_updates_s']:.2f}", f"< {TARGETS['startup_s']}"),
        ("start -> 1st reply s", f"{start['navigator']['to_first_reply_s']:.2f}",
         f"{start['minimal']['to_first_reply_s']:.2f}", ""),
        ("cold `ask` s", f"{start['ask_cold_s']:.2f}", "", ""),
        (f"peak RSS MB ({mem['navigator_users_stored']} users)", f"{mem['navigator_hwm_kb'] / 1024:.1f}",
         f"{mem['minimal_after_load_hwm_kb'] / 1024:.1f}", f"< {TARGETS['peak_rss_mb']:.0f}"),
        ("idle RSS peak MB", f"{mem['navigator_idle_hwm_kb'] / 1024:.1f}",
         f"{mem['minimal_idle_hwm_kb'] / 1024:.1f}", ""),
        ("handle() µs, 10 users", f"{sql['handle_10_users_us']:.0f}", "", ""),
        ("handle() µs, 10,000 users", f"{sql['handle_10000_users_us']:.0f}", "",
         f"{sql['ratio_10000_vs_10']:.2f}x of 10"),
        ("engine alone µs", f"{sql['engine_only_us']:.0f}", "",
         f"persistence +{sql['persistence_adds_us']:.0f} µs"),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def verdicts(figures: dict[str, Any]) -> dict[str, bool]:
    """Whether each target is met."""
    return {
        "throughput_ratio": figures["load"]["throughput_ratio"] >= TARGETS["throughput_ratio"],
        "cpu_vs_floor": figures["load"]["cpu_per_update_vs_floor"]["navigator"] <= TARGETS["cpu_vs_floor"],
        "startup_s": figures["startup"]["navigator"]["to_first_get_updates_s"] < TARGETS["startup_s"],
        "peak_rss_mb": figures["memory"]["navigator_hwm_kb"] / 1024 < TARGETS["peak_rss_mb"],
    }


def timed(label: str, function: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run one section, printing its name and duration."""
    print(f"-- {label}", flush=True)
    started = time.monotonic()
    result = function()
    print(f"   ({time.monotonic() - started:.1f} s)", flush=True)
    return result


def main() -> int:
    """Run every section, print the table and write bench/out/bench_bot.json."""
    parser = argparse.ArgumentParser(description="End-to-end figures of the Telegram bot.")
    parser.add_argument("--users", type=int, default=None, help="simulated users at once (default 50; quick 20)")
    parser.add_argument("--rounds", type=int, default=None, help="load rounds per bot, made even (default 6; quick 2)")
    parser.add_argument("--quick", action="store_true", help="a ~30 s run with fewer users, rounds and repeats")
    args = parser.parse_args()
    args.users = args.users or (20 if args.quick else 50)
    args.rounds = args.rounds or (2 if args.quick else 6)
    args.rounds += args.rounds % 2  # an even number: each bot runs first in half of the rounds
    started = time.monotonic()
    figures: dict[str, Any] = {"machine": machine(), "quick": args.quick, "targets": TARGETS}
    print(f"machine: {figures['machine']['nproc']} cores, {figures['machine']['cpu_model']}, "
          f"Python {figures['machine']['python']}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-bot-") as tmp:
        workdir = Path(tmp)
        prime_embedding_cache(workdir / "embedding-cache")
        memory: dict[str, Any] = {}
        figures["load"] = timed(f"throughput and latency: {args.users} users, {args.rounds} round(s) per bot",
                                lambda: bench_load(args, workdir, memory))
        figures["memory"] = memory
        figures["startup"] = timed("start-up", lambda: bench_startup(3 if args.quick else 5, workdir))
        figures["write_through"] = timed("SQLite write-through",
                                         lambda: bench_write_through(300 if args.quick else 2000, workdir))
    figures["met"] = verdicts(figures)
    figures["total_s"] = round(time.monotonic() - started, 1)
    print()
    print(table(figures))
    print(f"concurrency: navigator {figures['load']['concurrency']['navigator']}; "
          f"minimal {figures['load']['concurrency']['minimal']}")
    load = figures["load"]
    print(f"* throughput ratio navigator/minimal per round: {load['throughput_ratio_per_round']}; geometric mean "
          f"{load['throughput_ratio']}"
          f" (ratio of medians {load['throughput_ratio_of_medians']}); the bot running second in a round ran at "
          f"{load['order_effect_second_vs_first']:.2f}x the speed of the one running first")
    failed = sum(r["failed_checks"] for r in figures["load"]["navigator"]["rounds"])
    print(f"journey checks (results shown, R4 figure answered): {failed} failed")
    print("targets: " + ", ".join(f"{k} {'met' if v else 'NOT met'}" for k, v in figures["met"].items()))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)} ({figures['total_s']} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
