"""``bearer-codegen diff OLD_SPEC NEW_SPEC``: the command line over :mod:`._diff`.

Exit codes: 1 when breaking changes exist (with ``--check-version``: only when ``info.version`` does
not also raise the major version), 0 otherwise, 2 for bad input, reported as the generator does.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from openapi_python_client.config import ConfigFile

from ._clients import CLIENTS_FILE, ClientJob, job_for_spec, load_clients
from ._diff import Bump, Change, compare, semver_bump, version_bump
from ._problems import Problem, render_problems
from ._surface import ApiSurface, load_surface

__all__ = ["add_diff_arguments", "run_diff"]

EXIT_COMPATIBLE = 0
EXIT_BREAKING = 1
EXIT_BAD_INPUT = 2


def add_diff_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``bearer-codegen diff``."""
    parser.description = (
        "Compare the public API that two specs generate; print breaking, additive and patch-level changes and "
        "the semver bump they call for. Exit 1 when breaking changes exist, 2 for bad input."
    )
    parser.add_argument("old_spec", type=Path, metavar="OLD_SPEC", help="the spec of the last release")
    parser.add_argument("new_spec", type=Path, metavar="NEW_SPEC", help="the spec as it is now")
    parser.add_argument(
        "--config",
        type=Path,
        help="openapi-python-client options file (default: the options of NEW_SPEC's entry in spec/clients.yaml)",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    parser.add_argument(
        "--check-version",
        action="store_true",
        help="accept breaking changes when NEW_SPEC's info.version raises the major version",
    )


def _options(args: argparse.Namespace) -> ConfigFile | Problem | list[Problem]:
    """openapi-python-client options: --config, else the clients.yaml entry of either spec, else defaults."""
    new_spec: Path = args.new_spec
    if args.config is not None:
        # A one-off client of NEW_SPEC: the same validation of the options file as `generate SPEC --config`.
        job = job_for_spec(new_spec, Path("diff"), "diff", args.config)
        return job.options if isinstance(job, ClientJob) else job
    root: Path = args.root
    if not (root / CLIENTS_FILE).is_file():
        return ConfigFile()
    jobs = load_clients(root)
    declared = [job for job in jobs if isinstance(job, ClientJob)]
    if len(declared) != len(jobs):
        return [job for job in jobs if isinstance(job, Problem)]
    for spec in (new_spec, args.old_spec):
        for job in declared:
            if job.spec.resolve() == Path(spec).resolve():
                return job.options
    return ConfigFile()


def run_diff(args: argparse.Namespace) -> int:
    """``bearer-codegen diff``: print the changes, return the exit code."""
    options = _options(args)
    if isinstance(options, Problem | list):
        problems = [options] if isinstance(options, Problem) else options
        print(render_problems(problems), file=sys.stderr)
        return EXIT_BAD_INPUT
    surfaces = [load_surface(spec, str(spec), options) for spec in (args.old_spec, args.new_spec)]
    # The same file given twice reports its problems once.
    problems = list(dict.fromkeys(problem for surface in surfaces if isinstance(surface, list) for problem in surface))
    old, new = surfaces
    if problems or isinstance(old, list) or isinstance(new, list):
        print(render_problems(problems), file=sys.stderr)
        return EXIT_BAD_INPUT
    changes = compare(old, new)
    bump = semver_bump(changes)
    declared = version_bump(old.version, new.version)
    breaking = bump == "major"
    accepted = breaking and args.check_version and declared == "major"
    if args.format == "json":
        print(json.dumps(_as_json(args, old, new, changes, bump, declared, accepted), indent=2))
    else:
        for change in changes:
            print(change.render())
        if not changes:
            print("no change: both specs generate the same public API")
        print(f"version: {old.version} -> {new.version} ({declared})")
        if accepted:
            print("breaking changes accepted: info.version raises the major version")
        elif breaking and args.check_version:
            print(f"breaking changes need a major version: info.version went {old.version} -> {new.version}")
        print(f"semver: {bump}")
    return EXIT_BREAKING if breaking and not accepted else EXIT_COMPATIBLE


def _as_json(
    args: argparse.Namespace,
    old: ApiSurface,
    new: ApiSurface,
    changes: list[Change],
    bump: Bump,
    declared: str,
    accepted: bool,
) -> dict[str, object]:
    return {
        "old": {"spec": str(args.old_spec), "version": old.version},
        "new": {"spec": str(args.new_spec), "version": new.version},
        "changes": [{"level": c.level.value, "subject": c.subject, "message": c.message} for c in changes],
        "semver": bump,
        "version_bump": declared,
        "breaking_accepted": accepted,
    }
