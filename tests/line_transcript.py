"""Print a LINE conversation as it reaches a person: the real webhook server, signed events, the API stand-in.

    python -m tests.line_transcript            # a mother asking about her withdrawn son
    python -m tests.line_transcript --staff    # a member of staff asking for the KPI chart

The README's LINE transcript is this script's output.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from navigator_bot.adapters.line import LineAdapter, serve
from navigator_bot.app import Navigator
from navigator_bot.config import Settings
from tests.line_standin import LinePlatform, LineStandin, choices

SECRET = "transcript-secret"


def _show(message: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    if message["type"] == "text":
        lines += [f"  bot> {line}" for line in message["text"].splitlines()]
    elif message["type"] == "image":
        lines.append(f"  bot> [画像 {message['originalContentUrl'].rsplit('/', 1)[0]}/…]")
    offered = choices(message)
    if offered:
        kind = "quick replies" if "quickReply" in message else "card"
        lines.append(f"       [{kind}] " + " | ".join(words for words, _ in offered))
    return lines


async def _talk(steps: list[tuple[str, str]], staff: bool) -> None:
    standin = LineStandin()
    await standin.start()
    with tempfile.TemporaryDirectory() as folder:
        user = "Ustaff0001" if staff else "Umother0001"
        settings = Settings(data_dir=Path(folder), line_channel_secret=SECRET,
                            line_channel_access_token=standin.access_token, line_api_url=standin.url, line_port=0,
                            line_public_url="https://navi.example.jp", line_staff_ids=frozenset({"Ustaff0001"}))
        navigator = Navigator.from_settings(settings)
        ready: asyncio.Future[tuple[LineAdapter, int]] = asyncio.get_running_loop().create_future()
        stop = asyncio.Event()
        task = asyncio.create_task(serve(settings, navigator, stop, lambda a, p: ready.set_result((a, p))))
        adapter, port = await ready
        platform = LinePlatform(SECRET, standin, f"http://127.0.0.1:{port}/line/webhook")
        for kind, value in steps:
            mark = len(standin.calls)
            if kind == "follow":
                print("（友だち追加）")
                event = platform.follow(user)
            elif kind == "say":
                print(f"  you> {value}")
                event = platform.text(user, value)
            else:
                print(f"  you> [{value}]")
                offered = [(w, d) for m in standin.messages(user) for w, d in choices(m) if w == value]
                event = platform.postback(user, offered[-1][1])
            await platform.post([event])
            await adapter.idle()
            for call in standin.calls[mark:]:
                for message in call.messages:
                    print("\n".join(_show(message)))
            print()
        stop.set()
        await task
        navigator.close()
    await standin.stop()


def main() -> None:
    """Run one scripted conversation and print it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--staff", action="store_true")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("NAVIGATOR_LOG_LEVEL", "WARNING")
    if args.staff:
        steps = [("say", "R5の正社員就職件数は前年度と比べて増えた？"), ("say", "/kpi")]
    else:
        steps = [("follow", ""), ("tap", "ご家族・周りの方"), ("tap", "外出や人と関わるのがむずかしい（ひきこもり等）"),
                 ("say", "弘前に住んでいます"), ("tap", "続きに戻る"), ("tap", "とばす"), ("tap", "とばす")]
    asyncio.run(_talk(steps, args.staff))
    if args.json:
        print(json.dumps(steps, ensure_ascii=False))


if __name__ == "__main__":
    main()
