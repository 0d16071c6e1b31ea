"""Rule 4: an operation the user's permissions do not include answers 403."""

from __future__ import annotations

from ._support import VIEWER, Simulator, auth

XML = "<TESTDATA_INPUT><MonitorSet><Monitor><mid>21714841</mid></Monitor></MonitorSet></TESTDATA_INPUT>"


def test_viewer_may_list_tests_but_not_read_results(sim: Simulator) -> None:
    """viewer gets 200 on GET /tests and 403 on every other operation, in the spec's error shape."""
    token = sim.login(VIEWER)
    with sim.client() as client:
        assert client.get("/tests", headers=auth(token)).status_code == 200
        refused = [
            client.get("/testresults/21714841", params={"start": 0}, headers=auth(token)),
            client.post(
                "/testresults",
                params={"start": 0},
                content=XML,
                headers={**auth(token), "Content-Type": "application/xml"},
            ),
            client.get("/sites", headers=auth(token)),
        ]
    for response in refused:
        assert response.status_code == 403
        assert response.json()["message"].startswith("Access denied: user 'viewer' may not use ")
    assert sim.control("GET", "stats")["forbidden"] == 3
