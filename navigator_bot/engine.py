"""The dialogue engine: events in, replies out, state as plain data. No chat network is known here."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from pydantic import BaseModel, ConfigDict, Field

from .catalog import Catalog
from .dialogue import (
    Button,
    ButtonPressed,
    ChartRequest,
    CommandIssued,
    DocumentRequest,
    Event,
    MemoImage,
    Outcome,
    Reply,
    Start,
    TextTyped,
    UnsupportedMessage,
    UserContext,
)
from .i18n import LANGUAGES, Translator
from .models import Localized, Measure, Question
from .presenting import agency_names, category_label
from .recommend import SKIP, UNKNOWN, Recommendation, applicable_questions, find_persona, find_situation, recommend
from .understanding import Understanding
from .understanding.kpi import KpiQuery
from .understanding.normalize import normalize
from .understanding.situation import Inference
from .windows import Shown, numbered

PAGE_SIZE = 3  # results shown at once: a few, then 「ほかの支援も見る」
OPENED_KEPT = 10  # measures opened, kept (ids only) for the 相談メモ
ANSWER_WORDS = frozenset({"yes", "no", "unknown", "skip"})
AFTER_CRISIS = 3  # measures offered after a crisis reply: a few, gently
LABEL_LIMIT = 28
_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")  # what Telegram allows in a start parameter
STEPPED = frozenset({"p", "s", "a", "back", "pg", "restart", "area", "town", "after"})  # change the state
COMMANDS = ("start", "help", "menu", "kpi", "search", "lang", "privacy", "forget", "cancel")


def _stamped(outcome: Outcome, step: int) -> Outcome:
    """Mark every button of the outcome with the conversation step of the screen it belongs to."""
    outcome.replies[:] = [
        replace(reply, buttons=tuple(tuple(button.stamped(step) for button in row) for row in reply.buttons))
        for reply in outcome.replies
    ]
    return outcome


class ConversationState(BaseModel):
    """Where one user is in the conversation: only the choices they made (ids), never typed text."""

    model_config = ConfigDict(extra="ignore")

    lang: str | None = None
    persona: str | None = None
    situation: str | None = None
    answers: dict[str, str] = Field(default_factory=dict)
    view: str = "ask"  # ask | results | detail | memo
    page: int = 0
    detail: str | None = None
    pending: list[str] = Field(default_factory=list)  # measure ids to show after a crisis reply (never text)
    step: int = 0  # counts the screens shown; buttons carry the step of their screen
    asked: str | None = None  # the question on screen, if any: a typed はい / いいえ answers only that one
    town: str | None = None  # municipality id, only when the person chose or wrote it (for their local desk)
    opened: list[str] = Field(default_factory=list)  # measure ids the person opened, for the 相談メモ
    written: str | None = None  # "en" while the person writes in English on a phone in another language

    def reset(self, keep_lang: bool = True) -> None:
        """Forget every choice (and the language unless kept)."""
        lang = self.lang if keep_lang else None
        for name, info in type(self).model_fields.items():
            setattr(self, name, info.get_default(call_default_factory=True))
        self.lang = lang


class DialogueEngine:
    """Turns an event and a user's state into replies and the next state."""

    def __init__(self, catalog: Catalog, understanding: Understanding, translator: Translator) -> None:
        self.catalog = catalog
        self.understanding = understanding
        self.translator = translator
        self.typed_words = {
            normalize(word): kind for kind, words in catalog.language.typed_words.items() for word in words
            if normalize(word)
        }

    # --- entry point -------------------------------------------------------------------------------------------

    def handle(self, state: ConversationState, event: Event, context: UserContext) -> Outcome:
        """Apply one event to the state (in place) and return what to send, buttons marked with the new step."""
        if self._stale(state, event):
            # A second tap on a screen already left (two taps on 「戻る」, ten on a persona): show where the
            # conversation is — the same screen, so the message is left as it is — change nothing, count nothing.
            stale = self._render_current(state, self._lang(state, context), edit=True)
            stale.counts.clear()
            return _stamped(stale, state.step)
        outcome = self._handle(state, event, context)
        state.step += 1
        return _stamped(outcome, state.step)

    def _handle(self, state: ConversationState, event: Event, context: UserContext) -> Outcome:
        lang = self._lang(state, context)
        if isinstance(event, Start):
            return self._start(state, event.payload, lang)
        if isinstance(event, ButtonPressed):
            return self._button(state, event.action, lang, context)
        if isinstance(event, TextTyped):
            return self._typed(state, event.text, lang, context)
        if isinstance(event, CommandIssued):
            return self._command(state, event, lang, context)
        if isinstance(event, UnsupportedMessage):
            return Outcome([Reply(self.t("unsupported_message", lang), self._resume_row(state, lang))])
        raise TypeError(f"unknown event {event!r}")

    @staticmethod
    def _stale(state: ConversationState, event: Event) -> bool:
        """True for a press of a state-changing button on a screen that is no longer the current one."""
        return (isinstance(event, ButtonPressed) and event.step is not None and event.step != state.step
                and event.action.partition(":")[0] in STEPPED)

    def t(self, key: str, lang: str, **values: object) -> str:
        """Return a UI string."""
        return self.translator.t(key, lang, **values)

    def _lang(self, state: ConversationState, context: UserContext) -> str:
        if state.lang in LANGUAGES:  # chosen with /lang
            return state.lang
        if state.written in LANGUAGES:  # the language the person writes in, buttons and all
            return state.written
        hint = (context.language_hint or "").lower()
        return "en" if hint.startswith("en") else "ja"

    # --- commands ----------------------------------------------------------------------------------------------

    def _command(self, state: ConversationState, event: CommandIssued, lang: str, context: UserContext) -> Outcome:
        name = event.name.lower()
        if name == "start":
            return self._restart(state, lang, counts=[("conversation_started", "")])
        if name == "help":
            return Outcome([Reply(self.understanding.help_text(lang), self._menu_buttons(state, lang))])
        if name == "menu":
            return Outcome([Reply(self.t("menu", lang), self._menu_buttons(state, lang))])
        if name == "kpi":
            if event.args.strip().lower() in ("csv", "excel") and context.is_staff:
                return Outcome([Reply(self.t("kpi_csv_caption", lang),
                                      document=DocumentRequest("kpi_csv", "kpi-progress.csv"))],
                               counts=[("kpi_question", "csv")])
            return self._kpi_overview(lang, context)
        if name == "search":
            if event.args.strip():
                return self._typed(state, event.args, lang, context)
            return Outcome([Reply(self.t("search_prompt", lang))])
        if name == "lang":
            return self._language(state, event.args.strip().lower(), lang)
        if name == "privacy":
            return Outcome([Reply(self.t("privacy", lang), self._resume_row(state, lang))])
        if name == "forget":
            state.reset(keep_lang=False)
            return Outcome([Reply(self.t("forgotten", lang), ((Button(self.t("btn_restart", lang), "restart"),),))],
                           forget=True)
        if name == "cancel":
            state.reset()
            return Outcome([Reply(self.t("cancelled", lang))])
        if name in ("stats", "reload"):
            return Outcome([Reply(self.t("staff_only", lang))])
        return Outcome([Reply(self.t("unknown_command", lang), self._menu_buttons(state, lang))])

    def _language(self, state: ConversationState, requested: str, lang: str) -> Outcome:
        if requested in LANGUAGES:
            state.lang = requested
            return Outcome([Reply(self.t("lang_set", requested), self._resume_row(state, requested))])
        buttons = ((Button("日本語", "lang:ja"), Button("English", "lang:en")),)
        return Outcome([Reply(self.t("lang_choose", lang), buttons)])

    def _kpi_overview(self, lang: str, context: UserContext) -> Outcome:
        text = self.understanding.kpi.answer(KpiQuery(kind="list", kpi_ids=(), fiscal_years=()), lang)
        replies = [Reply(text)]
        if context.is_staff:
            replies.append(Reply(self.t("chart_caption", lang), chart=ChartRequest(tuple(self.catalog.kpis), lang)))
        return Outcome(replies, counts=[("kpi_question", "overview")])

    # --- buttons -----------------------------------------------------------------------------------------------

    def _button(self, state: ConversationState, action: str, lang: str, context: UserContext) -> Outcome:
        kind, _, value = action.partition(":")
        questionnaire = self.catalog.questionnaire
        if kind == "p" and find_persona(self.catalog, value):
            state.persona, state.situation, state.answers = value, None, {}
            return self._next(state, lang, counts=[("persona", value)])
        if kind == "s" and state.persona and find_situation(self.catalog, value):
            state.situation, state.answers = value, {}
            return self._next(state, lang, counts=[("situation", value)])
        if kind == "a" and state.persona:
            question_id, _, option_id = value.partition(":")
            question = next((q for q in questionnaire.questions if q.id == question_id), None)
            valid = {o.id for o in question.options} | {SKIP, UNKNOWN} if question else set()
            if question is not None and option_id in valid:
                state.answers[question_id] = option_id
                return self._next(state, lang)
        if kind == "m" and value in self.catalog.measures:
            return self._detail(state, value, lang)
        if kind == "pg" and state.persona and value.isdigit():
            state.page = int(value)
            return self._results(state, lang, edit=True)
        if kind == "lang" and value in LANGUAGES:
            return self._language(state, value, lang)
        if kind == "area":
            return self._choose_town(state, value, lang)
        if kind == "town" and value in self.understanding.windows.municipalities:
            state.town = value
            return self._town_set(state, lang)
        simple: dict[str, Callable[[], Outcome]] = {
            "restart": lambda: self._restart(state, lang, counts=[("conversation_started", "")], edit=True),
            "back": lambda: self._back(state, lang),
            "resume": lambda: self._render_current(state, lang, edit=False),
            "res": lambda: self._results(state, lang, edit=True),
            "memo": lambda: self._memo(state, lang),
            "memopng": lambda: self._memo_image(state, lang),
            "area": lambda: self._choose_town(state, "", lang),
            "after": lambda: self._after_crisis(state, lang),
            "kpi": lambda: self._kpi_overview(lang, context),
            "menu": lambda: Outcome([Reply(self.t("menu", lang), self._menu_buttons(state, lang))]),
        }
        if action in simple:
            return simple[action]()
        return Outcome([Reply(self.t("stale_button", lang), (
            (Button(self.t("btn_resume", lang), "resume"), Button(self.t("btn_restart", lang), "restart")),
        ))], counts=[("stale_button", "")])

    def _start(self, state: ConversationState, payload: str, lang: str) -> Outcome:
        """A new conversation; a poster's link opens it at a persona, a situation or a window (unknown: the start)."""
        key = payload.lower() if _PAYLOAD.fullmatch(payload) else ""
        personas = {persona.id for persona in self.catalog.questionnaire.personas}
        situations = {situation.id for situation in self.catalog.questionnaire.situations}
        known = key in personas or key in situations or key in self.catalog.facilities
        counts = [("conversation_started", key if known else "")]
        if not known:
            return self._restart(state, lang, counts=counts)
        state.reset()
        if key in self.catalog.facilities:
            text = self.understanding.window_text(self.catalog.facilities[key], ("phone", "where"), lang)
            outcome = self._render_current(state, lang, edit=False, intro=True)
            outcome.replies.insert(0, Reply(text))
        else:
            if key in personas:
                state.persona = key
            else:
                state.persona, state.situation = "self", key
            outcome = self._next(state, lang, edit=False)
            outcome.replies.insert(0, Reply(self.t("welcome", lang)))
        outcome.counts[:0] = counts
        return outcome

    def _restart(self, state: ConversationState, lang: str, counts: list[tuple[str, str]],
                 edit: bool = False) -> Outcome:
        state.reset()
        outcome = self._render_current(state, lang, edit=edit, intro=True)
        outcome.counts.extend(counts)
        return outcome

    def _back(self, state: ConversationState, lang: str, edit: bool = True) -> Outcome:
        if state.view in ("detail", "memo"):
            state.view = "results"
            return self._results(state, lang, edit=edit)
        if state.answers:
            state.answers.popitem()
        elif state.situation:
            state.situation = None
        else:
            state.persona = None
        state.view, state.page = "ask", 0
        return self._render_current(state, lang, edit=edit)

    def _next(self, state: ConversationState, lang: str, counts: list[tuple[str, str]] | None = None,
              edit: bool = True) -> Outcome:
        state.view, state.page = "ask", 0
        outcome = self._render_current(state, lang, edit=edit)
        outcome.counts[:0] = counts or []
        return outcome

    # --- the questionnaire -------------------------------------------------------------------------------------

    def _pending_question(self, state: ConversationState) -> tuple[Question | None, int, int]:
        """Return the next unanswered question with its step number and the total number of steps."""
        persona = find_persona(self.catalog, state.persona)
        asks_situation = persona is None or persona.asks_situation
        steps_before = 2 if asks_situation else 1
        if asks_situation and state.situation is None:
            # Before the situation is known, count the longest path, so the total only ever shrinks.
            most = max(len(applicable_questions(self.catalog, state.persona or "self", situation.id))
                       for situation in self.catalog.questionnaire.situations)
            return None, steps_before, steps_before + most
        questions = applicable_questions(self.catalog, state.persona, state.situation)
        total = steps_before + len(questions)
        for index, question in enumerate(questions):
            if question.id not in state.answers:
                return question, steps_before + index + 1, total
        return None, total, total

    def _render_current(self, state: ConversationState, lang: str, edit: bool, intro: bool = False) -> Outcome:
        persona = find_persona(self.catalog, state.persona)
        if persona is None:
            text = self.t("ask_persona", lang)
            if intro:
                text = self.t("welcome", lang) + "\n\n" + text
            rows = tuple((Button(p.label.get(lang), f"p:{p.id}"),) for p in self.catalog.questionnaire.personas)
            return Outcome([Reply(self._step_prefix(1, self._known_total(state), lang) + text, rows, edit=edit)])
        if persona.asks_situation and state.situation is None:
            key = "ask_situation_family" if persona.id == "family" else "ask_situation"
            rows = tuple((Button(s.label.get(lang), f"s:{s.id}"),) for s in self.catalog.questionnaire.situations)
            rows += ((Button(self.t("btn_back", lang), "back"),),)
            text = self._step_prefix(2, None, lang) + self.t(key, lang)
            return Outcome([Reply(text, rows, edit=edit)])
        question, step, total = self._pending_question(state)
        if question is not None and state.view == "ask":
            state.asked = question.id
            wording = question.text_family if persona.id == "family" and question.text_family else question.text
            rows = tuple((Button(o.label.get(lang), f"a:{question.id}:{o.id}"),) for o in question.options)
            rows += ((Button(self.t("btn_unknown", lang), f"a:{question.id}:{UNKNOWN}"),
                      Button(self.t("btn_skip", lang), f"a:{question.id}:{SKIP}")),
                     (Button(self.t("btn_back", lang), "back"),))
            return Outcome([Reply(self._step_prefix(step, total, lang) + wording.get(lang), rows, edit=edit)])
        if state.view == "detail" and state.detail in self.catalog.measures:
            return self._detail(state, state.detail, lang, edit=edit)
        if state.view == "memo":
            return self._memo(state, lang, edit=edit)
        return self._results(state, lang, edit=edit)

    def _known_total(self, state: ConversationState) -> int | None:
        """The number of steps once it can no longer grow (the situation chosen, or no situation asked)."""
        persona = find_persona(self.catalog, state.persona)
        if persona is None or (persona.asks_situation and state.situation is None):
            return None
        return self._pending_question(state)[2]

    def _step_prefix(self, step: int, total: int | None, lang: str) -> str:
        """Return （3/5）, or （2問目） while the number of questions still depends on an answer to come."""
        if total is None:
            return self.t("step_open", lang, step=step) + "\n"
        return self.t("step", lang, step=step, total=max(total, step)) + "\n"

    # --- results, detail, memo ---------------------------------------------------------------------------------

    def _recommendations(self, state: ConversationState) -> list[Recommendation]:
        return recommend(self.catalog, state.persona or "self", state.situation, state.answers)

    def _reason_text(self, state: ConversationState, item: Recommendation, lang: str) -> str:
        reasons = [reason.get(lang) for reason in item.reasons]
        situation = find_situation(self.catalog, state.situation)
        if situation is not None and item.in_situation and situation.categories:
            number = self.catalog.categories[item.measure.categories[0]].number
            reasons.append(self.t("reason_situation", lang, situation=situation.label.get(lang), number=number))
        if not reasons:
            reasons.append(category_label(self.catalog, item.measure, lang))
        return self.t("list_separator", lang).join(reasons)

    def _results(self, state: ConversationState, lang: str, edit: bool) -> Outcome:
        if not state.persona:
            return self._render_current(state, lang, edit=edit)
        items = self._recommendations(state)
        pages = max(1, -(-len(items) // PAGE_SIZE))
        state.view, state.page = "results", min(max(state.page, 0), pages - 1)
        shown_items = items[state.page * PAGE_SIZE:(state.page + 1) * PAGE_SIZE]
        first = state.page * PAGE_SIZE + 1
        windows, shown, family = self.understanding.windows, Shown(), state.persona == "family"
        intro = self.t("results_intro_family" if family else "results_intro", lang) if state.page == 0 else self.t(
            "results_intro_more", lang, first=first, last=first + len(shown_items) - 1, total=len(items))
        reasons = [self._reason_text(state, item, lang) for item in shown_items]
        shared = reasons[0] if len(reasons) > 1 and len(set(reasons)) == 1 else None
        lines = [intro, *([self.t("measures_why", lang, why=shared)] if shared else []), ""]
        now = self.understanding.now()
        for number, (item, reason) in enumerate(zip(shown_items, reasons, strict=True), start=first):
            # The same reason under every result is said once, under the intro.
            lines += windows.measure_block(number, item.measure, lang, now, shown, None if shared else reason,
                                           state.town, family)
            lines.append("")
        if state.persona == "supporter":
            lines.append(self.t("supporter_kpi_hint", lang))
        lines += windows.local_desk(state.town, lang, shown)
        lines += windows.footer(shown, lang)
        rows = self._measure_rows([item.measure for item in shown_items], lang, start=first)
        paging = []
        if state.page > 0:
            paging.append(Button(self.t("btn_prev", lang), f"pg:{state.page - 1}"))
        if state.page + 1 < pages:
            rest = len(items) - (state.page + 1) * PAGE_SIZE
            paging.append(Button(self.t("btn_more", lang, rest=rest), f"pg:{state.page + 1}"))
        if paging:
            rows.append(tuple(paging))
        if shown.municipality_asked or state.town:
            rows.append(self._town_row(state, lang))
        extra = [Button(self.t("btn_memo", lang), "memo")]
        if state.persona == "supporter":
            extra.append(Button(self.t("btn_kpi", lang), "kpi"))
        rows.append(tuple(extra))
        rows.append((Button(self.t("btn_back", lang), "back"), Button(self.t("btn_restart", lang), "restart")))
        counts = [("measure_shown", item.measure.id) for item in shown_items]
        return Outcome([Reply("\n".join(lines).strip(), tuple(rows), edit=edit)], counts=counts)

    def _detail(self, state: ConversationState, measure_id: str, lang: str, edit: bool = True) -> Outcome:
        """One measure: where to go and what happens there first, then what the plan says (the reason behind it)."""
        measure = self.catalog.measures[measure_id]
        windows, shown = self.understanding.windows, Shown()
        if state.persona:
            state.view, state.detail = "detail", measure_id
        if measure_id not in state.opened:
            state.opened = [*state.opened, measure_id][-OPENED_KEPT:]
        lines = [windows.heading(measure, lang), "", windows.plain_summary(measure, lang)]
        now = self.understanding.now()
        for facility in windows.of(measure):
            lines += ["", *windows.facility_detail(facility, lang, now, state.town, state.persona == "family", shown)]
        lines += ["", self.t("detail_plan_title", lang), self.t("detail_plan_measure", lang, title=measure.title),
                  measure.summary]
        if lang == "en" and measure.summary_en:
            lines.append(measure.summary_en)
        lines.append(self.t("measures_agencies", lang,
                            agencies=agency_names(self.catalog, measure, self.translator, lang)))
        for agency_id in measure.agencies:
            agency = self.catalog.agencies[agency_id]
            if agency.url:
                lines.append(self.t("agency_url", lang, name=agency.full_name, url=agency.url))
        lines.append(category_label(self.catalog, measure, lang))
        lines += ["", *windows.footer(shown, lang)]
        rows: list[tuple[Button, ...]] = []
        if shown.municipality_asked or (state.town and any(f.by_municipality for f in windows.of(measure))):
            rows.append(self._town_row(state, lang))
        if state.persona:
            rows += [(Button(self.t("btn_back_results", lang), "res"), Button(self.t("btn_memo", lang), "memo")),
                     (Button(self.t("btn_restart", lang), "restart"),)]
        else:
            rows.append((Button(self.t("btn_restart", lang), "restart"),))
        return Outcome([Reply("\n".join(lines).strip(), tuple(rows), edit=edit)],
                       counts=[("measure_opened", measure_id)])

    def _town_row(self, state: ConversationState, lang: str) -> tuple[Button, ...]:
        """The button that asks (or changes) where the person lives."""
        return (Button(self.t("btn_town_change" if state.town else "btn_town", lang), "area"),)

    def _choose_town(self, state: ConversationState, area_id: str, lang: str) -> Outcome:
        """Ask where the person lives, area first, then the town (optional: every screen can be left)."""
        places = self.catalog.places
        if places is None:
            return self._render_current(state, lang, edit=False)
        area = next((area for area in places.areas if area.id == area_id), None)
        if area is None:
            rows = [(Button(a.name_en if lang == "en" else a.name, f"area:{a.id}"),) for a in places.areas]
            text = self.t("ask_area", lang)
        else:
            rows = [(Button(m.name_en if lang == "en" else m.name, f"town:{m.id}"),) for m in area.municipalities]
            text = self.t("ask_town", lang)
        rows.append((Button(self.t("btn_no_answer", lang), "resume"),))
        return Outcome([Reply(text, tuple(rows), edit=True)])

    def _town_set(self, state: ConversationState, lang: str) -> Outcome:
        """Confirm the town, then show again what was on screen, now with the local desk."""
        note = Reply(self.t("town_set", lang, town=self.understanding.windows.town_name(state.town or "", lang)))
        if state.view == "detail" and state.detail in self.catalog.measures:
            outcome = self._detail(state, state.detail, lang, edit=False)
        elif state.persona and state.view in ("results", "memo"):
            outcome = self._results(state, lang, edit=False)
        else:
            desk = self.understanding.windows.desk_window
            text = self.understanding.window_text(desk, ("phone",), lang, state.town) if desk else ""
            outcome = Outcome([Reply(text, self._resume_row(state, lang))])
        outcome.replies.insert(0, note)
        return outcome

    def _memo(self, state: ConversationState, lang: str, edit: bool = True) -> Outcome:
        persona = find_persona(self.catalog, state.persona)
        if persona is None:
            return self._render_current(state, lang, edit=edit)
        state.view = "memo"
        return Outcome([Reply("\n".join(self.memo_lines(state, lang)), (
            (Button(self.t("btn_memo_image", lang), "memopng"),),
            (Button(self.t("btn_back_results", lang), "res"), Button(self.t("btn_restart", lang), "restart")),
        ), edit=edit)])

    def _memo_image(self, state: ConversationState, lang: str) -> Outcome:
        """The 相談メモ as an image to show at the counter (the text stays above it in the chat)."""
        if find_persona(self.catalog, state.persona) is None:
            return self._render_current(state, lang, edit=False)
        image = MemoImage(tuple(self.memo_lines(state, lang)))
        return Outcome([Reply(self.t("memo_image_caption", lang), (
            (Button(self.t("btn_back_results", lang), "res"), Button(self.t("btn_restart", lang), "restart")),
        ), image=image)], counts=[("memo_image", "")])

    def memo_lines(self, state: ConversationState, lang: str) -> list[str]:
        """Return the 相談メモ: who, what was chosen, where to go with contacts and what to ask, the measures."""
        persona = find_persona(self.catalog, state.persona)
        windows, shown = self.understanding.windows, Shown()
        lines = [self.t("memo_title", lang)]
        if persona is not None:
            lines.append(self.t("memo_persona", lang, persona=persona.label.get(lang)))
        situation = find_situation(self.catalog, state.situation)
        if situation is not None:
            lines.append(self.t("memo_situation", lang, situation=situation.label.get(lang)))
        if state.town in windows.municipalities:
            lines.append(self.t("memo_town", lang, town=windows.town_name(state.town, lang)))
        chosen_lines = []
        for question in applicable_questions(self.catalog, state.persona, state.situation):
            chosen = state.answers.get(question.id)
            if chosen is None or chosen == SKIP:
                continue
            option = next((o for o in question.options if o.id == chosen), None)
            answer = option.label.get(lang) if option else self.t("btn_unknown", lang)
            wording: Localized = question.text_family if state.persona == "family" and question.text_family \
                else question.text
            chosen_lines.append(f"・{wording.get(lang)} → {answer}")
        if chosen_lines:
            lines += ["", self.t("memo_answers", lang), *chosen_lines]
        measures = [self.catalog.measures[mid] for mid in state.opened if mid in self.catalog.measures]
        measures += [item.measure for item in self._recommendations(state)[:PAGE_SIZE] if item.measure not in measures]
        facility_ids = list(dict.fromkeys(f.id for measure in measures for f in windows.of(measure)))
        facilities = [self.catalog.facilities[facility_id] for facility_id in facility_ids]
        now = self.understanding.now()
        if facilities:
            lines += ["", self.t("memo_windows", lang)]
            for facility in facilities:
                lines += ["", *windows.facility_detail(facility, lang, now, state.town, state.persona == "family",
                                                       shown, brief=True)]
        lines += ["", self.t("memo_measures", lang)]
        lines += [f"・{windows.heading(measure, lang)}（{measure.title}）" for measure in measures]
        lines += ["", *windows.footer(shown, lang), self.t("memo_footer", lang)]
        return [line for index, line in enumerate(lines) if line or (index and lines[index - 1])]

    # --- typed text --------------------------------------------------------------------------------------------

    def _typed(self, state: ConversationState, text: str, lang: str, context: UserContext) -> Outcome:
        message = self.understanding.read(text)
        if message.english:  # "I don't want to live anymore" from a phone set to Japanese: answered in English,
            lang = state.written = "en"  # and the buttons after it too, until the person writes Japanese again
        elif message.japanese and state.written:  # romaji too: back to the phone's language
            state.written = None
            lang = self._lang(state, context)

        word = self.typed_words.get(message.normalized)
        if word is not None:
            handled = self._typed_word(state, word, lang)
            if handled is not None:
                return handled
        state.asked = None  # the reply below replaces the question on screen: はい next must not answer it
        persona = find_persona(self.catalog, state.persona)
        audiences = None
        if persona is not None:
            audiences = self.understanding.audiences_for([persona.id, *self.understanding.personas_in(message)])
        answer = self.understanding.interpret(message, lang, audiences)
        counts: list[tuple[str, str]] = [("typed_" + answer.intent, "")]
        if answer.intent in ("crisis", "danger", "line", "distress"):
            # Only measure ids are kept for the way on, never the words.
            state.pending = [match.measure.id for match in answer.followup]
            rows = ((Button(self.t("btn_after_crisis", lang), "after"),),
                    (Button(self.t("btn_restart", lang), "restart"),))
            if answer.intent == "crisis":
                counts.append(("crisis_reply", answer.safety.form))
            return Outcome([Reply(answer.text, rows)], counts=counts)
        if answer.intent == "smalltalk":
            return Outcome([Reply(answer.text, self._resume_row(state, lang))], counts=counts)
        if answer.intent == "clarify":
            if answer.inferred.known:  # otherwise who is writing is the one question to ask
                self._apply_inference(state, answer.inferred)
            return Outcome([self._clarify(state, lang)], counts=counts)
        if answer.town is not None:
            state.town = answer.town
        if answer.intent == "town":
            return self._town_set(state, lang)
        if answer.intent == "measures":
            self._apply_inference(state, answer.inferred)
        rows = self._measure_rows([match.measure for match in answer.matches], lang)
        rows.extend(self._resume_row(state, lang))
        if answer.kpi_query:
            counts.append(("kpi_question", answer.kpi_query.kind))
        counts += [("measure_shown", m.measure.id) for m in answer.matches]
        return Outcome([Reply(answer.text, tuple(rows))], counts=counts)

    def _measure_rows(self, measures: Sequence[Measure], lang: str, start: int = 1) -> list[tuple[Button, ...]]:
        """One numbered button per measure, opening its detail view."""
        windows = self.understanding.windows
        return [(Button(self._short(f"{numbered(number)} {windows.heading(measure, lang)}"), f"m:{measure.id}"),)
                for number, measure in enumerate(measures, start=start)]

    def _typed_word(self, state: ConversationState, word: str, lang: str) -> Outcome | None:
        """Handle はい / いいえ / わからない / もっと / 戻る / 最初から typed instead of a button; None if not one."""
        if word == "restart":
            return self._restart(state, lang, counts=[("conversation_started", "")])
        if word == "back" and state.persona:
            return self._back(state, lang, edit=False)
        if word == "more" and state.view == "results":
            state.page += 1
            return self._results(state, lang, edit=False)
        question, _, _ = self._pending_question(state)
        if question is None or state.view != "ask" or not state.persona or state.asked != question.id:
            # はい / いいえ with no question on screen: show where the person is, rather than search for "はい".
            return self._render_current(state, lang, edit=False) if word in ANSWER_WORDS else None
        option = {"unknown": UNKNOWN, "skip": SKIP}.get(word)
        if option is None and word in {o.id for o in question.options}:
            option = word
        if option is None:
            reply = self._render_current(state, lang, edit=False).replies[0]
            return Outcome([Reply(self.t("typed_answer_unclear", lang) + "\n\n" + reply.text, reply.buttons)])
        state.answers[question.id] = option
        return self._next(state, lang, edit=False)

    def _apply_inference(self, state: ConversationState, inferred: Inference) -> None:
        """Take what typed text told (who, situation, answers) into the state, never overwriting a choice."""
        if state.persona is None:
            state.persona = inferred.persona or "self"
        persona = find_persona(self.catalog, state.persona)
        if persona is None:
            return
        if persona.asks_situation and state.situation is None and inferred.situation:
            state.situation = inferred.situation
        applicable = {q.id for q in applicable_questions(self.catalog, state.persona, state.situation)}
        for question_id, option_id in inferred.answers:
            if question_id in applicable:
                state.answers.setdefault(question_id, option_id)

    def _clarify(self, state: ConversationState, lang: str) -> Reply:
        """One question with buttons when typed text was about the bot's topic but said too little."""
        persona = find_persona(self.catalog, state.persona)
        if persona is not None and persona.asks_situation and state.situation is None:
            rows = tuple((Button(s.label.get(lang), f"s:{s.id}"),) for s in self.catalog.questionnaire.situations)
        else:
            rows = tuple((Button(p.label.get(lang), f"p:{p.id}"),) for p in self.catalog.questionnaire.personas)
        return Reply(self.t("clarify", lang), (*rows, *self._resume_row(state, lang)))

    def _after_crisis(self, state: ConversationState, lang: str) -> Outcome:
        """The way on after a crisis reply: what else the message asked about, else the questionnaire."""
        pending = [self.catalog.measures[mid] for mid in state.pending if mid in self.catalog.measures][:AFTER_CRISIS]
        state.pending = []
        if not pending:
            return self._render_current(state, lang, edit=False)
        lines = [self.t("measures_intro", lang), ""]
        windows, shown, now = self.understanding.windows, Shown(), self.understanding.now()
        for number, measure in enumerate(pending, start=1):
            lines += windows.measure_block(number, measure, lang, now, shown, None, state.town,
                                           state.persona == "family")
            lines.append("")
        lines += windows.footer(shown, lang)
        rows = self._measure_rows(pending, lang)
        rows.extend(self._resume_row(state, lang))
        return Outcome([Reply("\n".join(lines), tuple(rows))])

    def _resume_row(self, state: ConversationState, lang: str) -> tuple[tuple[Button, ...], ...]:
        if state.persona:
            return ((Button(self.t("btn_resume", lang), "resume"), Button(self.t("btn_restart", lang), "restart")),)
        return ((Button(self.t("btn_start", lang), "restart"),),)

    def _menu_buttons(self, state: ConversationState, lang: str) -> tuple[tuple[Button, ...], ...]:
        other_lang = "en" if lang == "ja" else "ja"
        return (
            (Button(self.t("btn_find", lang), "restart"), Button(self.t("btn_kpi", lang), "kpi")),
            (Button(self.t("btn_memo", lang), "memo"), Button("日本語 / English", "lang:" + other_lang)),
            *self._resume_row(state, lang),
        )

    @staticmethod
    def _short(label: str) -> str:
        return label if len(label) <= LABEL_LIMIT else label[: LABEL_LIMIT - 1] + "…"
