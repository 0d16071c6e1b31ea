"""The generated Synthetic Classic client reads every resource of the simulator into typed models."""

from __future__ import annotations

import pytest
from synthetic_classic_client import AuthenticatedClient, Credentials
from synthetic_classic_client.api.results import get_test_results, get_test_results_for_monitors
from synthetic_classic_client.api.sites import list_sites
from synthetic_classic_client.api.tests import list_tests
from synthetic_classic_client.models import DetailLevel, MonitorList, SiteList, TestResults, TestType

from tests.integration.simulator._support import Simulator

from ._apis import SYNTHETIC_CLASSIC, Api

START_MS = 1_700_000_000_000
XML = (
    "<TESTDATA_INPUT><MonitorSet>"
    "<Monitor><mid>21714841</mid></Monitor><Monitor><mid>21714856</mid></Monitor>"
    "</MonitorSet></TESTDATA_INPUT>"
)


@pytest.fixture(scope="module")
def api() -> Api:
    """This module is about Synthetic Classic alone."""
    return SYNTHETIC_CLASSIC


def test_login_and_every_resource_parse_into_typed_models(sim: Simulator) -> None:
    """One login, then tests (filtered), results for one monitor, for many via XML, and sites, all typed."""
    credentials = Credentials(username="demo", password="demo-password")
    with AuthenticatedClient(base_url=sim.url, credentials=credentials) as client:
        tests = list_tests.sync(client=client, test_type=TestType.BACKBONE, test_name="%")
        one = get_test_results.sync("21714841", client=client, start=START_MS, detail_level=DetailLevel.TEST)
        many = get_test_results_for_monitors.sync(client=client, body=XML, start=START_MS, end=START_MS + 3_600_000)
        sites = list_sites.sync(client=client)
    assert isinstance(tests, MonitorList)
    assert "21714841" in {entry.monitor.monitor_id for entry in tests.monitors}
    assert isinstance(one, TestResults)
    assert isinstance(many, TestResults)
    assert isinstance(sites, SiteList)
    stats = sim.control("GET", "stats")
    assert stats["logins"]["by_user"] == {"demo": 1}
    assert stats["requests"]["by_status"].get("400", 0) == 0
    (context,) = sim.control("GET", "contexts")["contexts"]
    assert context["user"] == "demo"
