"""`bearer-codegen diff OLD NEW`: each kind of change classified as breaking, additive or patch, with its exit code."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from generator._diff import Change, Level, semver_bump, version_bump
from generator._surface import union_members
from scripts.api_gate import main as gate
from tests.conftest import ROOT, Outcome, minimal_spec, write_spec

Spec = dict[str, Any]
Diff = Callable[..., Outcome]

_ERRORS = {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _json(schema: dict[str, Any], description: str = "ok") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def base() -> Spec:
    """The minimal spec plus models and enums that travel one way or both, for changes to bend."""
    spec = minimal_spec()
    ref = {"$ref": "#/components/schemas/Thing"}
    spec["paths"]["/things"] = {
        "get": {
            "operationId": "listThings",
            "tags": ["things"],
            "parameters": [
                {"name": "kind", "in": "query", "required": False, "schema": {"$ref": "#/components/schemas/Kind"}},
                {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "default": 20}},
            ],
            "responses": {"200": _json({"type": "array", "items": ref}), "400": _ERRORS},
        },
        "post": {
            "operationId": "createThing",
            "tags": ["things"],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewThing"}}},
            },
            "responses": {"201": _json(ref)},
        },
    }
    spec["paths"]["/things/{thingId}/parts/{partId}"] = {
        "get": {
            "operationId": "getPart",
            "tags": ["things"],
            "summary": "One part of a thing",
            "parameters": [
                {"name": "thingId", "in": "path", "required": True, "schema": {"type": "string"}},
                {"name": "partId", "in": "path", "required": True, "schema": {"type": "string"}},
            ],
            "responses": {"200": _json(ref)},
        }
    }
    spec["components"]["schemas"] = {
        "Thing": {
            "type": "object",
            "description": "A thing as stored (read from responses only).",
            "required": ["id"],
            "properties": {
                "id": {"type": "string"},
                "name": {"type": "string", "description": "What it is called."},
                "color": {"$ref": "#/components/schemas/Color"},
                "label": {"$ref": "#/components/schemas/Label"},
            },
        },
        "NewThing": {
            "type": "object",
            "description": "A thing to create (sent in requests only).",
            "required": ["name"],
            "properties": {
                "name": {"type": "string"},
                "note": {"type": "string"},
                "size": {"type": "integer"},
                "label": {"$ref": "#/components/schemas/Label"},
            },
        },
        "Label": {
            "type": "object",
            "description": "Sent and read.",
            "properties": {"text": {"type": "string"}},
        },
        "Error": {"type": "object", "properties": {"message": {"type": "string"}}},
        "Color": {"type": "string", "enum": ["red", "green"]},
        "Kind": {"type": "string", "enum": ["small", "large"]},
    }
    return spec


def _schemas(spec: Spec) -> dict[str, Any]:
    return spec["components"]["schemas"]


def _list_things(spec: Spec) -> dict[str, Any]:
    return spec["paths"]["/things"]["get"]


def _ext(spec: Spec) -> dict[str, Any]:
    return spec["components"]["securitySchemes"]["tok"]["x-token-lifecycle"]


@pytest.fixture
def diff(cli: Callable[..., Outcome], tmp_path: Path) -> Diff:
    """Write OLD and NEW and run ``bearer-codegen diff`` on them, away from this repository's clients.yaml."""

    def run(old: Spec, new: Spec, *extra: str) -> Outcome:
        old_path = write_spec(tmp_path / "old.yaml", old)
        new_path = write_spec(tmp_path / "new.yaml", new)
        return cli("--root", tmp_path, "diff", old_path, new_path, *extra)

    return run


def changed(bend: Callable[[Spec], object]) -> Spec:
    """The base spec with ``bend`` applied."""
    spec = base()
    bend(spec)
    return spec


def _assert_reports(outcome: Outcome, line: str, code: int, semver: str) -> None:
    assert line in outcome.out.splitlines(), outcome.out + outcome.err
    assert f"semver: {semver}" in outcome.out.splitlines()
    assert outcome.code == code


# --- the whole spec ---------------------------------------------------------------------------------


