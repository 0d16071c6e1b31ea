"""Fixtures shared by the token-lifecycle unit tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    """Run async tests on asyncio: the lifecycle's async flow uses asyncio locks."""
    return "asyncio"
