"""The plain data that flows between adapters (Telegram, console) and the dialogue engine.

Events come in; replies go out. Nothing here knows about a chat network.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

CALLBACK_VERSION = "1"
MAX_CALLBACK_BYTES = 64
# An action is a kind and up to two ids: ASCII letters, digits, - and _ only (p:self, a:training:yes, pg:2).
_ACTION = re.compile(r"[a-z]+(?::[a-z0-9_-]+){0,2}")
_STEP = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True)
class Button:
    """A button under a reply; `action` is a short id-based token, never a title; `step` is the screen it is on."""

    label: str
    action: str
    step: int | None = None

    def stamped(self, step: int) -> Button:
        """Return the button marked with the conversation step of the screen it belongs to."""
        return replace(self, step=step)


@dataclass(frozen=True)
class ChartRequest:
    """Ask the adapter to render a KPI chart (off the event loop) and send it as a photo."""

    kpi_ids: tuple[str, ...] = ()
    lang: str = "ja"


@dataclass(frozen=True)
class MemoImage:
    """Ask the adapter to draw these lines (the 相談メモ) as a PNG, off the event loop, and send it as a photo."""

    lines: tuple[str, ...]


@dataclass(frozen=True)
class DocumentRequest:
    """Ask the adapter to send a file the navigator makes (the KPI table as CSV), named `filename`."""

    kind: str
    filename: str


@dataclass(frozen=True)
class Reply:
    """One message to show: text, rows of buttons, optionally a chart or image; `edit` replaces the pressed one."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    edit: bool = False
    chart: ChartRequest | None = None
    image: MemoImage | None = None
    document: DocumentRequest | None = None


@dataclass(frozen=True)
class Start:
    """The user opened the conversation (/start), perhaps from a poster's link (`payload`: t.me/<bot>?start=family)."""

    payload: str = ""


@dataclass(frozen=True)
class ButtonPressed:
    """The user pressed a button; `action` is what the button carried (possibly from an old message).

    `step` is the conversation step of the screen the button was on: a second tap on the same 「戻る」 carries a step
    that has passed, and does nothing twice.
    """

    action: str
    step: int | None = None


@dataclass(frozen=True)
class TextTyped:
    """The user typed free text. It is interpreted, never stored."""

    text: str


@dataclass(frozen=True)
class CommandIssued:
    """The user sent a command such as /kpi (name without the slash)."""

    name: str
    args: str = ""


@dataclass(frozen=True)
class UnsupportedMessage:
    """The user sent something other than text (sticker, photo, voice, location)."""

    kind: str = "other"


Event = Start | ButtonPressed | TextTyped | CommandIssued | UnsupportedMessage


@dataclass(frozen=True)
class UserContext:
    """What the adapter knows about the sender, beyond the conversation state."""

    is_staff: bool = False
    language_hint: str | None = None


@dataclass
class Outcome:
    """Replies plus what the adapter must do besides sending them."""

    replies: list[Reply] = field(default_factory=list)
    forget: bool = False
    counts: list[tuple[str, str]] = field(default_factory=list)  # usage counters (metric, key): no user data


def pack_callback(action: str, step: int | None = None) -> str:
    """Return callback data for a button: versioned, with its step, checked against Telegram's 64-byte limit."""
    if not _ACTION.fullmatch(action):
        raise ValueError(f"not an action: {action!r}")
    data = f"{CALLBACK_VERSION}|{action}" + (f"|{step}" if step is not None else "")
    if len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes: {data!r}")
    return data


def unpack_callback(data: str) -> ButtonPressed | None:
    """Parse callback data into a typed press; None for an old version, a foreign or a forged button.

    Only ASCII actions of the known shape and ASCII digits for the step get through (``1|pg:²`` does not).
    """
    version, _, tail = data.partition("|")
    action, *rest = tail.split("|")
    if version != CALLBACK_VERSION or not _ACTION.fullmatch(action) or len(rest) > 1:
        return None
    if rest and not _STEP.fullmatch(rest[0]):
        return None
    return ButtonPressed(action, int(rest[0]) if rest else None)
