"""The console adapter: the same conversation in a terminal; buttons become numbered choices."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TextIO

from ..app import Navigator
from ..dialogue import Button, ButtonPressed, CommandIssued, Event, Reply, Start, TextTyped, UserContext

CONSOLE_USER = "console:local"


def parse_input(line: str, choices: list[Button]) -> Event | None:
    """Turn a typed line into an event: a number picks a choice, /cmd is a command, the rest is text."""
    text = line.strip()
    if not text:
        return None
    if text.isdigit() and 1 <= int(text) <= len(choices):
        chosen = choices[int(text) - 1]
        return ButtonPressed(chosen.action, chosen.step)
    if text.startswith("/"):
        name, _, args = text[1:].partition(" ")
        return Start(args.strip()) if name == "start" else CommandIssued(name.lower(), args)
    return TextTyped(text)


class ConsoleChat:
    """Runs one conversation over text streams (a terminal, or pipes in tests)."""

    def __init__(self, navigator: Navigator, out: TextIO, is_staff: bool = False) -> None:
        self.navigator = navigator
        self.out = out
        self.context = UserContext(is_staff=is_staff, language_hint="ja")
        self.choices: list[Button] = []

    def show(self, replies: Iterable[Reply]) -> None:
        """Print replies; buttons are numbered across the last reply that has any."""
        for reply in replies:
            print(reply.text, file=self.out)
            if reply.document is not None:
                path = self.navigator.settings.data_dir / reply.document.filename
                path.write_bytes(self.navigator.render_document(reply))
                print(f"[file: {path}]", file=self.out)
            if reply.chart is not None or reply.image is not None:
                path = self.navigator.settings.data_dir / ("kpi-chart.png" if reply.chart else "memo.png")
                path.write_bytes(self.navigator.render_picture(reply))
                print(f"[image: {path}]", file=self.out)
            if reply.buttons:
                self.choices = [button for row in reply.buttons for button in row]
                for number, button in enumerate(self.choices, start=1):
                    print(f"  [{number}] {button.label}", file=self.out)
            print(file=self.out)

    def send(self, event: Event) -> None:
        """Handle one event and print what comes back."""
        outcome = self.navigator.handle(CONSOLE_USER, event, self.context)
        self.show(outcome.replies)

    def run(self, lines: TextIO, interactive: bool) -> int:
        """Run until end of input (Ctrl-D) or /quit."""
        print("（番号でボタンを選べます。文章もそのまま書けます。/quit で終了）", file=self.out)
        self.navigator.housekeeping()  # expired conversations go before this one is read
        has_state = self.navigator.has_conversation(CONSOLE_USER)
        self.send(ButtonPressed("resume") if has_state else Start())
        while True:
            if interactive:
                print("> ", end="", file=self.out, flush=True)
            line = lines.readline()
            if not line or line.strip() in ("/quit", "/exit"):
                return 0
            event = parse_input(line, self.choices)
            if event is not None:
                self.send(event)


def run_console(navigator: Navigator, is_staff: bool = False) -> int:
    """Run the console chat on this process's terminal."""
    try:
        return ConsoleChat(navigator, sys.stdout, is_staff).run(sys.stdin, sys.stdin.isatty())
    except KeyboardInterrupt:
        return 0
    finally:
        navigator.close()
