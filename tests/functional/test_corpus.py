"""Documents no one here wrote: the valid ones generate clean, typed packages; the broken ones are reported clearly."""

from __future__ import annotations

import compileall
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import attrs
import pytest

from tests.conftest import CORPUS, Outcome
from tests.functional._batch import SUMMARY, Findings, Run, check_packages, run_cli

DOCUMENTS = sorted(
    p
    for p in CORPUS.rglob("*")
    if p.suffix in {".yaml", ".yml", ".json"} and "errors" not in p.parts[-2] and "real-world" not in p.parts
)
"""The real-world documents, when placed in tests/corpus/real-world/, have their own test (test_real_world.py)."""
# Not valid OpenAPI (an operation 'title', 'const' in 3.0) but within what openapi-python-client models.
NONCONFORMING = {"baseline_openapi_3.0.json", "baseline_openapi_3.1.yaml"}
VALID = [p for p in DOCUMENTS if p.name not in NONCONFORMING]
BROKEN = sorted((CORPUS / "openapi-python-client-e2e" / "documents_with_errors").glob("*.yaml"))
# openapi-python-client's own end-to-end run maps this deliberately odd media type the same way.
OPTIONS = {"baseline_openapi_3.0.json", "baseline_openapi_3.1.yaml"}
TYPE_CHECKERS = ("mypy", "pyright", "import")
"""What the corpus output must pass. (ruff's default rule set also reports style findings on the
stock templates' shapes in the two baseline documents: SIM114, B008, RUF009, PYI041.)"""


def package(document: Path) -> str:
    """A package name per document, unique across the corpus so all can be type-checked together."""
    return "corpus_" + re.sub(r"[^a-z0-9]+", "_", document.stem.lower()).strip("_")


@attrs.frozen
class Corpus:
    """The CLI run of every document that should generate, and what the checkers said about the packages."""

    runs: dict[str, Run]
    projects: dict[str, Path]
    findings: Findings


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    """Generate every valid document (the two nonconforming baselines too: lenient is the default), two at a time."""
    root = tmp_path_factory.mktemp("corpus")
    options = root / "options.yaml"
    options.write_text("content_type_overrides:\n  openapi/python/client: application/json\n", encoding="utf-8")
    projects_dir = root / "projects"
    projects_dir.mkdir()

    def run(document: Path) -> tuple[str, Run]:
        args: list[str | Path] = ["generate", document, "--output", projects_dir / package(document)]
        args += ["--package-name", package(document)]
        if document.name in OPTIONS:
            args += ["--config", options]
        return document.name, run_cli(args, cwd=root, timeout=120)

    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = dict(pool.map(run, DOCUMENTS))
    projects = {package(d): projects_dir / package(d) for d in DOCUMENTS if runs[d.name].code == 0}
    findings = check_packages(projects, projects_dir, import_cwd=root)
    SUMMARY["corpus"] = {
        "documents": len(DOCUMENTS) + len(BROKEN),
        "code": len(projects),
        "type-clean": sum(1 for p in projects if not findings.of(p, TYPE_CHECKERS)),
        "refused (broken documents)": len(BROKEN),
        "seconds": round(time.monotonic() - start, 1),
    }
    return Corpus(runs, projects, findings)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_valid_corpus_document_generates_and_compiles(document: Path, corpus: Corpus) -> None:
    """Every valid public document generates a package whose every module compiles."""
    run = corpus.runs[document.name]
    assert run.code == 0, run.err
    assert "Traceback" not in run.err
    assert compileall.compile_dir(corpus.projects[package(document)], quiet=1)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_valid_corpus_document_passes_strict_type_checkers(document: Path, corpus: Corpus) -> None:
    """The package of every valid public document passes mypy --strict and pyright strict, and imports."""
    assert corpus.findings.of(package(document), TYPE_CHECKERS) == []


def test_type_checkers_saw_every_corpus_package(corpus: Corpus) -> None:
    """No checker output went unattributed (a crash of a checker would otherwise pass silently)."""
    assert corpus.findings.of("?", TYPE_CHECKERS) == []


@pytest.mark.parametrize("document", sorted(NONCONFORMING), ids=str)
def test_nonconforming_document_is_refused_when_strict(
    document: str, tmp_path: Path, cli: Callable[..., Outcome]
) -> None:
    """A document that breaks the OpenAPI schema exits 2 with --strict, naming the pointer (it generates by default)."""
    path = next(p for p in DOCUMENTS if p.name == document)
    result = cli("generate", path, "--output", tmp_path / "client", "--strict")
    assert result.code == 2
    # The first defect a strict check finds: a default that does not fit its schema (by default: dropped, a warning).
    assert (
        f"error: {document}#/paths/~1defaults/post/parameters/1/schema/default: the default 1 does not fit"
        in result.err
    )
    assert not (tmp_path / "client").exists()


@pytest.mark.parametrize("document", BROKEN, ids=lambda p: p.name)
def test_broken_corpus_document_is_reported_clearly(
    document: Path, tmp_path: Path, cli: Callable[..., Outcome]
) -> None:
    """Every deliberately broken document exits 2 with --strict, naming the file and the operation's pointer."""
    result = cli("generate", document, "--output", tmp_path / "client", "--strict")
    assert result.code == 2
    assert f"error: {document.name}#/paths/" in result.err, result.err
    assert "Traceback" not in result.err
    assert not (tmp_path / "client").exists()


PARTIAL = {
    "bad-status-code.yaml": "/paths/~1/get/responses/abcdef",
    "optional-path-param.yaml": "/paths/~1{optional}/get/parameters/0",
}
"""Broken documents whose other operations generate by default, and the pointer of the part left out."""


@pytest.mark.parametrize("document", sorted(PARTIAL), ids=str)
def test_broken_corpus_document_generates_the_rest_by_default(
    document: str, tmp_path: Path, cli: Callable[..., Outcome]
) -> None:
    """Without --strict the part openapi-python-client cannot model is a warning, listed in the README."""
    path = next(p for p in BROKEN if p.name == document)
    result = cli("generate", path, "--output", tmp_path / "client")
    assert result.code == 0, result.err
    assert f"warning: {document}#{PARTIAL[document]}: " in result.err, result.err
    assert f"- `{PARTIAL[document]}`: " in (tmp_path / "client" / "README.md").read_text(encoding="utf-8")


def test_corpus_is_present() -> None:
    """The public documents are vendored in tests/corpus: without them the corpus tests would vanish."""
    assert len(VALID) >= 8, CORPUS
    assert len(BROKEN) >= 5, CORPUS
