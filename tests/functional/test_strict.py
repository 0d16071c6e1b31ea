"""``--strict`` and ``strict: true``: what is a warning by default refuses the document instead."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from generator._clients import ClientJob, load_clients
from generator._problems import Problem
from tests.conftest import Outcome, minimal_spec, snapshot, write_spec


def _violating_spec(tmp_path: Path) -> Path:
    """A document openapi-python-client models, that breaks the OpenAPI schema (an operation has a ``title``)."""
    spec = minimal_spec()
    spec["paths"]["/things"]["get"]["title"] = "not an operation field"
    return write_spec(tmp_path / "sloppy.yaml", spec)


def test_a_schema_violation_is_a_warning_by_default(tmp_path: Path, cli: Callable[..., Outcome]) -> None:
    """Without --strict the document generates (exit 0); the violation is a warning naming its pointer."""
    result = cli("generate", _violating_spec(tmp_path), "--output", tmp_path / "client")
    assert result.code == 0, result.err
    assert "warning: sloppy.yaml#/paths/~1things/get: " in result.err
    assert "'title'" in result.err
    assert (tmp_path / "client" / "client" / "api" / "default" / "list_things.py").is_file()


def test_strict_refuses_a_schema_violation_and_writes_nothing(tmp_path: Path, cli: Callable[..., Outcome]) -> None:
    """With --strict the same violation is an error: exit 2, the pointer named, the output left as it was."""
    spec = _violating_spec(tmp_path)
    output = tmp_path / "client"
    assert cli("generate", write_spec(tmp_path / "good.yaml", minimal_spec()), "--output", output).code == 0
    before = snapshot(output)
    result = cli("generate", spec, "--output", output, "--strict")
    assert result.code == 2
    assert "error: sloppy.yaml#/paths/~1things/get: " in result.err
    assert snapshot(output) == before


def test_strict_is_named_in_the_regenerate_command(tmp_path: Path, cli: Callable[..., Outcome]) -> None:
    """A strict one-off client's banner says how to regenerate it, --strict included."""
    spec = write_spec(tmp_path / "mini.yaml", minimal_spec())
    assert cli("generate", spec, "--output", tmp_path / "mini", "--strict").code == 0
    first = (tmp_path / "mini" / "mini" / "client.py").read_text(encoding="utf-8").splitlines()[0]
    assert first.endswith("--package-name mini --strict")


def test_lenient_is_accepted_as_a_deprecated_no_op(tmp_path: Path, cli: Callable[..., Outcome]) -> None:
    """--lenient still works (scripts pass it) and says it changes nothing; it cannot be combined with --strict."""
    spec = _violating_spec(tmp_path)
    result = cli("generate", spec, "--output", tmp_path / "a" / "client", "--lenient")
    assert result.code == 0, result.err
    assert "warning: --lenient: deprecated and without effect" in result.err
    plain = cli("generate", spec, "--output", tmp_path / "b" / "client")
    assert snapshot(tmp_path / "a" / "client") == snapshot(tmp_path / "b" / "client")
    assert "--lenient" not in plain.err
    with pytest.raises(SystemExit) as exited:
        cli("generate", spec, "--output", tmp_path / "c", "--strict", "--lenient")
    assert exited.value.code == 2


def _clients_root(tmp_path: Path, entries: str) -> Path:
    (tmp_path / "spec").mkdir()
    (tmp_path / "spec" / "clients.yaml").write_text(f"clients:\n{entries}", encoding="utf-8")
    return tmp_path


def test_clients_yaml_declares_strict_per_client(tmp_path: Path) -> None:
    """``strict: true`` makes that client strict; a client that does not say so is lenient."""
    root = _clients_root(
        tmp_path,
        "  - {spec: a.yaml, project: a, strict: true}\n  - {spec: b.yaml, project: b}\n",
    )
    jobs = load_clients(root)
    assert [(job.package, job.strict) for job in jobs if isinstance(job, ClientJob)] == [("a", True), ("b", False)]


def test_clients_yaml_strict_must_be_a_boolean(tmp_path: Path) -> None:
    """``strict: "yes"`` is refused with the pointer of the value."""
    root = _clients_root(tmp_path, '  - {spec: a.yaml, project: a, strict: "yes"}\n')
    problems = load_clients(root)
    assert [(p.pointer, p.message) for p in problems if isinstance(p, Problem)] == [
        ("/clients/0/strict", "'yes' is not of type 'boolean'")
    ]


def test_strict_without_spec_makes_every_declared_client_strict(tmp_path: Path, cli: Callable[..., Outcome]) -> None:
    """``generate --strict`` refuses a declared client's violation that a plain ``generate`` only warns about."""
    root = _clients_root(tmp_path, "  - {spec: sloppy.yaml, project: sloppy}\n")
    _violating_spec(root / "spec")
    refused = cli("--root", root, "generate", "--strict")
    assert refused.code == 2
    assert "error: spec/sloppy.yaml#/paths/~1things/get: " in refused.err
    assert not (root / "generated" / "sloppy").exists()
    generated = cli("--root", root, "generate")
    assert generated.code == 0, generated.err
    assert "warning: spec/sloppy.yaml#/paths/~1things/get: " in generated.err


def test_this_repository_declares_its_own_clients_strict() -> None:
    """Both clients of this repository are strict: an operation silently missing from them would be a bug."""
    jobs = load_clients(Path(__file__).resolve().parents[2])
    assert [job.strict for job in jobs if isinstance(job, ClientJob)] == [True, True]
