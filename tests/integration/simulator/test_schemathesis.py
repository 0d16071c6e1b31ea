"""Property-based: schemathesis finds no server error and no answer that breaks the spec.

It runs against every spec in spec/ (with the fixtures the simulator finds beside it) and against
the inline OAuth-style spec of ``_specs.py``, each with a valid token in the spec's header and
every schemathesis check enabled.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

from simulator import load_api, resolve_fixtures
from tests.conftest import write_spec

from ._specs import OAUTH_FIXTURES, OAUTH_SPEC
from ._support import ROOT, login_header, running

MAX_EXAMPLES = 25
SEED = 20261128
"""A fixed seed: the run is the same on every machine, so a failure in CI reproduces locally."""


@attrs.frozen
class Target:
    """A spec to serve, how to find it, and which fixtures file to add (None: the simulator's default)."""

    name: str
    spec: Path | None = None
    fixtures: str | None = None

    def materialise(self, folder: Path) -> tuple[str, list[str]]:
        """The spec argument and extra serve arguments, writing inline documents into ``folder``."""
        if self.spec is not None:
            return self.spec.relative_to(ROOT).as_posix(), []
        spec = write_spec(folder / f"{self.name}.yaml", OAUTH_SPEC)
        fixtures = folder / "fixtures.yaml"
        fixtures.write_text(self.fixtures or "", encoding="utf-8")
        return str(spec), ["--fixtures", str(fixtures)]


TARGETS = [Target(p.stem, p) for p in sorted((ROOT / "spec").glob("*.y*ml")) if p.name != "clients.yaml"] + [
    Target("inline-oauth", fixtures=OAUTH_FIXTURES)
]


def _admin(spec: Path, fixtures: Path | None) -> tuple[str, str]:
    """A user with every permission (the built-in ``demo`` without a fixtures file)."""
    api = load_api(spec, spec.name)
    assert not isinstance(api, list), api
    found = resolve_fixtures(spec, fixtures, api)
    assert not isinstance(found, list), found
    user = next(user for user in found.users.values() if user.permissions is None)
    return user.name, user.password


@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
def test_schemathesis_finds_no_server_error_and_no_spec_violation(target: Target, tmp_path: Path) -> None:
    """Every schemathesis check passes with a valid token over hundreds of generated requests; nothing is 5xx."""
    spec_arg, extra = target.materialise(tmp_path)
    spec = ROOT / spec_arg if target.spec is not None else Path(spec_arg)
    fixtures = Path(extra[1]) if extra else None
    with running(spec_arg, "--control", "--rate-limit", "1000000/60", *extra, log=tmp_path / "log") as simulator:
        with simulator.client() as client:
            name, value = next(iter(login_header(client, spec, *_admin(spec, fixtures)).items()))
        report = tmp_path / "schemathesis.json"
        outcome = subprocess.run(
            [
                str(Path(sys.executable).parent / "schemathesis"),
                "run",
                str(spec),
                "--url",
                simulator.url,
                "--header",
                f"{name}: {value}",
                "--checks",
                "all",
                "--max-examples",
                str(MAX_EXAMPLES),
                "--seed",
                str(SEED),
                "--no-color",
                "--report",
                "json",
                "--report-json-path",
                str(report),
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        statuses = simulator.control("GET", "stats")["requests"]["by_status"]
    assert outcome.returncode == 0, outcome.stdout[-6000:] + outcome.stderr[-2000:]
    result = json.loads(report.read_text(encoding="utf-8"))
    assert result["operations"]["tested"] == result["operations"]["total"] > 0
    assert result["test_cases"]["generated"] > 100
    assert result["test_cases"]["with_failures"] == 0
    assert not [status for status, count in statuses.items() if status.startswith("5") and count]
    print(f"{target.name}: schemathesis generated {result['test_cases']['generated']} test cases")
