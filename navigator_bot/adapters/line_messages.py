"""The engine's replies as LINE messages: text within LINE's limits, buttons as quick replies or a Flex card.

Pure functions, no network: `LinePicture` stands for an image already stored and reachable at an HTTPS address.

- Text is split at 5,000 UTF-16 units (LINE's limit), at line breaks where possible.
- Buttons become quick replies (at most 13, labels at most 20 characters) on the last message of a turn, where
  every label fits and LINE shows them. Otherwise — more than 13, a label that would have to be cut, or buttons on
  a message that is not the last — they become a Flex card of full-width choices that keep their whole wording;
  a 75-year-old reads 「ひきこもり地域支援センターについて詳しく」 better than a cut-off chip.
- A tap sends the versioned callback data (the same as Telegram's, well under LINE's 300 characters) and shows
  the button's words in the chat as the person's own message (`displayText`), so they see what they chose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from linebot.v3.messaging import (
    FlexBox,
    FlexBubble,
    FlexMessage,
    FlexText,
    ImageMessage,
    Message,
    PostbackAction,
    QuickReply,
    QuickReplyItem,
    TextMessage,
)

from ..dialogue import Button, Reply, pack_callback
from .text_limits import split_text, utf16_len

MAX_TEXT = 5000  # LINE's limit for a text message, in UTF-16 code units
MAX_QUICK_REPLIES = 13
MAX_LABEL = 20  # an action's label
MAX_DISPLAY_TEXT = 300
MAX_ALT_TEXT = 400
MAX_MESSAGES_PER_CALL = 5
_BRACKETED = re.compile(r"[（(][^（）()]*[）)]")


@dataclass(frozen=True)
class LinePicture:
    """A PNG the adapter has stored, at the HTTPS addresses LINE fetches it from."""

    url: str
    preview_url: str


def short_label(label: str, limit: int = MAX_LABEL) -> str:
    """Return a label LINE accepts (≤ `limit` UTF-16 units): bracketed asides dropped first, then cut with 「…」."""
    text = " ".join(label.split())
    if utf16_len(text) <= limit:
        return text
    plain = " ".join(_BRACKETED.sub("", text).split())
    if plain and utf16_len(plain) <= limit:
        return plain
    text = plain or text
    while utf16_len(text) > limit - 1:
        text = text[:-1]
    return text.rstrip() + "…"


def _action(button: Button) -> PostbackAction:
    return PostbackAction(label=short_label(button.label), data=pack_callback(button.action, button.step),
                          displayText=_cut(button.label, MAX_DISPLAY_TEXT))


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    while utf16_len(text) > limit:
        text = text[:-2] + "…"
    return text


def fits_quick_replies(buttons: list[Button]) -> bool:
    """True when the buttons can be quick replies without losing words (≤ 13, every label ≤ 20 characters)."""
    return 0 < len(buttons) <= MAX_QUICK_REPLIES and all(utf16_len(" ".join(b.label.split())) <= MAX_LABEL
                                                        for b in buttons)


def quick_reply(buttons: list[Button]) -> QuickReply:
    """Return the buttons as LINE quick replies."""
    return QuickReply(items=[QuickReplyItem(action=_action(button)) for button in buttons[:MAX_QUICK_REPLIES]])


def choice_card(buttons: list[Button], alt_text: str) -> FlexMessage:
    """Return the buttons as a Flex card: one full-width, wrapped choice per button."""
    choices = [
        FlexBox(layout="vertical", action=_action(button), paddingAll="12px", backgroundColor="#EEF3FA",
                cornerRadius="8px", margin="md" if index else None,
                contents=[FlexText(text=" ".join(button.label.split()), wrap=True, size="md", color="#1F4E8C",
                                   weight="bold")])
        for index, button in enumerate(buttons)
    ]
    body = FlexBox(layout="vertical", paddingAll="12px", contents=choices)
    return FlexMessage(altText=_cut(alt_text, MAX_ALT_TEXT), contents=FlexBubble(size="giga", body=body))


def _alt_text(reply: Reply) -> str:
    """The words a notification or an old LINE version shows for a card: the reply's first line, or the choices."""
    first = next((line for line in reply.text.splitlines() if line.strip()), "")
    return first or " / ".join(b.label for row in reply.buttons for b in row)


def reply_messages(reply: Reply, picture: LinePicture | None, *, last: bool,
                   link: str | None = None) -> list[Message]:
    """Return one reply as LINE messages: its text (with `link` added), its picture, then its buttons.

    `last` says whether this is the final reply of the turn: only there can buttons be quick replies.
    """
    text = reply.text.strip()
    if link:
        text = f"{text}\n{link}" if text else link
    messages: list[Message] = [TextMessage(text=chunk) for chunk in split_text(text, MAX_TEXT)]
    if picture is not None:
        messages.append(ImageMessage(originalContentUrl=picture.url, previewImageUrl=picture.preview_url))
    buttons = [button for row in reply.buttons for button in row]
    if not buttons:
        return messages
    if last and messages and fits_quick_replies(buttons):
        messages[-1].quick_reply = quick_reply(buttons)
    else:
        messages.append(choice_card(buttons, _alt_text(reply)))
    return messages


def batches(messages: list[Message], size: int = MAX_MESSAGES_PER_CALL) -> list[list[Message]]:
    """Split messages into the groups of at most five that one reply or push call may carry."""
    return [messages[start:start + size] for start in range(0, len(messages), size)]
