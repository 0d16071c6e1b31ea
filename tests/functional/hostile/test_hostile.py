"""Hostile, broken and odd documents: valid, inert code or a clear refusal; never a traceback or a half-written tree.

Every case runs the real CLI as a subprocess (a traceback, a hang or a memory blow-up would show),
two at a time. The packages of the cases that produce code are then judged together, one run per
checker: ruff, mypy --strict, pyright strict, and importing every module from a directory where a
document's ``os.system("touch CANARY")`` would leave its mark.
"""

from __future__ import annotations

import compileall
import http.server
import json
import shutil
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import attrs
import pytest

from tests.conftest import minimal_spec, snapshot, write_spec
from tests.functional._batch import SUMMARY, Findings, Run, check_packages, run_cli

from ._cases import CASES, CODE_SHAPED, EVALUATED_TEMPLATE, FORMAT_SHAPED_PATH, TEMPLATE_SHAPED, Case

CODE_CASES = [case for case in CASES if case.expect == "code"]
ERROR_CASES = [case for case in CASES if case.expect == "error"]
TEXT_CASES = [case.name for case in CODE_CASES if case.name.startswith("text_everywhere")]


@attrs.frozen
class Outcome:
    """A case's document, its CLI run, and the output directory with what was there before."""

    case: Case
    document: Path
    run: Run
    output: Path
    previous: dict[str, bytes] | None


@attrs.frozen
class Hostile:
    """Every case's outcome, what the checkers said about the generated packages, and where it all is."""

    outcomes: dict[str, Outcome]
    findings: Findings
    root: Path
    canary_dir: Path
    trap_hits: list[str]


def package(case: Case) -> str:
    """The package a code case generates (unique, so that all can be type-checked together)."""
    return f"h_{case.name}"


class _Trap(http.server.BaseHTTPRequestHandler):
    """Answers every request and records it: a generator that fetches a $ref gets caught."""

    hits: list[str] = []  # noqa: RUF012 - shared by the server's handler instances on purpose

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "application/yaml")
        self.end_headers()
        self.wfile.write(b"Thing: {type: string}\n")

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture(scope="module")
def trap() -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP server that must never be asked for anything."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Trap)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", _Trap.hits
    server.shutdown()
    server.server_close()


def _run_case(case: Case, index: int, root: Path, previous: Path, url: str) -> Outcome:
    case_dir = root / "cases" / case.name
    case_dir.mkdir(parents=True)
    document = case.build(case_dir, url)
    if case.expect == "code":
        output = root / "projects" / package(case)
        args = ["--package-name", package(case)]
    else:
        output = case_dir / "out"
        args = []
    before = None
    # Half the refusals find an earlier generated tree in place (it must survive byte for byte), half find none.
    if case.expect == "error" and index % 2:
        shutil.copytree(previous, output)
        before = snapshot(output)
    run = run_cli(["generate", document, "--output", output, *args, *case.args], cwd=case_dir, timeout=case.timeout)
    return Outcome(case, document, run, output, before)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory, trap: tuple[str, list[str]]) -> Hostile:
    """Generate every case (two at a time), then judge all generated packages with one run of each checker."""
    url, hits = trap
    root = tmp_path_factory.mktemp("hostile")
    (root / "projects").mkdir()
    canary_dir = root / "canary"
    canary_dir.mkdir()
    seed = write_spec(root / "seed.yaml", minimal_spec())
    previous = root / "previous" / "mini"
    assert run_cli(["generate", seed, "--output", previous], cwd=root, timeout=60).code == 0
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [
            pool.submit(_run_case, case, index, root, previous, url)
            for index, case in enumerate(sorted(ERROR_CASES, key=lambda c: c.name))
        ]
        futures += [pool.submit(_run_case, case, 0, root, previous, url) for case in CODE_CASES]
        outcomes = {future.result().case.name: future.result() for future in futures}
    generated = {package(o.case): o.output for o in outcomes.values() if o.case.expect == "code" and o.run.code == 0}
    findings = check_packages(generated, root / "projects", import_cwd=canary_dir)
    produced = sum(1 for o in outcomes.values() if o.run.code == 0)
    refused = sum(1 for o in outcomes.values() if o.run.code == 2)
    SUMMARY["hostile"] = {
        "cases": len(outcomes),
        "code": produced,
        "clear errors": refused,
        "other exits": len(outcomes) - produced - refused,
        "tracebacks": sum(1 for o in outcomes.values() if "Traceback" in o.run.err),
        "generation seconds": round(time.monotonic() - start, 1),
        "slowest case seconds": round(max(o.run.seconds for o in outcomes.values()), 1),
    }
    (root / "summary.json").write_text(json.dumps(SUMMARY["hostile"], indent=2), encoding="utf-8")
    return Hostile(outcomes, findings, root, canary_dir, hits)


