"""A typed message, read once into every form the understanding steps need."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np

from ..models import LanguageTable
from .normalize import SynonymRewriter, normalize
from .romaji import romaji_to_hiragana, romaji_words

_SENTENCE_END = re.compile(r"[。．！？!?\n]+|(?<=[a-z])\.(?:\s|$)")
_APOSTROPHES = re.compile(r"['’`]")
_NOT_WORD = re.compile(r"[^\w]+")
_LATIN = re.compile(r"[a-z]")
_ENGLISH_WORD = re.compile(r"[a-z]{2,}")
_KANJI = re.compile(r"[\u4e00-\u9fff]")
_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@dataclass(frozen=True)
class Sentence:
    """One sentence in the two forms the crisis expressions are written for."""

    compact: str  # normalized: hiragana, no spaces or punctuation, dialect folded
    spaced: str  # lower case, words separated by one space, apostrophes dropped (for English)


@dataclass
class Message:
    """The reading of one message: raw text, its normalized, standard and canonical forms, and its sentences."""

    raw: str
    normalized: str
    standard: str
    canonical: str
    sentences: tuple[Sentence, ...]
    semantic_text: str
    similarities: np.ndarray | None = field(default=None, repr=False)  # to every passage, once embedded
    vector: np.ndarray | None = field(default=None, repr=False)  # the message's embedding, once embedded
    plain: tuple[tuple[str, str], ...] | None = field(default=None, repr=False)  # per sentence, once folded
    romaji: Sentence | None = None  # the romaji words inside an English message, in kana ("shinitai, sorry")
    english: bool = False  # written in English (Latin words, not romaji, no Japanese): answered in English
    japanese: bool = False  # written in Japanese: kana or kanji, or romaji (not a bare "ok" or a number)

    @property
    def empty(self) -> bool:
        """True when nothing readable was typed (only symbols or spaces)."""
        return not self.normalized


@dataclass(frozen=True)
class Glance:
    """The whole-message forms of a text, read without splitting it into sentences."""

    standard: str
    spaced: str
    semantic_text: str


def spaced_form(text: str) -> str:
    """Return lower-case words separated by single spaces, apostrophes dropped (don't → dont)."""
    lowered = _APOSTROPHES.sub("", unicodedata.normalize("NFKC", text).lower())
    return " " + _NOT_WORD.sub(" ", lowered).strip() + " "


class Reader:
    """Reads raw text into a `Message`: dialect and romaji folded to standard Japanese, synonyms rewritten."""

    def __init__(self, language: LanguageTable, rewriter: SynonymRewriter) -> None:
        self.rewriter = rewriter
        self._symbols = sorted(((unicodedata.normalize("NFKC", symbol), word)
                                for symbol, word in language.symbols.items()), key=lambda item: -len(item[0]))
        # Dialect first, then readings; within each, longer forms first. Backreferences (\\g<1>) are kept as
        # written; plain standard forms are normalized like the text.
        self._dialect = [
            (re.compile(rule.form), rule.standard if "\\" in rule.standard else normalize(rule.standard))
            for table in (language.dialect, language.readings)
            for rule in sorted(table, key=lambda rule: -len(rule.form))
        ]

    def standardize(self, normalized: str) -> str:
        """Fold Aomori dialect forms in normalized text to standard Japanese (ねぐて → なくて)."""
        for pattern, standard in self._dialect:
            normalized = pattern.sub(standard, normalized)
        return normalized

    def _surface(self, raw: str) -> tuple[str, str | None]:
        """Return the NFKC text with word-carrying emoji replaced, and its kana reading when it is romaji."""
        text = unicodedata.normalize("NFKC", raw).strip()
        for symbol, word in self._symbols:  # emoji that carry words (🪦 → 墓): normalizing would drop them
            text = text.replace(symbol, word)
        kana = romaji_to_hiragana(text) if not _JAPANESE.search(text) else None
        return text, kana

    def glance(self, raw: str) -> Glance:
        """Return the whole-message forms only (for learning from thousands of examples quickly)."""
        text, kana = self._surface(raw)
        standard = self.standardize(normalize(kana if kana else text))
        return Glance(standard, spaced_form(kana if kana else text),
                      _semantic_text(text, kana, standard, _latin_only(text, kana)))

    def read(self, raw: str) -> Message:
        """Return the message read once, for every step that follows."""
        text, kana = self._surface(raw)
        normalized = normalize(kana if kana else text)
        standard = self.standardize(normalized)
        # Romaji is read in its kana reading (mou shinitai → もうしにたい), as one sentence.
        parts = [kana] if kana else [part for part in _SENTENCE_END.split(text) if part.strip()]
        sentences = tuple(Sentence(self.standardize(normalize(part)), spaced_form(part)) for part in parts)
        if len(sentences) != 1:
            # The whole message too: a farewell can span sentences (今までありがとう。さようなら).
            sentences += (Sentence(standard, spaced_form(text)),)
        latin = _latin_only(text, kana)
        return Message(
            raw=raw,
            normalized=normalized,
            standard=standard,
            canonical=self.rewriter.rewrite(standard),
            sentences=sentences,
            semantic_text=_semantic_text(text, kana, standard, latin),
            romaji=self._romaji_inside(text) if latin else None,
            english=latin and len(_ENGLISH_WORD.findall(text.lower())) >= 2,
            japanese=bool(kana) or bool(_JAPANESE.search(text)),
        )

    def _romaji_inside(self, text: str) -> Sentence | None:
        """Read the romaji words of a message that is otherwise English (the crisis floor reads them too)."""
        words = romaji_words(text)
        return Sentence(self.standardize(normalize(words)), spaced_form(words)) if words else None


def _latin_only(text: str, kana: str | None) -> bool:
    """True for a message in Latin letters that is not romaji: English, or English with romaji words inside."""
    return kana is None and not _JAPANESE.search(text) and bool(_LATIN.search(text.lower()))


def _semantic_text(text: str, kana: str | None, standard: str, latin: bool) -> str:
    """Return what the embedding model reads: kana-only text reads better with its kanji (しごと → 仕事)."""
    return standard if kana or (not _KANJI.search(text) and not latin) else text
