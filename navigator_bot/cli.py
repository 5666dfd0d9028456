"""The `navigator-bot` command: validate, schema, ask, chat, run, chart."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .catalog import CatalogInvalid, load_catalog
from .config import DATABASE_FILE, HEARTBEAT_FILE, HEARTBEAT_MAX_AGE, KEY_FILE, SEMANTIC_STATUS_FILE, Settings
from .schema import catalog_json_schema_text

INBOX_MAX_AGE = 300.0  # seconds an update may wait unanswered before health says the bot is stuck


def _validate(args: argparse.Namespace) -> int:
    try:
        catalog = load_catalog(args.directory or Settings().catalog_dir)
    except CatalogInvalid as error:
        print(f"catalog has {len(error.issues)} problem(s):", file=sys.stderr)
        for issue in error.issues:
            print(f"  {issue}", file=sys.stderr)
        return 1
    print(catalog.summary())
    return 0


def _schema(_: argparse.Namespace) -> int:
    print(catalog_json_schema_text())
    return 0


def _ask(args: argparse.Namespace) -> int:
    from .i18n import Translator
    from .understanding import Understanding
    from .understanding.semantic import load_encoder

    settings = Settings()
    catalog = load_catalog(settings.catalog_dir)
    encoder, _ = load_encoder(settings.semantic)
    understanding = Understanding(catalog, Translator(), encoder=encoder, cache_dir=settings.embedding_cache)
    queries = (line.rstrip("\n") for line in sys.stdin) if args.text == ["-"] else iter([" ".join(args.text)])
    for query in queries:
        answer = understanding.interpret(query, args.lang)
        if args.json:
            print(json.dumps(answer.to_json(catalog), ensure_ascii=False), flush=True)
        else:
            print(answer.text + "\n", flush=True)
    return 0


def _seed_embeddings(args: argparse.Namespace) -> int:
    from .i18n import Translator
    from .understanding import Understanding
    from .understanding.crisis_model import WORDS_FILE
    from .understanding.semantic import SEED_FILE, load_encoder

    encoder, status = load_encoder()
    if encoder is None:
        print(f"the embedding model is not available: {status.detail}", file=sys.stderr)
        return 2
    understanding = Understanding(load_catalog(args.directory), Translator(), encoder=encoder, cache_dir=None)
    assert understanding.semantic is not None
    output = args.output or SEED_FILE
    count = understanding.semantic.write_seed(output)
    print(f"wrote {count} passage vectors to {output}")
    if understanding.crisis_classifier is not None:  # the crisis floor's word model, learned from the same catalog
        words = output.with_name(WORDS_FILE)
        understanding.crisis_classifier.words.save(words)
        print(f"wrote the crisis word model to {words}")
    return 0


def _chat(args: argparse.Namespace) -> int:
    from .adapters.console import run_console
    from .app import Navigator

    return run_console(Navigator.from_settings(Settings()), is_staff=args.staff)


def _run(args: argparse.Namespace) -> int:
    if args.channel == "line":
        from .adapters.line import run as run_line

        return run_line(Settings())
    from .adapters.telegram import run

    return run(Settings())


def _chart(args: argparse.Namespace) -> int:
    from .kpi_chart import render_kpi_chart

    catalog = load_catalog(Settings().catalog_dir)
    unknown = [kpi for kpi in args.kpi or [] if kpi not in catalog.kpis]
    if unknown:
        print(f"unknown KPI id(s): {', '.join(unknown)}; known: {', '.join(catalog.kpis)}", file=sys.stderr)
        return 2
    args.output.write_bytes(render_kpi_chart(catalog, args.kpi or None, args.lang))
    print(f"wrote {args.output}")
    return 0


def _kpi(args: argparse.Namespace) -> int:
    from .kpi_export import kpi_csv, kpi_json

    catalog = load_catalog(Settings().catalog_dir)
    if args.csv:
        sys.stdout.buffer.write(kpi_csv(catalog))
    else:
        print(kpi_json(catalog))
    return 0


def _qr(args: argparse.Namespace) -> int:
    import re

    import segno

    username = (args.bot or Settings().bot_username or "").lstrip("@")
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{3,31}", username):
        print("set the bot's username: --bot NAME or NAVIGATOR_BOT_USERNAME", file=sys.stderr)
        return 2
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", args.payload):
        print("a start payload is 1-64 characters of A-Z, a-z, 0-9, _ and -", file=sys.stderr)
        return 2
    link = f"https://t.me/{username}?start={args.payload}"
    segno.make(link, error="m").save(str(args.output), scale=12, border=4)
    print(f"{link}\nwrote {args.output}")
    return 0


def _health(_: argparse.Namespace) -> int:
    import sqlite3
    import time

    settings = Settings()
    try:
        load_catalog(settings.catalog_dir)
    except CatalogInvalid as error:
        print(f"unhealthy: catalog has {len(error.issues)} problem(s); first: {error.issues[0]}", file=sys.stderr)
        return 1
    heartbeat = settings.data_dir / HEARTBEAT_FILE
    if heartbeat.exists() and time.time() - heartbeat.stat().st_mtime > HEARTBEAT_MAX_AGE:
        print(f"unhealthy: no heartbeat for over {HEARTBEAT_MAX_AGE:.0f} s", file=sys.stderr)
        return 1
    database = settings.data_dir / DATABASE_FILE
    waiting = ""
    if database.exists():
        try:
            if database.stat().st_size == 0:
                raise sqlite3.DatabaseError("the file is empty (0 bytes)")
            with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
                if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                    raise sqlite3.DatabaseError("the integrity check failed")
                users = conn.execute("SELECT count(*) FROM users").fetchone()[0]
                tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
                oldest = conn.execute("SELECT min(received_at) FROM inbox").fetchone()[0] if "inbox" in tables \
                    else None
        except sqlite3.Error as error:
            print(f"unhealthy: the database {database} cannot be read: {error}", file=sys.stderr)
            return 1
        if users and not (settings.data_dir / KEY_FILE).exists():
            print(f"unhealthy: {KEY_FILE} is missing while the database holds conversations", file=sys.stderr)
            return 1
        if oldest is not None:
            age = time.time() - _stamp_seconds(oldest)
            if age > INBOX_MAX_AGE:
                print(f"unhealthy: an update has waited {age:.0f} s unanswered", file=sys.stderr)
                return 1
            waiting = ", updates waiting"
    status_file = settings.data_dir / SEMANTIC_STATUS_FILE
    status = status_file.read_text(encoding="utf-8").strip() if status_file.exists() else "not started yet"
    print(f"healthy (semantic search: {status}{waiting})")
    return 0


def _stamp_seconds(stamp: str) -> float:
    """Return a stored UTC stamp as seconds since the epoch."""
    import datetime as dt

    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the `navigator-bot` command."""
    parser = argparse.ArgumentParser(prog="navigator-bot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    validate = commands.add_parser("validate", help="check a catalog folder and print its counts")
    validate.add_argument("directory", nargs="?", type=Path, default=None,
                          help="catalog folder (default: NAVIGATOR_CATALOG_DIR or the shipped catalog)")
    validate.set_defaults(handler=_validate)

    schema = commands.add_parser("schema", help="print the JSON Schema of the catalog files")
    schema.set_defaults(handler=_schema)

    ask = commands.add_parser("ask", help="answer a message as the bot would (TEXT, or - for one per stdin line)")
    ask.add_argument("--json", action="store_true", help="one JSON object per answer, one per line")
    ask.add_argument("--lang", choices=("ja", "en"), default="ja")
    ask.add_argument("text", nargs="+", help="the message, or - to read messages from standard input")
    ask.set_defaults(handler=_ask)

    seed = commands.add_parser("seed-embeddings",
                               help="write the packaged embedding seed for a catalog (after editing the shipped one)")
    seed.add_argument("directory", nargs="?", type=Path, default=None, help="catalog folder (default: shipped)")
    seed.add_argument("-o", "--output", type=Path, default=None, help="file to write (default: the packaged seed)")
    seed.set_defaults(handler=_seed_embeddings)

    chat = commands.add_parser("chat", help="talk to the bot in this terminal (no Telegram token needed)")
    chat.add_argument("--staff", action="store_true", help="act as support staff (KPI charts)")
    chat.set_defaults(handler=_chat)

    run = commands.add_parser("run", help="run the bot: Telegram (polling, or webhook if NAVIGATOR_WEBHOOK_URL) "
                                          "or LINE (--channel line: a webhook server)")
    run.add_argument("--channel", choices=("telegram", "line"), default="telegram",
                     help="the chat network to serve (default: telegram)")
    run.set_defaults(handler=_run)

    health = commands.add_parser("health", help="exit 0 when the catalog loads and the running bot is alive")
    health.set_defaults(handler=_health)

    chart = commands.add_parser("chart", help="draw the KPI progress chart as PNG")
    chart.add_argument("--kpi", action="append", help="a KPI id (repeat for several; default: all)")
    chart.add_argument("--lang", choices=("ja", "en"), default="ja")
    chart.add_argument("-o", "--output", type=Path, required=True, help="PNG file to write")
    chart.set_defaults(handler=_chart)

    kpi = commands.add_parser("kpi", help="print every KPI figure with its rate and source, as CSV or JSON")
    formats = kpi.add_mutually_exclusive_group()
    formats.add_argument("--csv", action="store_true", help="CSV, UTF-8 with BOM (opens in Excel)")
    formats.add_argument("--json", action="store_true", help="JSON (the default)")
    kpi.set_defaults(handler=_kpi)

    qr = commands.add_parser("qr", help="write the QR code of a deep link (t.me/<bot>?start=PAYLOAD) as PNG")
    qr.add_argument("payload", help="a persona (family, employer …), a situation (withdrawn …) or a window id")
    qr.add_argument("--bot", help="the bot's username (default: NAVIGATOR_BOT_USERNAME)")
    qr.add_argument("-o", "--output", type=Path, required=True, help="PNG file to write")
    qr.set_defaults(handler=_qr)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
    try:
        code = int(args.handler(args))
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`navigator-bot ask … | head`): end quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return code
