"""Partial documents: every operation that can be generated is, what cannot is a warning and is listed.

One document holds what openapi-python-client cannot model (an object in a header parameter: the
operation is left out; a response whose schema is an enum of mixed types: the response and the
model are left out) beside bodies it cannot model as they are (images, XML, a vendor type,
``*/*``, ``text/plain`` requests), which are carried as raw bytes. The generated packages are
judged by mypy --strict and pyright strict, and their functions called against an
``httpx.MockTransport``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest

from tests.conftest import Outcome, minimal_spec, snapshot, write_spec
from tests.functional._batch import Findings, Run, check_packages, run_cli

TYPE_CHECKERS = ("mypy", "pyright", "import")
BINARY = {"type": "string", "format": "binary"}
THING = {"$ref": "#/components/schemas/Thing"}
LEFT_OUT = {
    "/paths/~1search/get/parameters/0": "GET /search parameter 'X-Filter' (in header): ",
    "/paths/~1mixed/get/responses/200": "GET /mixed response 200: it uses #/components/schemas/Mixed, ",
    "/components/schemas/Mixed": "the schema 'Mixed': Enum values must all be the same type: Got int, str; ",
}
"""Pointer → the start of its message: what is left out, named by method, path, status, parameter or schema."""


def _ok(content: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": "ok", **({"content": content} if content else {})}


def partial_spec() -> dict[str, Any]:
    """The minimal spec, with one operation, one response and one model openapi-python-client cannot model."""
    spec = minimal_spec()
    spec["components"]["schemas"] = {
        "Thing": {"type": "object", "properties": {"name": {"type": "string"}}},
        "Mixed": {"enum": [1, "a"]},
    }
    header = {"type": "object", "properties": {"a": {"type": "string"}}}
    paths = spec["paths"]
    paths["/search"] = {
        "get": {
            "operationId": "search",
            "parameters": [{"name": "X-Filter", "in": "header", "schema": header}],
            "responses": {"204": _ok()},
        }
    }
    # A parameter named like the module's own functions is renamed, not a broken module.
    hiding = [{"name": name, "in": "query", "schema": {"type": "boolean"}} for name in ("sync", "asyncio")]
    paths["/synced"] = {"get": {"operationId": "listSynced", "parameters": hiding, "responses": {"204": _ok()}}}
    mixed = {"application/json": {"schema": {"$ref": "#/components/schemas/Mixed"}}}
    paths["/mixed"] = {"get": {"operationId": "getMixed", "responses": {"200": _ok(mixed), "204": _ok()}}}
    paths["/image"] = {"get": {"operationId": "getImage", "responses": {"200": _ok({"image/png": {"schema": BINARY}})}}}
    playlist = {"application/vnd.apple.mpegurl": {"schema": {"type": "string"}}}
    paths["/playlist"] = {"get": {"operationId": "getPlaylist", "responses": {"200": _ok(playlist)}}}
    paths["/any"] = {"get": {"operationId": "getAny", "responses": {"200": _ok({"*/*": {"schema": THING}})}}}
    for path, name, media_type, schema in (
        ("/upload", "upload", "image/jpeg", BINARY),
        ("/note", "postNote", "text/plain", {"type": "string"}),
        ("/xml", "postXml", "application/xml", THING),
    ):
        body = {"required": True, "content": {media_type: {"schema": schema}}}
        paths[path] = {"post": {"operationId": name, "requestBody": body, "responses": {"204": _ok()}}}
    # Two media types, two Python types: a list (told apart as a list) and raw text; required, so no Unset.
    batch = {
        "application/json": {"schema": {"type": "array", "items": THING}},
        "text/plain": {"schema": {"type": "string"}},
    }
    paths["/batch"] = {
        "post": {
            "operationId": "postBatch",
            "requestBody": {"required": True, "content": batch},
            "responses": {"204": _ok()},
        }
    }
    # JSON under another media type name is JSON, both ways.
    text_json = {"text/json": {"schema": THING}}
    paths["/check"] = {
        "post": {
            "operationId": "postCheck",
            "requestBody": {"required": True, "content": text_json},
            "responses": {"200": _ok(text_json)},
        }
    }
    return spec


@attrs.frozen
class Generated:
    """The runs of the two documents, their projects, and what the checkers said."""

    root: Path
    runs: dict[str, Run]
    findings: Findings

    def project(self, package: str) -> Path:
        return self.root / "projects" / package


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    """Generate the partial document as is, and with a user override of ``*/*``; type-check both at once."""
    root = tmp_path_factory.mktemp("partial")
    spec = write_spec(root / "partial.yaml", partial_spec())
    options = root / "options.yaml"
    options.write_text('content_type_overrides:\n  "*/*": application/octet-stream\n', encoding="utf-8")
    runs: dict[str, Run] = {}
    extras: dict[str, list[str | Path]] = {"partial_plain": [], "partial_overridden": ["--config", options]}
    for package, extra in extras.items():
        output = root / "projects" / package
        args: list[str | Path] = ["generate", spec, "--output", output, "--package-name", package, *extra]
        runs[package] = run_cli(args, cwd=root, timeout=120)
    projects = {package: root / "projects" / package for package, run in runs.items() if run.code == 0}
    return Generated(root, runs, check_packages(projects, root / "projects"))


