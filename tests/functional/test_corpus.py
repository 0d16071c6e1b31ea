"""Documents no one here wrote: the valid ones generate and compile, the broken ones are reported clearly."""

from __future__ import annotations

import compileall
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CORPUS, Outcome

DOCUMENTS = sorted(
    p for p in CORPUS.rglob("*") if p.suffix in {".yaml", ".yml", ".json"} and "errors" not in p.parts[-2]
)
# Not valid OpenAPI (an operation 'title', 'const' in 3.0) but within what openapi-python-client models.
NONCONFORMING = {"baseline_openapi_3.0.json", "baseline_openapi_3.1.yaml"}
VALID = [p for p in DOCUMENTS if p.name not in NONCONFORMING]
BROKEN = sorted((CORPUS / "openapi-python-client-e2e" / "documents_with_errors").glob("*.yaml"))
# openapi-python-client's own end-to-end run maps this deliberately odd media type the same way.
OPTIONS = {"baseline_openapi_3.0.json", "baseline_openapi_3.1.yaml"}


@pytest.mark.parametrize("document", VALID, ids=lambda p: p.name)
def test_valid_corpus_document_generates_and_compiles(
    document: Path, tmp_path: Path, cli: Callable[..., Outcome]
) -> None:
    """Every valid public document generates a package whose every module compiles."""
    args: list[str | Path] = ["generate", document, "--output", tmp_path / "client"]
    if document.name in NONCONFORMING:
        args.append("--lenient")
    if document.name in OPTIONS:
        options = tmp_path / "options.yaml"
        options.write_text("content_type_overrides:\n  openapi/python/client: application/json\n", encoding="utf-8")
        args += ["--config", options]
    result = cli(*args)
    assert result.code == 0, result.err
    assert compileall.compile_dir(tmp_path / "client", quiet=1)


@pytest.mark.parametrize("document", sorted(NONCONFORMING), ids=str)
def test_nonconforming_document_is_refused_unless_lenient(
    document: str, tmp_path: Path, cli: Callable[..., Outcome]
) -> None:
    """A document that breaks the OpenAPI schema exits 2 naming the pointer (it generates with --lenient, above)."""
    path = next(p for p in DOCUMENTS if p.name == document)
    result = cli("generate", path, "--output", tmp_path / "client")
    assert result.code == 2
    assert f"error: {document}#/paths/~1types~1unions~1duplicate-types/post:" in result.err
    assert not (tmp_path / "client").exists()


@pytest.mark.parametrize("document", BROKEN, ids=lambda p: p.name)
def test_broken_corpus_document_is_reported_clearly(
    document: Path, tmp_path: Path, cli: Callable[..., Outcome]
) -> None:
    """Every deliberately broken document exits 2 with a message naming the file and the operation's pointer."""
    result = cli("generate", document, "--output", tmp_path / "client", "--lenient")
    assert result.code == 2
    assert f"error: {document.name}#/paths/" in result.err, result.err
    assert "Traceback" not in result.err
    assert not (tmp_path / "client").exists()


def test_corpus_is_present() -> None:
    """The public documents are beside the checkout (shared/corpus): without them the corpus tests would vanish."""
    assert len(VALID) >= 8, CORPUS
    assert len(BROKEN) >= 5, CORPUS
