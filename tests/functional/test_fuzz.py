"""Random small valid descriptions generate a package that imports and type-checks.

Hypothesis builds documents with a login operation and its ``x-token-lifecycle``, operations with
parameters in every location and of every simple type, and object, array and enum schemas for
bodies and responses, with names drawn partly from the words the generated code uses itself. Each
example is generated in-process and its package imported in a subprocess (so Hypothesis can shrink
a failure); the packages of all examples are then type-checked together, one run per checker.

``make test`` runs a short, derandomised profile; ``make fuzz`` (``BEARER_FUZZ=long``) a long random one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator import Severity, Toolkit, generate, job_for_spec
from generator._clients import ClientJob
from tests.conftest import write_spec
from tests.functional._batch import SUMMARY, check_packages

settings.register_profile(
    "bearer-short",
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "bearer-long",
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILE = "bearer-long" if os.environ.get("BEARER_FUZZ") == "long" else "bearer-short"

# Ordinary names, and names the generated code binds itself (it must rename or keep them apart).
WORDS = ["id", "name", "count", "price", "active", "created", "tags", "note", "owner", "kind", "level", "size"]
WORDS += ["class", "type", "list", "from", "self", "headers", "params", "cookies", "response", "body", "client"]
WORDS += ["url", "json", "cast", "quote", "to_dict", "additional_properties", "field_dict", "d", "items", "data"]
SCHEMA_NAMES = ["Pet", "Order", "Owner", "Response", "Client", "Unset", "File", "Item", "Any", "Error", "Page"]
ENUM_VALUES = ["red", "green", "blue", "a-b", "with space", "UPPER", "x1", "zeta"]
METHODS = ["get", "post", "put", "patch", "delete"]

names = st.sampled_from(WORDS)


def _unique(elements: st.SearchStrategy[Any], max_size: int) -> st.SearchStrategy[list[Any]]:
    return st.lists(elements, max_size=max_size, unique=True)


header_scalars: st.SearchStrategy[dict[str, Any]] = st.one_of(
    st.just({"type": "string"}),
    st.just({"type": "string", "format": "uuid"}),
    st.just({"type": "integer"}),
    st.just({"type": "number"}),
    st.just({"type": "boolean"}),
    _unique(st.sampled_from(ENUM_VALUES), 5).filter(bool).map(lambda v: {"type": "string", "enum": v}),
    _unique(st.integers(-3, 9), 4).filter(bool).map(lambda v: {"type": "integer", "enum": v}),
)
"""What openapi-python-client accepts in a header: no dates (README, Limitations)."""
scalars = st.one_of(
    header_scalars, st.sampled_from(["date-time", "date"]).map(lambda f: {"type": "string", "format": f})
)


def _objects(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        properties = {name: draw(children) for name in draw(_unique(names, 4))}
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        required = [name for name in properties if draw(st.booleans())]
        if required:
            schema["required"] = required
        if draw(st.booleans()):
            schema["additionalProperties"] = draw(st.one_of(st.just(False), scalars))
        return schema

    return build()


def schemas(refs: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Scalars, enums, arrays and objects nested up to three levels, and $refs to ``refs``."""
    leaves = scalars if not refs else st.one_of(scalars, st.sampled_from(refs).map(lambda r: {"$ref": r}))
    return st.recursive(
        leaves,
        lambda children: st.one_of(children.map(lambda s: {"type": "array", "items": s}), _objects(children)),
        max_leaves=6,
    )


parameter_schemas = st.one_of(scalars, scalars.map(lambda s: {"type": "array", "items": s}))


@st.composite
def operations(draw: st.DrawFn, index: int, refs: list[str]) -> tuple[str, str, dict[str, Any]]:
    """(path, method, operation): parameters in each location, maybe a body, a response."""
    path_names = draw(_unique(names, 2))
    path = f"/r{index}" + "".join("/{" + name + "}" for name in path_names)
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": draw(scalars)} for name in path_names
    ]
    used = set(path_names)
    for location in ("query", "header", "cookie"):
        schema_of = {"query": parameter_schemas, "header": header_scalars, "cookie": scalars}[location]
        # One name per operation: two enum parameters named alike (query and header 'id') would both become the
        # enum class <Operation>Id, which openapi-python-client refuses (the hostile case names_enum_parameters_*).
        for name in [name for name in draw(_unique(names, 3)) if name not in used]:
            used.add(name)
            schema = draw(schema_of)
            if name == "body" and "enum" in schema:
                # Its enum class would be named like the operation's inline body model: refused, see the hostile
                # case names_inline_classes_meeting (README, Limitations).
                schema = {"type": "string"}
            parameters.append({"name": name, "in": location, "required": draw(st.booleans()), "schema": schema})
    method = draw(st.sampled_from(METHODS))
    operation: dict[str, Any] = {"operationId": f"op{index}{method.title()}", "parameters": parameters}
    if method != "get" and draw(st.booleans()):
        media = draw(st.sampled_from(["application/json", "application/x-www-form-urlencoded", "multipart/form-data"]))
        body = draw(schemas(refs)) if media == "application/json" else draw(_objects(scalars))
        operation["requestBody"] = {"required": draw(st.booleans()), "content": {media: {"schema": body}}}
    status = draw(st.sampled_from(["200", "201", "204", "default"]))
    if status == "204":
        operation["responses"] = {"204": {"description": "nothing"}}
    else:
        kind = draw(st.sampled_from(["application/json", "text/plain"]))
        schema = draw(schemas(refs)) if kind == "application/json" else {"type": "string"}
        operation["responses"] = {status: {"description": "ok", "content": {kind: {"schema": schema}}}}
    if draw(st.booleans()):
        operation["security"] = []
    if draw(st.booleans()):
        operation["tags"] = [draw(st.sampled_from(["pets", "store", "class", "Admin"]))]
    return path, method, operation


