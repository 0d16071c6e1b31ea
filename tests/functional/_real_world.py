"""The real-world corpus: its manifest, where its documents are, and how much of each a generated project holds.

Shared by tests/functional/test_real_world.py and benchmarks/real_world.py, so that the test and the
benchmark judge the same documents and count operations the same way. The documents are not in the
repository (tests/corpus/real-world/README.md says why and where they live); the manifest pins each
one by sha256, so a folder holding other versions of them is reported, not silently measured.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from generator._jsonish import as_mapping, load_yaml

ROOT = Path(__file__).resolve().parents[2]
HERE = ROOT / "tests" / "corpus" / "real-world"
MANIFEST = HERE / "manifest.toml"
ENVIRONMENT = "BEARER_REAL_WORLD_CORPUS"
METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


@attrs.frozen
class Document:
    """One manifest entry: a public description, pinned by origin, commit and content hash."""

    file: str
    api: str
    repository: str
    path: str
    commit: str
    licence: str
    sha256: str
    operations: int
    security: str

    @property
    def package(self) -> str:
        """The package name generated for it, unique across the corpus (all are type-checked together)."""
        return "real_world_" + re.sub(r"[^a-z0-9]+", "_", Path(self.file).stem.lower()).strip("_")


def documents() -> list[Document]:
    """Every document of the manifest, in its order."""
    with MANIFEST.open("rb") as handle:
        entries: list[dict[str, Any]] = tomllib.load(handle)["document"]
    fields = {field.name for field in attrs.fields(Document)}
    return [Document(**{key: value for key, value in entry.items() if key in fields}) for entry in entries]


class CorpusMissingError(Exception):
    """No candidate folder holds the manifest's documents as pinned; the message says what is wrong where."""


def candidates() -> list[Path]:
    """Where the documents may be, first match wins: the folder the environment names, then the repository's.

    Never a folder beside the checkout: a clone's tests read only the clone (and what its user points at).
    """
    found = [Path(os.environ[ENVIRONMENT])] if os.environ.get(ENVIRONMENT) else []
    return [*found, HERE]


def locate(wanted: Sequence[Document]) -> Path:
    """The first candidate folder that holds every wanted document with its pinned sha256."""
    problems: list[str] = []
    for folder in candidates():
        missing = [d.file for d in wanted if not (folder / d.file).is_file()]
        if missing:
            problems.append(f"{folder}: missing {', '.join(missing)}")
            continue
        differing = [d.file for d in wanted if _sha256(folder / d.file) != d.sha256]
        if differing:
            problems.append(f"{folder}: sha256 differs from {MANIFEST.name} for {', '.join(differing)}")
            continue
        return folder
    raise CorpusMissingError(
        "the real-world corpus is not available (see tests/corpus/real-world/README.md, 'Where the documents "
        f"are'; set {ENVIRONMENT} to a folder holding them):\n" + "\n".join(problems)
    )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load(path: Path) -> Mapping[str, Any]:
    """The document as data (YAML with the generator's own safe loader; JSON as JSON)."""
    text = path.read_text(encoding="utf-8")
    return as_mapping(json.loads(text) if path.suffix == ".json" else load_yaml(text))


def operation_pointers(document: Mapping[str, Any]) -> set[str]:
    """The JSON pointer (``/paths/<escaped path>/<method>``) of every operation under ``paths``."""
    pointers: set[str] = set()
    for path, item in as_mapping(document.get("paths")).items():
        escaped = path.replace("~", "~0").replace("/", "~1")
        pointers.update(f"/paths/{escaped}/{method}" for method in as_mapping(item) if method in METHODS)
    return pointers


def generated_operations(project: Path, package: str) -> int:
    """How many endpoint modules the project holds (openapi-python-client writes one per operation)."""
    return sum(1 for module in (project / package / "api").rglob("*.py") if module.name != "__init__.py")


def omitted_operations(project: Path, operations: Iterable[str]) -> set[str]:
    """The operations that ``provenance.toml`` lists as not generated.

    An entry at an operation's pointer, or below it at anything but one response or one media type of
    its request body (those are parts left out of an operation that is generated), stands for the whole
    operation: a path parameter it cannot model, say, names the operation's ``/parameters/N``.
    """
    provenance = project / "provenance.toml"
    if not provenance.is_file():
        return set()
    with provenance.open("rb") as handle:
        entries: list[dict[str, Any]] = tomllib.load(handle).get("not_generated", [])
    listed = [str(entry.get("pointer", "")).removeprefix("#") for entry in entries]
    parts = ("/responses/", "/requestBody/content/")
    return {
        operation
        for operation in operations
        for pointer in listed
        if pointer == operation
        or (pointer.startswith(operation + "/") and not pointer.startswith(tuple(operation + part for part in parts)))
    }
