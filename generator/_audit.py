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
from collections.abc import Iterator, Mapping
from pathlib import Path

from ._problems import Problem

__all__ = ["BIDI_CONTROLS", "audit_package"]

BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029")
"""Bidirectional formatting characters, and the line/paragraph separators some editors break lines at."""
_BIDI = re.compile(f"[{''.join(sorted(BIDI_CONTROLS))}]")
MAX_FINDINGS = 20


def audit_package(package_dir: Path, origins: Mapping[str, str], display: str) -> list[Problem]:
    """Neutralise bidi controls in every module of ``package_dir``, then compile and check each one.

    ``origins`` maps a module path relative to the package (``api/default/x.py``) to the pointer
    of what it was generated from.
    """
    problems: list[Problem] = []
    for path in sorted(package_dir.rglob("*.py")):
        relative = path.relative_to(package_dir).as_posix()
        text = _neutralise(path)
        for line, message in _findings(text, relative):
            problems.append(
                Problem(
                    display,
                    origins.get(relative, ""),
                    f"the generated module {relative} would be broken (line {line}: {message}); "
                    "this document cannot be generated as it is",
                )
            )
        if len(problems) >= MAX_FINDINGS:
            break
    return problems


def _neutralise(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    if _BIDI.search(text):
        text = _BIDI.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
        path.write_text(text, encoding="utf-8")
    return text


def _findings(text: str, relative: str) -> Iterator[tuple[int, str]]:
    try:
        with warnings.catch_warnings():
            # An invalid escape sequence is a SyntaxWarning today and an error in a future Python.
            warnings.simplefilter("error", SyntaxWarning)
            compile(text, relative, "exec", dont_inherit=True)
        tree = ast.parse(text, relative)
    except SyntaxError as err:
        yield err.lineno or 0, err.msg
        return
    except (SyntaxWarning, ValueError, RecursionError, MemoryError) as err:
        yield 0, str(err) or type(err).__name__
        return
    yield from _shadowing(tree)


def _bound_at_top(tree: ast.Module) -> dict[str, set[str]]:
    """Each name the module binds at its top level (imports under ``if`` included), with where from.

    The same import written twice is one binding (the rendered code repeats imports; ruff merges them).
    """
    bound: dict[str, set[str]] = {}
    for statement in _top_statements(tree.body):
        if isinstance(statement, ast.Import | ast.ImportFrom):
            source = f"{'.' * statement.level}{statement.module or ''}" if isinstance(statement, ast.ImportFrom) else ""
            for alias in statement.names:
                name = (alias.asname or alias.name).split(".")[0]
                bound.setdefault(name, set()).add(f"import {source}:{alias.name}")
        elif isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.setdefault(statement.name, set()).add(f"line {statement.lineno}")
        elif isinstance(statement, ast.Assign | ast.AnnAssign):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            for target in targets:
                for node in ast.walk(target):
                    if isinstance(node, ast.Name):
                        bound.setdefault(node.id, set()).add(f"line {statement.lineno}")
    return bound


def _top_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    for statement in body:
        if isinstance(statement, ast.If):
            yield from _top_statements(statement.body)
            yield from _top_statements(statement.orelse)
        else:
            yield statement


def _shadowing(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """Names the generated code binds twice where it means two different things."""
    top = _bound_at_top(tree)
    for name, origins in sorted(top.items()):
        if len(origins) > 1:
            yield 1, f"the module binds {name!r} {len(origins)} times ({', '.join(sorted(origins))})"
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            yield from _class_fields(node)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield from _function_names(node, top)


def _class_fields(node: ast.ClassDef) -> Iterator[tuple[int, str]]:
    defined: Counter[str] = Counter()
    for statement in node.body:
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            defined[statement.target.id] += 1
        elif isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            defined[statement.name] += 1
    for name, count in sorted(defined.items()):
        if count > 1:
            yield node.lineno, f"class {node.name} defines {name!r} {count} times"


def _function_names(
    node: ast.FunctionDef | ast.AsyncFunctionDef, top: Mapping[str, set[str]]
) -> Iterator[tuple[int, str]]:
    arguments = node.args
    parameters = {
        arg.arg
        for arg in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, arguments.vararg, arguments.kwarg]
        if arg is not None
    }
    for name in sorted(parameters & set(top)):
        yield node.lineno, f"parameter {name!r} of {node.name}() hides the module's own {name!r}"
    stored: set[str] = set()
    for inner in _own_nodes(node):
        if isinstance(inner, ast.Name) and isinstance(inner.ctx, ast.Store):
            stored.add(inner.id)
        elif isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            stored.add(inner.name)
    for name in sorted(stored & parameters):
        yield node.lineno, f"{node.name}() overwrites its parameter {name!r}"
    for name in sorted(stored & set(top)):
        yield node.lineno, f"{node.name}() hides the module's own {name!r} with a local variable"


def _own_nodes(function: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[ast.AST]:
    """The nodes of a function's body, not descending into nested functions, classes or imports."""
    stack: list[ast.AST] = list(function.body)
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            continue
        stack.extend(ast.iter_child_nodes(node))