def _assert_clean_stderr(run: Run) -> None:
    assert "Traceback" not in run.err, run.err
    for line in run.err.splitlines():
        assert line.startswith(("error: ", "warning: ")), f"not one paragraph per problem: {line!r}\n{run.err}"


@pytest.mark.parametrize("case", ERROR_CASES, ids=lambda case: case.name)
def test_broken_document_is_refused_clearly(case: Case, hostile: Hostile) -> None:
    """Exit 2, every line 'error: FILE#POINTER: ...' naming the case's pointer, nothing written, the old tree kept."""
    outcome = hostile.outcomes[case.name]
    run = outcome.run
    assert run.code == 2, f"exit {run.code}\n{run.err}"
    _assert_clean_stderr(run)
    name = outcome.document.name
    where = f"error: {name}#{case.pointer}" if case.pointer else f"error: {name}: "
    assert where in run.err, run.err
    assert case.words in run.err, run.err
    if outcome.previous is None:
        assert not outcome.output.exists()
    else:
        assert snapshot(outcome.output) == outcome.previous
    leftovers = sorted(p.name for p in outcome.output.parent.iterdir() if p.name.startswith("."))
    assert leftovers == [], "a staging or retired directory was left behind"


@pytest.mark.parametrize("case", CODE_CASES, ids=lambda case: case.name)
def test_document_generates_clean_code(case: Case, hostile: Hostile) -> None:
    """Exit 0; the package compiles, is ruff-clean, passes mypy --strict and pyright strict, imports; TOML parses."""
    outcome = hostile.outcomes[case.name]
    assert outcome.run.code == 0, outcome.run.err
    _assert_clean_stderr(outcome.run)
    assert compileall.compile_dir(outcome.output / package(case), quiet=1, force=True)
    assert hostile.findings.of(package(case)) == []
    for toml in ("pyproject.toml", "provenance.toml"):
        tomllib.loads((outcome.output / toml).read_text(encoding="utf-8"))


def test_checkers_saw_every_package(hostile: Hostile) -> None:
    """No checker output went unattributed (a crash of a checker would otherwise pass silently)."""
    assert hostile.findings.of("?") == []


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_time_and_memory_stay_bounded(case: Case, hostile: Hostile) -> None:
    """No case hangs; the billion laughs is refused in seconds without expanding; 20 MB stays within memory."""
    run = hostile.outcomes[case.name].run
    assert run.code != -1, f"killed after {case.timeout} s"
    if case.max_seconds is not None:
        assert run.seconds < case.max_seconds
    if case.max_rss_mb is not None:
        assert run.max_rss_mb < case.max_rss_mb


def test_no_document_text_ran_as_code(hostile: Hostile) -> None:
    """Importing every generated module (and every refused run) left no CANARY file anywhere."""
    assert list(hostile.root.rglob("CANARY")) == []


def test_no_document_text_ran_as_a_template(hostile: Hostile) -> None:
    """The Jinja-shaped text is in the output verbatim, and nowhere rendered (no <<49>>)."""
    contents = [
        path.read_text(encoding="utf-8")
        for path in (hostile.root / "projects").rglob("*")
        if path.is_file() and path.suffix in {".py", ".md", ".toml"}
    ]
    assert not [text for text in contents if EVALUATED_TEMPLATE in text]
    assert any(TEMPLATE_SHAPED in text for text in contents)


@pytest.mark.parametrize("name", TEXT_CASES)
def test_document_text_is_docstring_text_at_run_time(name: str, hostile: Hostile) -> None:
    """The code-shaped description is, at run time, exactly the text of the operation's docstring."""
    project = hostile.outcomes[name].output
    probe = (
        "import sys, importlib\n"
        f"m = importlib.import_module('{project.name}.api.things.list_things')\n"
        "print(' '.join((m.sync_detailed.__doc__ or '').split()))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=hostile.canary_dir,
        env={"PYTHONPATH": str(project)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert CODE_SHAPED in result.stdout
    assert TEMPLATE_SHAPED in result.stdout


def test_braces_in_a_path_are_text(hostile: Hostile) -> None:
    """A path's braces that are no parameter reach the URL as written: they are never str.format fields."""
    project = hostile.outcomes["text_in_paths_shaped_like_format_fields"].output
    probe = (
        f"from {project.name}.api.default.format_shaped import _get_kwargs\nprint(_get_kwargs(thing_id='x/y')['url'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=hostile.canary_dir,
        env={"PYTHONPATH": str(project)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == FORMAT_SHAPED_PATH.replace("{thingId}", "x%2Fy", 1)


def test_nothing_was_fetched(hostile: Hostile) -> None:
    """A $ref to a URL is refused without a request to it (the trap server saw none)."""
    assert hostile.trap_hits == []
    assert "root:" not in hostile.outcomes["ref_to_local_file"].run.err