def test_identical_specs_are_a_patch(diff: Diff) -> None:
    """Two identical specs: no change, semver patch, exit 0."""
    outcome = diff(base(), base())
    _assert_reports(outcome, "no change: both specs generate the same public API", 0, "patch")
    assert "breaking:" not in outcome.out
    assert "additive:" not in outcome.out


def test_synthetic_classic_against_itself(cli: Callable[..., Outcome]) -> None:
    """The shipped spec compared with itself reports no change (its clients.yaml options apply)."""
    spec = ROOT / "spec" / "synthetic-classic.yaml"
    outcome = cli("--root", ROOT, "diff", spec, spec)
    _assert_reports(outcome, "no change: both specs generate the same public API", 0, "patch")


def test_clients_yaml_options_apply_to_an_old_copy(cli: Callable[..., Outcome], tmp_path: Path) -> None:
    """An old copy outside spec/ is read with the options of NEW_SPEC's clients.yaml entry (the XML override)."""
    spec = ROOT / "spec" / "synthetic-classic.yaml"
    old = tmp_path / "old.yaml"
    old.write_bytes(spec.read_bytes())
    outcome = cli("--root", ROOT, "diff", old, spec)
    assert outcome.code == 0, outcome.err


def test_config_file_gives_the_options(cli: Callable[..., Outcome], tmp_path: Path) -> None:
    """--config names the openapi-python-client options, as `generate SPEC --config` does.

    Without options the XML body is raw bytes, as generation makes it; an override the user
    gives is followed even where it leaves the operation out (text/plain is no request body
    openapi-python-client models), and a diff of a client that lacks an operation is refused.
    """
    spec = ROOT / "spec" / "synthetic-classic.yaml"
    options = tmp_path / "options.yaml"
    options.write_text("content_type_overrides:\n  application/xml: application/octet-stream\n", encoding="utf-8")
    assert cli("--root", tmp_path, "diff", spec, spec, "--config", options).code == 0
    assert cli("--root", tmp_path, "diff", spec, spec).code == 0
    options.write_text("content_type_overrides:\n  application/xml: text/plain\n", encoding="utf-8")
    broken = cli("--root", tmp_path, "diff", spec, spec, "--config", options)
    assert broken.code == 2
    assert "error: " in broken.err
    assert "#/paths/~1testresults/post: " in broken.err


def test_bodies_generation_carries_as_raw_bytes_are_compared_too(diff: Diff) -> None:
    """An operation with an image response (raw bytes, as generated) is an additive change, not a refusal."""
    new = changed(
        lambda s: s["paths"].update(
            {
                "/image": {
                    "get": {
                        "operationId": "getImage",
                        "responses": {
                            "200": {
                                "description": "png",
                                "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}},
                            }
                        },
                    }
                }
            }
        )
    )
    outcome = diff(base(), new)
    assert outcome.code == 0, outcome.err
    assert "semver: minor" in outcome.out.splitlines()


def test_documentation_only_changes_are_a_patch(diff: Diff) -> None:
    """Summaries and descriptions change the docstrings only: patch, exit 0."""

    def bend(spec: Spec) -> None:
        spec["paths"]["/things/{thingId}/parts/{partId}"]["get"]["summary"] = "A part"
        _schemas(spec)["Thing"]["properties"]["name"]["description"] = "Its name."
        _schemas(spec)["Thing"]["description"] = "A stored thing."

    outcome = diff(base(), changed(bend))
    _assert_reports(outcome, "patch: operation getPart: summary or description changed", 0, "patch")
    assert "patch: model Thing: field name description changed" in outcome.out
    assert "patch: model Thing: description changed" in outcome.out


def test_bad_input_exits_2_with_the_pointer(diff: Diff) -> None:
    """An invalid NEW spec is reported like the generator does: `error: FILE#POINTER: ...`, exit 2."""
    outcome = diff(base(), changed(lambda s: _ext(s).update(lifetime="soon")))
    assert outcome.code == 2
    assert "#/components/securitySchemes/tok/x-token-lifecycle/lifetime: " in outcome.err
    assert outcome.err.startswith("error: ")
    assert outcome.out == ""


