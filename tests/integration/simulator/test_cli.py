"""Start and interface: ``serve`` announces its URL, refuses bad input with exit 2, and stops cleanly."""

from __future__ import annotations

import re
import signal
from pathlib import Path

import httpx
import pytest

from ._support import DEMO, ROOT, SPEC_ARG, auth, run_cli, running


def test_port_0_announces_the_chosen_port_and_the_servers_path(tmp_path: Path) -> None:
    """With ``--port 0`` the one line on stdout names the spec as given and the API's base URL: the
    port the kernel chose and the path of the spec's server (``/publicapi/rest/v1.0``)."""
    with running(SPEC_ARG, log=tmp_path / "log") as simulator:
        match = re.fullmatch(
            r"Serving spec/synthetic-classic\.yaml on http://127\.0\.0\.1:(\d+)/publicapi/rest/v1\.0",
            simulator.announcement,
        )
        assert match is not None
        assert int(match.group(1)) > 0
        simulator.login()
        with simulator.client() as client:
            assert client.get("/_control/stats").status_code == 404  # no --control, no control API


def test_operations_are_served_under_the_servers_path_only(tmp_path: Path) -> None:
    """As on the service, /login answers under the server's path; at the root of the host it is a 404."""
    with running(SPEC_ARG, log=tmp_path / "log") as simulator:
        origin = simulator.url.removesuffix("/publicapi/rest/v1.0")
        with httpx.Client(base_url=origin) as client:
            params = {"user": DEMO[0], "password": DEMO[1]}
            assert client.get("/publicapi/rest/v1.0/login", params=params).status_code == 200
            root = client.get("/login", params=params)
            assert root.status_code == 404
            assert root.json() == {"message": "No operation of spec/synthetic-classic.yaml has this path."}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_ends_the_server_cleanly_with_exit_0(tmp_path: Path, sig: signal.Signals) -> None:
    """SIGTERM or SIGINT (Ctrl-C) stops a server with an open keep-alive connection, exit status 0, no traceback."""
    with running(SPEC_ARG, log=tmp_path / "log") as simulator, simulator.client() as client:
        token = client.get("/login", params={"user": DEMO[0], "password": DEMO[1]}).text
        assert client.get("/sites", headers=auth(token)).status_code == 200
        assert simulator.stop(sig) == 0
    assert "Traceback" not in (tmp_path / "log").read_text(encoding="utf-8")


def test_logs_carry_no_passwords_and_no_tokens(tmp_path: Path) -> None:
    """The access log names method, path and status: the password in the login URL and tokens never appear."""
    with running(SPEC_ARG, log=tmp_path / "log") as simulator, simulator.client() as client:
        token = client.get("/login", params={"user": DEMO[0], "password": DEMO[1]}).text
        client.get("/tests", params={"testName": "canary-query"}, headers=auth(token))
        client.get("/login", params={"user": "demo", "password": "wrong-canary-password"})
        assert simulator.stop() == 0
    log = (tmp_path / "log").read_text(encoding="utf-8")
    for line in (
        "GET /publicapi/rest/v1.0/login 200",
        "GET /publicapi/rest/v1.0/tests 200",
        "GET /publicapi/rest/v1.0/login 401",
    ):
        assert line in log
    for secret in (DEMO[1], "wrong-canary-password", token, "canary-query"):
        assert secret not in log


def test_a_non_loopback_host_is_refused_without_allow_remote() -> None:
    """``--host 0.0.0.0`` exits 2 with a reason unless ``--allow-remote`` is given."""
    outcome = run_cli([SPEC_ARG, "--host", "0.0.0.0"])  # noqa: S104 - the point is that this address is refused
    assert outcome.returncode == 2
    assert outcome.stderr.startswith("error: --host: '0.0.0.0' is not a loopback address")
    assert "--allow-remote" in outcome.stderr
    assert outcome.stdout == ""


def test_bad_fixtures_exit_2_naming_file_and_pointer(tmp_path: Path) -> None:
    """Every mistake in a fixtures file is reported with the file and JSON pointer, exit 2, no traceback."""
    fixtures = tmp_path / "bad.yaml"
    fixtures.write_text(
        "accounts: {'1001': {name: A}}\n"
        "users:\n"
        "  demo: {password: pw, account: '9999'}\n"
        "  viewer: {password: pw, account: '1001', permissions: [listTest]}\n"
        "responses:\n"
        "  listTests: {Monitors: [{Monitor: {timeout: 60}}]}\n"
        "  login: token\n",
        encoding="utf-8",
    )
    outcome = run_cli([SPEC_ARG, "--fixtures", fixtures])
    assert outcome.returncode == 2
    lines = outcome.stderr.splitlines()
    assert lines == [
        f"error: {fixtures}#/responses/listTests/Monitors/0/Monitor/timeout: does not match the response schema: "
        "60 is not of type 'string'",
        f"error: {fixtures}#/responses/login: the login response is made by the simulator (a new token per login)",
        f"error: {fixtures}#/users/demo/account: account '9999' is not listed under /accounts",
        f"error: {fixtures}#/users/viewer/permissions/0: spec/synthetic-classic.yaml has no operation named "
        "'listTest'; its operations: login, listTests, getTestResults, getTestResultsForMonitors, listSites",
    ]