def test_the_rest_is_generated_with_a_warning_for_each_part_left_out(generated: Generated) -> None:
    """Exit 0; one warning per left-out part, with its pointer and what it is; every other operation generated."""
    run = generated.runs["partial_plain"]
    assert run.code == 0, run.err
    for pointer, start in LEFT_OUT.items():
        assert f"warning: partial.yaml#{pointer}: {start}" in run.err, run.err
    assert "object at 0x" not in run.err
    assert "Traceback" not in run.err
    api = generated.project("partial_plain") / "partial_plain" / "api" / "default"
    modules = {path.stem for path in api.glob("*.py")} - {"__init__"}
    expected = {"login", "list_things", "get_mixed", "get_image", "get_playlist", "get_any", "upload", "post_note"}
    assert modules == {*expected, "post_xml", "list_synced", "post_batch", "post_check"}


def test_the_readme_lists_what_was_not_generated(generated: Generated) -> None:
    """The project's README has a "Not generated" section naming each left-out part by pointer, with the reason."""
    readme = (generated.project("partial_plain") / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Not generated", 1)[1]
    for pointer, start in LEFT_OUT.items():
        assert f"- `{pointer}`: {start}" in section


def test_provenance_lists_what_was_not_generated(generated: Generated) -> None:
    """provenance.toml has one ``[[not_generated]]`` entry per left-out part: its pointer and reason."""
    text = (generated.project("partial_plain") / "provenance.toml").read_text(encoding="utf-8")
    entries = tomllib.loads(text)["not_generated"]
    assert sorted(entry["pointer"] for entry in entries) == sorted(LEFT_OUT)
    for entry in entries:
        assert entry["reason"].startswith(LEFT_OUT[entry["pointer"]])


def test_a_complete_document_lists_nothing(tmp_path: Path, cli: Callable[..., Outcome]) -> None:
    """A document generated whole has no "Not generated" section and no ``not_generated`` entries."""
    assert cli("generate", write_spec(tmp_path / "mini.yaml", minimal_spec()), "--output", tmp_path / "m").code == 0
    assert "Not generated" not in (tmp_path / "m" / "README.md").read_text(encoding="utf-8")
    assert "not_generated" not in (tmp_path / "m" / "provenance.toml").read_text(encoding="utf-8")


def test_strict_refuses_the_document_and_leaves_the_output_untouched(
    tmp_path: Path, cli: Callable[..., Outcome]
) -> None:
    """With --strict each left-out part is an error (exit 2), and the output directory stays as it was."""
    output = tmp_path / "out" / "client"
    assert cli("generate", write_spec(tmp_path / "mini.yaml", minimal_spec()), "--output", output).code == 0
    before = snapshot(output)
    result = cli("generate", write_spec(tmp_path / "partial.yaml", partial_spec()), "--output", output, "--strict")
    assert result.code == 2
    for pointer, start in LEFT_OUT.items():
        assert f"error: partial.yaml#{pointer}: {start}" in result.err, result.err
    assert snapshot(output) == before
    assert sorted(os.listdir(output.parent)) == ["client"]


@pytest.mark.parametrize("package", ["partial_plain", "partial_overridden"])
def test_generated_package_passes_strict_type_checkers(package: str, generated: Generated) -> None:
    """Raw-bytes bodies and File responses type-check under mypy --strict and pyright strict, and import."""
    assert generated.runs[package].code == 0, generated.runs[package].err
    assert generated.findings.of(package, TYPE_CHECKERS) == []


def test_type_checkers_saw_every_package(generated: Generated) -> None:
    """No checker output went unattributed (a crash of a checker would otherwise pass silently)."""
    assert generated.findings.of("?", TYPE_CHECKERS) == []


PROBE = """\
import asyncio, io, json, sys
import httpx
package = sys.argv[1]
client_module = __import__(package + ".client", fromlist=["AuthenticatedClient"])
api = __import__(package + ".api.default", fromlist=["get_image", "get_any", "get_playlist", "upload", "post_note",
                                                     "post_xml"])
types = __import__(package + ".types", fromlist=["File"])
answers = {
    "/image": (b"\\x89PNG\\r\\n", "image/png"),
    "/any": (b'{"name": "not parsed"}', "application/json"),
    "/playlist": (b"#EXTM3U\\n", "application/vnd.apple.mpegurl"),
    "/check": (b'{"name": "checked"}', "text/json"),
}
sent = []


def handler(request):
    sent.append([request.url.path, request.headers.get("content-type"), request.content.decode("latin-1")])
    content, media_type = answers.get(request.url.path, (b"", "text/plain"))
    return httpx.Response(200 if content else 204, content=content, headers={"content-type": media_type})


client = client_module.AuthenticatedClient(
    base_url="https://api.test", token="t", httpx_args={"transport": httpx.MockTransport(handler)}
)
got = {}
for name in ("get_image", "get_any", "get_playlist"):
    result = getattr(api, name).sync(client=client)
    got[name] = [type(result).__name__, result.payload.read().decode("latin-1")]
getattr(api, "upload").sync_detailed(client=client, body=types.File(payload=io.BytesIO(b"\\xff\\xd8jpeg")))
getattr(api, "post_note").sync_detailed(client=client, body="a note")
getattr(api, "post_xml").sync_detailed(client=client, body=types.File(payload=io.BytesIO(b"<thing/>")))
thing = __import__(package + ".models", fromlist=["Thing"]).Thing
batch = __import__(package + ".api.default.post_batch", fromlist=["sync_detailed"])
batch.sync_detailed(client=client, body=[thing(name="a")])
batch.sync_detailed(client=client, body="raw text")
checked = __import__(package + ".api.default.post_check", fromlist=["sync"]).sync(client=client, body=thing(name="c"))
got["post_check"] = [type(checked).__name__, checked.name]
print(json.dumps({"got": got, "sent": sent}))
"""


@pytest.mark.parametrize("package", ["partial_plain", "partial_overridden"])
def test_raw_bodies_go_out_and_come_back_as_bytes(package: str, generated: Generated) -> None:
    """Responses none of whose media types can be modelled return a File of the bytes (never parsed, with an
    override of ``*/*`` too); request bodies are sent as given, with their own media type."""
    project = generated.project(package)
    env = {**os.environ, "PYTHONPATH": str(project)}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, package], cwd=project, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["got"] == {
        "get_image": ["File", "\x89PNG\r\n"],
        "get_any": ["File", '{"name": "not parsed"}'],
        "get_playlist": ["File", "#EXTM3U\n"],
        "post_check": ["Thing", "checked"],
    }
    bodies = [entry for entry in report["sent"] if entry[0] in {"/upload", "/note", "/xml", "/batch", "/check"}]
    assert bodies == [
        ["/upload", "image/jpeg", "\xff\xd8jpeg"],
        ["/note", "text/plain", "a note"],
        ["/xml", "application/xml", "<thing/>"],
        ["/batch", "application/json", '[{"name":"a"}]'],
        ["/batch", "text/plain", "raw text"],
        ["/check", "text/json", '{"name":"c"}'],
    ]
