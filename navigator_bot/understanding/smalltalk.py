"""Greetings, thanks and goodbyes: whole messages that need a kind short reply, not a search."""

from __future__ import annotations

import re

from ..models import LanguageTable
from .message import Message
from .normalize import normalize

# What may stand around a greeting without making it more than one: particles of politeness and laughter.
_FILLER = re.compile(r"(です|ます|ございます|ね|よ|な|ー|w+|笑)+$")
# What may follow a closing phrase at the end of a sentence (めやぐだの〜, ありがとね).
_TRAILING = re.compile(r"(ね|よ|な|の|じゃ|わ|さ|ー|〜|~|w+|笑)+$")


class SmallTalk:
    """Recognises a message made only of small-talk phrases (こんにちは、よろしく)."""

    def __init__(self, language: LanguageTable) -> None:
        phrases: list[tuple[str, str]] = []
        for kind, texts in language.smalltalk.items():
            for phrase in [*texts.ja, *texts.en]:
                if normalize(phrase):
                    phrases.append((normalize(phrase), kind))
        phrases.sort(key=lambda item: -len(item[0]))
        self._phrases = phrases
        self._pattern = re.compile("|".join(re.escape(phrase) for phrase, _ in phrases)) if phrases else None
        self._kind = dict(phrases)
        filler = sorted({normalize(word) for word in language.smalltalk_filler if normalize(word)}, key=len,
                        reverse=True)
        self._filler = re.compile("|".join(map(re.escape, filler))) if filler else None
        # Request markers are regular expressions over the raw lower-case text (? and か$ must survive).
        self._requests = [re.compile(word) for word in language.requests.ja] + [
            re.compile(r"\b" + re.escape(word) + r"\b" if word.isalpha() else re.escape(word))
            for word in language.requests.en
        ]

    def kind(self, message: Message) -> str | None:
        """Return greeting / thanks / bye when the message is such phrases, or thanks and asks for nothing."""
        if self._pattern is None or not message.normalized:
            return None
        found = self._pattern.findall(message.normalized)
        closing = self._closing(message)
        if closing and not self._asks(message):
            return closing
        if len(message.normalized) > 40:
            return None
        rest = self._pattern.sub("", message.normalized)
        if self._filler is not None:
            rest = self._filler.sub("", rest)
        rest = _FILLER.sub("", rest)
        if not found or rest:
            return None
        # Thanks or goodbye at the end of a message says more than a greeting at its start.
        return self._kind[found[-1]]

    def _closing(self, message: Message) -> str | None:
        """Return thanks / bye when a sentence ends with such a phrase (not where one hides inside a word: では)."""
        kind = None
        for sentence in message.sentences:
            endings = (sentence.compact, _FILLER.sub("", sentence.compact), _TRAILING.sub("", sentence.compact))
            for phrase, phrase_kind in self._phrases:
                if phrase.isascii():  # English words end at a word's end: "ty" closes "ok ty", not "Mutsu City"
                    words = sentence.spaced.rstrip(" .!?")
                    if phrase_kind in ("thanks", "bye") and (words == phrase or words.endswith(" " + phrase)):
                        kind = phrase_kind
                        break
                    continue
                if phrase_kind in ("thanks", "bye") and any(text.endswith(phrase) for text in endings):
                    kind = phrase_kind
                    break
        return kind

    def _asks(self, message: Message) -> bool:
        """True when the message asks for something (a question or a request), so it is more than thanks."""
        text = message.raw.strip().lower()
        sentences = [part.strip() for part in re.split(r"[。．.!！\n]+", text) if part.strip()] or [text]
        # Romaji is read in its kana reading too (dou sureba → どうすれば).
        sentences += [sentence.compact for sentence in message.sentences if sentence.compact not in sentences]
        return any(pattern.search(sentence) for pattern in self._requests for sentence in sentences)