def test_a_fixtures_file_of_the_wrong_shape_is_refused(tmp_path: Path) -> None:
    """A fixtures file without users, or with an unknown key, is refused by its schema with the pointer."""
    fixtures = tmp_path / "shape.yaml"
    fixtures.write_text("users: {demo: {password: pw, account: '1', role: admin}}\n", encoding="utf-8")
    outcome = run_cli([SPEC_ARG, "--fixtures", fixtures])
    assert outcome.returncode == 2
    assert outcome.stderr.startswith(f"error: {fixtures}#/users/demo: Additional properties are not allowed")
    fixtures.write_text("- just a list\n", encoding="utf-8")
    outcome = run_cli([SPEC_ARG, "--fixtures", fixtures])
    assert outcome.stderr.strip() == f"error: {fixtures}: a fixtures file must be a mapping with a 'users' field"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--rate-limit", "fast"], "error: --rate-limit: 'fast' is not COUNT/SECONDS"),
        (["--rate-limit", "0/60"], "error: --rate-limit: '0/60': COUNT must be at least 1"),
        (["--token-lifetime", "P1M"], "error: --token-lifetime: 'P1M' uses years or months"),
        (["--token-lifetime", "-5"], "error: --token-lifetime: '-5' is not a positive number of seconds"),
        (["--fixtures", "missing.yaml"], "error: missing.yaml: cannot read the file"),
    ],
    ids=["rate-not-a-rate", "rate-zero", "lifetime-months", "lifetime-negative", "fixtures-missing"],
)
def test_bad_options_exit_2_with_a_reason(args: list[str], expected: str) -> None:
    """Malformed --rate-limit, --token-lifetime or an unreadable --fixtures file exits 2 with ``error: ...``."""
    outcome = run_cli([SPEC_ARG, *args])
    assert outcome.returncode == 2
    assert outcome.stderr.startswith(expected)
    assert "Traceback" not in outcome.stderr


def test_an_unreadable_or_invalid_spec_exits_2(tmp_path: Path) -> None:
    """A missing spec file, or one that is not OpenAPI, is reported with exit 2."""
    outcome = run_cli(["spec/nothing-here.yaml"])
    assert (outcome.returncode, outcome.stderr.split(":")[:2]) == (2, ["error", " spec/nothing-here.yaml"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("openapi: 3.1.0\ninfo: {title: x}\npaths: {}\n", encoding="utf-8")
    outcome = run_cli([bad])
    assert outcome.returncode == 2
    assert f"error: {bad}#/info: 'version' is a required property" in outcome.stderr


def test_the_demo_fixtures_beside_the_spec_are_used_by_default(tmp_path: Path) -> None:
    """Without --fixtures, ``serve spec/synthetic-classic.yaml`` serves the users of its spec/fixtures/ file."""
    assert (ROOT / "spec" / "fixtures" / "synthetic-classic.yaml").is_file()
    with running(SPEC_ARG, log=tmp_path / "log") as simulator:
        for user in ("demo", "demo2", "viewer", "other"):
            simulator.login((user, f"{user}-password"))


STATIC = "tests/integration/clients/schemes/static.yaml"


def test_bad_clients_and_tokens_are_refused_without_echoing_a_token(tmp_path: Path) -> None:
    """Fixtures for the scheme documents: a token naming an unknown user or scheme, a client without its
    secret, a token entry naming nobody; tokens are named by position, never by value."""
    fixtures = tmp_path / "tokens.yaml"
    fixtures.write_text(
        "users: {demo: {password: pw, account: '1'}}\n"
        "clients: {svc: {secret: s, account: '1'}}\n"
        "tokens:\n"
        "  secret-one: {user: nobody}\n"
        "  secret-two: {client: svc, schemes: [basic, keyQuery, nope]}\n",
        encoding="utf-8",
    )
    outcome = run_cli([STATIC, "--fixtures", fixtures])
    assert outcome.returncode == 2
    assert outcome.stderr.splitlines() == [
        f"error: {fixtures}#/tokens: token #1: no user named 'nobody'",
        f"error: {fixtures}#/tokens: token #2, schemes: {STATIC} has no security scheme 'basic' that accepts "
        "static tokens; its schemes: bearer, keyCookie, keyHeader, keyQuery",
        f"error: {fixtures}#/tokens: token #2, schemes: {STATIC} has no security scheme 'nope' that accepts "
        "static tokens; its schemes: bearer, keyCookie, keyHeader, keyQuery",
    ]
    fixtures.write_text(
        "users: {demo: {password: pw, account: '1'}}\nclients: {svc: {account: '1'}}\ntokens: {secret-three: {}}\n",
        encoding="utf-8",
    )
    outcome = run_cli([STATIC, "--fixtures", fixtures])
    assert outcome.returncode == 2
    assert f"error: {fixtures}#/clients/svc: 'secret' is a required property" in outcome.stderr
    assert f"error: {fixtures}#/tokens: token #1: " in outcome.stderr
    assert "secret-" not in outcome.stderr


def test_security_warnings_are_printed_before_serving(tmp_path: Path) -> None:
    """A scheme the clients treat differently from what the document says is reported on stderr, as by
    ``generate``, and the simulator serves anyway."""
    log = tmp_path / "stderr.log"
    with running("tests/integration/clients/schemes/header-login.yaml", log=log) as simulator:
        assert simulator.announcement.startswith("Serving ")
    first = log.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("warning: tests/integration/clients/schemes/header-login.yaml#/components/securitySchemes/")
