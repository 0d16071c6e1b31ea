"""Async tests run on asyncio (anyio's pytest plugin ships with httpx's anyio dependency)."""

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
