"""The audit of a rendered package: broken modules become problems, bidi controls become escapes."""

from __future__ import annotations

import re
import runpy
import warnings
from pathlib import Path

import pytest

from generator._audit import BIDI_CONTROLS, MAX_FINDINGS, audit_package
from generator._problems import Problem, Severity

DISPLAY = "specs/pets.yaml"
_MESSAGE = re.compile(
    r"the generated module (?P<module>\S+) would be broken \(line (?P<line>\d+): (?P<finding>.*)\); "
    r"this document cannot be generated as it is"
)
_NESTED = "".join("    " * depth + f"for x{depth} in range(1):\n" for depth in range(21)) + "    " * 21 + "pass\n"
_CLEAN = '''"""A module such as the templates render: imports (some twice), models, functions, methods."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from http import HTTPStatus

if TYPE_CHECKING:
    from collections.abc import Mapping

PATTERN = "\\\\d+"


class Pet:
    """A pet."""

    name: str
    tag: str | None = None

    def to_dict(self) -> dict[str, Any]:
        field_dict: dict[str, Any] = {"name": self.name}
        if self.tag is not None:
            field_dict["tag"] = self.tag
        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Pet:
        d = dict(src_dict)
        name = d.pop("name")
        pet = cls()
        pet.name = name
        return pet


def _parse(status: HTTPStatus, content: bytes) -> Pet | None:
    if status == HTTPStatus.OK:
        for key, value in json.loads(content).items():
            if key == "name":
                pet = Pet()
                pet.name = value
                return pet
    try:
        document = json.loads(content)
    except ValueError as error:
        raise RuntimeError(str(error)) from error
    with open(__file__) as handle:
        handle.read()
    return document
'''


def _write(package: Path, modules: dict[str, str]) -> Path:
    for relative, text in modules.items():
        path = package / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return package


def _parts(problem: Problem) -> tuple[str, int, str]:
    """(module, line, finding) out of a problem's message."""
    match = _MESSAGE.fullmatch(problem.message)
    assert match is not None, problem.message
    return match["module"], int(match["line"]), match["finding"]


def _audit(package: Path, origins: dict[str, str] | None = None) -> list[Problem]:
    return audit_package(package, origins or {}, DISPLAY)


# Clean code


def test_clean_package_has_no_problems(tmp_path: Path) -> None:
    """Ordinary rendered code (repeated imports, methods, locals, an escaped backslash) is not a finding."""
    package = _write(
        tmp_path / "pkg",
        {
            "__init__.py": '"""The package."""\n',
            "models/pet.py": _CLEAN,
            "api/default/get_pet.py": _CLEAN,
            "py.typed": "",
        },
    )
    assert _audit(package) == []
    assert (package / "models/pet.py").read_text(encoding="utf-8") == _CLEAN, "a clean module is left as it was"


def test_empty_package_has_no_problems(tmp_path: Path) -> None:
    """A package without modules has nothing to report."""
    (tmp_path / "pkg").mkdir()
    assert _audit(tmp_path / "pkg") == []


# Each kind of finding, with its words and its line