def test_unreadable_spec_exits_2(cli: Callable[..., Outcome], tmp_path: Path) -> None:
    """A missing file is bad input, not a traceback."""
    new = write_spec(tmp_path / "new.yaml", base())
    outcome = cli("--root", tmp_path, "diff", tmp_path / "missing.yaml", new)
    assert outcome.code == 2
    assert "missing.yaml: cannot read the file" in outcome.err


def test_json_format(diff: Diff) -> None:
    """--format json carries every change with its level, and the semver bump."""
    outcome = diff(base(), changed(lambda s: s["paths"].pop("/things/{thingId}/parts/{partId}")), "--format", "json")
    report = json.loads(outcome.out)
    assert report["semver"] == "major"
    assert {
        "level": "breaking",
        "subject": "operation getPart",
        "message": "removed (GET /things/{thingId}/parts/{partId})",
    } in report["changes"]
    assert outcome.code == 1


def test_check_version_accepts_a_major_bump(diff: Diff) -> None:
    """With --check-version, breaking changes pass when info.version raises the major version."""

    def bend(spec: Spec) -> None:
        spec["paths"]["/things"].pop("post")
        spec["info"]["version"] = "2.0.0"

    outcome = diff(base(), changed(bend), "--check-version")
    _assert_reports(outcome, "breaking changes accepted: info.version raises the major version", 0, "major")


def test_check_version_refuses_a_minor_bump(diff: Diff) -> None:
    """With --check-version, breaking changes under a minor bump still fail, and the output says why."""

    def bend(spec: Spec) -> None:
        spec["paths"]["/things"].pop("post")
        spec["info"]["version"] = "1.1.0"

    outcome = diff(base(), changed(bend), "--check-version")
    _assert_reports(outcome, "breaking changes need a major version: info.version went 1.0.0 -> 1.1.0", 1, "major")


