"""Rule 5: invalid requests answer 400 with a message that names what is wrong."""

from __future__ import annotations

import time

import pytest

from ._support import Simulator, auth

XML = "<TESTDATA_INPUT><MonitorSet><Monitor><mid>21714841</mid></Monitor></MonitorSet></TESTDATA_INPUT>"
LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10))
    + "]><lolz>&lol9;</lolz>"
)


@pytest.mark.parametrize(
    ("method", "path", "params", "body", "message"),
    [
        (
            "GET",
            "/tests",
            {"testType": "WEEKLY"},
            None,
            "Invalid value 'WEEKLY' for query parameter 'testType': 'WEEKLY' is not one of "
            "['BACKBONE', 'LASTMILE', 'MOBILE', 'PRIVATEPEER'].",
        ),
        (
            "GET",
            "/testresults/21714841",
            {"start": "yesterday"},
            None,
            "Invalid value 'yesterday' for query parameter 'start': 'yesterday' is not of type 'integer'.",
        ),
        (
            "GET",
            "/testresults/21714841",
            {"start": "1.5"},
            None,
            "Invalid value '1.5' for query parameter 'start': '1.5' is not of type 'integer'.",
        ),
        ("GET", "/testresults/21714841", {"end": "1"}, None, "Missing required query parameter 'start'."),
        (
            "GET",
            "/testresults/21714841",
            {"start": "-1"},
            None,
            "Invalid value '-1' for query parameter 'start': -1 is less than the minimum of 0.",
        ),
        (
            "GET",
            "/testresults/abc",
            {"start": "0"},
            None,
            "Invalid value 'abc' for path parameter 'monitorId': 'abc' does not match '^[0-9]+$'.",
        ),
        ("POST", "/testresults", {"start": "0"}, None, "The request body is required (application/xml)."),
        (
            "POST",
            "/testresults",
            {"start": "0"},
            "<TESTDATA_INPUT><MonitorSet>",
            "Malformed XML body: no element found: line 1, column 28.",
        ),
    ],
    ids=[
        "unknown-enum",
        "not-an-integer",
        "fraction",
        "missing-required",
        "below-minimum",
        "path-pattern",
        "no-body",
        "malformed-xml",
    ],
)
def test_invalid_requests_answer_400_with_a_descriptive_message(
    sim: Simulator, method: str, path: str, params: dict[str, str], body: str | None, message: str
) -> None:
    """Each way a request can break the spec answers 400 with one sentence naming the parameter and the rule."""
    token = sim.login()
    headers = {**auth(token), "Content-Type": "application/xml"} if body is not None else auth(token)
    with sim.client() as client:
        response = client.request(method, path, params=params, content=body, headers=headers)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"message": message}


def test_a_valid_xml_body_is_accepted(sim: Simulator) -> None:
    """A well-formed monitor set with the right Content-Type gets the results."""
    token = sim.login()
    with sim.client() as client:
        response = client.post(
            "/testresults",
            params={"start": 1478044800000, "detailLevel": "ALL", "time": "ARRIVAL"},
            content=XML,
            headers={**auth(token), "Content-Type": "application/xml"},
        )
    assert response.status_code == 200
    assert response.json()["OtherData"]["TestLevelData"][0]["testData"]["mid"] == "21714856"


def test_an_xml_body_with_entities_is_refused_quickly(sim: Simulator) -> None:
    """A "billion laughs" document is refused with 400 without expanding its entities."""
    token = sim.login()
    started = time.monotonic()
    with sim.client() as client:
        response = client.post(
            "/testresults",
            params={"start": 0},
            content=LAUGHS,
            headers={**auth(token), "Content-Type": "application/xml"},
        )
    assert response.status_code == 400
    assert response.json()["message"].startswith("Refused XML body")
    assert time.monotonic() - started < 5


def test_a_body_of_an_undeclared_media_type_answers_400(sim: Simulator) -> None:
    """JSON sent where the spec only takes XML is refused, naming the expected media type."""
    token = sim.login()
    with sim.client() as client:
        response = client.post("/testresults", params={"start": 0}, json={"mid": 1}, headers=auth(token))
    assert response.status_code == 400
    assert response.json()["message"] == (
        "Unsupported Content-Type 'application/json' for the body; expected application/xml."
    )
