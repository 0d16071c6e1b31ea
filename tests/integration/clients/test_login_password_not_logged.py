"""Issue 13, item 6: the generated login operation, called through the plain `Client`, logs no password.

The docs allow calling ``api.auth.login`` (Synthetic Classic: ``GET /login?user=..&password=..``)
through ``Client``, where no `TokenLifecycle` knows the password: httpx logged the whole URL at INFO.
The generated login operation now sends its request inside the runtime's ``redacting`` block, with
the password it carries; every log line of the HTTP stack (DEBUG included) and any exception that
leaves the call show ``***`` instead.
"""

from __future__ import annotations

import logging
import secrets
import traceback
from typing import Any

import httpx
import pytest
from fleet_notes_client.api.auth import issue_token
from fleet_notes_client.models import PasswordGrant
from synthetic_classic_client.api.auth import login

from tests.integration.simulator._support import DEMO, Simulator

from ._apis import Api


def _login(api: Api, client: Any, user: str, password: str) -> int:
    """Call the API's generated login operation through ``client``; return the HTTP status."""
    if api.name == "synthetic-classic":
        return int(login.sync_detailed(client=client, user=user, password=password).status_code)
    grant = PasswordGrant(grant_type="password", username=user, password=password)
    return int(issue_token.sync_detailed(client=client, body=grant).status_code)


async def _alogin(api: Api, client: Any, user: str, password: str) -> int:
    if api.name == "synthetic-classic":
        return int((await login.asyncio_detailed(client=client, user=user, password=password)).status_code)
    grant = PasswordGrant(grant_type="password", username=user, password=password)
    return int((await issue_token.asyncio_detailed(client=client, body=grant)).status_code)


def _logged(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(f"{record.name} {record.getMessage()}" for record in caplog.records)


def test_the_login_operation_through_the_plain_client_logs_no_password(
    api: Api, sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    """Right and wrong passwords alike: httpx's request line shows ``password=***``, never the password."""
    caplog.set_level(logging.DEBUG)
    # A fresh password nobody has registered before, so no earlier test's lifecycle redacts it for us.
    wrong = f"wrong-{secrets.token_hex(8)}"
    with api.package.Client(base_url=sim.url) as client:
        assert _login(api, client, DEMO[0], DEMO[1]) == 200
        assert _login(api, client, DEMO[0], wrong) in {400, 401}
    text = _logged(caplog)
    assert "HTTP Request:" in text  # httpx's INFO request lines were captured
    assert DEMO[1] not in text
    assert wrong not in text
    if api.name == "synthetic-classic":
        assert "password=***" in text


@pytest.mark.anyio
async def test_the_async_login_operation_through_the_plain_client_logs_no_password(
    api: Api, sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    """The async operation goes through the same redaction."""
    caplog.set_level(logging.DEBUG)
    wrong = f"wrong-{secrets.token_hex(8)}"
    async with api.package.Client(base_url=sim.url) as client:
        assert await _alogin(api, client, DEMO[0], wrong) in {400, 401}
    text = _logged(caplog)
    assert "HTTP Request:" in text
    assert wrong not in text


def test_an_exception_leaving_the_login_operation_does_not_carry_the_password(api: Api, sim: Simulator) -> None:
    """A user's ``raise_for_status`` hook on the plain client: its message shows the URL, not the password."""
    if api.name != "synthetic-classic":
        pytest.skip("only a query-string login puts the password in the URL")
    wrong = f"wrong-{secrets.token_hex(8)}"

    def raise_for_status(response: httpx.Response) -> None:
        response.raise_for_status()

    client = api.package.Client(base_url=sim.url, httpx_args={"event_hooks": {"response": [raise_for_status]}})
    with client, pytest.raises(httpx.HTTPStatusError) as caught:
        _login(api, client, DEMO[0], wrong)
    text = "".join(traceback.format_exception(caught.value))
    assert "password=***" in text
    assert wrong not in text


def _frame_locals_of_a_failed_login(api: Api, sim: Simulator, password: str) -> dict[str, str]:
    """Log in with a wrong ``password``: ``{frame: its locals' reprs}`` as Sentry would capture them."""
    client = api.client(sim.url, DEMO[0], password)
    with client, pytest.raises(api.package.LoginError) as caught:
        api.call(client)
    summary = traceback.TracebackException.from_exception(caught.value, capture_locals=True)
    return {
        f"{frame.filename}:{frame.name}": repr(frame.locals)
        for frame in summary.stack
        if "/tests/" not in frame.filename  # the test's own frames hold the password it chose
    }


def test_the_runtimes_frames_of_a_failed_login_show_no_password(api: Api, sim: Simulator) -> None:
    """The login request's repr leaves out its query string: the runtime's frames and httpx's show no password.

    (httpcore's frames are not in a `LoginError`'s traceback; a transport error during a query-string
    login does show the password in them: documented.)
    """
    wrong = f"wrong-{secrets.token_hex(8)}"
    frames = _frame_locals_of_a_failed_login(api, sim, wrong)
    assert any("_token_lifecycle" in name for name in frames)
    assert any("/httpx/" in name for name in frames)
    assert {name: text for name, text in frames.items() if wrong in text} == {}
