"""The plain data that flows between adapters (Telegram, console) and the dialogue engine.

Events come in; replies go out. Nothing here knows about a chat network.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CALLBACK_VERSION = "1"
MAX_CALLBACK_BYTES = 64


@dataclass(frozen=True)
class Button:
    """A button under a reply; `action` is a short id-based token, never a title."""

    label: str
    action: str


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
class Reply:
    """One message to show: text, rows of buttons, optionally a chart or image; `edit` replaces the pressed one."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    edit: bool = False
    chart: ChartRequest | None = None
    image: MemoImage | None = None


@dataclass(frozen=True)
class Start:
    """The user opened the conversation (/start)."""


@dataclass(frozen=True)
class ButtonPressed:
    """The user pressed a button; `action` is what the button carried (possibly from an old message)."""

    action: str


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


def pack_callback(action: str) -> str:
    """Return callback data for a button: versioned, and checked against Telegram's 64-byte limit."""
    data = f"{CALLBACK_VERSION}|{action}"
    if len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes: {data!r}")
    return data


def unpack_callback(data: str) -> str | None:
    """Return the action of callback data of the current version, or None for an old or foreign button."""
    version, sep, action = data.partition("|")
    return action if sep and version == CALLBACK_VERSION and action else None
