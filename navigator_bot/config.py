"""Settings from the environment (prefix `NAVIGATOR_`), read once by the composition root."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .catalog import default_catalog_dir

HEARTBEAT_FILE = "heartbeat"  # touched by the running bot; `navigator-bot health` checks its age
HEARTBEAT_INTERVAL = 30.0
HEARTBEAT_MAX_AGE = 180.0
DATABASE_FILE = "navigator.sqlite3"  # conversations, counters and the inbox
KEY_FILE = "user-key.secret"  # the key of the pseudonymous user keys
SEMANTIC_STATUS_FILE = "semantic-status"  # written at start-up; `navigator-bot health` reports it


class Settings(BaseSettings):
    """Everything the bot can be configured with; see README "Configuration"."""

    model_config = SettingsConfigDict(env_prefix="NAVIGATOR_", extra="ignore")

    catalog_dir: Path = Field(default_factory=default_catalog_dir)
    data_dir: Path = Path("data")
    telegram_token: str | None = Field(
        default=None, validation_alias=AliasChoices("NAVIGATOR_TELEGRAM_TOKEN", "TELEGRAM_BOT_TOKEN")
    )
    telegram_api_url: str = "https://api.telegram.org/bot"
    staff_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_port: int = 8443
    webhook_listen: str = Field(default="127.0.0.1", description="Address the webhook listens on (behind a proxy).")
    webhook_max_body: int = Field(default=1_048_576, ge=1024, description="Largest webhook body read, in bytes.")
    state_ttl_days: int = Field(default=30, ge=1)
    semantic: bool = Field(default=True, description="Meaning-based search with the bundled embedding model.")
    embedding_cache_dir: Path | None = Field(
        default=None, description="Where catalog embeddings are cached (default: <data_dir>/cache)."
    )
    bot_username: str | None = Field(default=None, description="The bot's @username, for deep links and QR codes.")
    default_lang: str = "ja"
    log_level: str = "INFO"
    send_retries: int = Field(default=4, ge=0, le=10, description="Retries of a Bot API call that failed for now.")
    retry_backoff: float = Field(default=0.5, gt=0, description="Seconds before the first retry; doubles after.")
    rate_limit: float = Field(default=30.0, gt=0, description="Messages a second the bot sends at most (Telegram: 30).")
    api_timeout: float = Field(default=10.0, gt=0, description="Seconds to wait for the Bot API to answer a call.")
    stats_retention_days: int = Field(default=400, ge=30, description="Usage counters older than this are deleted.")
    concurrent_updates: int = Field(default=16, ge=1, le=256, description="Updates processed at the same time.")
    line_channel_secret: str | None = Field(default=None, description="LINE channel secret (webhook signatures).")
    line_channel_access_token: str | None = Field(default=None, description="LINE channel access token.")
    line_api_url: str = Field(default="https://api.line.me", description="Messaging API base URL (a stand-in's).")
    line_port: int = Field(default=8080, ge=0, le=65535, description="Port of the LINE webhook server (0: any free).")
    line_public_url: str | None = Field(
        default=None, description="HTTPS address LINE reaches this server at (webhook, chart images, CSV links)."
    )
    line_staff_ids: Annotated[frozenset[str], NoDecode] = frozenset()
    line_media_ttl_hours: int = Field(default=24, ge=1, le=24 * 14, description="Hours a chart or memo link works.")

    @property
    def embedding_cache(self) -> Path:
        """The folder of the embedding cache."""
        return self.embedding_cache_dir or self.data_dir / "cache"

    @field_validator("line_staff_ids", mode="before")
    @classmethod
    def _parse_line_staff_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(part for part in value.replace(" ", "").split(",") if part)
        return value

    @field_validator("staff_ids", mode="before")
    @classmethod
    def _parse_staff_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(int(part) for part in value.replace(" ", "").split(",") if part)
        return value
