"""Message length limits shared by the channels: lengths counted in UTF-16 units, text split at line breaks."""

from __future__ import annotations


def utf16_len(text: str) -> int:
    """Return the length of text in UTF-16 code units (how Telegram and LINE count)."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int) -> list[str]:
    """Split text into chunks of at most `limit` UTF-16 units, at line breaks where possible."""
    chunks: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while utf16_len(line) > limit:  # one very long line: cut it by characters
            cut = limit
            while utf16_len(line[:cut]) > limit:
                cut -= 1
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:cut])
            line = line[cut:]
        if utf16_len(current + line) > limit:
            chunks.append(current)
            current = ""
        current += line
    if current.strip():
        chunks.append(current)
    return [chunk.rstrip("\n") for chunk in chunks if chunk.strip()]
