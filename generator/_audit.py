"""Inspect the rendered package before anything is formatted or swapped in: refuse code that is broken.

The templates escape document text and :mod:`._names` keeps document names clear of the
templates' own, but a document can still steer the output somewhere no template anticipated
(arrays nested deeper than Python's 20 nested blocks, a ``x-enum-varnames`` entry that is not an
identifier, two derived names that meet). Rather than write such a package, every module is
compiled and its names are checked for the shadowing that type checkers report only later; each
finding becomes a problem naming the generated file and, where known, the document's pointer.

The same pass neutralises bidirectional-control characters (the "Trojan Source" attack): text
from the document may carry them into docstrings, where they would make the code display
differently from how it runs. Each is written as its ``\\uXXXX`` escape instead, which gives the
same string at run time.
"""

from __future__ import annotations

import ast
import re
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import cast

from ._problems import Problem

__all__ = ["BIDI_CONTROLS", "Finding", "audit_package"]

BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029")
"""Bidirectional formatting characters, and the line/paragraph separators some editors break lines at."""
_BIDI = re.compile(f"[{''.join(sorted(BIDI_CONTROLS))}]")
MAX_FINDINGS = 20


Finding = tuple[int, str]
"""A line of a generated module and what is wrong there."""


def audit_package(package_dir: Path, origins: Mapping[str, str], display: str) -> list[Problem]:
    """Neutralise bidi controls in, and check, every module of ``package_dir``; the problems, in path order.

    ``origins`` maps a module path relative to the package (``api/default/x.py``) to the pointer
    of what it was generated from.
    """
    problems: list[Problem] = []
    for path in sorted(package_dir.rglob("*.py"), key=lambda path: path.relative_to(package_dir).parts):
        relative = path.relative_to(package_dir).as_posix()
        for line, message in _audit_module(path, relative):
            problems.append(
                Problem(
                    display,
                    origins.get(relative, ""),
                    f"the generated module {relative} would be broken (line {line}: {message}); "
                    "this document cannot be generated as it is",
                )
            )
    return problems[:MAX_FINDINGS]


def _audit_module(path: Path, relative: str) -> list[Finding]:
    """Escape the bidi controls of a rendered module (rewriting it) and return its findings."""
    text = path.read_text(encoding="utf-8")
    findings: list[Finding] = []
    if _BIDI.search(text):
        escaped = _BIDI.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
        if not _same_code(text, escaped):
            # In a raw string (or a bytes literal) the escape would not mean the character.
            findings.append((0, "a bidirectional control character is in a string that cannot hold its escape"))
        text = escaped
        path.write_text(text, encoding="utf-8")
    return findings + list(_findings(text, relative))