FINDINGS = [
    pytest.param("x = 1\ny = (\n", 2, ["'(' was never closed"], id="syntax-error"),
    pytest.param('x = 1\nPATTERN = "\\d+"\n', 2, ["invalid escape sequence", "\\d"], id="invalid-escape"),
    pytest.param("\n\ndef f(a, a):\n    pass\n", 3, ["duplicate argument 'a'"], id="duplicate-argument"),
    pytest.param(_NESTED, 21, ["too many statically nested blocks"], id="nested-blocks"),
    pytest.param("x = 1\nprint(sep='', sep='')\n", 2, ["repeated", "sep"], id="repeated-keyword"),
    pytest.param(
        "from json import loads\n\nloads = 1\n",
        1,
        ["the module binds 'loads' 2 times (import json:loads, line 3)"],
        id="module-binds-twice",
    ),
    pytest.param(
        "from typing import Any\n\nif True:\n    from typing import Optional as Any\n",
        1,
        ["the module binds 'Any' 2 times (import typing:Any, import typing:Optional)"],
        id="module-imports-two-things-as-one-name",
    ),
    pytest.param(
        "def pet() -> None:\n    pass\n\n\nclass pet:\n    pass\n",
        1,
        ["the module binds 'pet' 2 times (line 1, line 5)"],
        id="function-and-class-of-one-name",
    ),
    pytest.param(
        "\n\nclass Pet:\n    name: str\n    tag: str\n    name: int\n",
        3,
        ["class Pet defines 'name' 2 times"],
        id="class-field-twice",
    ),
    pytest.param(
        "class Pet:\n    name: str\n\n    def name(self) -> str:\n        return ''\n",
        1,
        ["class Pet defines 'name' 2 times"],
        id="class-field-and-method",
    ),
    pytest.param(
        "import json\n\n\ndef dump(json: str) -> str:\n    return json\n",
        4,
        ["parameter 'json' of dump() hides the module's own 'json'"],
        id="parameter-hides-module-name",
    ),
    pytest.param(
        "import json\n\n\nclass Pet:\n    def to(self, *, json: str) -> str:\n        return json\n",
        5,
        ["parameter 'json' of to() hides the module's own 'json'"],
        id="method-parameter-hides-module-name",
    ),
    pytest.param(
        "def f(value: str) -> str:\n    value = 'replaced'\n    return value\n",
        1,
        ["f() overwrites its parameter 'value'"],
        id="function-overwrites-parameter",
    ),
    pytest.param(
        "def f(*items: int) -> None:\n    if items:\n        for items in [()]:\n            pass\n",
        1,
        ["f() overwrites its parameter 'items'"],
        id="loop-in-block-overwrites-parameter",
    ),
    pytest.param(
        "LIMIT = 10\n\n\ndef f() -> int:\n    LIMIT = 5\n    return LIMIT\n",
        4,
        ["f() hides the module's own 'LIMIT' with a local variable"],
        id="local-hides-module-name",
    ),
    pytest.param(
        "import io\n\n\ndef f() -> None:\n    try:\n        pass\n    except OSError as io:\n        pass\n",
        4,
        ["f() hides the module's own 'io' with a local variable"],
        id="except-name-hides-module-name",
    ),
    pytest.param(
        "import io\n\n\nasync def f() -> None:\n    with open('x') as io:\n        pass\n",
        4,
        ["f() hides the module's own 'io' with a local variable"],
        id="with-name-in-async-function-hides-module-name",
    ),
]


@pytest.mark.parametrize(("source", "line", "words"), FINDINGS)
def test_each_finding(tmp_path: Path, source: str, line: int, words: list[str]) -> None:
    """Each kind of broken module gives exactly one problem naming the module, the line and what is wrong."""
    package = _write(tmp_path / "pkg", {"__init__.py": "", "api/default/get_pet.py": source})
    problems = _audit(package, {"api/default/get_pet.py": "/paths/~1pets/get"})
    assert len(problems) == 1, [problem.message for problem in problems]
    (problem,) = problems
    assert (problem.file, problem.pointer, problem.severity) == (DISPLAY, "/paths/~1pets/get", Severity.ERROR)
    module, found_line, finding = _parts(problem)
    assert (module, found_line) == ("api/default/get_pet.py", line)
    for word in words:
        assert word in finding


def test_null_byte_is_a_finding(tmp_path: Path) -> None:
    """Source that cannot even be parsed (a NUL byte) is reported, not raised."""
    package = _write(tmp_path / "pkg", {"bad.py": "x = 1\0\n"})
    (problem,) = _audit(package)
    module, _, finding = _parts(problem)
    assert module == "bad.py"
    assert "null bytes" in finding


def test_several_findings_of_one_module_in_order(tmp_path: Path) -> None:
    """A module's findings come module-wide first (by name), then scope by scope in source order."""
    source = (
        "import json\n"
        "import os\n"
        "json = 1\n"
        "os = 2\n"
        "\n"
        "\n"
        "class Pet:\n"
        "    a: int\n"
        "    a: int\n"
        "\n"
        "\n"
        "def f(json: str, b: int) -> None:\n"
        "    b = 1\n"
        "    os = 3\n"
    )
    package = _write(tmp_path / "pkg", {"m.py": source})
    assert [_parts(problem)[1:] for problem in _audit(package)] == [
        (1, "the module binds 'json' 2 times (import :json, line 3)"),
        (1, "the module binds 'os' 2 times (import :os, line 4)"),
        (7, "class Pet defines 'a' 2 times"),
        (12, "parameter 'json' of f() hides the module's own 'json'"),
        (12, "f() overwrites its parameter 'b'"),
        (12, "f() hides the module's own 'os' with a local variable"),
    ]


def test_syntax_error_stops_the_other_checks(tmp_path: Path) -> None:
    """A module that does not compile gives that one finding, not its shadowing as well."""
    package = _write(tmp_path / "pkg", {"m.py": "import json\njson = 1\n\ndef f(a, a):\n    pass\n"})
    assert [_parts(problem)[1:] for problem in _audit(package)] == [
        (4, "duplicate argument 'a' in function definition"),
    ]


