"""Generation time: ``bearer-codegen generate`` against stock ``openapi-python-client generate``.

Same documents, same openapi-python-client options, both running ruff on their output (stock:
its default post hooks; ours: isolated ruff plus validation, the extension, the runtime and the
provenance). Whole-command wall time, runs interleaved; documents of 100, 1,000 and 3,000
operations are built here to show how time grows with size. Also the no-op ``make generate``.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._common import BIN, ROOT, median, rotations, table

CORPUS = ROOT / "tests" / "corpus" / "openapi-python-client-e2e" / "baseline_openapi_3.0.json"
OPTIONS = (
    "content_type_overrides:\n  openapi/python/client: application/json\n  application/xml: application/octet-stream\n"
)


def synthetic_document(operations: int) -> dict[str, Any]:
    """A valid document with a login and ``operations`` protected operations over operations/10 models."""
    models = max(1, operations // 10)
    schemas: dict[str, Any] = {
        f"Item{m}": {
            "type": "object",
            "required": ["id", "name"],
            "properties": {
                "id": {"type": "integer"},
                "name": {"type": "string"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "kind": {"type": "string", "enum": ["a", "b", "c"]},
                "score": {"type": "number"},
            },
        }
        for m in range(models)
    }
    paths: dict[str, Any] = {
        "/login": {
            "get": {
                "operationId": "login",
                "security": [],
                "parameters": [
                    {"name": "user", "in": "query", "required": True, "schema": {"type": "string"}},
                    {"name": "password", "in": "query", "required": True, "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": {"description": "token", "content": {"text/plain": {"schema": {"type": "string"}}}}
                },
            }
        }
    }
    for number in range(operations):
        paths[f"/resource{number}/{{itemId}}"] = {
            "get": {
                "operationId": f"getResource{number}",
                "tags": [f"group{number % 20}"],
                "parameters": [
                    {"name": "itemId", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                    {"name": "filter", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/json": {"schema": {"$ref": f"#/components/schemas/Item{number % models}"}}
                        },
                    }
                },
            }
        }
    return {
        "openapi": "3.1.0",
        "info": {"title": f"Synthetic {operations}", "version": "1.0.0"},
        "security": [{"token": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "token": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "x-token-lifecycle": {
                        "login": {"operationId": "login", "username": "user", "password": "password"},
                        "token": {"from": "body"},
                        "scheme": "Bearer",
                        "lifetime": "PT1H",
                    },
                }
            },
        },
    }


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, children included) of one run of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)  # noqa: S603 - fixed tools of this venv
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise RuntimeError(f"{command[0]} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


SIDES = ("stock", "ours")


def _compare(document: Path, work: Path, rounds: int, lenient: bool) -> dict[str, list[tuple[float, float]]]:
    """(wall, CPU) seconds of each side on ``document``, one sample per round, rounds in the same order."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    options = work / "options.yaml"
    options.write_text(OPTIONS, encoding="utf-8")
    samples: dict[str, list[tuple[float, float]]] = {side: [] for side in SIDES}
    for order in rotations(list(SIDES), rounds):
        for side in order:
            out = work / "out"
            shutil.rmtree(out, ignore_errors=True)
            if side == "stock":
                command = [str(BIN / "openapi-python-client"), "generate", "--path", str(document)]
                command += ["--output-path", str(out), "--meta", "uv", "--config", str(options)]
            else:
                command = [str(BIN / "bearer-codegen"), "generate", str(document), "--output", str(out)]
                command += ["--config", str(options), *(["--lenient"] if lenient else [])]
            samples[side].append(_timed(command, env))
    return samples


def _paired_ratio(ours: list[tuple[float, float]], stock: list[tuple[float, float]]) -> float:
    """Median of the per-round wall-time ratios: each round runs both sides back to back, so a slow
    spell of a shared machine weighs on both sides of the ratios it touches."""
    return median([mine / theirs for (mine, _), (theirs, _) in zip(ours, stock, strict=True)])


def _medians(samples: list[tuple[float, float]]) -> tuple[float, float]:
    return median([wall for wall, _ in samples]), median([cpu for _, cpu in samples])


def report(rounds: int = 5, large_rounds: int = 3) -> str:
    """The markdown section."""
    rows: list[list[object]] = []
    per_operation: list[tuple[int, float, float]] = []
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        cases: list[tuple[str, Path, int, bool, int]] = [
            ("spec/synthetic-classic.yaml", ROOT / "spec" / "synthetic-classic.yaml", 5, False, rounds),
            ("corpus baseline_openapi_3.0.json", CORPUS, 0, True, rounds),
        ]
        for size in (100, 1000, 3000):
            path = work / f"synthetic-{size}.json"
            path.write_text(json.dumps(synthetic_document(size)), encoding="utf-8")
            size_rounds = rounds if size < 1000 else large_rounds
            cases.append((f"generated document, {size} operations", path, size, False, size_rounds))
        for label, path, size, lenient, case_rounds in cases:
            found = _compare(path, work, case_rounds, lenient)
            (stock, stock_cpu), (ours, ours_cpu) = (_medians(found[side]) for side in SIDES)
            rows.append(
                [
                    label,
                    f"{stock:.2f}",
                    f"{ours:.2f}",
                    f"{_paired_ratio(found['ours'], found['stock']):.2f}x",
                    f"{stock_cpu:.2f} / {ours_cpu:.2f}",
                ]
            )
            if size >= 100:
                per_operation.append((size, stock, ours))
    growth = [[size, f"{stock / size * 1000:.1f}", f"{ours / size * 1000:.1f}"] for size, stock, ours in per_operation]
    noop = [_timed(["make", "generate"], dict(os.environ))[0] for _ in range(5)]
    headers = ["document", "stock s", "bearer-codegen s", "ratio", "CPU s stock / ours"]
    return "\n".join(
        [
            "## 3. Generation",
            "",
            f"Median wall seconds of the whole command over {rounds} rounds ({large_rounds} for 1,000 and 3,000 "
            "operations), each round running every side back to back in a rotating order; a ratio is the median "
            "of the rounds' own ratios. Target: at most 1.3x stock. Both run serially in one process; "
            "the last column is CPU time (user + system).",
            "",
            table(headers, rows),
            "",
            "Milliseconds per operation (linear growth keeps these flat):",
            "",
            table(["operations", "stock ms/op", "bearer-codegen ms/op"], growth),
            "",
            f"No-op `make generate` (nothing changed): median {median(noop):.3f} s over 5 runs (target < 0.3 s).",
        ]
    )


if __name__ == "__main__":
    print(report())
