"""Unions of arrays and of maps generate sound, type-clean code that round-trips every arm.

openapi-python-client tells a union's arms apart by ``isinstance``; for two arrays that is true of
both, so it called the first arm's item code on the other's items (airflow's
``list[StructuredLogMessage] | list[str]`` called ``to_dict`` on strings). The mending pass makes
such a union one array of the union of the items; this generates a document with those shapes (and
maps of strings or models beside them), type-checks it strictly and sends data of each arm through
``from_dict`` and ``to_dict``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

from tests.functional._batch import Findings, Run, check_packages, run_cli

CHECKERS = ("ruff", "mypy", "pyright", "import")
UNIONS = """\
openapi: 3.1.0
info: {title: Unions, version: "1"}
paths:
  /log:
    get:
      operationId: getLog
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Log"}
components:
  schemas:
    Message:
      type: object
      required: [event]
      properties:
        event: {type: string}
    Other:
      type: object
      required: [code]
      properties:
        code: {type: integer}
    Log:
      type: object
      required: [content]
      properties:
        content:
          anyOf:
            - {type: array, items: {$ref: "#/components/schemas/Message"}}
            - {type: array, items: {type: string}}
        pair:
          oneOf:
            - {type: array, items: {$ref: "#/components/schemas/Message"}}
            - {type: array, items: {$ref: "#/components/schemas/Other"}}
        maybe:
          anyOf:
            - {type: array, items: {type: integer}}
            - {type: array, items: {type: string}}
            - {type: "null"}
        loose:
          # list[Any] beside a scalar: after isinstance(data, list) a cast to list[Any] was redundant (mypy --strict)
          anyOf:
            - {type: array}
            - {type: string}
        maps:
          anyOf:
            - {type: object, additionalProperties: {type: string}}
            - {type: object, additionalProperties: {$ref: "#/components/schemas/Message"}}
"""
POINTERS = (
    "/components/schemas/Log/properties/content/anyOf",
    "/components/schemas/Log/properties/pair/oneOf",
    "/components/schemas/Log/properties/maybe/anyOf",
)


@attrs.frozen
class Generated:
    root: Path
    run: Run
    findings: Findings


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    root = tmp_path_factory.mktemp("unions")
    (root / "unions.yaml").write_text(UNIONS, encoding="utf-8")
    project = root / "projects" / "unions"
    run = run_cli(
        ["generate", root / "unions.yaml", "--output", project, "--package-name", "unions"], cwd=root, timeout=180
    )
    projects = {"unions": project} if run.code == 0 else {}
    return Generated(root, run, check_packages(projects, root / "projects"))


def test_each_union_of_arrays_is_mended_with_a_warning_naming_it(generated: Generated) -> None:
    assert generated.run.code == 0, generated.run.err
    for pointer in POINTERS:
        assert f"warning: unions.yaml#{pointer}: a union of array types cannot be told apart" in generated.run.err
    assert "/properties/maps" not in generated.run.err  # maps of strings or of models: isinstance tells them apart
    assert "Traceback" not in generated.run.err


def test_the_package_passes_strict_type_checkers(generated: Generated) -> None:
    assert generated.run.code == 0, generated.run.err
    assert generated.findings.of("unions", CHECKERS) == []
    assert generated.findings.of("?", CHECKERS) == []


PROBE = """\
import json, sys
from unions.models import Log, Message, Other

out = []
for data in json.loads(sys.argv[1]):
    log = Log.from_dict(data)
    out.append({
        "back": log.to_dict(),
        "content": [type(item).__name__ for item in log.content],
        "pair": [type(item).__name__ for item in log.pair] if isinstance(log.pair, list) else None,
        "maps": type(log.maps).__name__,
    })
print(json.dumps(out))
"""
ARMS = [
    {"content": [{"event": "started"}, {"event": "done"}], "pair": [{"event": "a"}], "maybe": [1, 2]},
    {"content": ["plain", "text"], "pair": [{"code": 3}], "maybe": ["x"], "maps": {"k": "v"}},
    {"content": [], "maybe": None, "maps": {"k": {"event": "e"}}, "loose": [1, "two"]},
]


def test_data_of_each_arm_round_trips_through_the_models(generated: Generated) -> None:
    assert generated.run.code == 0, generated.run.err
    env = {**os.environ, "PYTHONPATH": str(generated.root / "projects" / "unions")}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(ARMS)], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert [entry["back"] for entry in out] == ARMS
    assert [entry["content"] for entry in out] == [["Message", "Message"], ["str", "str"], []]
    assert [entry["pair"] for entry in out] == [["Message"], ["Other"], None]
