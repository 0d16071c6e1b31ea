"""Start ``bearer-codegen serve`` as a real subprocess and talk to it over real sockets with httpx."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import httpx

ROOT = Path(__file__).resolve().parents[3]
SPEC = ROOT / "spec" / "synthetic-classic.yaml"
SPEC_ARG = "spec/synthetic-classic.yaml"
STARTUP_SECONDS = 60.0
STOP_SECONDS = 15.0
DEMO = ("demo", "demo-password")
DEMO2 = ("demo2", "demo2-password")
VIEWER = ("viewer", "viewer-password")
OTHER = ("other", "other-password")


def serve_command(spec: str | Path, *args: str | Path) -> list[str]:
    """The argv of ``python -m generator serve SPEC ARGS``."""
    return [sys.executable, "-m", "generator", "serve", str(spec), *map(str, args)]


@attrs.define
class Simulator:
    """A running simulator process and what it announced."""

    process: subprocess.Popen[str]
    url: str
    announcement: str
    log: Path
    token_url: str | None = None
    """With ``--token-port``: the token endpoint on the identity provider's port, as announced."""

    def client(self, **kwargs: Any) -> httpx.Client:
        """A fresh httpx client for the simulator's base URL."""
        return httpx.Client(base_url=self.url, timeout=10.0, **kwargs)

    def login(self, credentials: tuple[str, str] = DEMO) -> str:
        """A new token of ``credentials`` (Synthetic Classic's ``GET /login``)."""
        with self.client() as client:
            response = client.get("/login", params={"user": credentials[0], "password": credentials[1]})
        assert response.status_code == 200, response.text
        return response.text

    def control(self, method: str, path: str, **params: str | float) -> Any:
        """Call the control API and return its JSON answer."""
        with self.client() as client:
            response = client.request(method, f"/_control/{path}", params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        """Send ``sig`` and return the exit code (killing the process if it does not stop)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise


def auth(token: str, word: str = "bearer", header: str = "Authentication") -> dict[str, str]:
    """The header that carries ``token``."""
    return {header: f"{word} {token}"}


@contextmanager
def running(spec: str | Path, *args: str | Path, log: Path, cwd: Path = ROOT) -> Iterator[Simulator]:
    """Start the simulator with ``--port 0``, wait for its ``Serving`` line, stop it on exit."""
    with log.open("w", encoding="utf-8") as err:
        process = subprocess.Popen(
            serve_command(spec, "--port", "0", *args),
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        line = _first_line(process)
        if not line.startswith("Serving "):
            process.kill()
            process.wait()
            raise AssertionError(f"the simulator did not start: {line!r}\n{log.read_text(encoding='utf-8')}")
        simulator = Simulator(process, line.rsplit(" on ", 1)[1], line, log)
        if "--token-port" in map(str, args) and process.stdout is not None:
            # Printed with the first line, so it may already sit in the reader's buffer, where a select on
            # the pipe would not see it: read it directly.
            token_line = process.stdout.readline().rstrip("\n")
            assert token_line.startswith("Token endpoint on "), token_line
            simulator.token_url = token_line.removeprefix("Token endpoint on ")
        yield simulator
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout is not None:
            process.stdout.close()


def _first_line(process: subprocess.Popen[str]) -> str:
    """The first line the process prints, waiting at most STARTUP_SECONDS (empty if it exits first)."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout=STARTUP_SECONDS):
            process.kill()
            process.wait()
            raise AssertionError(f"no output from the simulator within {STARTUP_SECONDS} s")
    return process.stdout.readline().rstrip("\n")


def run_cli(args: Sequence[str | Path], cwd: Path = ROOT, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Run ``python -m generator serve ...`` to completion (for arguments that are refused before serving)."""
    return subprocess.run(serve_command(*args), cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)


def login_header(client: httpx.Client, spec: Path, username: str, password: str) -> dict[str, str]:
    """Log in to any spec's simulator the way its ``x-token-lifecycle`` says; the header that carries the token."""
    from generator import resolve_lifecycle
    from generator._document import load_document

    document = load_document(spec, spec.name)
    assert isinstance(document, dict)
    lifecycle = resolve_lifecycle(document, spec.name)
    assert lifecycle is not None
    assert not isinstance(lifecycle, list)
    login = lifecycle.login
    buckets: dict[str, dict[str, str]] = {"query": {}, "header": {}, "cookie": {}, "form": {}, "json": {}}
    buckets[login.username.location][login.username.name] = username
    buckets[login.password.location][login.password.name] = password
    buckets[login.username.location].update(dict(login.constants))
    client.cookies.update(buckets["cookie"])
    response = client.request(
        login.method,
        login.path,
        params=buckets["query"],
        headers=buckets["header"],
        data=buckets["form"] or None,
        json=buckets["json"] or None,
    )
    assert response.is_success, response.text
    token: object = response.text
    if lifecycle.token_from == "json":
        token = response.json()
        for part in (lifecycle.token_pointer or "").split("/")[1:]:
            assert isinstance(token, dict)
            token = token[part.replace("~1", "/").replace("~0", "~")]
    assert isinstance(token, str)
    word = lifecycle.scheme_word
    return {lifecycle.header_name: f"{word} {token}" if word else token}
