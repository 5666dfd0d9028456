"""What a typed message means: the crisis floor first, then KPI, small talk, measures by words and meaning."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..catalog import Catalog
from ..crisis_reply import CrisisReplies
from ..i18n import Translator
from ..models import Audience, Facility, Measure, WindowFact
from ..presenting import category_label
from ..windows import Shown, Windows
from .crisis import CrisisDetector, CrisisReading
from .crisis_model import MODEL_VERSION, WORDS_FILE, WORDS_SEED, CrisisClassifier, LearnedWords, Thresholds, grams
from .fusion import MeasureMatch, Ranking, fuse
from .kpi import KpiAnswers, KpiQuery
from .lexical import MeasureSearch
from .message import Message, Reader
from .normalize import SynonymRewriter, normalize
from .semantic import MODEL_NAME, Encoder, SemanticIndex
from .situation import Inference, SituationReader
from .smalltalk import SmallTalk

log = logging.getLogger(__name__)
Intent = Literal["measures", "window", "kpi", "crisis", "danger", "line", "distress", "smalltalk", "clarify", "town",
                 "help"]
_WHERE_TO_CALL = re.compile(r"(どこ|どご)(さ|に|へ)?(電話|でんわ|かけ)")
WINDOW_SENTENCE = 30  # characters: a longer sentence naming a window tells a story, it does not ask about it
DEFAULT_AUDIENCES = frozenset({Audience.INDIVIDUAL, Audience.FAMILY})
BRIEF_LENGTH = 8  # characters of normalized text: a message this short may say too little to guess from
OFF_TOPIC = "@off-topic"  # owners of example passages in the semantic index that are not measures
CRISIS_LIKE = "@crisis"
DANGER_LIKE = "@danger"
LINE_LIKE = "@line"
SAFE_LIKE = "@safe"


@dataclass(frozen=True)
class Answer:
    """The understood message and the reply to it, as plain data."""

    query: str
    intent: Intent
    text: str
    matches: tuple[MeasureMatch, ...] = ()
    kpi_query: KpiQuery | None = None
    personas: tuple[str, ...] = field(default=())
    safety: CrisisReading = field(default_factory=CrisisReading)
    inferred: Inference = field(default_factory=Inference)
    smalltalk: str | None = None
    followup: tuple[MeasureMatch, ...] = ()  # after a crisis reply: what else the message asked about
    window: str | None = None  # the facility a direct question was about (ハローワークってどこ？)
    town: str | None = None  # the municipality the message says the person lives in (弘前に住んでいます)

    def to_json(self, catalog: Catalog) -> dict[str, Any]:
        """Return the answer in the `navigator-bot ask --json` format."""
        return {
            "query": self.query,
            "intent": self.intent,
            "text": self.text,
            "window": self.window,
            "measures": [
                {
                    "id": match.measure.id,
                    "title": match.measure.title,
                    "agencies": catalog.agency_names(match.measure),
                    "score": match.score,
                    "why": "、".join(match.words),
                }
                for match in self.matches
            ],
        }


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Understanding:
    """Interprets typed text against the catalog; built once per catalog, used for every message."""

    def __init__(
        self,
        catalog: Catalog,
        translator: Translator,
        today: Callable[[], dt.date] = dt.date.today,
        now: Callable[[], dt.datetime] = _utc_now,
        encoder: Encoder | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self.catalog = catalog
        self.translator = translator
        self._today = today
        self._now = now
        self.rewriter = SynonymRewriter(group.words for group in catalog.synonyms.values())
        self.reader = Reader(catalog.language, self.rewriter)
        self.search = MeasureSearch(catalog, self.rewriter)
        self.crisis = CrisisDetector(catalog.crisis)
        examples = self._crisis_examples()
        self.semantic = (SemanticIndex(encoder, self._passages(), cache_dir, queries=[text for text, _ in examples],
                                       prepare=lambda text: self.reader.glance(text).semantic_text)
                         if encoder is not None else None)
        self.crisis_classifier = self._crisis_classifier(examples, cache_dir)
        self.kpi = KpiAnswers(catalog, translator)
        self.crisis_replies = CrisisReplies(catalog.crisis, translator)
        self.smalltalk = SmallTalk(catalog.language)
        self._off_topic_words = [normalize(word) for word in catalog.language.off_topic_words if normalize(word)]
        self._privacy = [re.compile(pattern) for pattern in catalog.language.privacy_questions]
        members: dict[str, list[str]] = {}
        for measure in catalog.measures.values():
            for category_id in measure.categories:
                members.setdefault(category_id, []).append(measure.id)
        self.situations = SituationReader(catalog.questionnaire, self.rewriter, members)
        self._position = {measure_id: index for index, measure_id in enumerate(catalog.measures)}
        self.windows = Windows(catalog, translator)
        self._window_questions = {
            fact: ([re.compile(pattern) for pattern in patterns.ja], [re.compile(pattern) for pattern in patterns.en])
            for fact, patterns in catalog.language.window_questions.items()
        }

    def now(self) -> dt.datetime:
        """Return the time now (the understanding's clock, fixed in tests)."""
        return self._now()

    def _passages(self) -> dict[str, list[str]]:
        """Return what the embedding model reads of each measure: its plan text, English text and phrasings."""
        passages: dict[str, list[str]] = {}
        for measure in self.catalog.measures.values():
            texts = [f"{measure.title}。{measure.summary}"]
            if measure.summary_plain:
                texts.append(measure.summary_plain)
            if measure.title_en or measure.summary_en:
                texts.append(f"{measure.title_en or ''}. {measure.summary_en or ''}")
            texts += measure.examples
            passages[measure.id] = texts
        passages[OFF_TOPIC] = list(self.catalog.language.off_topic)
        examples = self.catalog.crisis_examples
        if examples is not None:
            passages[CRISIS_LIKE] = list(examples.crisis)
            passages[DANGER_LIKE] = list(examples.danger)
            passages[LINE_LIKE] = list(examples.line)
            passages[SAFE_LIKE] = list(examples.safe)
        return passages

    def _crisis_examples(self) -> list[tuple[str, bool]]:
        """Return every crisis example with whether it is a crisis (danger, line and safe ones are not)."""
        examples = self.catalog.crisis_examples
        if examples is None:
            return []
        return ([(text, True) for text in examples.crisis]
                + [(text, False) for text in (*examples.danger, *examples.line, *examples.safe)])

    def _crisis_classifier(self, examples: list[tuple[str, bool]], cache_dir: Path | None) -> CrisisClassifier | None:
        """Build the learned signal; its words part is read back from the cache or the seed when nothing changed."""
        settings = self.catalog.crisis_examples
        if settings is None:
            return None
        flags = [flag for _, flag in examples]
        digest = self._crisis_digest(examples)
        cached = cache_dir / WORDS_FILE if cache_dir is not None else None
        vectors = self.semantic.query_vectors if self.semantic is not None else None
        words = next((found for path in (cached, WORDS_SEED) if path is not None
                      and (found := LearnedWords.load(path, digest)) is not None), None)
        learned = words is None or (vectors is not None and words.meaning is None)
        if words is None:
            glances = [self.reader.glance(text) for text, _ in examples]
            words = LearnedWords.learn(digest, [self.crisis.plain_forms(glance.standard, glance.spaced)
                                                for glance in glances], flags)
        thresholds = Thresholds(settings.threshold, settings.lexical_threshold, settings.agreement,
                                settings.full_threshold)
        classifier = CrisisClassifier(words, flags, vectors, thresholds)
        if learned and cached is not None:
            classifier.words.save(cached)
        return classifier

    def _crisis_digest(self, examples: list[tuple[str, bool]]) -> str:
        """Everything the word model depends on: the examples, how messages are read, and the model's version."""
        digest = hashlib.sha256(f"{MODEL_VERSION}\n{MODEL_NAME}\n".encode())
        digest.update(self.catalog.language.model_dump_json().encode())
        digest.update(self.catalog.crisis.detection.model_dump_json().encode())
        for text, flag in examples:
            digest.update(f"{int(flag)}{text}\n".encode())
        return digest.hexdigest()

    def read(self, text: str) -> Message:
        """Read a typed message once into every form the steps need."""
        return self.reader.read(text)

    def personas_in(self, message: Message | str) -> tuple[str, ...]:
        """Return the personas whose signal words appear in the text (employer for 雇いたい, …)."""
        read = message if isinstance(message, Message) else self.read(message)
        return self.situations.personas_in(read)

    def audiences_for(self, personas: Collection[str]) -> frozenset[Audience]:
        """Return the audiences a set of personas may be offered; job seekers and families by default."""
        audiences = set(DEFAULT_AUDIENCES)
        for persona in self.catalog.questionnaire.personas:
            if persona.id in personas:
                audiences.update(persona.audiences)
        return frozenset(audiences)

    def rank(
        self, message: Message, audiences: Collection[Audience] | None, limit: int,
        inferred: Inference | None = None,
    ) -> Ranking:
        """Rank the measures for a message by its words, its meaning (model loaded) and the situation it tells."""
        lexical, words = self.search.scores(message)
        semantic: dict[str, float] = {}
        if self.semantic is not None and not message.empty:
            semantic = self.semantic.scores(self._similarities(message, self.semantic))
        off_topic = semantic.pop(OFF_TOPIC, 0.0)
        for owner in (CRISIS_LIKE, DANGER_LIKE, LINE_LIKE, SAFE_LIKE):
            semantic.pop(owner, None)
        priors = self.situations.priors(inferred) if inferred is not None else {}
        brief = len(message.standard) <= BRIEF_LENGTH
        return fuse(self.catalog.measures, self._position, lexical, words, semantic, off_topic, audiences, limit,
                    priors, brief)

    def interpret(
        self, text: str | Message, lang: str = "ja", audiences: Collection[Audience] | None = None, limit: int = 3
    ) -> Answer:
        """Understand one message and compose the reply."""
        message = text if isinstance(text, Message) else self.read(text)
        raw = message.raw
        if message.empty:
            return Answer(raw, "help", self.help_text(lang))
        inferred = self.situations.infer(message)
        personas = inferred.personas
        allowed = audiences if audiences is not None else self.audiences_for(personas)
        safety = self.crisis.read(message)
        kpi_query = None
        if safety.level not in ("crisis", "gentle", "danger", "line"):
            kpi_query = self.kpi.detect(raw, self._today(), plain=message.normalized, standard=message.standard)
            if kpi_query is None:  # a KPI question is not read again by meaning (it costs an embedding)
                safety = self._crisis_by_meaning(message, safety)
        elif safety.level == "danger":  # 「父を叩いてしまった…取り返しのつかないことしそう」: a carer at risk too
            safety = self._crisis_by_meaning(message, safety)
        if (safety.level == "line" and not safety.lines_named and inferred.situation is not None
                and (_WHERE_TO_CALL.search(message.standard) or safety.kinds == ("similar",))):
            # 「兄が外出しなくなった。どこに電話すれば？」 asks for a window, not a crisis line: the answer lists the
            # windows with their phones. So does a job seeker's 「話を聞いてくれるところ」 that only resembles a request
            # for a line.
            safety = CrisisReading(distress=safety.distress, someone_else=safety.someone_else)
        if safety.level in ("crisis", "gentle", "danger", "line"):
            # The measures are found too, for the way on after the crisis reply (never shown before it), when the
            # message spoke of work or living as well (派遣切りされて…), not only of the crisis.
            ranking = self.rank(message, allowed, limit, inferred)
            asked_more = ranking.worded or inferred.situation is not None or bool(inferred.answers)
            intent: Intent = "crisis" if safety.is_crisis else safety.level  # type: ignore[assignment]
            reply = self.crisis_replies.reply(safety, self._now(), lang)
            return Answer(raw, intent, reply, personas=personas, safety=safety, inferred=inferred,
                          followup=ranking.matches if asked_more else ())
        if kpi_query is not None:
            return Answer(raw, "kpi", self.kpi.answer(kpi_query, lang), kpi_query=kpi_query, personas=personas)
        kind = self.smalltalk.kind(message)
        if kind is not None:
            return Answer(raw, "smalltalk", self.translator.t(f"smalltalk_{kind}", lang), smalltalk=kind,
                          personas=personas, inferred=inferred)
        spaced = " ".join(sentence.spaced for sentence in message.sentences)
        # このチャットで書いたことって記録に残るの？: the privacy note.
        if any(pattern.search(message.standard) or pattern.search(spaced) for pattern in self._privacy):
            return Answer(raw, "help", self.translator.t("privacy", lang), personas=personas)
        if any(word in message.normalized for word in self._off_topic_words):  # 確定申告, 運転免許の更新
            return Answer(raw, "help", self.help_text(lang, short=True), personas=personas)
        town = self.windows.municipality_in(message.standard)
        asked = self.window_question(message)
        if asked is not None:
            facility, facts = asked
            ranking = self.rank(message, allowed, limit, inferred)

            def fits(measure: Measure) -> bool:  # a measure of this window the asker may be offered
                return facility.id in measure.facilities and (
                    allowed is None or bool(set(allowed).intersection(measure.audiences)))

            own = [match for match in ranking.matches if fits(match.measure)]
            found = {match.measure.id for match in own}
            own += [MeasureMatch(measure, 0.0, ()) for measure in self.catalog.measures.values()
                    if fits(measure) and measure.id not in found]
            text_out = self.window_text(facility, facts, lang, town, family="family" in personas)
            if safety.distress:
                text_out = f"{self.translator.t('distress_acknowledge', lang)}\n\n{text_out}"
            return Answer(raw, "window", text_out, tuple(own[:3]), personas=personas, safety=safety,
                          inferred=inferred, window=facility.id, town=town)
        ranking = self.rank(message, allowed, limit, inferred)
        if ranking.matches:
            text_out = self.measures_text(ranking.matches, lang, distress=safety.distress, town=town,
                                          family="family" in personas)
            return Answer(raw, "measures", text_out, ranking.matches, personas=personas, safety=safety,
                          inferred=inferred, town=town)
        if safety.level == "distress":
            return Answer(raw, "distress", self.crisis_replies.reply(safety, self._now(), lang), personas=personas,
                          safety=safety, inferred=inferred)
        if town is not None and not inferred.known and self.windows.lives_in(message.standard):
            # 「弘前に住んでいます」「むつ市です」: where they live, and nothing else (not 「弘前市の天気は？」)
            text_out = self.translator.t("town_set", lang, town=self.windows.town_name(town, lang))
            return Answer(raw, "town", text_out, personas=personas, inferred=inferred, town=town)
        if ranking.on_topic or inferred.known:
            return Answer(raw, "clarify", self.translator.t("clarify", lang), personas=personas, inferred=inferred)
        return Answer(raw, "help", self.help_text(lang, short=True), personas=personas)

    @staticmethod
    def _similarities(message: Message, semantic: SemanticIndex) -> np.ndarray:
        """Embed the message once and compare it with every passage once; both uses read the result."""
        if message.similarities is None:
            message.vector = semantic.embed(message.semantic_text)
            message.similarities = semantic.similarities(message.vector)
        return message.similarities

    def _crisis_by_meaning(self, message: Message, reading: CrisisReading) -> CrisisReading:
        """The second signal: no expression fired, but the message reads like the crisis, danger or line examples."""
        examples = self.catalog.crisis_examples
        if examples is None or message.empty:
            return reading
        similarities = self._similarities(message, self.semantic) if self.semantic is not None else None
        if self.crisis_classifier is not None:
            compact, spaced = self.crisis.plain_sentences(message)[-1]  # the whole message
            score = self.crisis_classifier.score(compact, grams(compact, spaced), message.vector)
            margin = examples.distress_margin if reading.level in ("distress", "danger") else 0.0
            if self.crisis_classifier.is_crisis(score, margin):
                # 「ロープは買ってきた。あとは掛ける場所を決めるだけ」 is no case for 「もし…気持ちがあるときは」
                level = "crisis" if self.crisis_classifier.is_sure(score) else "gentle"
                return CrisisReading(level, self.crisis.whose(message), ("learned",), False, reading.danger,
                                     reading.distress, someone_else=reading.someone_else)
        if reading.level == "danger":
            return reading  # found by its expressions; the comparisons below could only lose the 110
        if self.semantic is None or similarities is None:
            return reading
        count = examples.neighbours
        safe_like = self.semantic.nearest_mean(similarities, SAFE_LIKE, count)
        closeness = {owner: self.semantic.nearest_mean(similarities, owner, count)
                     for owner in (CRISIS_LIKE, DANGER_LIKE, LINE_LIKE)}
        owner, best = max(closeness.items(), key=lambda item: item[1])
        if best < examples.similar or best - safe_like < examples.margin:
            return reading
        if owner == CRISIS_LIKE:
            # Nearest to the crisis examples, yet under the learned signal's threshold: the learned signal has
            # decided (this closeness alone flagged everyday messages: 「図書館の本、返却期限過ぎてた」).
            return reading
        if owner == DANGER_LIKE:
            return CrisisReading("danger", "self", ("similar",), False, True, reading.distress)
        return CrisisReading("line", "self", ("similar",), False, False, reading.distress)

    def help_text(self, lang: str, short: bool = False) -> str:
        """Return what the bot can do (the short form after a message it could not place)."""
        t = self.translator.t
        return f"{t('help_short', lang)}\n\n{t('help', lang)}" if short else t("help", lang)

    def why(self, match: MeasureMatch, lang: str) -> str:
        """Return why a measure matched: the words the person used, else its category."""
        t = self.translator.t
        if match.words:
            return t("why_words", lang, words=t("list_separator", lang).join(match.words))
        return category_label(self.catalog, match.measure, lang)

    def measures_text(self, matches: Collection[MeasureMatch], lang: str, distress: bool = False,
                      town: str | None = None, family: bool = False) -> str:
        """Return the reply listing measures window first: where to go, what you get, how to reach it, why."""
        t = self.translator.t
        lines = [t("distress_acknowledge", lang)] if distress else []
        lines += [t("measures_intro", lang), ""]
        shown = Shown()
        for number, match in enumerate(matches, start=1):
            why = self.why(match, lang) if match.words else None
            lines += self.windows.measure_block(number, match.measure, lang, self._now(), shown, why, town, family)
            lines.append("")
        lines += self.windows.local_desk(town, lang, shown)
        lines += self.windows.footer(shown, lang)
        return "\n".join(lines).strip()

    def window_question(self, message: Message) -> tuple[Facility, tuple[WindowFact, ...]] | None:
        """Return the window a short question names, with what it asks (where, phone …), or None."""
        for sentence in message.sentences:
            if len(sentence.compact) > WINDOW_SENTENCE:
                continue
            facility = self.windows.facility_named(sentence.compact)
            if facility is None:
                continue
            facts = tuple(fact for fact, (japanese, english) in self._window_questions.items()
                          if any(p.search(sentence.compact) for p in japanese)
                          or any(p.search(sentence.spaced) for p in english))
            if facts:
                return facility, facts
        return None

    def window_text(self, facility: Facility, facts: Collection[WindowFact], lang: str, town: str | None = None,
                    family: bool = False) -> str:
        """Answer a direct question about a window from its confirmed facts, in one message."""
        t = self.translator.t
        windows, now, shown = self.windows, self._now(), Shown()
        where = facility.confirm_at.get(lang)
        lines = windows.header(facility, lang)
        contacts_said = False
        for fact in facts:
            if fact == "where":
                if facility.location_note:
                    lines.append(t("facility_location", lang, note=facility.location_note.get(lang)))
                    if facility.as_of:
                        lines.append(t("facility_as_of_only", lang, as_of=facility.as_of))
                elif not facility.by_municipality:
                    lines.append(t("window_unknown_fact", lang, what=t("fact_where", lang), where=where))
            if fact in ("where", "phone", "hours") and not contacts_said and (
                    fact != "where" or facility.by_municipality):
                lines += windows.contact_lines(facility, lang, now, shown, town, family)
                contacts_said = True
            if fact == "age":
                lines.append(t("window_age", lang, age=facility.age.get(lang)) if facility.age
                             else t("window_unknown_fact", lang, what=t("fact_age", lang), where=where))
            if fact in ("cost", "booking"):
                lines.append(t("window_unknown_fact", lang, what=t(f"fact_{fact}", lang), where=where))
            if fact == "family":
                lines.append(t("window_family_yes", lang) if facility.family_alone
                             else t("window_unknown_fact", lang, what=t("fact_family", lang), where=where))
        lines += windows.footer(shown, lang)
        return "\n".join(lines)