def _same_code(before: str, after: str) -> bool:
    """True when ``after`` parses to the same tree as ``before`` (comments aside)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            original = ast.dump(ast.parse(before))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return True  # nothing to compare with: the audit reports why it does not parse
        try:
            return ast.dump(ast.parse(after)) == original
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return False


def _findings(text: str, relative: str) -> Iterator[Finding]:
    try:
        with warnings.catch_warnings():
            # An invalid escape sequence is a DeprecationWarning on 3.11, a SyntaxWarning from 3.12,
            # and an error in a future Python.
            warnings.simplefilter("error", SyntaxWarning)
            warnings.simplefilter("error", DeprecationWarning)
            tree = ast.parse(text, relative)
        # Compiling the tree finds what parsing does not: duplicate parameters, too deeply nested blocks.
        compile(tree, relative, "exec", dont_inherit=True)
    except SyntaxError as err:
        yield err.lineno or 0, err.msg
        return
    except (SyntaxWarning, DeprecationWarning, ValueError, RecursionError, MemoryError) as err:
        yield 0, str(err) or type(err).__name__
        return
    yield from _shadowing(tree)


# The checks below look at statements and assignment targets only, never into expressions: a
# module of the size generated here has ten times more expression nodes than statements, and
# the document steers only names (of parameters, fields, classes) into the code.


def _statements(body: Iterable[ast.stmt]) -> Iterator[ast.stmt]:
    """Every statement of ``body`` with the statements of its blocks, not those of functions or classes."""
    stack = list(body)[::-1]
    while stack:
        statement = stack.pop()
        yield statement
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        inner: list[ast.stmt] = []
        for field in ("body", "orelse", "finalbody"):
            inner.extend(getattr(statement, field, ()))
        for handler in getattr(statement, "handlers", ()):
            inner.extend(cast(ast.ExceptHandler, handler).body)
        for case in getattr(statement, "cases", ()):
            inner.extend(cast(ast.match_case, case).body)
        stack.extend(reversed(inner))


def _scopes(body: Iterable[ast.stmt]) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef]:
    """Every function and class defined in ``body``, at any depth."""
    for statement in _statements(body):
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield statement
            yield from _scopes(statement.body)


def _target_names(target: ast.expr | None) -> Iterator[str]:
    """The names an assignment target binds (``a``, ``a, *b``; not ``a.b`` or ``a[b]``)."""
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, ast.Tuple | ast.List):
        for element in target.elts:
            yield from _target_names(element)
    elif isinstance(target, ast.Starred):
        yield from _target_names(target.value)


def _stored(statement: ast.stmt) -> Iterator[str]:
    """The names ``statement`` itself binds (imports aside: the checks are about the code's own names)."""
    if isinstance(statement, ast.Assign):
        for target in statement.targets:
            yield from _target_names(target)
    elif isinstance(statement, ast.AnnAssign | ast.AugAssign | ast.For | ast.AsyncFor):
        yield from _target_names(statement.target)
    elif isinstance(statement, ast.With | ast.AsyncWith):
        for item in statement.items:
            yield from _target_names(item.optional_vars)
    elif isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        yield statement.name
    for handler in getattr(statement, "handlers", ()):
        name = cast(ast.ExceptHandler, handler).name
        if name is not None:
            yield name


def _derives(statement: ast.stmt, name: str) -> bool:
    """True when ``statement`` assigns ``name`` from its own value (``name = name.strip()``, ``name += 1``)."""
    if isinstance(statement, ast.AugAssign):
        return True
    if isinstance(statement, ast.Assign | ast.AnnAssign) and statement.value is not None:
        return any(isinstance(node, ast.Name) and node.id == name for node in ast.walk(statement.value))
    return False


def _bound_at_top(tree: ast.Module) -> dict[str, set[str]]:
    """Each name the module binds at its top level (imports under ``if`` included), with where from.

    The same import written twice is one binding (the rendered code repeats imports; ruff merges them).
    """
    bound: dict[str, set[str]] = {}
    for statement in _statements(tree.body):
        if isinstance(statement, ast.ImportFrom) and statement.module == "__future__":
            continue  # a compiler directive: ``annotations`` is bound, but nothing reads it
        if isinstance(statement, ast.Import | ast.ImportFrom):
            source = f"{'.' * statement.level}{statement.module or ''}" if isinstance(statement, ast.ImportFrom) else ""
            for alias in statement.names:
                # ``import a.b`` binds ``a`` (the package), as ``import a`` does.
                name = alias.asname or alias.name.split(".")[0]
                imported = alias.name if alias.asname or isinstance(statement, ast.ImportFrom) else name
                bound.setdefault(name, set()).add(f"import {source}:{imported}")
        else:
            for name in _stored(statement):
                bound.setdefault(name, set()).add(f"line {statement.lineno}")
    return bound


def _shadowing(tree: ast.Module) -> Iterator[Finding]:
    """Names the generated code binds twice where it means two different things."""
    top = _bound_at_top(tree)
    for name, origins in sorted(top.items()):
        if len(origins) > 1:
            yield 1, f"the module binds {name!r} {len(origins)} times ({', '.join(sorted(origins))})"
    for node in _scopes(tree.body):
        if isinstance(node, ast.ClassDef):
            yield from _class_fields(node)
        else:
            yield from _function_names(node, top)


def _class_fields(node: ast.ClassDef) -> Iterator[Finding]:
    defined: Counter[str] = Counter()
    for statement in node.body:
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            defined[statement.target.id] += 1
        elif isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef) and not statement.decorator_list:
            # Decorated redefinitions are meant: a property's setter, typing.overload.
            defined[statement.name] += 1
    for name, count in sorted(defined.items()):
        if count > 1:
            yield node.lineno, f"class {node.name} defines {name!r} {count} times"


def _function_names(node: ast.FunctionDef | ast.AsyncFunctionDef, top: Mapping[str, set[str]]) -> Iterator[Finding]:
    arguments = node.args
    parameters = {
        arg.arg
        for arg in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, arguments.vararg, arguments.kwarg]
        if arg is not None
    }
    for name in sorted(parameters & set(top)):
        yield node.lineno, f"parameter {name!r} of {node.name}() hides the module's own {name!r}"
    statements = list(_statements(node.body))
    stored = {name for statement in statements for name in _stored(statement)}
    for name in sorted(stored & parameters):
        if not all(_derives(statement, name) for statement in statements if name in set(_stored(statement))):
            yield node.lineno, f"{node.name}() overwrites its parameter {name!r}"
    for name in sorted(stored & set(top)):
        yield node.lineno, f"{node.name}() hides the module's own {name!r} with a local variable"