def test_invalid_escape_is_found_under_the_default_warning_filters(tmp_path: Path) -> None:
    """Outside pytest (whose filters make every warning an error) the invalid escape is found all the same."""
    package = _write(tmp_path / "pkg", {"m.py": 'PATTERN = "\\d+"\n'})
    with warnings.catch_warnings():
        warnings.resetwarnings()
        warnings.simplefilter("ignore", DeprecationWarning)
        problems = _audit(package)
    assert [_parts(problem)[1] for problem in problems] == [1]
    assert "invalid escape sequence" in _parts(problems[0])[2]


# The pointer of what a module was generated from


def test_origin_pointer_is_passed_through(tmp_path: Path) -> None:
    """Each problem carries the pointer its module's relative path maps to, or none; and the display name."""
    broken = "def f(a, a):\n    pass\n"
    package = _write(
        tmp_path / "pkg",
        {"api/pets/list_pets.py": broken, "models/pet.py": broken, "unknown.py": broken, "fine.py": _CLEAN},
    )
    origins = {
        "api/pets/list_pets.py": "/paths/~1pets/get",
        "models/pet.py": "/components/schemas/Pet",
        "fine.py": "/never/used",
        "pet.py": "/not/this/one",
    }
    problems = audit_package(package, origins, "the spec")
    assert [(problem.file, problem.pointer, _parts(problem)[0]) for problem in problems] == [
        ("the spec", "/paths/~1pets/get", "api/pets/list_pets.py"),
        ("the spec", "/components/schemas/Pet", "models/pet.py"),
        ("the spec", "", "unknown.py"),
    ]


# The cap and the order


def test_findings_are_capped_in_path_order(tmp_path: Path) -> None:
    """Many broken modules give MAX_FINDINGS problems: those of the first modules in path order."""
    broken = "def f(a, a):\n    pass\n"
    relatives = [f"api/tag_{index % 3}/op_{index:02d}.py" for index in range(MAX_FINDINGS + 7)]
    relatives += ["zz_last.py", "a_first.py", "models/m.py"]
    package = _write(tmp_path / "pkg", {relative: broken for relative in reversed(relatives)})
    expected = sorted(Path(relative) for relative in relatives)[:MAX_FINDINGS]
    problems = _audit(package, {relative: f"/origin/{relative}" for relative in relatives})
    assert len(problems) == MAX_FINDINGS
    assert [_parts(problem)[0] for problem in problems] == [path.as_posix() for path in expected]
    assert [problem.pointer for problem in problems] == [f"/origin/{path.as_posix()}" for path in expected]
    assert problems[0].message.startswith("the generated module a_first.py ")


def test_cap_counts_findings_not_modules(tmp_path: Path) -> None:
    """The cap applies to findings: a module with many of them fills it on its own."""
    source = "".join(f"import os as n{index}\nn{index} = {index}\n" for index in range(MAX_FINDINGS + 5))
    package = _write(tmp_path / "pkg", {"a.py": source, "b.py": "def f(a, a):\n    pass\n"})
    problems = _audit(package)
    assert len(problems) == MAX_FINDINGS
    assert {_parts(problem)[0] for problem in problems} == {"a.py"}


# Bidirectional controls


def test_bidi_controls_become_escapes(tmp_path: Path) -> None:
    """Every bidi control is rewritten as its escape: the file changes, the strings at run time do not."""
    controls = "".join(sorted(BIDI_CONTROLS))
    assert len(controls) == 14
    source = f'"""Pets {controls} here."""\n\n# a comment {controls}\nVALUE = "a{controls}b"\nOTHER = \'{controls}\'\n'
    package = _write(tmp_path / "pkg", {"api/default/pets.py": source, "clean.py": _CLEAN})
    assert _audit(package) == []
    path = package / "api/default/pets.py"
    rewritten = path.read_text(encoding="utf-8")
    assert rewritten != source
    assert not BIDI_CONTROLS & set(rewritten)
    assert rewritten.isascii()
    for control in controls:
        assert f"\\u{ord(control):04x}" in rewritten
    assert "# a comment \\u061c\\u200e" in rewritten
    namespace = runpy.run_path(str(path))
    assert namespace["VALUE"] == f"a{controls}b"
    assert namespace["OTHER"] == controls
    assert namespace["__doc__"] == f"Pets {controls} here."
    assert (package / "clean.py").read_text(encoding="utf-8") == _CLEAN


