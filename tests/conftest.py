"""Shared fixtures: the shipped catalog, and writable copies of it in a temporary folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from navigator_bot.catalog import CHECKOUT_CATALOG, Catalog, load_catalog
from tests.botapi_fixtures import standin, standin_thread  # noqa: F401  (fixtures for the Telegram tests)


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """The shipped catalog, loaded once."""
    return load_catalog(CHECKOUT_CATALOG)


@pytest.fixture
def catalog_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped catalog folder."""
    target = tmp_path / "catalog"
    shutil.copytree(CHECKOUT_CATALOG, target)
    return target
