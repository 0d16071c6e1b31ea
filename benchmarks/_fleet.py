"""A fleet on one account: N worker processes x M threads against one simulator, and what each side counted.

Shared by ``make bench`` (section "fleet", `benchmarks.fleet`) and the fleet scenario test
(tests/integration/clients/test_fleet.py). `run_fleet` starts every worker (`benchmarks._fleet_worker`),
waits until each has built its client, tells them all to go at once, optionally runs a fault (Redis
killed mid-run) while they call, and collects each worker's JSON line and the simulator's per-account
counts (``accounts`` of ``GET /_control/stats``: logins, 503s answered, 2xx answered).

Everything is bounded: a worker that does not get ready, or does not finish its run within
`FINISH_MARGIN_SECONDS` of its end, is killed and reported as such.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

import attrs
import httpx

from benchmarks._common import ROOT

#: Seconds a worker may take to import the package and build its client.
READY_TIMEOUT_SECONDS = 60.0
#: Seconds a worker may run past its calling time: its last calls (each bounded by the client's timeout
#: and retry policy) and its report.
FINISH_MARGIN_SECONDS = 60.0
PACKAGE_PATH = ROOT / "generated" / "synthetic_classic_client"
ACCOUNT = "1001"
"""The customer account of the simulator's ``demo`` user (spec/fixtures/synthetic-classic.yaml)."""


@attrs.frozen
class FleetConfig:
    """How every member of a fleet builds its client."""

    store: str = "memory"
    """``memory`` (each process its own login) or ``redis`` (one login for the fleet)."""
    limiter: str = "none"
    """``none``, ``local`` (in-process) or ``redis`` (the whole fleet)."""
    redis_url: str = ""
    limit: str = ""
    """``L/W``: the client-side service limit when a limiter is on."""

    def arguments(self) -> list[str]:
        """The worker's command-line options for this configuration."""
        options = ["--store", self.store, "--limiter", self.limiter]
        if self.redis_url:
            options += ["--redis-url", self.redis_url]
        if self.limit:
            options += ["--limit", self.limit]
        return options


@attrs.frozen
class FleetResult:
    """What a fleet's run counted: the workers' view and the simulator's."""

    seconds: float
    """The calling time of the run (every worker's)."""
    warmup: float
    """Its first seconds, whose successful calls are counted apart (`warmup_ok`)."""
    ok: int
    """Successful calls after the warm-up."""
    warmup_ok: int
    failures: Counter[str]
    """Failed user calls by exception type (``killed`` for a worker that had to be killed)."""
    account: dict[str, int]
    """The simulator's counts of the account: ``logins``, ``busy`` (503s answered), ``ok``."""
    workers: int
    down: list[float]
    """Wall-clock times at which a worker reported its shared backend unavailable."""
    back: list[float]
    """Wall-clock times at which a worker reported it back."""

    @property
    def failed(self) -> int:
        """Failed user calls, all types together."""
        return sum(self.failures.values())

    @property
    def calls_per_second(self) -> float:
        """Successful calls per second after the warm-up, over the whole fleet: under a sliding window of
        L per W, a fleet that keeps calling gets at most L/W once the first window (whose L slots are free
        at once) is behind it."""
        return self.ok / (self.seconds - self.warmup)


