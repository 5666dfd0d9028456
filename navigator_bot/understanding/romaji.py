"""Romaji typed on a phone without a Japanese keyboard (seishain ni naritai) read back as hiragana."""

from __future__ import annotations

import re

_VOWELS = {"a": "あ", "i": "い", "u": "う", "e": "え", "o": "お"}
_ROWS = {
    "k": "かきくけこ", "g": "がぎぐげご", "s": "さしすせそ", "z": "ざじずぜぞ", "t": "たちつてと", "d": "だぢづでど",
    "n": "なにぬねの", "h": "はひふへほ", "b": "ばびぶべぼ", "p": "ぱぴぷぺぽ", "m": "まみむめも", "r": "らりるれろ",
    "y": "や・ゆ・よ", "w": "わ・・・を", "f": "ふぁふぃふふぇふぉ",
}
_SPECIAL = {
    "shi": "し", "chi": "ち", "tsu": "つ", "fu": "ふ", "ji": "じ", "si": "し", "ti": "ち", "tu": "つ", "hu": "ふ",
    "sha": "しゃ", "shu": "しゅ", "sho": "しょ", "she": "しぇ", "cha": "ちゃ", "chu": "ちゅ", "cho": "ちょ",
    "ja": "じゃ", "ju": "じゅ", "jo": "じょ", "je": "じぇ", "nn": "ん", "n'": "ん", "wo": "を", "wa": "わ",
    "fa": "ふぁ", "fi": "ふぃ", "fe": "ふぇ", "fo": "ふぉ", "ye": "いぇ", "di": "でぃ", "dyu": "でゅ",
}
_SYLLABLES: dict[str, str] = dict(_VOWELS)
for consonant, kana in _ROWS.items():
    if consonant == "f":
        continue
    for vowel, character in zip("aiueo", kana, strict=True):
        if character != "・":
            _SYLLABLES[consonant + vowel] = character
for consonant in "kgnhbpmr":
    for vowel, small in (("a", "ゃ"), ("u", "ゅ"), ("o", "ょ")):
        _SYLLABLES[consonant + "y" + vowel] = _SYLLABLES[consonant + "i"] + small
_SYLLABLES.update(_SPECIAL)
_LONGEST = max(map(len, _SYLLABLES))
# Words that are English, never romaji, even though they spell like it (I, a, to, no …).
_ENGLISH = frozenset({
    "i", "a", "an", "the", "my", "me", "is", "am", "are", "be", "do", "on", "in", "of", "for", "and",
    "or", "it", "he", "she", "we", "you", "they", "how", "what", "where", "job", "work", "want", "need", "help",
    "hi", "hello", "thanks", "son", "daughter",
})
# English tokens people mix into romaji (saposute nansai made ok?): kept as they are.
_KEPT = frozenset({"ok", "okay", "ng", "pc", "sns"})
_WORD = re.compile(r"[a-z']+")
_MIXED_MIN_LENGTH = 5  # in an English message, shorter words read as romaji by chance too often (same, mine)


def _word_to_kana(word: str) -> str | None:
    out: list[str] = []
    index = 0
    while index < len(word):
        char = word[index]
        if char == "'":
            index += 1
            continue
        # "nn" before a vowel is ん and the next n starts a syllable (konnichiwa = こんにちわ).
        if word[index:index + 2] == "nn" and index + 2 < len(word) and word[index + 2] in "aiueoy":
            out.append("ん")
            index += 1
            continue
        # A doubled consonant is a small っ (zasshi); n before a consonant is ん (shinpai).
        if index + 1 < len(word) and char == word[index + 1] and char not in "aeioun":
            out.append("っ")
            index += 1
            continue
        for length in range(min(_LONGEST, len(word) - index), 0, -1):
            kana = _SYLLABLES.get(word[index:index + length])
            if kana is not None and not (word[index:index + length] == "n" and length == 1):
                out.append(kana)
                index += length
                break
        else:
            if char == "n" or (char == "m" and index + 1 < len(word) and word[index + 1] in "bpm"):
                out.append("ん")
                index += 1
            else:
                return None
    return "".join(out)


def romaji_to_hiragana(text: str) -> str | None:
    """Return the hiragana reading of text typed in romaji, or None when it reads as English or is not romaji."""
    words = _WORD.findall(text.lower())
    if not words or len(words) != len(text.split()) or any(word in _ENGLISH for word in words):
        return None
    kana = [word if word in _KEPT else _word_to_kana(word) for word in words]
    failed = sum(reading is None for reading in kana)
    read = sum(reading is not None and word not in _KEPT for word, reading in zip(words, kana, strict=True))
    # A loanword or two typed in English (shokugyou kunren no course oshiete) stays as it is.
    if (failed and (failed * 2 >= len(words) or read < 2)) or all(word in _KEPT for word in words):
        return None
    return "".join(reading if reading is not None else word for reading, word in zip(kana, words, strict=True))


def romaji_words(text: str) -> str | None:
    """Return the kana of the romaji words in an English message ("shinitai... sorry my japanese bad" → しにたい)."""
    readings = [_word_to_kana(word) for word in _WORD.findall(text.lower())
                if len(word) >= _MIXED_MIN_LENGTH and word not in _ENGLISH and word not in _KEPT]
    kana = " ".join(reading for reading in readings if reading)
    return kana or None

