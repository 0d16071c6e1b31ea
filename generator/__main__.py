"""The ``bearer-codegen`` command line: a thin layer over :mod:`generator`.

Exit codes: 0 success, 1 drift found by ``check`` or breaking changes found by ``diff``, 2 bad
input (every problem printed, each naming its file and JSON pointer), 70 a bug in bearer-codegen
itself (one line saying so; ``BEARER_CODEGEN_TRACEBACK=1`` prints the traceback too).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

import attrs

from ._build import check, generate
from ._clients import ClientJob, job_for_spec, load_clients
from ._problems import Problem, Severity, has_errors, render_problems
from ._toolkit import Toolkit

__all__ = ["main"]

EXIT_OK = 0
EXIT_DRIFT = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL_ERROR = 70
"""EX_SOFTWARE of sysexits.h: the toolkit failed, not the input."""
TRACEBACK_VARIABLE = "BEARER_CODEGEN_TRACEBACK"


def _parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    """The parser; ``diff`` and ``serve`` get their arguments only when named (their modules import slowly)."""
    parser = argparse.ArgumentParser(
        prog="bearer-codegen",
        description="Generate typed Python clients that look after their own bearer-token session.",
    )
    parser.add_argument("--root", type=Path, default=Path(), help="project root holding spec/ and generated/")
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser(
        "generate",
        help="render every client of spec/clients.yaml into generated/, or one SPEC into --output",
        description="Without SPEC: render every client declared in spec/clients.yaml into generated/. "
        "With SPEC: render that document into --output DIR.",
    )
    gen.add_argument("spec", nargs="?", type=Path, help="an OpenAPI 3.0/3.1 document (YAML or JSON)")
    gen.add_argument("--output", type=Path, help="project directory to create or replace (with SPEC)")
    gen.add_argument("--package-name", help="Python package name (with SPEC; default: from --output)")
    gen.add_argument("--config", type=Path, help="openapi-python-client options file, YAML or JSON (with SPEC)")
    strictness = gen.add_mutually_exclusive_group()
    strictness.add_argument(
        "--strict",
        action="store_true",
        help="refuse the document (exit 2) over what is otherwise a warning: violations of the OpenAPI schema, "
        "operations or responses that cannot be generated (without SPEC: for every client of spec/clients.yaml)",
    )
    # Deprecated: lenient became the default. Kept so scripts that pass it keep working (it changes nothing).
    strictness.add_argument("--lenient", action="store_true", help="deprecated and without effect: the default now")
    commands.add_parser("check", help="exit 1 when generated/ differs from a fresh render, listing the files")
    diff = commands.add_parser("diff", help="compare the public API two specs generate; exit 1 on breaking changes")
    serve = commands.add_parser(
        "serve", help="run the simulator of SPEC: login, tokens, 401/403/400/503 as its x-token-lifecycle describes"
    )
    # Naming the word anywhere (even as an option's value) only costs the import.
    if "diff" in argv:
        from ._diff_cli import add_diff_arguments

        add_diff_arguments(diff)
    if "serve" in argv:
        if _serve_extra_missing():
            # Accept whatever follows: running the command then says which extra is missing.
            serve.add_argument("arguments", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
        else:
            from simulator import add_serve_arguments

            add_serve_arguments(serve)
    return parser


SERVE_EXTRA_MODULES = frozenset({"starlette", "uvicorn", "defusedxml"})
"""What the ``serve`` extra installs and the simulator imports; the generator needs none of them."""
SERVE_EXTRA_MISSING = "bearer-codegen serve needs the 'serve' extra: pip install 'bearer-codegen[serve]'"


def _serve_extra_missing() -> bool:
    """Whether the simulator cannot import for want of the ``serve`` extra (any other failure propagates)."""
    try:
        importlib.import_module("simulator")
    except ModuleNotFoundError as err:
        if (err.name or "").partition(".")[0] in SERVE_EXTRA_MODULES:
            return True
        raise
    return False


def _report(problems: Sequence[Problem]) -> None:
    if problems:
        print(render_problems(problems), file=sys.stderr)


LENIENT_DEPRECATED = "deprecated and without effect: lenient is the default now; --strict refuses instead"


def _jobs(args: argparse.Namespace, root: Path) -> list[ClientJob] | list[Problem] | Problem:
    """The clients this invocation is about: one SPEC, or every client of spec/clients.yaml."""
    strict = args.command == "generate" and bool(args.strict)
    if args.command == "generate" and args.spec is not None:
        if args.output is None:
            return Problem("--output", "", "generating a single SPEC needs --output DIR")
        job = job_for_spec(args.spec, args.output, args.package_name, args.config, strict=strict)
        return [job] if isinstance(job, ClientJob) else job
    if args.command == "generate" and (args.output or args.package_name or args.config):
        return Problem("--output", "", "--output, --package-name and --config need a SPEC argument")
    jobs = load_clients(root)
    clients = [job for job in jobs if isinstance(job, ClientJob)]
    if strict and clients:
        # --strict makes every declared client strict; without it each keeps its own `strict` of spec/clients.yaml.
        return [attrs.evolve(job, strict=True) for job in clients]
    return jobs


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = _parser(arguments).parse_args(arguments)
    try:
        return _run(args)
    except Exception as err:  # noqa: BLE001 - a bug of ours reaches the user as one line, not a traceback.
        # Nothing was swapped into place: generation writes to a staging directory first.
        print(
            f"bearer-codegen: internal error ({type(err).__name__}: {err}). This is a bug in bearer-codegen, "
            "not a problem with your input; the output directories were left as they were. Please report it "
            f"with the command and the document; {TRACEBACK_VARIABLE}=1 shows the traceback.",
            file=sys.stderr,
        )
        if os.environ.get(TRACEBACK_VARIABLE):
            traceback.print_exc()
        return EXIT_INTERNAL_ERROR


def _run(args: argparse.Namespace) -> int:
    if args.command == "serve":
        if _serve_extra_missing():
            print(SERVE_EXTRA_MISSING, file=sys.stderr)
            return EXIT_BAD_INPUT
        from simulator import serve

        return serve(args)
    if args.command == "diff":
        from ._diff_cli import run_diff

        return run_diff(args)
    root: Path = args.root
    if args.command == "generate" and args.lenient:
        _report([Problem("--lenient", "", LENIENT_DEPRECATED, Severity.WARNING)])
    toolkit = Toolkit.locate()
    found = _jobs(args, root)
    items: list[ClientJob | Problem] = [found] if isinstance(found, Problem) else list(found)
    bad_input = [item for item in items if isinstance(item, Problem)]
    if bad_input:
        _report(bad_input)
        return EXIT_BAD_INPUT
    client_jobs = [item for item in items if isinstance(item, ClientJob)]
    if args.command == "generate":
        problems = generate(client_jobs, toolkit)
        _report(problems)
        if has_errors(problems):
            return EXIT_BAD_INPUT
        for job in client_jobs:
            print(f"generated {job.output} from {job.spec_display}")
        return EXIT_OK
    outcome = check(client_jobs, toolkit)
    problems = [item for item in outcome if isinstance(item, Problem)]
    if problems:
        _report(problems)
        return EXIT_BAD_INPUT
    drifts = [item for item in outcome if not isinstance(item, Problem)]
    for drift in drifts:
        print(drift.render())
    if drifts:
        return EXIT_DRIFT
    print(f"no drift: {len(client_jobs)} generated project(s) match their specs")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
