"""load_document refuses values no JSON document can hold; a quick look at the text spares most documents the walk.

The walk over every value costs about half a second on a 3,000-operation document, so it runs only
when a regular expression finds text that could spell such a value. These tests hold the two
together: every number the parsers turn into a float that is not finite is refused, whatever the
shortcut says, and ordinary words that merely look like exponents do not trigger the walk.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator import _document
from generator._document import check_references, load_document
from generator._jsonish import load_yaml
from generator._problems import Problem, Severity


def _load(tmp_path: Path, text: str, name: str) -> object:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_document(path, name)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ('{"openapi": "3.1.0", "x-n": 1e400}', "d.json"),
        ('{"openapi": "3.1.0", "x-n": -1.5E+400}', "d.json"),
        ('{"openapi": "3.1.0", "x-n": NaN}', "d.json"),
        ('{"openapi": "3.1.0", "x-n": -Infinity}', "d.json"),
        ('{"openapi": "3.1.0", "x-n": ' + "9" * 250 + "e60}", "d.json"),
        ('{"openapi": "3.1.0", "x-n": ' + "9" * 320 + ".5}", "d.json"),
        ("openapi: 3.1.0\nx-n: .inf\n", "d.yaml"),
        ("openapi: 3.1.0\nx-n: -.Inf\n", "d.yaml"),
        ("openapi: 3.1.0\nx-n: .NaN\n", "d.yaml"),
        ("openapi: 3.1.0\nx-n: 1_e400\n", "d.yaml"),
        ("openapi: 3.1.0\nx-n: 1.e400\n", "d.yaml"),
        ("openapi: 3.1.0\nx-n: " + "9_" * 320 + "0.0\n", "d.yaml"),
    ],
)
def test_numbers_that_are_not_finite_are_refused_with_their_pointer(tmp_path: Path, text: str, name: str) -> None:
    """Each spelling of an infinite or NaN number, JSON and YAML, is refused at /x-n."""
    result = _load(tmp_path, text, name)
    assert isinstance(result, Problem), result
    assert result.pointer == "/x-n"
    assert "not a JSON number" in result.message


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ('{"openapi": "3.1.0", "info": {"title": "x\\ud800", "version": "1"}}', "d.json"),
        ('openapi: 3.1.0\ninfo: {title: "x\\U0000DFFF", version: "1"}\n', "d.yaml"),
    ],
)
def test_lone_surrogates_are_refused(tmp_path: Path, text: str, name: str) -> None:
    """An escaped lone UTF-16 surrogate is refused at the text that holds it."""
    result = _load(tmp_path, text, name)
    assert isinstance(result, Problem), result
    assert result.pointer == "/info/title"


def test_words_that_look_like_exponents_skip_the_walk(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """page100, Item1e5 and a 1e50 float: nothing could overflow, so the values are not walked."""
    walked: list[object] = []
    monkeypatch.setattr(_document, "walk", lambda root: walked.append(root) or iter(()))
    text = json.dumps({"openapi": "3.1.0", "paths": {"/page100/resource200": {}}, "x-a": "Item1e5", "x-b": 1e50})
    assert isinstance(_load(tmp_path, text, "d.json"), dict)
    assert walked == []


_DIGITS = st.text(alphabet="0123456789", min_size=1, max_size=400)


@st.composite
def _number_texts(draw: st.DrawFn) -> str:
    """Decimal number texts, with long mantissas, fractions, exponents of any length, YAML separators."""
    whole = draw(_DIGITS)
    if draw(st.booleans()):
        whole = "_".join(whole[i : i + 3] for i in range(0, len(whole), 3))
    fraction = draw(st.one_of(st.just(""), _DIGITS.map(lambda digits: "." + digits[:20])))
    exponent = draw(st.one_of(st.just(""), st.integers(-2000, 2000).map(lambda power: f"e{power:+d}")))
    return whole + fraction + exponent


@settings(max_examples=300, deadline=None)
@given(number=_number_texts())
def test_a_number_is_refused_exactly_when_it_is_not_finite(
    tmp_path_factory: pytest.TempPathFactory, number: str
) -> None:
    """Whatever the spelling, YAML and JSON: refused if and only if the parser reads a float that is not finite."""
    directory = tmp_path_factory.mktemp("numbers")
    yaml_text = f"openapi: 3.1.0\nx-n: {number}\n"
    parsed = load_yaml(yaml_text)
    assert isinstance(parsed, dict)
    assert isinstance(_load(directory, yaml_text, "d.yaml"), Problem) is _not_finite(parsed["x-n"])
    try:
        json_value: object = json.loads(number)
    except ValueError:
        return  # not a JSON number (leading zeros, separators, an integer past Python's digit limit)
    json_text = f'{{"openapi": "3.1.0", "x-n": {number}}}'
    assert isinstance(_load(directory, json_text, "d.json"), Problem) is _not_finite(json_value)


def _not_finite(value: object) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def test_yaml_timestamps_stay_the_text_they_were_written_as(tmp_path: Path) -> None:
    """JSON has no dates: an unquoted ``2022-01-01`` (an ``example``, an enum value) is read as text."""
    text = "openapi: 3.1.0\nx-a: 2022-01-01\nx-b: [2001-12-14t21:59:43.10-05:00, '2022-01-01', 2022]\n"
    document = _load(tmp_path, text, "doc.yaml")
    assert document == {
        "openapi": "3.1.0",
        "x-a": "2022-01-01",
        "x-b": ["2001-12-14t21:59:43.10-05:00", "2022-01-01", 2022],
    }


def _with_references() -> dict[str, object]:
    nowhere = {"$ref": "#/components/examples/Nowhere"}
    return {
        "openapi": "3.1.0",
        "paths": {
            "/a": {
                "get": {
                    "responses": {
                        "200": {
                            "description": "ok",
                            "headers": {"x-rate-limit": {"$ref": "#/components/headers/Missing"}},
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "properties": {"example": {"$ref": "#/components/schemas/Gone"}},
                                        "example": {"LogDevice": {"$ref": "#/literal/value"}},
                                        "examples": [{"$ref": "https://example.com/literal"}],
                                    },
                                    "examples": {"first": nowhere, "second": {"value": nowhere}},
                                }
                            },
                        }
                    }
                }
            }
        },
        "x-webhooks": {"hook": {"$ref": "#/components/pathItems/Nowhere"}},
    }


@pytest.mark.parametrize("strict", [True, False])
def test_references_in_examples_and_extensions_are_data_or_harmless(strict: bool) -> None:
    """A ``$ref`` in an example value or an extension is data; one among ``examples`` is only a warning."""
    content = "/paths/~1a/get/responses/200/content/application~1json"
    problems = check_references(_with_references(), "doc.yaml", strict=strict)
    assert [(p.pointer, p.severity) for p in problems] == [
        ("/paths/~1a/get/responses/200/headers/x-rate-limit/$ref", Severity.ERROR),
        (f"{content}/schema/properties/example/$ref", Severity.ERROR),
        (f"{content}/examples/first/$ref", Severity.ERROR if strict else Severity.WARNING),
    ]
    if not strict:
        assert problems[-1].message.endswith("(in examples, which are not generated)")
