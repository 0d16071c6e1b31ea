"""Every generated package needs only httpx and attrs; the fleet's libraries and telemetry are extras."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECTS = sorted(path.parent for path in (ROOT / "generated").glob("*/pyproject.toml"))


@pytest.mark.parametrize("project", PROJECTS, ids=lambda path: path.name)
def test_the_fleet_and_telemetry_are_optional_extras(project: Path):
    meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert [requirement.split(">")[0] for requirement in meta["dependencies"]] == ["httpx", "attrs"]
    extras = meta["optional-dependencies"]
    assert sorted(extras) == ["otel", "redis"]
    assert [requirement.split(">")[0] for requirement in extras["redis"]] == ["redis", "limits"]
    assert [requirement.split(">")[0] for requirement in extras["otel"]] == ["opentelemetry-api"]


def test_there_are_generated_projects():
    assert len(PROJECTS) >= 2
