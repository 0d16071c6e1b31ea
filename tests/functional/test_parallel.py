"""Generation on two CPUs (see generator/_fork.py) gives exactly what generation on one gives.

A generation validates in a forked child while openapi-python-client renders, and shares the
endpoint modules and the audit out between two processes. None of that may show in the output,
in the problems reported, or in what is left on disk when a document is refused.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from openapi_python_client import Project
from openapi_python_client.config import Config
from openapi_python_client.parser import GeneratorData

from benchmarks.generation import synthetic_document
from generator import _fork
from generator import _render as render_module
from generator._audit import Finding
from tests.conftest import Outcome, minimal_spec, snapshot, write_spec

ROOT = Path(__file__).resolve().parents[2]
OPTIONS = "content_type_overrides:\n  application/xml: application/octet-stream\n"
UPSTREAM_BUILD_API_SHA256 = "ef5538132989dad884f9137d25f909e8834ac25a287bbcba36bf6f9d010dbbca"
"""sha256 of the source of openapi-python-client's ``Project._build_api``, which generator/_project.py copies."""


def _generate(cli: Callable[..., Outcome], spec: Path, output: Path, options: Path) -> Outcome:
    return cli("generate", spec, "--output", output, "--config", options)


@pytest.fixture
def options(tmp_path: Path) -> Path:
    path = tmp_path / "options.yaml"
    path.write_text(OPTIONS, encoding="utf-8")
    return path


@pytest.mark.parametrize("document", ["synthetic-classic", "60 operations in 20 tags"])
def test_serial_and_parallel_generation_write_identical_trees(
    document: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Callable[..., Outcome], options: Path
) -> None:
    if document == "synthetic-classic":
        spec = ROOT / "spec" / "synthetic-classic.yaml"
    else:
        spec = tmp_path / "many.json"
        spec.write_text(json.dumps(synthetic_document(60)), encoding="utf-8")
    monkeypatch.delenv("BEARER_CODEGEN_SERIAL", raising=False)
    if not _fork.parallel():
        pytest.skip("one CPU (or no fork) here: there is no parallel generation to compare")
    assert _generate(cli, spec, tmp_path / "parallel" / "client", options).code == 0
    monkeypatch.setenv("BEARER_CODEGEN_SERIAL", "1")
    assert _generate(cli, spec, tmp_path / "serial" / "client", options).code == 0
    parallel, serial = snapshot(tmp_path / "parallel" / "client"), snapshot(tmp_path / "serial" / "client")
    assert len(parallel) > 10
    assert parallel == serial


class _Upstream(Project):
    """openapi-python-client's own Project (its own ``_build_api``), with the attributes the render reads."""

    def __init__(
        self, *, openapi: GeneratorData, config: Config, custom_template_path: Path, banner: str | None
    ) -> None:
        super().__init__(openapi=openapi, config=config, custom_template_path=custom_template_path)
        self.audited: dict[str, list[Finding]] = {}


def test_the_copied_build_api_writes_what_openapi_python_client_writes(
    mode: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Callable[..., Outcome], options: Path
) -> None:
    spec = tmp_path / "many.json"
    spec.write_text(json.dumps(synthetic_document(40)), encoding="utf-8")
    assert _generate(cli, spec, tmp_path / "ours" / "client", options).code == 0
    monkeypatch.setattr(render_module, "AuditedProject", _Upstream)
    assert _generate(cli, spec, tmp_path / "upstream" / "client", options).code == 0
    ours, upstream = snapshot(tmp_path / "ours" / "client"), snapshot(tmp_path / "upstream" / "client")
    assert sorted(ours) == sorted(upstream)
    assert ours == upstream


def test_openapi_python_client_build_api_is_the_one_copied() -> None:
    """An upgrade of openapi-python-client that changes _build_api must be carried into generator/_project.py."""
    source = inspect.getsource(Project._build_api)  # pyright: ignore[reportPrivateUsage] # the method copied
    digest = hashlib.sha256(source.encode()).hexdigest()
    assert digest == UPSTREAM_BUILD_API_SHA256, (
        "openapi-python-client's Project._build_api changed: bring generator/_project.py's copy in step, "
        f"then record its new sha256 {digest} here"
    )


def test_an_invalid_document_is_refused_alike(
    mode: str, tmp_path: Path, cli: Callable[..., Outcome], options: Path
) -> None:
    """Validation errors win over whatever the render (done alongside) made of the document; nothing is written."""
    spec = minimal_spec()
    spec["paths"]["/things"]["get"]["parameters"] = [{"name": "limit", "in": "nowhere", "schema": {"type": "integer"}}]
    path = write_spec(tmp_path / "bad.yaml", spec)
    outcome = _generate(cli, path, tmp_path / "out" / "client", options)
    assert outcome.code == 2
    assert "bad.yaml#/paths/~1things/get/parameters/0" in outcome.err
    assert "Traceback" not in outcome.err
    assert not (tmp_path / "out" / "client").exists()


def test_enum_values_meeting_are_refused_alike(
    mode: str, tmp_path: Path, cli: Callable[..., Outcome], options: Path
) -> None:
    """The enum check runs with validation (in the child); its error, with its pointer, still decides."""
    spec = minimal_spec()
    schema = {"type": "string", "enum": ["a-b", "a_b"]}
    spec["paths"]["/things"]["get"]["parameters"] = [{"name": "kind", "in": "query", "schema": schema}]
    path = write_spec(tmp_path / "enum.yaml", spec)
    outcome = _generate(cli, path, tmp_path / "out" / "client", options)
    assert outcome.code == 2
    assert "enum.yaml#/paths/~1things/get/parameters/0/schema/enum/1" in outcome.err
    assert "would both become the member A_B" in outcome.err
    assert not (tmp_path / "out" / "client").exists()
