"""A document whose schemas openapi-python-client would name alike generates a package that passes strict checkers.

Every collision shape of Okta's document in one small document (see tests/unit/test_model_names.py):
a component named like another's inline schema, keys differing only in case, a nullable object with
inline objects, and an inline schema an ``allOf`` extension derives again (that one left out, listed).
"""

from __future__ import annotations

import json
from typing import Any

import attrs
import pytest

from tests.conftest import minimal_spec
from tests.functional._batch import Findings, Run, check_packages, run_cli
from tests.unit.test_model_names import CASE_ONLY, EXTENDED_INLINE, INLINE_VS_COMPONENT, NULLABLE_WITH_INLINE

CHECKERS = ("ruff", "mypy", "pyright", "import")


def _document() -> dict[str, Any]:
    spec = minimal_spec()
    extended = {
        f"Ext{key}": json.loads(json.dumps(value).replace("#/components/schemas/", "#/components/schemas/Ext"))
        for key, value in EXTENDED_INLINE.items()
    }
    spec["components"]["schemas"] = {**INLINE_VS_COMPONENT, **CASE_ONLY, **NULLABLE_WITH_INLINE, **extended}
    paths = spec["paths"]
    for name in ("User", "Holder", "A", "B", "ExtHolder"):
        response = {
            "description": "ok",
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
        }
        paths[f"/{name.lower()}"] = {"get": {"operationId": f"get{name}", "responses": {"200": response}}}
    return spec


@attrs.frozen
class Generated:
    run: Run
    findings: Findings


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    root = tmp_path_factory.mktemp("names")
    (root / "names.json").write_text(json.dumps(_document()), encoding="utf-8")
    project = root / "projects" / "names"
    run = run_cli(
        ["generate", root / "names.json", "--output", project, "--package-name", "names"], cwd=root, timeout=180
    )
    projects = {"names": project} if run.code == 0 else {}
    return Generated(run, check_packages(projects, root / "projects"))


def test_every_collision_shape_generates(generated: Generated) -> None:
    assert generated.run.code == 0, generated.run.err
    assert "error:" not in generated.run.err
    assert "'UserType' is generated as UserTypeModel" in generated.run.err
    assert "'tempPassword' is generated as TempPasswordModel" in generated.run.err
    assert "are generated as schemas of their own" in generated.run.err


def test_the_package_passes_strict_type_checkers(generated: Generated) -> None:
    assert generated.run.code == 0, generated.run.err
    assert generated.findings.of("names", CHECKERS) == []
    assert generated.findings.of("?", CHECKERS) == []
