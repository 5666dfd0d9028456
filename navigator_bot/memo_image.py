"""The 相談メモ as a PNG a person can show at the counter: large type, plain layout, the shipped Japanese font."""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import cache

from PIL import Image, ImageDraw, ImageFont

from .kpi_chart import _charmap, japanese_font_path

WIDTH = 1080  # pixels: a phone screen's width, so nothing needs zooming at the counter
MARGIN = 56
FONT_SIZE = 34
TITLE_SIZE = 40
LINE_GAP = 14
# Symbols the font has no glyph for, said in words instead (a box would be worse than nothing).
SUBSTITUTES = {"☎": "電話", "🕘": "", "👪": "", "📍": ""}


@cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(japanese_font_path()), size)


def _printable(text: str) -> str:
    """Replace what the font cannot draw (emoji) with words or nothing."""
    known = _charmap(str(japanese_font_path()))
    out = []
    for char in text:
        if ord(char) in known or char in " \t":
            out.append(char)
        elif char in SUBSTITUTES:
            out.append(SUBSTITUTES[char])
    return "".join(out).strip()


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Break a line by characters (Japanese has no spaces) so that each piece fits the width."""
    lines, current = [], ""
    for char in text:
        if font.getlength(current + char) > width and current:
            lines.append(current)
            current = char.lstrip()
        else:
            current += char
    return [*lines, current]


def render_memo(lines: Sequence[str]) -> bytes:
    """Return the memo's lines drawn as a PNG, the first line as its title."""
    body, title = _font(FONT_SIZE), _font(TITLE_SIZE)
    rows: list[tuple[str, ImageFont.FreeTypeFont]] = []
    for index, line in enumerate(lines):
        font = title if index == 0 else body
        text = _printable(line)
        rows += [(piece, font) for piece in (_wrap(text, font, WIDTH - 2 * MARGIN) if text else [""])]
    height = MARGIN * 2 + sum((font.size if text else font.size // 2) + LINE_GAP for text, font in rows)
    image = Image.new("RGB", (WIDTH, height), "white")
    draw = ImageDraw.Draw(image)
    y = MARGIN
    for text, font in rows:
        if text:
            draw.text((MARGIN, y), text, fill=(20, 20, 20), font=font)
        y += (font.size if text else font.size // 2) + LINE_GAP
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
