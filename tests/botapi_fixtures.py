"""Pytest fixtures for the local Bot API stand-in (import these into ``conftest.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from tests.botapi_standin import BotApiStandin

__all__ = ["standin", "standin_thread"]


@pytest_asyncio.fixture
async def standin() -> AsyncIterator[BotApiStandin]:
    """A started :class:`BotApiStandin` for async tests; stopped afterwards."""
    async with BotApiStandin() as running:
        yield running


@pytest.fixture
def standin_thread() -> Iterator[BotApiStandin]:
    """A started :class:`BotApiStandin` for sync tests (e.g. a ``navigator-bot run`` subprocess)."""
    running = BotApiStandin.start_in_thread()
    try:
        yield running
    finally:
        running.stop()
