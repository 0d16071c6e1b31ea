"""Real-world sloppiness generates, with a warning per mended place, into packages that pass strict type checkers.

One document gathers what real API descriptions get wrong (or right in ways openapi-python-client
cannot follow): defaults that do not fit, enum values that meet as member names, an empty and a
repeated enum, arrays without ``items``, schemas sharing a title, references into an ``allOf``
member, a YAML date in an example, references quoted in examples, a property ``annotations``
and a parameter ``sync``. Another has more models than pyright types a tuple literal entry by
entry (256). Both are generated as a user would, type-checked together, and the first is called.
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
SLOPPY = """\
openapi: 3.1.0
info: {title: Sloppy, version: "1"}
paths:
  /things:
    get:
      operationId: listThings
      parameters:
        - {name: limit, in: query, schema: {type: integer, default: null}}
        - {name: page, in: query, schema: {type: integer, default: "1"}}
        - {name: sort, in: query, schema: {type: string, enum: [ASC, asc, DESC], default: up}}
        - {name: reaction, in: query, schema: {type: string, enum: ["reactions-+1", "reactions--1", laugh]}}
        - {name: tags, in: query, schema: {type: array}}
        - {name: kind, in: query, schema: {type: string, enum: []}}
        - {name: site, in: query, schema: {type: string, enum: [eu, us, eu]}}
        - {name: sync, in: query, schema: {type: boolean}}
        - {name: since, in: query, schema: {type: string, format: date, example: 2022-01-01}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/ThingList"}
              examples:
                quoted: {value: {$ref: "#/not/a/reference"}}
                gone: {$ref: "#/components/examples/Gone"}
  /other:
    get:
      operationId: getOther
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Other"}
components:
  schemas:
    ThingList:
      title: Thing
      type: object
      properties:
        items: {type: array}
        base: {$ref: "#/components/schemas/Base/allOf/0"}
        annotations: {type: array, items: {type: string}}
    Thing:
      type: object
      properties:
        id: {type: integer}
    Other:
      title: Thing
      type: object
      example: {LogDevice: {$ref: "#/components/examples/Nowhere"}}
      properties:
        thing: {$ref: "#/components/schemas/Thing"}
        base: {$ref: "#/components/schemas/Base/allOf/0"}
    Base:
      allOf:
        - type: object
          properties:
            created: {type: string}
        - type: object
          properties:
            kind: {type: string}
"""
WARNINGS = {
    "/paths/~1things/get/parameters/0/schema/default": "the default null does not fit its schema",
    "/paths/~1things/get/parameters/1/schema/default": 'the default "1" does not fit its schema',
    "/paths/~1things/get/parameters/2/schema/default": 'the default "up" does not fit its schema',
    "/paths/~1things/get/parameters/2/schema/enum/1": "the enum values 'ASC' and 'asc' would both become the member "
    "ASC; they are generated as ASC, ASC_2",
    "/paths/~1things/get/parameters/3/schema/enum/1": "the enum values 'reactions-+1' and 'reactions--1' would both "
    "become the member REACTIONS_1; they are generated as REACTIONS_PLUS_1, REACTIONS_MINUS_1",
    "/paths/~1things/get/parameters/5/schema/enum": "an empty enum allows no value; it is dropped",
    "/paths/~1things/get/parameters/6/schema/enum/2": 'the enum value "eu" is listed again',
    "/paths/~1things/get/responses/200/content/application~1json/examples/gone/$ref": "#/components/examples/Gone "
    "points to nothing",
    "/components/schemas/ThingList/title": "the schemas 'ThingList', 'Thing', 'Other' would all be the class Thing",
    "/components/schemas/Other/title": "the schemas 'ThingList', 'Thing', 'Other' would all be the class Thing",
    "/components/schemas/ThingList/properties/base/$ref": "2 references to '#/components/schemas/Base/allOf/0', "
    "inside another schema",
}
MODELS = 260
"""More than the 256 entries pyright infers a tuple literal's type from: ``__all__`` of models/__init__.py."""


def _many_models() -> dict[str, object]:
    schemas = {
        f"Thing{index}": {"type": "object", "properties": {"id": {"type": "integer"}}} for index in range(MODELS)
    }
    response = {
        "description": "ok",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing0"}}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Many", "version": "1"},
        "paths": {"/thing": {"get": {"operationId": "getThing", "responses": {"200": response}}}},
        "components": {"schemas": schemas},
    }