def test_bidi_controls_rewritten_in_broken_modules_too(tmp_path: Path) -> None:
    """The rewrite happens before the checks: a broken module is neutralised and still reported."""
    source = 'NOTE = "\u202eevil"\n\n\ndef f(a, a):\n    pass\n'
    package = _write(tmp_path / "pkg", {"m.py": source})
    assert [_parts(problem)[1:] for problem in _audit(package)] == [
        (4, "duplicate argument 'a' in function definition"),
    ]
    assert (package / "m.py").read_text(encoding="utf-8") == source.replace("\u202e", "\\u202e")


# Order and cap over a package of many modules


def _mixed_package(package: Path) -> Path:
    modules = {f"api/tag/op_{index}.py": _CLEAN for index in range(6)}
    modules |= {
        "api/tag/op_3.py": "def f(a, a):\n    pass\n",
        "api/tag/op_4.py": "x = (\n",
        "models/a.py": "class A:\n    x: int\n    x: int\n",
        "models/b.py": 'NOTE = "\u2066b\u2069"\n',
        "models/c.py": "LIMIT = 1\n\n\ndef f(LIMIT: int) -> None:\n    LIMIT = 2\n",
        "z.py": "".join(f"import os as n{index}\nn{index} = 0\n" for index in range(MAX_FINDINGS)),
    }
    return _write(package, modules)


def test_problems_come_in_path_order_up_to_the_cap(tmp_path: Path) -> None:
    """A package of clean and broken modules gives its findings in path order, capped, and rewrites bidi controls."""
    origins = {"models/a.py": "/components/schemas/A", "api/tag/op_3.py": "/paths/~1op3/get"}
    package = _mixed_package(tmp_path / "pkg")
    problems = audit_package(package, origins, DISPLAY)
    assert len(problems) == MAX_FINDINGS
    assert [_parts(problem)[0] for problem in problems[:7]] == [
        "api/tag/op_3.py",
        "api/tag/op_4.py",
        "models/a.py",
        "models/c.py",
        "models/c.py",
        "models/c.py",
        "z.py",
    ]
    assert (package / "models/b.py").read_text(encoding="utf-8") == 'NOTE = "\\u2066b\\u2069"\n'


def test_meant_redefinitions_are_not_findings(tmp_path: Path) -> None:
    """Valid code that binds a name again on purpose: ``import a.b`` after ``import a``, a property's
    setter, ``typing.overload``, a parameter normalised from its own value."""
    source = (
        "import os\n"
        "import os.path\n"
        "from typing import overload\n\n\n"
        "class Box:\n"
        "    @property\n"
        "    def size(self) -> int:\n"
        "        return 1\n\n"
        "    @size.setter\n"
        "    def size(self, value: int) -> None:\n"
        "        pass\n\n"
        "    @overload\n"
        "    def get(self, key: int) -> int: ...\n"
        "    @overload\n"
        "    def get(self, key: str) -> str: ...\n"
        "    def get(self, key: int | str) -> int | str:\n"
        "        return key\n\n\n"
        "def clean(value: str, count: int) -> str:\n"
        "    value = value.strip()\n"
        "    count += 1\n"
        "    return os.path.join(value, str(count))\n"
    )
    package = _write(tmp_path / "pkg", {"m.py": source})
    assert _audit(package) == []


def test_a_future_import_binds_nothing_a_local_can_hide(tmp_path: Path) -> None:
    """``from __future__ import annotations`` is a compiler directive: a model's ``annotations`` field is no clash."""
    source = (
        "from __future__ import annotations\n\n\n"
        "def to_dict(annotations: list[str]) -> dict[str, list[str]]:\n"
        "    return {'annotations': annotations}\n\n\n"
        "def from_dict(d: dict[str, list[str]]) -> list[str]:\n"
        "    annotations = d['annotations']\n"
        "    return annotations\n"
    )
    package = _write(tmp_path / "pkg", {"m.py": source})
    assert _audit(package) == []


def test_a_bidi_control_in_a_raw_string_is_a_finding(tmp_path: Path) -> None:
    """In a raw string the escape would be six characters, not the control: refused instead of changed."""
    package = _write(tmp_path / "pkg", {"m.py": 'PATTERN = r"a\u202eb"\n'})
    assert [_parts(problem)[1:] for problem in _audit(package)] == [
        (0, "a bidirectional control character is in a string that cannot hold its escape"),
    ]
