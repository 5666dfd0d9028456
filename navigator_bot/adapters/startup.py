"""Opening the navigator for a channel's `run`: the same clear messages and exit codes for every channel."""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

from ..config import Settings

if TYPE_CHECKING:
    from ..app import Navigator


def open_navigator(settings: Settings) -> Navigator | int:
    """Build the navigator from settings, or print why it cannot start and return the exit code (1)."""
    from ..app import Navigator  # here, not at import time: the CLI imports the channels for `run` only
    from ..catalog import CatalogInvalid
    from ..storage import StorageError

    try:
        return Navigator.from_settings(settings)
    except CatalogInvalid as error:
        print(f"catalog has {len(error.issues)} problem(s):", file=sys.stderr)
        for issue in error.issues:
            print(f"  {issue}", file=sys.stderr)
        return 1
    except StorageError as error:
        print(f"cannot start: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # a read-only or missing data folder, a full disk
        print(f"cannot start: the data folder {settings.data_dir} cannot be used: {error.strerror or error}",
              file=sys.stderr)
        return 1


class RedactingFormatter(logging.Formatter):
    """A formatter that replaces a secret (a bot token) wherever it would appear (messages and tracebacks)."""

    def __init__(self, secret: str, fmt: str) -> None:
        super().__init__(fmt)
        self._secret = secret

    def format(self, record: logging.LogRecord) -> str:
        """Format the record, then blank out the secret."""
        return super().format(record).replace(self._secret, "[token]")


def configure_logging(settings: Settings, secret: str) -> None:
    """Log at the configured level to stderr, with `secret` blanked out (unless logging is set up already)."""
    root = logging.getLogger()
    root.setLevel(settings.log_level.upper())
    if not root.handlers:  # leave logging set up by someone else alone
        handler = logging.StreamHandler()
        handler.setFormatter(RedactingFormatter(secret, "%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
