"""Bad x-token-lifecycle extensions and bad documents: exit 2, the file and JSON pointer named, nothing written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Outcome, minimal_spec, write_spec

EXT = "/components/securitySchemes/tok/x-token-lifecycle"


def _ext(spec: dict[str, Any]) -> dict[str, Any]:
    return spec["components"]["securitySchemes"]["tok"]["x-token-lifecycle"]


def _second_carrier(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]
    schemes["other"] = dict(schemes["tok"], name="X-Other")
    spec["security"] = [{"tok": []}, {"other": []}]


def _value_without_token(spec: dict[str, Any]) -> None:
    del _ext(spec)["scheme"]
    _ext(spec)["value"] = "bearer"


CASES: dict[str, tuple[Callable[[dict[str, Any]], None], str, str]] = {
    "no lifetime": (lambda s: _ext(s).pop("lifetime"), EXT, "'lifetime' is a required property"),
    "unknown key": (lambda s: _ext(s).update(refresh="soon"), EXT, "Additional properties"),
    "login operation missing": (
        lambda s: _ext(s)["login"].update(operationId="signIn"),
        f"{EXT}/login/operationId",
        "no operation has operationId 'signIn'",
    ),
    "username parameter missing": (
        lambda s: _ext(s)["login"].update(username="login_name"),
        f"{EXT}/login/username",
        "named 'login_name'",
    ),
    "password not a string": (lambda s: _ext(s)["login"].update(password=7), f"{EXT}/login/password", "7"),
    "malformed duration": (lambda s: _ext(s).update(lifetime="18 hours"), f"{EXT}/lifetime", "not an ISO-8601"),
    "negative duration": (lambda s: _ext(s).update(lifetime="-PT1H"), f"{EXT}/lifetime", "negative"),
    "zero duration": (lambda s: _ext(s).update(lifetime="PT0S"), f"{EXT}/lifetime", "zero"),
    "months are ambiguous": (lambda s: _ext(s).update(lifetime="P1M"), f"{EXT}/lifetime", "months"),
    "json token without pointer": (lambda s: _ext(s).update(token={"from": "json"}), f"{EXT}/token", "valid"),
    "expiresIn with a text token": (
        lambda s: _ext(s).update(expiresIn="/expires_in"),
        f"{EXT}/expiresIn",
        "JSON login response",
    ),
    "invalidOn a success status": (lambda s: _ext(s).update(invalidOn=[200]), f"{EXT}/invalidOn/0", "400"),
    "login requires the token": (
        lambda s: s["paths"]["/login"]["get"].pop("security"),
        "/paths/~1login/get/security",
        "itself requires a token",
    ),
    "value without its token": (
        _value_without_token,
        f"{EXT}/value",
        "'{token}' exactly once",
    ),
    "value and scheme": (lambda s: _ext(s).update(value="T {token}"), f"{EXT}/value", "not both"),
    "header name with a space": (
        lambda s: s["components"]["securitySchemes"]["tok"].update(name="Auth Token"),
        "/components/securitySchemes/tok/name",
        "RFC 9110 token",
    ),
    "two carriers": (
        _second_carrier,
        "/components/securitySchemes/tok/x-token-lifecycle/login",  # the YAML is written with sorted keys
        "only one security scheme may log in",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_extension_is_reported_with_its_pointer(case: str, tmp_path: Path, cli: Callable[..., Outcome]) -> None:
    """Each malformed extension exits 2 naming the spec file and the JSON pointer, and writes no output."""
    bend, pointer, words = CASES[case]
    spec = minimal_spec()
    bend(spec)
    path = write_spec(tmp_path / "bent.yaml", spec)
    out = tmp_path / "out"
    result = cli("generate", path, "--output", out)
    assert result.code == 2
    assert f"bent.yaml#{pointer}" in result.err, result.err
    assert words in result.err
    assert "Traceback" not in result.err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [path], "no staging directory is left behind"


def test_spec_without_security_needs_no_extension(tmp_path: Path, cli: Callable[..., Outcome]) -> None:
    """A document whose operations require no security generates a client without a login."""
    spec = minimal_spec()
    del spec["security"]
    del spec["components"]
    result = cli("generate", write_spec(tmp_path / "open.yaml", spec), "--output", tmp_path / "open_client")
    assert result.code == 0, result.err
    assert (tmp_path / "open_client" / "open_client" / "client.py").is_file()


DOCUMENT_CASES: dict[str, tuple[str, str, str]] = {
    "invalid yaml": ("doc.yaml", "openapi: [3.1\n", "invalid YAML"),
    "not a mapping": ("doc.yaml", "- 1\n- 2\n", "must be a mapping"),
    "invalid json": ("doc.json", '{"openapi": ', "invalid JSON at line 1"),
    "no info": ("doc.yaml", "openapi: 3.1.0\npaths: {}\n", "'info' is a required property"),
    "swagger": ("doc.yaml", "swagger: '2.0'\ninfo: {title: x, version: '1'}\npaths: {}\n", "Swagger 2.0"),
    "billion laughs": (
        "doc.yaml",
        "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + "".join(f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True))
        + "openapi: 3.1.0\n",
        "expands to more than",
    ),
}


@pytest.mark.parametrize("case", sorted(DOCUMENT_CASES))
def test_bad_document_is_reported(case: str, tmp_path: Path, cli: Callable[..., Outcome]) -> None:
    """Unparseable or invalid documents exit 2 with a one-paragraph message naming the file."""
    name, text, words = DOCUMENT_CASES[case]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = cli("generate", path, "--output", tmp_path / "out")
    assert result.code == 2
    assert f"error: {name}" in result.err
    assert words in result.err, result.err
    assert not (tmp_path / "out").exists()


def test_unreadable_spec_is_reported(tmp_path: Path, cli: Callable[..., Outcome]) -> None:
    """A spec path that does not exist exits 2 naming it."""
    result = cli("generate", tmp_path / "absent.yaml", "--output", tmp_path / "out")
    assert result.code == 2
    assert "absent.yaml: cannot read the file" in result.err


def test_foreign_output_directory_is_never_replaced(tmp_path: Path, cli: Callable[..., Outcome]) -> None:
    """An existing directory that bearer-codegen did not write is refused, its files untouched."""
    out = tmp_path / "precious"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    result = cli("generate", write_spec(tmp_path / "s.yaml", minimal_spec()), "--output", out)
    assert result.code == 2
    assert "not generated by bearer-codegen" in result.err
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_security_warnings_name_their_pointer_and_generation_goes_on(
    tmp_path: Path, cli: Callable[..., Outcome]
) -> None:
    """A requirement the client cannot satisfy as written is a warning with its pointer, not a refusal."""
    spec = minimal_spec()
    password = {"type": "oauth2", "flows": {"password": {"tokenUrl": "https://idp.example/token", "scopes": {}}}}
    spec["components"]["securitySchemes"].update(a=password, b=password, mtls={"type": "mutualTLS"})
    spec["paths"]["/things"]["get"]["security"] = [{"a": [], "b": []}, {"tok": [], "mtls": []}]
    result = cli("generate", write_spec(tmp_path / "warn.yaml", spec), "--output", tmp_path / "warn_client")
    assert result.code == 0, result.err
    assert "warning: warn.yaml#/paths/~1things/get/security/0: a requirement that needs two logins" in result.err
    assert "warning: warn.yaml#/components/securitySchemes/mtls: the mutualTLS scheme" in result.err
    client = (tmp_path / "warn_client" / "warn_client" / "client.py").read_text(encoding="utf-8")
    assert '"tok": SecurityScheme(' in client
    assert '"a": SecurityScheme(' not in client, "a scheme only the dropped requirement named is not generated"
    listing = (tmp_path / "warn_client" / "warn_client" / "api" / "default" / "list_things.py").read_text(
        encoding="utf-8"
    )
    assert "{SECURITY_EXTENSION: (('tok',),)}" in listing.replace('"', "'")
