"""Shared helpers: the repository layout, a minimal valid spec, and the CLI run in-process."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from ruamel.yaml import YAML

from generator.__main__ import main
from tests.redis_server import RedisServer, running_redis

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"
"""Public OpenAPI documents of other projects, vendored (origins and licences in its README.md)."""

MINIMAL_SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Mini", "version": "1.0.0"},
    "security": [{"tok": []}],
    "paths": {
        "/login": {
            "get": {
                "operationId": "login",
                "security": [],
                "parameters": [
                    {"name": "user", "in": "query", "required": True, "schema": {"type": "string"}},
                    {"name": "password", "in": "query", "required": True, "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": {"description": "the token", "content": {"text/plain": {"schema": {"type": "string"}}}}
                },
            }
        },
        "/things": {
            "get": {
                "operationId": "listThings",
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {"application/json": {"schema": {"type": "array", "items": {"type": "string"}}}},
                    }
                },
            }
        },
    },
    "components": {
        "securitySchemes": {
            "tok": {
                "type": "apiKey",
                "in": "header",
                "name": "Authentication",
                "x-token-lifecycle": {
                    "login": {"operationId": "login", "username": "user", "password": "password"},
                    "token": {"from": "body"},
                    "scheme": "bearer",
                    "lifetime": "PT18H",
                    "invalidOn": [401],
                },
            }
        }
    },
}


def minimal_spec() -> dict[str, Any]:
    """A fresh deep copy of the minimal valid spec, for a test to bend."""
    return copy.deepcopy(MINIMAL_SPEC)


def write_spec(path: Path, spec: dict[str, Any]) -> Path:
    """Write ``spec`` as YAML to ``path``."""
    with path.open("w", encoding="utf-8") as stream:
        YAML(typ="safe", pure=True).dump(spec, stream)
    return path


@attrs.frozen
class Outcome:
    """What a CLI run returned and printed."""

    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Outcome]:
    """Run ``bearer-codegen ARGS`` in-process and capture its exit code and output."""

    def run(*args: str | Path) -> Outcome:
        code = main([str(arg) for arg in args])
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return run


def snapshot(tree: Path) -> dict[str, bytes]:
    """Every file under ``tree`` with its bytes, by relative path."""
    return {p.relative_to(tree).as_posix(): p.read_bytes() for p in sorted(tree.rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def redis_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One real redis-server for the whole run (tests/redis_server.py); never killed or paused by a test."""
    with running_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def redis_server(redis_session: RedisServer) -> RedisServer:
    """The run's redis-server, emptied for this test."""
    redis_session.flush()
    return redis_session


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test alone: kill it, pause it, restart it."""
    with running_redis(tmp_path) as server:
        yield server
