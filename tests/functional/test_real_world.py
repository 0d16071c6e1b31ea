"""Issue 14 E: public descriptions of live APIs generate, import and pass the strict type checkers as they are.

Each document is generated once per session, two at a time, with no options: what a new user would
type. All packages are then type-checked together, one mypy and one pyright run. Nothing here edits a
document or passes a per-document option; where a document cannot be generated whole, the generator
must say which operations it left out (provenance.toml, the generated README) and still exit 0.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import attrs
import pytest

from tests.functional._batch import SUMMARY, Findings, Run, check_packages, run_cli
from tests.functional._real_world import (
    CorpusMissingError,
    Document,
    documents,
    generated_operations,
    load,
    locate,
    omitted_operations,
    operation_pointers,
)

DOCUMENTS = documents()
TYPE_CHECKERS = ("mypy", "pyright", "import")


@attrs.frozen
class RealWorld:
    """The CLI run of every document, the projects that were written, and what the checkers said."""

    folder: Path
    runs: dict[str, Run]
    projects: dict[str, Path]
    findings: Findings


@pytest.fixture(scope="module")
def folder() -> Path:
    """The folder holding the pinned documents; the tests that need them are skipped, saying why, without it.

    The documents cannot be committed here (tests/corpus/real-world/README.md, "Where the documents are"):
    ``make real-world CORPUS=DIR`` runs these tests on a folder that holds them.
    """
    try:
        return locate(DOCUMENTS)
    except CorpusMissingError as error:
        pytest.skip(str(error).replace("\n", " "))


@pytest.fixture(scope="module")
def real_world(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> RealWorld:
    """Generate every document (no options), two at a time; then check all packages in one run per checker."""
    root = tmp_path_factory.mktemp("real_world")
    projects_dir = root / "projects"
    projects_dir.mkdir()

    def run(document: Document) -> tuple[str, Run]:
        args: list[str | Path] = ["generate", folder / document.file, "--output", projects_dir / document.package]
        return document.file, run_cli([*args, "--package-name", document.package], cwd=root, timeout=600)

    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = dict(pool.map(run, DOCUMENTS))
    generated = time.monotonic()
    projects = {d.package: projects_dir / d.package for d in DOCUMENTS if runs[d.file].code == 0}
    findings = check_packages(projects, projects_dir, import_cwd=root)
    SUMMARY["real-world corpus"] = {
        "documents": len(DOCUMENTS),
        "generated": len(projects),
        "type-clean": sum(1 for p in projects if not findings.of(p, TYPE_CHECKERS)),
        "generation seconds": round(generated - start, 1),
        "check seconds": round(time.monotonic() - generated, 1),
    }
    return RealWorld(folder, runs, projects, findings)


def test_the_corpus_covers_what_the_issue_asks() -> None:
    """At least 8 documents: OAuth2 password and client credentials, static API keys, basic, >500 operations."""
    assert len(DOCUMENTS) >= 8
    security = " | ".join(d.security for d in DOCUMENTS)
    for scheme in ("oauth2 password", "client credentials", "apiKey header", "apiKey cookie", "http basic"):
        assert scheme in security, scheme
    assert max(d.operations for d in DOCUMENTS) > 500
    assert len({d.repository for d in DOCUMENTS}) == len(DOCUMENTS)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: d.file)
def test_the_manifest_counts_the_operations_of_each_document(document: Document, folder: Path) -> None:
    """The operation counts quoted in the manifest and README are those of the pinned documents."""
    path = folder / document.file
    assert len(operation_pointers(load(path))) == document.operations


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: d.file)
def test_real_world_document_generates(document: Document, real_world: RealWorld) -> None:
    """``generate`` exits 0 on the document as published, without a traceback."""
    run = real_world.runs[document.file]
    assert "Traceback" not in run.out + run.err
    assert run.code == 0, run.err[-4000:]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: d.file)
def test_every_message_names_the_file_and_a_json_pointer(document: Document, real_world: RealWorld) -> None:
    """Each warning or error says where, as ``file#/pointer``, and shows no Python object's repr."""
    run = real_world.runs[document.file]
    messages = [line for line in run.err.splitlines() if line.startswith(("warning:", "error:"))]
    assert [line for line in messages if f" {document.file}#/" not in line] == []
    assert [line for line in messages if " object at 0x" in line] == []


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: d.file)
def test_every_operation_is_generated_or_listed_as_not_generated(document: Document, real_world: RealWorld) -> None:
    """Nothing is dropped silently: each operation has a module, or provenance.toml and the README name it."""
    project = real_world.projects.get(document.package)
    assert project is not None, f"{document.file} was not generated"
    operations = operation_pointers(load(real_world.folder / document.file))
    omitted = omitted_operations(project, operations)
    assert generated_operations(project, document.package) + len(omitted) == len(operations)
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert [pointer for pointer in sorted(omitted) if pointer not in readme] == []


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: d.file)
def test_real_world_package_imports_and_passes_strict_type_checkers(document: Document, real_world: RealWorld) -> None:
    """Every module imports; mypy --strict and pyright strict report nothing on the package."""
    assert document.package in real_world.projects, f"{document.file} was not generated"
    assert real_world.findings.of(document.package, TYPE_CHECKERS) == []


def test_type_checkers_saw_every_real_world_package(real_world: RealWorld) -> None:
    """No checker output went unattributed (a crashed checker would otherwise pass silently)."""
    assert real_world.findings.of("?", TYPE_CHECKERS) == []