def worker_environment(user: str = "demo", password: str = "demo-password") -> dict[str, str]:  # noqa: S107
    """The environment of a worker: the generated package importable, the demo fixture's credentials."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_PATH), str(ROOT), env.get("PYTHONPATH")]))
    env["SYNTHETIC_USER"], env["SYNTHETIC_PASSWORD"] = user, password
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_fleet(
    url: str,
    config: FleetConfig,
    *,
    processes: int,
    threads: int,
    seconds: float,
    log_dir: Path,
    warmup: float = 0.0,
    during: Callable[[], None] | None = None,
) -> FleetResult:
    """Run a fleet against the simulator at ``url`` (reset first) and return its counts.

    Successful calls of the first ``warmup`` seconds are counted apart (`FleetResult.warmup_ok`).
    ``during`` runs on this thread once every worker was told to go (a fault: kill Redis, restart it);
    it must return before the run ends.
    """
    httpx.post(f"{url}/_control/reset", timeout=10.0).raise_for_status()
    command = [sys.executable, "-m", "benchmarks._fleet_worker", url, "--threads", str(threads)]
    command += ["--seconds", str(seconds), "--warmup", str(warmup), *config.arguments()]
    members: list[subprocess.Popen[str]] = []
    logs: list[IO[str]] = []
    try:
        for number in range(processes):
            log = (log_dir / f"worker-{number}.log").open("w", encoding="utf-8")
            logs.append(log)
            members.append(
                subprocess.Popen(  # noqa: S603 - our own worker module with fixed arguments
                    command,
                    cwd=ROOT,
                    env=worker_environment(),
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=log,
                    text=True,
                )
            )
        for member in members:
            line = _line(member, READY_TIMEOUT_SECONDS)
            if line != "ready":
                raise RuntimeError(f"a fleet worker did not get ready (printed {line!r}); see {log_dir}")
        for member in members:
            assert member.stdin is not None
            member.stdin.write("go\n")
            member.stdin.flush()
        if during is not None:
            during()
        reports = [_report(member, seconds + FINISH_MARGIN_SECONDS) for member in members]
    finally:
        for member in members:
            if member.poll() is None:
                member.kill()
                member.wait()
            for stream in (member.stdin, member.stdout):
                if stream is not None:
                    stream.close()
        for stream in logs:
            stream.close()
    stats: dict[str, Any] = httpx.get(f"{url}/_control/stats", timeout=10.0).json()
    failures: Counter[str] = Counter()
    for report in reports:
        failures.update(report.get("failures", {}))
    return FleetResult(
        seconds=seconds,
        warmup=warmup,
        ok=sum(int(report.get("ok", 0)) for report in reports),
        warmup_ok=sum(int(report.get("warmup", 0)) for report in reports),
        failures=failures,
        account=dict(stats["accounts"].get(ACCOUNT, {"logins": 0, "busy": 0, "ok": 0})),
        workers=processes,
        down=sorted(t for report in reports for t in report.get("down", [])),
        back=sorted(t for report in reports for t in report.get("back", [])),
    )


def _line(member: subprocess.Popen[str], timeout: float) -> str:
    """The next line a worker prints, waiting at most ``timeout`` seconds ("" if none)."""
    assert member.stdout is not None
    stdout = member.stdout
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(stdout.readline().strip()), daemon=True)
    reader.start()
    reader.join(timeout)
    return lines[0] if lines else ""


def _report(member: subprocess.Popen[str], timeout: float) -> dict[str, Any]:
    """A worker's JSON result line; a worker that prints none in time is killed and counted as ``killed``."""
    line = _line(member, timeout)
    try:
        member.wait(timeout=10.0)
    except subprocess.TimeoutExpired:
        member.kill()
        member.wait()
    if not line.startswith("{"):
        return {"ok": 0, "failures": {"killed": 1}}
    report: dict[str, Any] = json.loads(line)
    return report


def recovery_seconds(result: FleetResult, restarted_at: float) -> float | None:
    """Seconds from Redis's restart to the first worker that reported it back; None when none did."""
    back = [t for t in result.back if t >= restarted_at]
    return back[0] - restarted_at if back else None


def summary(results: Sequence[FleetResult]) -> list[dict[str, object]]:
    """The figures of each run, for a test's failure message or a log."""
    return [
        {
            "ok": r.ok,
            "warmup_ok": r.warmup_ok,
            "failures": dict(r.failures),
            "account": r.account,
            "down": len(r.down),
            "back": len(r.back),
        }
        for r in results
    ]