@attrs.frozen
class Generated:
    root: Path
    runs: dict[str, Run]
    findings: Findings


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    root = tmp_path_factory.mktemp("sloppy")
    (root / "sloppy.yaml").write_text(SLOPPY, encoding="utf-8")
    (root / "many.json").write_text(json.dumps(_many_models()), encoding="utf-8")
    runs: dict[str, Run] = {}
    for package, spec in (("sloppy", "sloppy.yaml"), ("many", "many.json")):
        args = ["generate", root / spec, "--output", root / "projects" / package, "--package-name", package]
        runs[package] = run_cli(args, cwd=root, timeout=180)
    projects = {package: root / "projects" / package for package, run in runs.items() if run.code == 0}
    return Generated(root, runs, check_packages(projects, root / "projects"))


def test_a_sloppy_document_generates_with_a_warning_per_mended_place(generated: Generated) -> None:
    run = generated.runs["sloppy"]
    assert run.code == 0, run.err
    for pointer, words in WARNINGS.items():
        assert f"warning: sloppy.yaml#{pointer}: {words}" in run.err, run.err
    assert "error:" not in run.err
    assert "Traceback" not in run.err
    assert "#/not/a/reference" not in run.err  # a $ref in an example value is data
    assert "/components/examples/Nowhere" not in run.err


@pytest.mark.parametrize("package", ["sloppy", "many"])
def test_the_packages_pass_strict_type_checkers(package: str, generated: Generated) -> None:
    assert generated.runs[package].code == 0, generated.runs[package].err
    assert generated.findings.of(package, CHECKERS) == []


def test_the_checkers_saw_every_package(generated: Generated) -> None:
    assert generated.findings.of("?", CHECKERS) == []


PROBE = """\
import inspect, json
import httpx
from sloppy import Client
from sloppy.api.default import list_things
from sloppy.models import ListThingsReaction, ListThingsSort, Other, OtherBase, Thing, ThingList
from sloppy.types import UNSET

seen = []
def handler(request):
    seen.append(str(request.url))
    return httpx.Response(200, json={"items": [1, "two", None], "annotations": ["a"], "base": {"created": "now"}})

client = Client(base_url="https://api.example", httpx_args={"transport": httpx.MockTransport(handler)})
parameters = inspect.signature(list_things.sync).parameters
parsed = list_things.sync(client=client, sort=ListThingsSort.ASC_2, reaction=ListThingsReaction.REACTIONS_MINUS_1,
                          tags=["x", 2], sync_query=True)
print(json.dumps({
    "members": [m.name + "=" + m.value for m in (*ListThingsSort, *ListThingsReaction)],
    "defaults": [parameters[name].default is UNSET for name in ("limit", "page", "sort")],
    "url": seen[0],
    "items": parsed.items,
    "base": type(parsed.base).__name__,
    "classes": [Thing.__name__, ThingList.__name__, Other.__name__, OtherBase.__name__],
}))
"""


def test_the_sloppy_client_sends_and_reads_what_the_document_means(generated: Generated) -> None:
    """Members named apart keep their values; dropped defaults are unset; items-less arrays hold anything."""
    assert generated.runs["sloppy"].code == 0
    env = {**os.environ, "PYTHONPATH": str(generated.root / "projects" / "sloppy")}
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "members": [
            "ASC=ASC",
            "ASC_2=asc",
            "DESC=DESC",
            "LAUGH=laugh",
            "REACTIONS_MINUS_1=reactions--1",
            "REACTIONS_PLUS_1=reactions-+1",
        ],
        "defaults": [True, True, True],
        "url": "https://api.example/things?sort=asc&reaction=reactions--1&tags=x&tags=2&sync=true",
        "items": [1, "two", None],
        "base": "ThingListBase",
        "classes": ["Thing", "ThingList", "Other", "OtherBase"],
    }
