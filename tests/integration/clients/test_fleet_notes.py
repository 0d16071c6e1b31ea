"""The generated Fleet Notes client (OAuth 2.0 password grant) against its simulator: resources and replays."""

from __future__ import annotations

from pathlib import Path

import pytest
from fleet_notes_client import AuthenticatedClient, Credentials
from fleet_notes_client.api.notes import create_note, list_notes
from fleet_notes_client.api.vehicles import get_vehicle, list_vehicles
from fleet_notes_client.models import NewNote, Note, NoteCategory, NoteList, Vehicle, VehicleList, VehicleStatus

from tests.integration.simulator._support import Simulator, running

from ._apis import FLEET_NOTES, Api


@pytest.fixture(scope="module")
def api() -> Api:
    """This module is about Fleet Notes alone."""
    return FLEET_NOTES


def _client(sim: Simulator) -> AuthenticatedClient:
    return AuthenticatedClient(base_url=sim.url, credentials=Credentials(username="demo", password="demo-password"))


def test_form_login_and_every_resource_parse_into_typed_models(sim: Simulator) -> None:
    """POST /token with a form body, then every resource with 'Authorization: Bearer', all typed."""
    with _client(sim) as client:
        vehicles = list_vehicles.sync(client=client, status=VehicleStatus.ACTIVE, min_odometer_km=1, limit=10)
        vehicle = get_vehicle.sync("VAN-0042", client=client)
        notes = list_notes.sync("VAN-0042", client=client, category=NoteCategory.MAINTENANCE)
        note = create_note.sync(
            "VAN-0042", client=client, body=NewNote(text="Brake pads checked", category=NoteCategory.MAINTENANCE)
        )
    assert isinstance(vehicles, VehicleList)
    assert isinstance(vehicle, Vehicle)
    assert isinstance(notes, NoteList)
    assert isinstance(note, Note)
    assert sim.control("GET", "stats")["logins"]["by_user"] == {"demo": 1}


def test_lifetime_comes_from_expires_in(tmp_path: Path) -> None:
    """A server issuing 10-minute tokens (expires_in: 600) is refreshed after 6 minutes, though the spec says 1 h."""
    with running(FLEET_NOTES.spec, "--control", "--token-lifetime", "PT10M", log=tmp_path / "log") as sim:
        sim.control("POST", "clock/freeze", frozen="true")
        now = [0.0]
        with AuthenticatedClient(
            base_url=sim.url,
            credentials=Credentials(username="demo", password="demo-password"),
            clock=lambda: now[0],
        ) as client:
            list_vehicles.sync(client=client)
            sim.control("POST", "clock/advance", seconds=360)
            now[0] += 360
            assert isinstance(list_vehicles.sync(client=client), VehicleList)
        stats = sim.control("GET", "stats")
    assert client.lifecycle.stats.proactive_refreshes == 1
    assert (stats["logins"]["total"], stats["unauthorized"]) == (2, 0)


def test_a_json_body_is_replayed_intact_after_revocation(sim: Simulator) -> None:
    """A POST whose token was revoked is replayed once with the same JSON body and succeeds."""
    with _client(sim) as client:
        list_vehicles.sync(client=client)
        sim.control("POST", "tokens/revoke", user="demo")
        note = create_note.sync(
            "VAN-0042", client=client, body=NewNote(text="Tyres rotated", category=NoteCategory.MAINTENANCE)
        )
    assert isinstance(note, Note)
    assert (client.lifecycle.stats.invalidations, client.lifecycle.stats.replays) == (1, 1)
    by_status = sim.control("GET", "stats")["requests"]["by_status"]
    # The replayed POST passed the simulator's body validation: one 401, then one 201, no 400.
    assert (by_status.get("401"), by_status.get("201"), by_status.get("400", 0)) == (1, 1, 0)
