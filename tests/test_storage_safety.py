"""Storage faults are loud: a missing or broken key, an empty or corrupt database, an unusable data folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from navigator_bot.app import Navigator
from navigator_bot.config import Settings
from navigator_bot.dialogue import ButtonPressed, UserContext
from navigator_bot.storage import StorageError
from tests.test_telegram_e2e import _clean_env


def _settings(tmp_path: Path, catalog_copy: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", catalog_dir=catalog_copy, semantic=False)


def _with_a_conversation(settings: Settings) -> None:
    navigator = Navigator.from_settings(settings)
    navigator.handle("tg:1", ButtonPressed("p:self"), UserContext())
    navigator.close()


def test_a_missing_key_with_data_present_stops_the_bot(tmp_path: Path, catalog_copy: Path) -> None:
    settings = _settings(tmp_path, catalog_copy)
    _with_a_conversation(settings)
    (settings.data_dir / "user-key.secret").unlink()
    with pytest.raises(StorageError, match="is missing, but the database holds conversations"):
        Navigator.from_settings(settings)


@pytest.mark.parametrize("key", ["", "abc", "x" * 64])
def test_a_malformed_key_is_refused(tmp_path: Path, catalog_copy: Path, key: str) -> None:
    settings = _settings(tmp_path, catalog_copy)
    settings.data_dir.mkdir(parents=True)
    (settings.data_dir / "user-key.secret").write_text(key)
    with pytest.raises(StorageError, match="not a valid key"):
        Navigator.from_settings(settings)


def test_a_new_key_is_private_and_well_formed(tmp_path: Path, catalog_copy: Path) -> None:
    settings = _settings(tmp_path, catalog_copy)
    Navigator.from_settings(settings).close()
    key = settings.data_dir / "user-key.secret"
    assert len(key.read_text().strip()) == 64 and (key.stat().st_mode & 0o777) == 0o600


@pytest.mark.parametrize(("content", "problem"),
                         [(b"", "empty (0 bytes)"), (b"not a database" * 100, "cannot be used")])
def test_an_empty_or_corrupt_database_is_reported_not_replaced(tmp_path: Path, catalog_copy: Path, content: bytes,
                                                               problem: str) -> None:
    settings = _settings(tmp_path, catalog_copy)
    settings.data_dir.mkdir(parents=True)
    database = settings.data_dir / "navigator.sqlite3"
    database.write_bytes(content)
    with pytest.raises(StorageError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        Navigator.from_settings(settings)
    assert database.read_bytes() == content  # left as it was, for the person who restores it
    env = {**_clean_env(), "NAVIGATOR_DATA_DIR": str(settings.data_dir), "NAVIGATOR_CATALOG_DIR": str(catalog_copy)}
    health = subprocess.run([sys.executable, "-m", "navigator_bot", "health"], env=env, capture_output=True,
                            text=True, timeout=60, check=False)
    assert health.returncode == 1 and "cannot be read" in health.stderr


def test_an_unusable_data_folder_is_one_clear_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    env = {**_clean_env(), "NAVIGATOR_TELEGRAM_TOKEN": "123:abc", "NAVIGATOR_DATA_DIR": str(blocker / "data"),
           "NAVIGATOR_SEMANTIC": "false"}
    result = subprocess.run([sys.executable, "-m", "navigator_bot", "run"], env=env, capture_output=True, text=True,
                            timeout=60, check=False, cwd=os.getcwd())
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "cannot start: the data folder" in result.stderr
