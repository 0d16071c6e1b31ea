"""The simulator enforces the limit a spec declares (x-service-limits) unless --rate-limit says otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from ._support import SPEC, running


def _spec_with_limit(tmp_path: Path) -> Path:
    yaml = YAML(typ="safe", pure=True)
    document = yaml.load(SPEC.read_text(encoding="utf-8"))
    document["x-service-limits"] = {"requests": 7, "per": "PT30S"}
    path = tmp_path / "synthetic-classic.yaml"
    with path.open("w", encoding="utf-8") as stream:
        yaml.dump(document, stream)
    fixtures = tmp_path / "fixtures"
    fixtures.mkdir()
    demo_users = SPEC.parent / "fixtures" / "synthetic-classic.yaml"
    (fixtures / "synthetic-classic.yaml").write_bytes(demo_users.read_bytes())
    return path


@pytest.mark.parametrize(("args", "expected"), [((), "7/30"), (("--rate-limit", "5/1"), "5/1")])
def test_the_declared_limit_is_the_default(tmp_path: Path, args: tuple[str, ...], expected: str):
    spec = _spec_with_limit(tmp_path)
    with running(spec, "--control", *args, log=tmp_path / "log") as simulator:
        assert simulator.control("GET", "stats")["rate_limit"] == expected


def test_without_a_declared_limit_the_default_stays(tmp_path: Path):
    with running(SPEC, "--control", log=tmp_path / "log") as simulator:
        assert simulator.control("GET", "stats")["rate_limit"] == "600/60"