def test_cli_as_a_process(tmp_path: Path) -> None:
    """`python -m generator diff` exits 1 on a breaking change, so a pipeline step fails."""
    old = write_spec(tmp_path / "old.yaml", base())
    new = write_spec(tmp_path / "new.yaml", changed(lambda s: _list_things(s)["parameters"].pop(1)))
    result = subprocess.run(
        [sys.executable, "-m", "generator", "--root", str(tmp_path), "diff", str(old), str(new)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "breaking: operation listThings: parameter limit removed" in result.stdout.splitlines()


# --- operations -------------------------------------------------------------------------------------


def test_operation_removed(diff: Diff) -> None:
    """Removing an operation is breaking."""
    outcome = diff(base(), changed(lambda s: s["paths"]["/things"].pop("post")))
    _assert_reports(outcome, "breaking: operation createThing: removed (POST /things)", 1, "major")


def test_operation_added(diff: Diff) -> None:
    """A new operation is additive: minor, exit 0."""

    def bend(spec: Spec) -> None:
        spec["paths"]["/things"]["delete"] = {
            "operationId": "clearThings",
            "responses": {"204": {"description": "gone"}},
        }

    _assert_reports(diff(base(), changed(bend)), "additive: operation clearThings: new (DELETE /things)", 0, "minor")


def test_operation_moved_to_another_tag(diff: Diff) -> None:
    """Another tag moves the module to another import path: breaking."""
    outcome = diff(base(), changed(lambda s: _list_things(s).update(tags=["stock"])))
    _assert_reports(outcome, "breaking: operation listThings: moved from api.things to api.stock", 1, "major")


def test_operation_path_changed(diff: Diff) -> None:
    """Another path shape means old clients call the old URL: breaking."""
    outcome = diff(base(), changed(lambda s: s["paths"].update({"/items": s["paths"].pop("/things")})))
    line = "breaking: operation listThings: now GET /items (was GET /things); old clients call the old URL"
    _assert_reports(outcome, line, 1, "major")


def test_operation_now_needs_a_token(diff: Diff) -> None:
    """An operation that starts requiring the token accepts only AuthenticatedClient: breaking."""
    old = changed(lambda s: _list_things(s).update(security=[]))
    line = "breaking: operation listThings: now needs a token: its functions accept only an AuthenticatedClient"
    _assert_reports(diff(old, base()), line, 1, "major")


def test_operation_no_longer_needs_a_token(diff: Diff) -> None:
    """An operation that stops requiring the token also accepts a plain Client: additive."""
    new = changed(lambda s: _list_things(s).update(security=[]))
    line = "additive: operation listThings: no longer needs a token: its functions accept a plain Client too"
    _assert_reports(diff(base(), new), line, 0, "minor")


def test_operation_id_case_change_keeping_the_python_name(diff: Diff) -> None:
    """An operationId spelled differently but giving the same Python name changes nothing public: patch."""
    outcome = diff(base(), changed(lambda s: _list_things(s).update(operationId="ListThings")))
    line = (
        "patch: operation ListThings: operationId changed from listThings to ListThings (same Python name list_things)"
    )
    _assert_reports(outcome, line, 0, "patch")


# --- parameters -------------------------------------------------------------------------------------


def test_parameter_removed(diff: Diff) -> None:
    """Removing a parameter is breaking (callers passing it fail)."""
    outcome = diff(base(), changed(lambda s: _list_things(s)["parameters"].pop(0)))
    _assert_reports(outcome, "breaking: operation listThings: parameter kind removed", 1, "major")


def test_new_required_parameter(diff: Diff) -> None:
    """A new required parameter is breaking (existing calls lack it)."""

    def bend(spec: Spec) -> None:
        _list_things(spec)["parameters"].append(
            {"name": "owner", "in": "query", "required": True, "schema": {"type": "string"}}
        )

    outcome = diff(base(), changed(bend))
    _assert_reports(outcome, "breaking: operation listThings: new required parameter owner (str)", 1, "major")


def test_new_optional_parameter(diff: Diff) -> None:
    """A new optional parameter is additive."""

    def bend(spec: Spec) -> None:
        _list_things(spec)["parameters"].append({"name": "owner", "in": "query", "schema": {"type": "string"}})

    outcome = diff(base(), changed(bend))
    _assert_reports(outcome, "additive: operation listThings: new optional parameter owner (str)", 0, "minor")


def test_parameter_became_required(diff: Diff) -> None:
    """An optional parameter that becomes required is breaking."""
    outcome = diff(base(), changed(lambda s: _list_things(s)["parameters"][0].update(required=True)))
    _assert_reports(outcome, "breaking: operation listThings: parameter kind became required", 1, "major")


def test_parameter_became_optional(diff: Diff) -> None:
    """A required parameter that becomes optional is additive."""
    old = changed(lambda s: _list_things(s)["parameters"][0].update(required=True))
    _assert_reports(diff(old, base()), "additive: operation listThings: parameter kind became optional", 0, "minor")


def test_parameter_type_changed(diff: Diff) -> None:
    """A parameter of another type is breaking."""
    outcome = diff(base(), changed(lambda s: _list_things(s)["parameters"][1].update(schema={"type": "string"})))
    _assert_reports(outcome, "breaking: operation listThings: parameter limit type changed from int to str", 1, "major")


def test_parameter_type_widened(diff: Diff) -> None:
    """A parameter whose type only gains union members accepts every old argument: additive."""

    def bend(spec: Spec) -> None:
        _list_things(spec)["parameters"][1]["schema"] = {"type": ["integer", "string"], "default": 20}

    outcome = diff(base(), changed(bend))
    _assert_reports(
        outcome, "additive: operation listThings: parameter limit type widened from int to int | str", 0, "minor"
    )


def test_parameter_moved_to_a_header(diff: Diff) -> None:
    """A parameter sent in another place is breaking for old clients."""
    outcome = diff(base(), changed(lambda s: _list_things(s)["parameters"][1].update({"in": "header"})))
    _assert_reports(outcome, "breaking: operation listThings: parameter limit moved from query to header", 1, "major")


def test_parameter_default_changed(diff: Diff) -> None:
    """Another default sends another request for callers that omit the parameter: breaking."""
    outcome = diff(base(), changed(lambda s: _list_things(s)["parameters"][1]["schema"].update(default=50)))
    _assert_reports(
        outcome, "breaking: operation listThings: parameter limit default changed from 20 to 50", 1, "major"
    )


def test_path_parameters_reordered(diff: Diff) -> None:
    """Path parameters are positional: swapping them is breaking."""

    def bend(spec: Spec) -> None:
        item = spec["paths"].pop("/things/{thingId}/parts/{partId}")
        spec["paths"]["/parts/{partId}/things/{thingId}"] = item
        item["get"]["parameters"].reverse()

    outcome = diff(base(), changed(bend))
    line = (
        "breaking: operation getPart: path parameters reordered from (thing_id, part_id) to (part_id, thing_id); "
        "they are positional"
    )
    _assert_reports(outcome, line, 1, "major")


def test_request_body_media_type_removed(diff: Diff) -> None:
    """A request body no longer accepted as JSON breaks the callers that send it."""

    def bend(spec: Spec) -> None:
        body = spec["paths"]["/things"]["post"]["requestBody"]["content"]
        body["application/x-www-form-urlencoded"] = body.pop("application/json")

    outcome = diff(base(), changed(bend))
    _assert_reports(
        outcome, "breaking: operation createThing: request body no longer accepts application/json", 1, "major"
    )


# --- responses --------------------------------------------------------------------------------------


def test_response_status_added_with_a_known_type(diff: Diff) -> None:
    """A new status whose type the operation already returns is additive."""
    outcome = diff(base(), changed(lambda s: _list_things(s)["responses"].update({"404": _ERRORS})))
    _assert_reports(outcome, "additive: operation listThings: new response 404 (Error)", 0, "minor")


def test_response_status_added_with_a_new_type(diff: Diff) -> None:
    """A new status that widens the return type breaks callers that annotate it."""
    outcome = diff(base(), changed(lambda s: s["paths"]["/things"]["post"]["responses"].update({"400": _ERRORS})))
    line = "breaking: operation createThing: new response 400 (Error) widens the return type with Error"
    _assert_reports(outcome, line, 1, "major")


def test_response_status_removed(diff: Diff) -> None:
    """A status no longer documented comes back unparsed: breaking."""
    outcome = diff(base(), changed(lambda s: _list_things(s)["responses"].pop("400")))
    _assert_reports(outcome, "breaking: operation listThings: response 400 (Error) no longer documented", 1, "major")


# --- models -----------------------------------------------------------------------------------------


def test_model_removed(diff: Diff) -> None:
    """A model that is no longer generated is breaking (its import fails)."""

    def bend(spec: Spec) -> None:
        _schemas(spec).pop("Error")
        _list_things(spec)["responses"].pop("400")

    _assert_reports(diff(base(), changed(bend)), "breaking: model Error: removed", 1, "major")


def test_model_added(diff: Diff) -> None:
    """A new model is additive."""
    new = changed(lambda s: _schemas(s).update(Extra={"type": "object", "properties": {"a": {"type": "string"}}}))
    _assert_reports(diff(base(), new), "additive: model Extra: new", 0, "minor")


def test_required_field_added_to_a_request_model(diff: Diff) -> None:
    """A new required field of a model that is sent breaks the code that builds it."""

    def bend(spec: Spec) -> None:
        _schemas(spec)["NewThing"]["required"].append("size")

    outcome = diff(base(), changed(bend))
    _assert_reports(outcome, "breaking: model NewThing: field size became required (sent in requests)", 1, "major")


def test_new_required_field_of_a_request_model(diff: Diff) -> None:
    """A brand-new required field of a model that is sent is breaking."""

    def bend(spec: Spec) -> None:
        _schemas(spec)["NewThing"]["properties"]["owner"] = {"type": "string"}
        _schemas(spec)["NewThing"]["required"].append("owner")

    outcome = diff(base(), changed(bend))
    _assert_reports(outcome, "breaking: model NewThing: new required field owner (str) (sent in requests)", 1, "major")


def test_new_required_field_of_a_response_model(diff: Diff) -> None:
    """A new required field of a model that is only read is additive (readers gain an attribute)."""

    def bend(spec: Spec) -> None:
        _schemas(spec)["Thing"]["properties"]["owner"] = {"type": "string"}
        _schemas(spec)["Thing"]["required"].append("owner")

    _assert_reports(diff(base(), changed(bend)), "additive: model Thing: new field owner (str)", 0, "minor")


def test_new_optional_field(diff: Diff) -> None:
    """A new optional field is additive, whichever way the model travels."""
    new = changed(lambda s: _schemas(s)["Label"]["properties"].update(lang={"type": "string"}))
    _assert_reports(diff(base(), new), "additive: model Label: new optional field lang (str)", 0, "minor")


def test_field_removed_from_a_response_model(diff: Diff) -> None:
    """A field removed from a model that is read is breaking."""
    outcome = diff(base(), changed(lambda s: _schemas(s)["Thing"]["properties"].pop("name")))
    _assert_reports(outcome, "breaking: model Thing: field name removed", 1, "major")


def test_response_field_became_optional(diff: Diff) -> None:
    """A read field that may now be missing makes readers meet Unset: breaking."""
    outcome = diff(base(), changed(lambda s: _schemas(s)["Thing"].update(required=[])))
    _assert_reports(outcome, "breaking: model Thing: field id became optional (read from responses)", 1, "major")


def test_request_field_became_optional(diff: Diff) -> None:
    """A sent field that becomes optional still accepts every old call: additive."""
    outcome = diff(base(), changed(lambda s: _schemas(s)["NewThing"].update(required=[])))
    _assert_reports(outcome, "additive: model NewThing: field name became optional", 0, "minor")


def test_response_field_type_changed(diff: Diff) -> None:
    """A read field of another type is breaking."""
    outcome = diff(base(), changed(lambda s: _schemas(s)["Thing"]["properties"].update(id={"type": "integer"})))
    _assert_reports(outcome, "breaking: model Thing: field id type changed from str to int", 1, "major")


def test_response_field_type_widened_is_still_breaking(diff: Diff) -> None:
    """A read field that gains union members surprises readers: breaking, unlike a widened parameter."""
    new = changed(lambda s: _schemas(s)["Thing"]["properties"].update(id={"type": ["string", "integer"]}))
    _assert_reports(diff(base(), new), "breaking: model Thing: field id type changed from str to int | str", 1, "major")


def test_model_used_both_ways_is_judged_conservatively(diff: Diff) -> None:
    """A required field added to a model that is both sent and read is breaking."""

    def bend(spec: Spec) -> None:
        _schemas(spec)["Label"]["required"] = ["text"]

    outcome = diff(base(), changed(bend))
    _assert_reports(outcome, "breaking: model Label: field text became required (sent in requests)", 1, "major")


# --- enums ------------------------------------------------------------------------------------------


def test_enum_value_removed(diff: Diff) -> None:
    """An enum value removed is breaking (the member disappears)."""
    outcome = diff(base(), changed(lambda s: _schemas(s)["Kind"].update(enum=["small"])))
    _assert_reports(outcome, "breaking: enum Kind: value 'large' removed", 1, "major")


def test_enum_value_added_to_a_sent_enum(diff: Diff) -> None:
    """A new value in an enum that is only sent is additive."""
    outcome = diff(base(), changed(lambda s: _schemas(s)["Kind"]["enum"].append("huge")))
    _assert_reports(outcome, "additive: enum Kind: new value 'huge'", 0, "minor")


def test_enum_value_added_to_a_read_enum(diff: Diff) -> None:
    """A new value in an enum read from responses makes old clients fail to parse it: breaking."""
    outcome = diff(base(), changed(lambda s: _schemas(s)["Color"]["enum"].append("blue")))
    line = "breaking: enum Color: new value 'blue': old clients reject it when a response carries it"
    _assert_reports(outcome, line, 1, "major")


# --- auth settings ----------------------------------------------------------------------------------


def test_token_header_changed(diff: Diff) -> None:
    """Another token header is breaking: old clients send the token where it is not read."""
    new = changed(lambda s: s["components"]["securitySchemes"]["tok"].update(name="X-Token"))
    _assert_reports(
        diff(base(), new), "breaking: auth: token header changed from Authentication to X-Token", 1, "major"
    )


def test_scheme_word_changed(diff: Diff) -> None:
    """Another scheme word in the header value is breaking."""
    outcome = diff(base(), changed(lambda s: _ext(s).update(scheme="Token")))
    _assert_reports(outcome, "breaking: auth: scheme word changed from bearer to Token", 1, "major")


def test_login_credentials_moved(diff: Diff) -> None:
    """Credentials that travel elsewhere in the login request are breaking."""

    def bend(spec: Spec) -> None:
        spec["paths"]["/login"]["get"]["parameters"][1]["in"] = "header"

    outcome = diff(base(), changed(bend))
    _assert_reports(
        outcome, "breaking: auth: login password changed from query password to header password", 1, "major"
    )


def test_token_location_changed(diff: Diff) -> None:
    """A token read from another place in the login response is breaking."""

    def bend(spec: Spec) -> None:
        _ext(spec)["token"] = {"from": "json", "pointer": "/token"}
        spec["paths"]["/login"]["get"]["responses"]["200"] = _json(
            {"type": "object", "properties": {"token": {"type": "string"}}}
        )

    outcome = diff(base(), changed(bend))
    assert "breaking: auth: token location changed from body to json /token" in outcome.out.splitlines()
    assert outcome.code == 1


def test_invalid_on_gained_a_status(diff: Diff) -> None:
    """A new invalidOn status is breaking: old clients do not log in again on it."""
    outcome = diff(base(), changed(lambda s: _ext(s).update(invalidOn=[401, 419])))
    line = "breaking: auth: invalidOn gained 419: old clients do not log in again on it"
    _assert_reports(outcome, line, 1, "major")


def test_lifetime_changed_is_a_patch(diff: Diff) -> None:
    """Another token lifetime is absorbed by old clients (they log in again on 401): patch."""
    outcome = diff(base(), changed(lambda s: _ext(s).update(lifetime="PT1H")))
    _assert_reports(outcome, "patch: auth: lifetime changed from 64800 s to 3600 s", 0, "patch")


# --- helpers ----------------------------------------------------------------------------------------


def test_union_members_split_at_the_top_level_only() -> None:
    """Union members are split outside brackets, so list[A | B] stays one member."""
    assert union_members("list[A | B] | None") == {"list[A | B]", "None"}
    assert union_members("int") == {"int"}


@pytest.mark.parametrize(
    ("old", "new", "bump"),
    [
        ("1.0.0", "2.0.0", "major"),
        ("1.0.0", "1.1.0", "minor"),
        ("1.0.0", "1.0.1", "patch"),
        ("1.0", "1.0.0", "none"),
        ("2.0.0", "1.9.0", "downgrade"),
        ("latest", "1.0.0", "unknown"),
    ],
)
def test_version_bump(old: str, new: str, bump: str) -> None:
    """info.version moves are read as major.minor.patch."""
    assert version_bump(old, new) == bump


def test_semver_bump_is_the_worst_level() -> None:
    """One breaking change makes the bump major whatever else changed."""
    changes = [Change(Level.PATCH, "info", "x"), Change(Level.BREAKING, "model A", "removed")]
    assert semver_bump(changes) == "major"
    assert semver_bump([Change(Level.ADDITIVE, "model A", "new")]) == "minor"
    assert semver_bump([]) == "patch"


def test_api_gate_against_a_release_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The pipeline's gate fails on a breaking change since the release and names the spec and the cure."""
    for spec in ("synthetic-classic.yaml", "fleet-notes.yaml"):
        (tmp_path / spec).write_bytes((ROOT / "spec" / spec).read_bytes())
    assert gate(["--against", str(tmp_path)]) == 0
    released = (tmp_path / "fleet-notes.yaml").read_text(encoding="utf-8")
    (tmp_path / "fleet-notes.yaml").write_text(
        released.replace("        - general\n", "        - general\n        - tyres\n")
    )
    capsys.readouterr()
    assert gate(["--against", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "breaking: enum NoteCategory: value 'tyres' removed" in out
    assert "api gate: spec/fleet-notes.yaml breaks the API of" in out
