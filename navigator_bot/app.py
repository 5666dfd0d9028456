"""The composition root: builds the catalog, understanding, engine and storage from settings.

Adapters (Telegram, console) hold one `Navigator` and call `handle()` for each event.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .catalog import Catalog, CatalogInvalid, load_catalog
from .config import DATABASE_FILE, KEY_FILE, SEMANTIC_STATUS_FILE, Settings
from .dialogue import ChartRequest, CommandIssued, Event, Outcome, Reply, UserContext
from .engine import COMMANDS, ConversationState, DialogueEngine
from .i18n import Translator
from .storage import JST, Inbox, StateStore, StorageError, UsageCounters
from .understanding import Understanding
from .understanding.semantic import load_encoder

log = logging.getLogger(__name__)
STAFF_COMMANDS = ("stats", "reload")


@dataclass(frozen=True)
class _Domain:
    """Everything built from one catalog; swapped as a whole on /reload."""

    catalog: Catalog
    understanding: Understanding
    engine: DialogueEngine


_KEY_RE = re.compile(r"[0-9a-f]{64}")


def _secret(data_dir: Path, has_data: bool) -> bytes:
    """Return the key that turns chat ids into pseudonymous user keys, created once per data folder.

    Without its key the stored conversations cannot be found again (and a short or empty key would make the
    pseudonyms recomputable from user ids): a missing key with data present, or a malformed key, stops the bot.
    """
    path = data_dir / KEY_FILE
    if not path.exists():
        if has_data:
            raise StorageError(f"{path} is missing, but the database holds conversations: restore the key from a "
                               f"backup, or move {DATABASE_FILE} away to start afresh")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
            handle.flush()
            os.fsync(handle.fileno())
        directory = os.open(data_dir, os.O_RDONLY)
        try:
            os.fsync(directory)  # the new file's name is durable too
        finally:
            os.close(directory)
    key = path.read_text(encoding="ascii", errors="replace").strip()
    if not _KEY_RE.fullmatch(key):
        raise StorageError(f"{path} is not a valid key (64 hexadecimal characters expected, found {len(key)} "
                           "characters): restore it from a backup")
    return key.encode()


class Navigator:
    """The bot as adapters see it: events in, outcomes out, state kept in SQLite."""

    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        translator: Translator,
        store: StateStore,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.settings = settings
        self.translator = translator
        self.store = store
        self.counters = UsageCounters(store)
        self.inbox = Inbox(store)
        self._clock = clock
        self._key = _secret(settings.data_dir, has_data=store.count_users() > 0)
        self._encoder, self.semantic_status = load_encoder(settings.semantic)
        self._write_semantic_status()
        self._domain = self._build(catalog)

    @classmethod
    def from_settings(cls, settings: Settings, clock: Callable[[], dt.datetime] | None = None) -> Navigator:
        """Load the catalog and open the data folder named in the settings."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        catalog = load_catalog(settings.catalog_dir)
        store = StateStore(settings.data_dir / DATABASE_FILE)
        if clock is None:
            return cls(settings, catalog, Translator(), store)
        return cls(settings, catalog, Translator(), store, clock)

    def _write_semantic_status(self) -> None:
        status = "on" if self.semantic_status.loaded else f"off: {self.semantic_status.detail}"
        try:
            (self.settings.data_dir / SEMANTIC_STATUS_FILE).write_text(status + "\n", encoding="utf-8")
        except OSError as error:
            log.warning("could not write %s: %s", SEMANTIC_STATUS_FILE, error)

    def _build(self, catalog: Catalog) -> _Domain:
        understanding = Understanding(
            catalog, self.translator,
            today=lambda: self._clock().astimezone(JST).date(), now=self._clock,
            encoder=self._encoder, cache_dir=self.settings.embedding_cache,
        )
        return _Domain(catalog, understanding, DialogueEngine(catalog, understanding, self.translator))

    @property
    def catalog(self) -> Catalog:
        """The catalog in use."""
        return self._domain.catalog

    @property
    def understanding(self) -> Understanding:
        """The text understanding in use (for `ask`)."""
        return self._domain.understanding

    def user_key(self, raw: str) -> str:
        """Return the pseudonymous storage key for a chat user id such as `tg:12345`."""
        return hmac.new(self._key, raw.encode(), hashlib.sha256).hexdigest()[:32]

    def has_conversation(self, user: str) -> bool:
        """Return True when a conversation of this user is stored (to continue it)."""
        stored = self.store.load(self.user_key(user))
        return bool(stored and stored.get("persona"))

    def forget(self, user: str) -> bool:
        """Delete everything stored about a user (they left the channel); True if there was anything."""
        return self.store.forget(self.user_key(user))

    def handle(self, user: str, event: Event, context: UserContext) -> Outcome:
        """Handle one event of one user: load their state, run the engine, write everything through."""
        now = self._clock()
        key = self.user_key(user)
        stored = self.store.load(key)
        state = ConversationState.model_validate(stored) if stored else ConversationState()
        if isinstance(event, CommandIssued) and event.name in STAFF_COMMANDS and context.is_staff:
            outcome = self._staff_command(event.name, state, context, now)
        else:
            outcome = self._domain.engine.handle(state, event, context)
        with self.store.transaction():
            if outcome.forget:
                self.store.forget(key)
            else:
                self.store.save(key, state.model_dump(), now)
            for metric, value in outcome.counts:
                self.counters.increment(metric, value, now=now)
        return outcome

    def _staff_command(self, name: str, state: ConversationState, context: UserContext, now: dt.datetime) -> Outcome:
        lang = state.lang or ("en" if (context.language_hint or "").startswith("en") else "ja")
        if name == "stats":
            report = self.counters.report(now)
            return Outcome([Reply(report.format("en" if lang == "en" else "ja", self.stats_name))])
        return Outcome([Reply(self.reload())])

    def reload(self) -> str:
        """Re-read the catalog; on an error keep the running one and return the errors."""
        try:
            catalog = load_catalog(self.settings.catalog_dir)
        except CatalogInvalid as error:
            log.warning("catalog reload refused: %d problem(s)", len(error.issues))
            lines = [self.translator.t("reload_failed", "ja", count=len(error.issues))]
            lines += [f"・{issue}" for issue in error.issues[:20]]
            return "\n".join(lines)
        self._domain = self._build(catalog)
        log.info("catalog reloaded: %s", catalog.summary())
        return self.translator.t("reload_done", "ja", summary=catalog.summary())

    def housekeeping(self) -> None:
        """Delete expired conversations and old handled-update ids (adapters run it on a timer, off the loop)."""
        now = self._clock()
        removed = self.store.purge_expired(now, dt.timedelta(days=self.settings.state_ttl_days))
        if removed:
            log.info("purged %d expired conversation(s)", removed)
        self.inbox.forget_handled(now)
        self.counters.purge(now, self.settings.stats_retention_days)
        self.store.checkpoint()  # answered updates' bodies leave the write-ahead log too

    def render_chart(self, request: ChartRequest) -> bytes:
        """Render a KPI chart as PNG (slow: adapters call this off the event loop)."""
        from .kpi_chart import render_kpi_chart  # matplotlib is heavy: import only when a chart is asked for

        return render_kpi_chart(self.catalog, request.kpi_ids or None, request.lang)

    def stats_name(self, metric: str, key: str, lang: str) -> str:
        """Name a usage counter in words a member of staff reads: 利用者 ご家族・周りの方, not persona family."""
        t = self.translator
        label = t.t(f"stats_{metric}", lang) if t.has(f"stats_{metric}") else metric
        catalog, questionnaire = self.catalog, self.catalog.questionnaire
        words = {persona.id: persona.label.get(lang) for persona in questionnaire.personas}
        words |= {situation.id: situation.label.get(lang) for situation in questionnaire.situations}
        if metric.startswith("measure") and key in catalog.measures:
            measure = catalog.measures[key]
            return f"{label}: {measure.title_en if lang == 'en' and measure.title_en else measure.title}"
        if key in words and metric in ("persona", "situation", "conversation_started"):
            return f"{label}: {words[key]}"
        if metric == "conversation_started" and key in catalog.facilities:  # from a poster's link to a window
            return f"{label}: {catalog.facilities[key].name}"
        if key and t.has(f"stats_key_{key}"):
            return f"{label}: {t.t(f'stats_key_{key}', lang)}"
        return f"{label}: {key}" if key else label

    def now(self) -> dt.datetime:
        """Return the navigator's clock."""
        return self._clock()

    def delivery_failed(self, reason: str) -> None:
        """Count a reply that could not be delivered after every retry (shown in /stats and health)."""
        self.counters.increment("send_failed", reason, now=self._clock())

    def render_document(self, reply: Reply) -> bytes:
        """Make a reply's file (the KPI table as CSV, UTF-8 with BOM for Excel)."""
        from .kpi_export import kpi_csv

        assert reply.document is not None and reply.document.kind == "kpi_csv"
        return kpi_csv(self.catalog)

    def render_picture(self, reply: Reply) -> bytes:
        """Render a reply's chart or memo image as PNG (slow: adapters call this off the event loop)."""
        if reply.image is not None:
            from .memo_image import render_memo

            return render_memo(reply.image.lines)
        assert reply.chart is not None
        return self.render_chart(reply.chart)

    def bot_commands(self, lang: str) -> list[tuple[str, str]]:
        """Return (command, description) pairs for the chat's command menu."""
        return [(name, self.translator.t(f"cmd_{name}", lang)) for name in COMMANDS]

    def text(self, key: str, lang: str) -> str:
        """Return a UI string (for adapters' own messages)."""
        return self.translator.t(key, lang)

    def close(self) -> None:
        """Close the data store."""
        self.store.close()
