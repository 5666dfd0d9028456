"""The crisis floor: read a message for a wish to die, self-harm, danger or distress, before anything else.

Deterministic and built for recall: the expressions live in catalog/crisis.yaml, grouped by kind, as regular
expressions over each sentence's normalized form (Japanese) and its spaced lower-case form (English). Figurative
uses (死ぬほど疲れた, this is killing me) are removed first; what stays unclear gets the gentle form of the reply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from ..models import ByLanguage, Crisis, CrisisLine
from .message import Message

Level = Literal["none", "crisis", "gentle", "danger", "line", "distress"]
Form = Literal["self", "family", "carer"]
_SMALL_VOWELS = str.maketrans("ぁぃぅぇぉ", "あいうえお")


@dataclass(frozen=True)
class CrisisReading:
    """What the floor found in one message."""

    level: Level = "none"
    form: Form = "self"
    kinds: tuple[str, ...] = ()
    direct: bool = False
    danger: bool = False
    distress: bool = False
    lines_named: tuple[str, ...] = ()
    someone_else: bool = False  # the message speaks of a family member or friend (息子が, my son)

    @property
    def is_crisis(self) -> bool:
        """True for the crisis reply in its full or gentle form."""
        return self.level in ("crisis", "gentle")


@dataclass(frozen=True)
class _Compiled:
    ja: tuple[re.Pattern[str], ...]
    en: tuple[re.Pattern[str], ...]

    @classmethod
    def of(cls, patterns: ByLanguage) -> _Compiled:
        # Messages are matched with small vowels made large (えんでぃんぐ → えんでいんぐ): so are the expressions.
        ja = (re.compile(pattern.translate(_SMALL_VOWELS)) for pattern in patterns.ja)
        return cls(tuple(ja), tuple(map(re.compile, patterns.en)))

    def search(self, forms: tuple[str, str], whole: tuple[str, str] | None = None) -> re.Match[str] | None:
        """Return the first match, Japanese expressions on the compact form first, then English on the spaced."""
        found = self.find(forms, whole)
        return found[0] if found else None

    def find(self, forms: tuple[str, str], whole: tuple[str, str] | None = None) -> tuple[re.Match[str], int] | None:
        """Return the first match with the index of the form it was found in (0 Japanese, 1 English).

        With `whole` (the message the sentence is part of), a match counts only if the whole message still holds it:
        figurative uses that span sentences (転んだ。消えたい笑) are blanked there, not in the sentence alone.
        """
        for lang, patterns in enumerate((self.ja, self.en)):
            for pattern in patterns:
                for found in pattern.finditer(forms[lang]):
                    if whole is None or found.group(0) in whole[lang]:
                        return found, lang
        return None


class CrisisDetector:
    """Reads messages with the catalog's crisis expressions; built once per catalog."""

    def __init__(self, crisis: Crisis) -> None:
        detection = crisis.detection
        self._spellings = sorted(detection.spellings.items(), key=lambda item: -len(item[0]))
        self._kinds = [(kind.id, kind.direct, _Compiled.of(kind)) for kind in detection.kinds]
        self._figurative = _Compiled.of(detection.figurative)
        self._gentle = _Compiled.of(detection.gentle)
        self._danger = _Compiled.of(detection.danger)
        self._distress = _Compiled.of(detection.distress)
        self._line_request = _Compiled.of(detection.line_request)
        self._line_names = [(line.id, self._name_pattern(line)) for line in crisis.lines]
        self._other = (re.compile(detection.someone_else.ja), re.compile(detection.someone_else.en))
        self._first = (re.compile(detection.first_person.ja), re.compile(detection.first_person.en))
        self._reported = (re.compile(detection.reported.ja), re.compile(detection.reported.en))

    def _name_pattern(self, line: CrisisLine) -> tuple[str, str | None]:
        return self.fold(_plain(line.name)), line.name_en.lower() if line.name_en else None

    def fold(self, compact: str) -> str:
        """Return the form the expressions are written for: small vowels made large, net-slang spellings undone."""
        folded = compact.translate(_SMALL_VOWELS)
        for written, meant in self._spellings:
            folded = folded.replace(written, meant)
        return folded

    def plain_sentences(self, message: Message) -> tuple[tuple[str, str], ...]:
        """Return each sentence's plain forms (the last is the whole message), folded once per message."""
        if message.plain is None:
            message.plain = tuple(self.plain_forms(sentence.compact, sentence.spaced)
                                  for sentence in message.sentences)
        return message.plain

    def plain_forms(self, compact: str, spaced: str) -> tuple[str, str]:
        """Return both forms folded, with figurative uses (死ぬほど, killing me) blanked out."""
        compact = self.fold(compact)
        for pattern in self._figurative.ja:
            compact = pattern.sub("/", compact)
        for pattern in self._figurative.en:
            spaced = pattern.sub(" / ", spaced)
        return compact, spaced

    def read(self, message: Message) -> CrisisReading:
        """Return what the message says about risk, with the form of reply it needs."""
        sentences = self.plain_sentences(message)
        kinds: list[str] = []
        forms: set[Form] = set()
        direct = False
        others_anywhere = any(self._mentions_other(forms_) for forms_ in sentences)
        whole = sentences[-1]
        # Romaji inside English ("shinitai... sorry my japanese bad") is a reading of the whole message of its own.
        readings = [(forms_, whole) for forms_ in sentences]
        if message.romaji is not None:
            readings.append((self.plain_forms(message.romaji.compact, message.romaji.spaced), None))
        for forms_, context in readings:
            for kind_id, is_direct, patterns in self._kinds:
                hit = patterns.find(forms_, context)
                if hit is None:
                    continue
                found, lang = hit
                kinds.append(kind_id)
                direct = direct or is_direct
                form = self._form_of(forms_[lang], found, lang == 1, others_anywhere)
                forms.add("carer" if kind_id == "carer" else form)
        danger = any(self._danger.search(forms_) for forms_ in sentences)
        distress = any(self._distress.search(forms_) for forms_ in sentences)
        if kinds:
            # Several crisis expressions: a carer's own words win, then someone else's (they are usually one person).
            form: Form = "carer" if "carer" in forms else "family" if "family" in forms else "self"
            return CrisisReading("crisis", form, tuple(dict.fromkeys(kinds)), direct, danger, distress,
                                 someone_else=others_anywhere)
        if any(self._gentle.search(forms_, whole) for forms_ in sentences):
            form = "carer" if others_anywhere else "self"
            return CrisisReading("gentle", form, (), False, danger, distress, someone_else=others_anywhere)
        if danger:
            return CrisisReading("danger", "self", (), False, True, distress, someone_else=others_anywhere)
        named = tuple(line_id for line_id, (ja, en) in self._line_names
                      if any(ja in compact or (en and en in spaced) for compact, spaced in sentences))
        # A request for a line is read in the message as written too (自殺予防の相談窓口 is no figurative use there).
        written = ((self.fold(sentence.compact), sentence.spaced) for sentence in message.sentences)
        if named or any(self._line_request.search(forms_) for forms_ in (*sentences, *written)):
            return CrisisReading("line", "self", (), False, False, distress, named, someone_else=others_anywhere)
        if distress:
            return CrisisReading("distress", "self", (), False, False, True, someone_else=others_anywhere)
        return CrisisReading(someone_else=others_anywhere)

    def whose(self, message: Message) -> Form:
        """Whose crisis, when no expression placed the words: the writer's, someone else's, or a carer's own.

        Someone else spoken of and the writer not (息子が「…」って言ってます): the family form; both (息子が…。私も
        もう…): the carer's; nobody else: the writer's.
        """
        sentences = self.plain_sentences(message)
        if not any(self._mentions_other(forms_) for forms_ in sentences):
            return "self"
        writer = any(self._first[0].search(compact) or self._first[1].search(spaced) for compact, spaced in sentences)
        return "carer" if writer else "family"

    def _mentions_other(self, forms_: tuple[str, str]) -> bool:
        return bool(self._other[0].search(forms_[0]) or self._other[1].search(forms_[1]))

    def _form_of(self, text: str, found: re.Match[str], english: bool, others_anywhere: bool) -> Form:
        """Whose crisis: the writer's (self), someone else's (family), or a carer's own."""
        lang = 1 if english else 0
        if self._reported[lang].search(text[found.end():found.end() + 24]):
            return "family"
        before = text[max(0, found.start() - 40):found.start()] if not english else text[:found.start()]
        other = [m.end() for m in self._other[lang].finditer(before)]
        # The crisis words may begin with the writer (わたしなんか…): that counts as the last mention.
        first = [m.end() for m in self._first[lang].finditer(before + found.group(0)[:4])]
        # The last mention before the words decides ("I'm worried my son wants to die", 息子が…死にたい).
        if other and (not first or other[-1] > first[-1]):
            return "family"
        if english:
            return "carer" if others_anywhere and not other else "self"
        return "carer" if others_anywhere else "self"


def _plain(name: str) -> str:
    """Return a line's name without its bracketed part and symbols, folded like messages (いのちの電話)."""
    from .normalize import normalize

    return normalize(re.sub(r"[（(].*?[)）]", "", name))
