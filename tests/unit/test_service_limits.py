"""x-service-limits: read from the document root or a security scheme, the strictest kept, bad ones refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from generator._problems import Severity
from generator._security import resolve_security
from generator._service_limits import resolve_service_limits
from tests.conftest import Outcome, minimal_spec, write_spec

ROOT = "/x-service-limits"
ON_SCHEME = "/components/securitySchemes/tok/x-service-limits"


def _with(root: object = None, scheme: object = None) -> dict[str, Any]:
    spec = minimal_spec()
    if root is not None:
        spec["x-service-limits"] = root
    if scheme is not None:
        spec["components"]["securitySchemes"]["tok"]["x-service-limits"] = scheme
    return spec


def test_a_document_without_the_extension_has_no_limits():
    assert resolve_service_limits(minimal_spec(), "spec.yaml") == (None, [])


@pytest.mark.parametrize(("per", "seconds"), [("PT1M", 60.0), ("PT1S", 1.0), ("P1D", 86_400.0), (2.5, 2.5), (10, 10.0)])
def test_the_window_is_a_duration_or_seconds(per: object, seconds: float):
    limits, problems = resolve_service_limits(_with(root={"requests": 100, "per": per}), "spec.yaml")
    assert problems == []
    assert limits is not None
    assert (limits.requests, limits.per, limits.pointer) == (100, seconds, ROOT)


def test_a_limit_on_the_security_scheme_counts_like_one_on_the_document():
    limits, problems = resolve_service_limits(_with(scheme={"requests": 5, "per": "PT1S", "scope": "account"}), "s")
    assert problems == []
    assert limits is not None
    assert (limits.requests, limits.per, limits.pointer) == (5, 1.0, ON_SCHEME)


def test_the_strictest_of_several_limits_wins_and_the_others_are_named():
    # 100/min (1.67/s) is stricter than 10 per 5 s (2/s).
    spec = _with(root={"requests": 100, "per": "PT1M"}, scheme={"requests": 10, "per": 5})
    model = resolve_security(spec, "spec.yaml")
    assert not isinstance(model, list)
    assert model.service_limits is not None
    assert (model.service_limits.requests, model.service_limits.per) == (100, 60.0)
    [warning] = [w for w in model.warnings if "x-service-limits" in w.message]
    assert warning.severity is Severity.WARNING
    assert warning.pointer == ON_SCHEME
    assert "10 per 5s is looser than 100 per 60s at /x-service-limits" in warning.message


def test_two_equal_limits_are_no_warning():
    spec = _with(root={"requests": 10, "per": "PT10S"}, scheme={"requests": 10, "per": 10})
    model = resolve_security(spec, "spec.yaml")
    assert not isinstance(model, list)
    assert not [w for w in model.warnings if "x-service-limits" in w.message]


BAD: dict[str, tuple[dict[str, Any] | None, dict[str, Any] | None, str, str]] = {
    "no requests": ({"per": "PT1M"}, None, ROOT, "'requests' is a required property"),
    "zero requests": ({"requests": 0, "per": "PT1M"}, None, f"{ROOT}/requests", "less than the minimum of 1"),
    "requests as text": ({"requests": "100", "per": "PT1M"}, None, f"{ROOT}/requests", "is not of type 'integer'"),
    "months": ({"requests": 1, "per": "P1M"}, None, f"{ROOT}/per", "years or months"),
    "not a duration": ({"requests": 1, "per": "a minute"}, None, f"{ROOT}/per", "not an ISO-8601 duration"),
    "zero window": ({"requests": 1, "per": 0}, None, f"{ROOT}/per", "x-service-limits:"),
    "unknown key": ({"requests": 1, "per": 1, "burst": 5}, None, ROOT, "'burst' was unexpected"),
    "unknown scope": (None, {"requests": 1, "per": 1, "scope": "user"}, f"{ON_SCHEME}/scope", "'account' was expected"),
    "not an object": ([100, "PT1M"], None, ROOT, "is not of type 'object'"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_limit_is_refused_with_its_pointer(case: str, tmp_path: Path, cli: Callable[..., Outcome]):
    root, scheme, pointer, words = BAD[case]
    path = write_spec(tmp_path / "limits.yaml", _with(root=root, scheme=scheme))
    out = tmp_path / "out"
    result = cli("generate", path, "--output", out)
    assert result.code == 2
    assert f"limits.yaml#{pointer}" in result.err, result.err
    assert words in result.err
    assert "Traceback" not in result.err
    assert not out.exists()