@st.composite
def logins(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """A login operation and the x-token-lifecycle that uses it: credentials in query, header, form or JSON."""
    where = draw(st.sampled_from(["query", "header", "form", "json"]))
    user, password = "user", draw(st.sampled_from(["password", "pass", "secret"]))
    operation: dict[str, Any] = {"operationId": "login", "security": []}
    if where in ("query", "header"):
        operation["parameters"] = [
            {"name": name, "in": where, "required": True, "schema": {"type": "string"}} for name in (user, password)
        ]
    else:
        media = "application/x-www-form-urlencoded" if where == "form" else "application/json"
        fields = {name: {"type": "string"} for name in (user, password, "grant_type")}
        operation["requestBody"] = {"content": {media: {"schema": {"type": "object", "properties": fields}}}}
    json_token = draw(st.booleans())
    if json_token:
        properties = {"access_token": {"type": "string"}, "expires_in": {"type": "integer"}}
        token_schema, media_type = {"type": "object", "properties": properties}, "application/json"
        token: dict[str, Any] = {"from": "json", "pointer": "/access_token"}
    else:
        token_schema, media_type, token = {"type": "string"}, "text/plain", {"from": "body"}
    operation["responses"] = {"200": {"description": "token", "content": {media_type: {"schema": token_schema}}}}
    extension: dict[str, Any] = {
        "login": {"operationId": "login", "username": user, "password": password},
        "token": token,
        "scheme": draw(st.sampled_from(["bearer", "Token", None])),
        "lifetime": draw(st.sampled_from(["PT18H", "PT5M", "P1DT2H", "PT0.5S"])),
        "invalidOn": draw(st.sampled_from([[401], [401, 403], [419]])),
    }
    if where in ("form", "json") and draw(st.booleans()):
        extension["login"]["constants"] = {"grant_type": "password"}
    if json_token and draw(st.booleans()):
        extension["expiresIn"] = "/expires_in"
    return operation, extension


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    """A small valid OpenAPI 3.1 document with a login operation and the extension on its security scheme."""
    component_names = draw(_unique(st.sampled_from(SCHEMA_NAMES), 3))
    refs = [f"#/components/schemas/{name}" for name in component_names]
    components: dict[str, Any] = {}
    for position, name in enumerate(component_names):
        # A component may refer to those before it and to itself (recursion), not to later ones.
        components[name] = draw(_objects(schemas(refs[: position + 1])))
    login, extension = draw(logins())
    paths: dict[str, Any] = {"/login": {draw(st.sampled_from(["get", "post"])): login}}
    for index in range(draw(st.integers(1, 3))):
        path, method, operation = draw(operations(index, refs))
        paths[path] = {method: operation}
    if draw(st.booleans()):
        scheme: dict[str, Any] = {"type": "http", "scheme": "bearer"}
    else:
        scheme = {"type": "apiKey", "in": "header", "name": draw(st.sampled_from(["Authentication", "X-Token"]))}
    scheme["x-token-lifecycle"] = extension
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": draw(st.sampled_from(["Fuzzed", "class", "Response API"])), "version": "1.0.0"},
        "security": [{"tok": []}],
        "paths": paths,
        "components": {"securitySchemes": {"tok": scheme}},
    }
    if components:
        document["components"]["schemas"] = components
    return document


IMPORT_PROBE = """\
import importlib, pkgutil, sys
package = importlib.import_module(sys.argv[1])
for info in pkgutil.walk_packages(package.__path__, sys.argv[1] + "."):
    importlib.import_module(info.name)
print("ok")
"""


def test_random_documents_generate_import_and_type_check(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every random valid document generates; each package imports; all of them pass ruff, mypy and pyright."""
    root = tmp_path_factory.mktemp("fuzz")
    projects_dir = root / "projects"
    projects_dir.mkdir()
    projects: dict[str, Path] = {}
    examples = {"count": 0}
    toolkit = Toolkit.locate()
    start = time.monotonic()

    @settings(settings.get_profile(PROFILE))
    @given(document=documents())
    def generate_and_import(document: dict[str, Any]) -> None:
        examples["count"] += 1
        package = f"fz{examples['count']}"
        spec = write_spec(root / f"{package}.yaml", document)
        job = job_for_spec(spec, projects_dir / package, package, None)
        assert isinstance(job, ClientJob)
        problems = generate([job], toolkit)
        errors = [problem.render() for problem in problems if problem.severity is Severity.ERROR]
        assert errors == [], f"{spec}:\n{json.dumps(document, indent=1)[:4000]}"
        result = subprocess.run(
            [sys.executable, "-c", IMPORT_PROBE, package],
            cwd=root,
            env={**os.environ, "PYTHONPATH": str(projects_dir / package)},
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.stdout.strip() == "ok", f"{spec}: {result.stderr[-3000:]}"
        projects[package] = projects_dir / package

    generate_and_import()
    findings = check_packages(projects, projects_dir, import_cwd=root)
    failures = {package: findings.of(package) for package in [*projects, "?"] if findings.of(package)}
    SUMMARY["fuzz"] = {
        "profile": PROFILE,
        "examples run": examples["count"],
        "packages type-checked": len(projects),
        "packages with findings": len(failures),
        "seconds": round(time.monotonic() - start, 1),
    }
    assert failures == {}, "\n".join(f"{root / p}.yaml: {lines[:5]}" for p, lines in failures.items())
