"""The public API of the generated Synthetic Classic client, as users call it: type-checked only, never run.

`make check` runs mypy --strict and pyright strict on this file; a change to the templates or the
runtime that breaks a caller's code breaks the check.
"""

from __future__ import annotations

import logging
import time

import httpx
from synthetic_classic_client import (
    AuthenticatedClient,
    AuthError,
    Client,
    Credentials,
    LoginError,
    RetryPolicy,
    ServiceLimitError,
    TokenRejectedError,
)
from synthetic_classic_client.api.auth import login
from synthetic_classic_client.api.results import get_test_results
from synthetic_classic_client.api.sites import list_sites
from synthetic_classic_client.api.tests import list_tests
from synthetic_classic_client.models import DetailLevel, Error, MonitorList, SiteList, TestResults, TestType
from synthetic_classic_client.types import Response


def monitor_names(client: AuthenticatedClient) -> list[str]:
    """List the names of active backbone tests."""
    result = list_tests.sync(client=client, test_type=TestType.BACKBONE)
    if not isinstance(result, MonitorList):
        return []
    return [entry.monitor.tname for entry in result.monitors if isinstance(entry.monitor.tname, str)]


def results(client: AuthenticatedClient, monitor_id: str) -> TestResults | Error | None:
    """Fetch one monitor's results for the last hour."""
    now_ms = int(time.time() * 1000)
    detailed: Response[Error | TestResults] = get_test_results.sync_detailed(
        monitor_id, client=client, start=now_ms - 3_600_000, end=now_ms, detail_level=DetailLevel.TEST
    )
    return detailed.parsed


async def sites(client: AuthenticatedClient) -> SiteList | Error | None:
    """Fetch the sites with the async API."""
    async with client as session:
        return await list_sites.asyncio(client=session)


def build_clients() -> None:
    """Construct clients the ways the README shows."""
    client = AuthenticatedClient(
        base_url="https://datafeed-api.dynatrace.com/publicapi/rest/v1.0",
        credentials=Credentials(username="demo", password="demo-password"),
        timeout=httpx.Timeout(10.0),
        headers={"X-Trace": "1"},
        retry=RetryPolicy(attempts=3),
        clock=time.monotonic,
    )
    from_env = Credentials.from_env("SYNTHETIC_USER", "SYNTHETIC_PASSWORD")
    static = AuthenticatedClient(base_url="https://example.invalid", token="already-issued")
    _ = (client.lifecycle.stats.logins, from_env.username, static)
    tagged: AuthenticatedClient = client.with_headers({"X-Run": "2"}).with_timeout(httpx.Timeout(5.0))
    _ = tagged

    def raise_on_4xx_5xx(response: httpx.Response) -> None:
        response.raise_for_status()

    own = httpx.Client(
        auth=client.lifecycle, event_hooks=client.lifecycle.event_hooks({"response": [raise_on_4xx_5xx]})
    )
    client.set_httpx_client(own)
    anonymous = Client(base_url="https://example.invalid")
    token: str | Error | None = login.sync(client=anonymous, user="demo", password="demo-password")
    _ = token
    logging.getLogger("synthetic_classic_client.auth").setLevel(logging.INFO)
    try:
        monitor_names(client)
    except LoginError as error:
        _ = str(error)
    except TokenRejectedError:
        pass
    except AuthError:
        pass
    except ServiceLimitError:
        pass
