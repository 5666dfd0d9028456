"""Text normalization for Japanese queries: width, case, kana, long vowels, punctuation, synonyms."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_KATAKANA_START, _KATAKANA_END = 0x30A1, 0x30F6
_KANA_OFFSET = 0x60
# A hyphen-like mark right after kana is a long vowel typed with the wrong key (ハロ-ワ-ク).
_LONG_VOWEL_AFTER_KANA = re.compile(r"(?<=[\u3041-\u30ff])[-‐‑–—―−ｰ]")
# Everything that is not a letter, digit or kana/kanji: punctuation, symbols, spaces.
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
# Accented Latin letters as typed in English (Job Café, naïve): compared without the accent.
_LATIN_ACCENTS = str.maketrans("àáâäãåèéêëìíîïòóôöõùúûüçñý", "aaaaaaeeeeiiiiooooouuuucny")


def to_hiragana(text: str) -> str:
    """Fold katakana to hiragana (ヴ and small forms included); other characters are unchanged."""
    return "".join(
        chr(ord(char) - _KANA_OFFSET) if _KATAKANA_START <= ord(char) <= _KATAKANA_END else char for char in text
    )


def normalize(text: str) -> str:
    """Return the comparable form of text: NFKC, lowercase, hiragana, one long-vowel mark, no spaces or punctuation."""
    folded = _LONG_VOWEL_AFTER_KANA.sub("ー", unicodedata.normalize("NFKC", text).lower().translate(_LATIN_ACCENTS))
    return _NOISE.sub("", to_hiragana(folded))


class SynonymRewriter:
    """Rewrites every variant of a synonym group to its canonical word, on normalized text."""

    def __init__(self, groups: Iterable[Iterable[str]]) -> None:
        mapping: dict[str, str] = {}
        for group in groups:
            words = [normalize(word) for word in group]
            for word in words[1:]:
                if word and word != words[0]:
                    mapping[word] = words[0]
        self._mapping = mapping
        # Longest first, so that ハローワーク青森 is rewritten before ハローワーク. Canonical words take part too
        # (rewritten to themselves): a variant inside one (助成 in 助成金) must not split it.
        canonicals = {word: word for word in mapping.values()}
        self._mapping = {**canonicals, **mapping}
        alternatives = sorted(self._mapping, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, alternatives))) if alternatives else None

    @property
    def variants(self) -> dict[str, str]:
        """Every normalized variant with the canonical word it is rewritten to."""
        return {variant: word for variant, word in self._mapping.items() if variant != word}

    def rewrite(self, normalized: str) -> str:
        """Replace variants in already-normalized text with their canonical word."""
        if self._pattern is None:
            return normalized
        return self._pattern.sub(lambda match: self._mapping[match.group(0)], normalized)

    def canonical(self, text: str) -> str:
        """Normalize raw text and rewrite its synonyms."""
        return self.rewrite(normalize(text))
