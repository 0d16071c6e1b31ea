"""Fleet Notes: the same client machinery over an OAuth 2.0 password grant, with lifetimes from the server.

Start a simulator, then run this with the URL it prints (``make demo`` does both)::

    .venv/bin/python -m generator serve spec/fleet-notes.yaml --port 0 --control --token-lifetime PT10M
    PYTHONPATH=generated/fleet_notes_client .venv/bin/python examples/fleet_notes_session.py http://127.0.0.1:PORT/v1

The login is ``POST /token`` with a form body (``grant_type=password``), the token is
``access_token`` of the JSON answer and its lifetime ``expires_in``: the client refreshes by what the
server says, not by a fixed lifetime. Credentials come from ``FLEET_USER`` / ``FLEET_PASSWORD``
(default ``demo`` / ``demo-password``). The script exits 1 when the client misbehaves.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from _demo import AuthLog, DemoFailure, ManualClock, ServerTally, Simulator, check, expect, run, step
from fleet_notes_client import (
    AuthenticatedClient,
    AuthError,
    Credentials,
    FileTokenStore,
    LoginError,
    ServiceLimitError,
)
from fleet_notes_client.api.notes import create_note, list_notes
from fleet_notes_client.api.vehicles import get_vehicle, list_vehicles
from fleet_notes_client.models import Error, NewNote, Note, NoteCategory, NoteList, Vehicle, VehicleList, VehicleStatus

USER_VAR, PASSWORD_VAR = "FLEET_USER", "FLEET_PASSWORD"
AUTH_LOGGER = "fleet_notes_client.auth"
#: A read-only user of the simulator's demo fixtures: may list vehicles and notes, nothing else.
VIEWER = Credentials(username="viewer", password="viewer-password")  # noqa: S106 -- published demo fixture
#: A password the simulator does not accept, to show what a refused login looks like.
WRONG = Credentials(username="demo", password="not-the-password")  # noqa: S106 -- deliberately wrong


def main(base_url: str) -> None:
    """Tell the story; raise DemoFailure at the first thing that does not behave."""
    os.environ.setdefault(USER_VAR, "demo")
    os.environ.setdefault(PASSWORD_VAR, "demo-password")
    credentials = Credentials.from_env(USER_VAR, PASSWORD_VAR)
    user = credentials.username
    simulator = Simulator(base_url)
    server = ServerTally(simulator, user)
    clock = ManualClock()
    log = AuthLog()
    print(f"== Fleet Notes, sync API, {base_url}, as {user!r} (from ${USER_VAR} / ${PASSWORD_VAR})")

    with (
        log.attached(AUTH_LOGGER),
        AuthenticatedClient(base_url=base_url, credentials=credentials, clock=clock) as client,
    ):
        lifecycle = client.lifecycle

        step("1. The first call logs in with POST /token (grant_type=password), then lists active vehicles")
        listed = list_vehicles.sync(client=client, status=VehicleStatus.ACTIVE, min_odometer_km=10_000, limit=10)
        vehicles = expect(listed, VehicleList, "GET /vehicles").vehicles
        for vehicle in vehicles:
            print(f"   {vehicle.id:9} {vehicle.plate:10} {vehicle.status.value:11} {vehicle.odometer_km} km")
        print("   (the simulator answers its fixture list whatever the filters)")
        token = lifecycle.token_fingerprint
        lifetime = simulator.context(token).expires_in
        print(f"   token {token}: the server says expires_in={lifetime:.0f}s, and the client took that lifetime")
        check(server.take() == (1, 0), "one login, no 401")

        step("2. One vehicle, its latest notes, and a new damage note (JSON body, answer 201)")
        vehicle_id = vehicles[0].id
        record = expect(get_vehicle.sync(vehicle_id, client=client), Vehicle, f"GET /vehicles/{vehicle_id}")
        print(f"   {record.id}: {record.model}, in the fleet since {record.commissioned_on}")
        notes = list_notes.sync(vehicle_id, client=client, limit=5)
        for note in expect(notes, NoteList, f"GET /vehicles/{vehicle_id}/notes").notes:
            print(f"   note {note.id} ({note.category.value}, {note.created_at:%Y-%m-%d}): {note.text}")
        new = NewNote(category=NoteCategory.DAMAGE, text="Scratch on the rear right door, no dent.", odometer_km=48_210)
        created = expect(create_note.sync(vehicle_id, client=client, body=new), Note, "POST notes")
        print(f"   created note {created.id} by {created.author!r} at {created.created_at.isoformat()}")

        step("3. Past half of the token's life the next call refreshes it first (the window scales with it)")
        simulator.advance(clock, lifetime / 2 + 20)
        before = lifecycle.stats
        expect(list_vehicles.sync(client=client), VehicleList, "GET /vehicles after half the lifetime")
        check(lifecycle.stats.proactive_refreshes == before.proactive_refreshes + 1, "a proactive refresh")
        check(server.take() == (1, 0), "one login and no 401")
        print(f"   token {token} -> {lifecycle.token_fingerprint}, before the server ever refused it")

        step("4. An idle quarter of an hour: the expired token is replaced before the call, not after a 401")
        simulator.advance(clock, 15 * 60)
        expect(list_notes.sync(vehicle_id, client=client), NoteList, "GET notes after 15 idle minutes")
        check(server.take() == (1, 0), "one login and no 401")

        step(f"5. The server revokes the tokens of {user!r}: a POST meets the 401 and is replayed with its body")
        check(simulator.revoke(user) >= 1, "the simulator revoked the token")
        before = lifecycle.stats
        created = expect(create_note.sync(vehicle_id, client=client, body=new), Note, "POST notes after revocation")
        check(lifecycle.stats.replays == before.replays + 1, "the POST was replayed once")
        check(server.take() == (1, 1), "one login, and the one 401 was absorbed")
        print(f"   note {created.id} created all the same; token {lifecycle.token_fingerprint}")
        stats = lifecycle.stats

    step("6. The read-only 'viewer' may list but not open a vehicle: 403 as a typed Error, no new login")
    with log.attached(AUTH_LOGGER), AuthenticatedClient(base_url=base_url, credentials=VIEWER, clock=clock) as viewer:
        expect(list_vehicles.sync(client=viewer), VehicleList, "GET /vehicles as viewer")
        denied = expect(get_vehicle.sync(vehicle_id, client=viewer), Error, "GET /vehicles/{id} as viewer")
        print(f"   Error(code={denied.code!r}, message={denied.message!r})")
        check((viewer.lifecycle.stats.logins, viewer.lifecycle.stats.invalidations) == (1, 0), "one login")

    step("7. A wrong password raises LoginError, which names the user and the status, never the password")
    with log.attached(AUTH_LOGGER), AuthenticatedClient(base_url=base_url, credentials=WRONG) as wrong:
        try:
            list_vehicles.sync(client=wrong)
        except LoginError as error:
            print(f"   LoginError: {error}")
            check(WRONG.password not in str(error), "no password in the error")
            check(error.status_code == 401, f"HTTP 401 from POST /token, got {error.status_code}")
        else:
            raise DemoFailure("a wrong password must raise LoginError")

    step("8. Two clients (think: two processes) sharing a FileTokenStore log in once between them")
    with tempfile.TemporaryDirectory() as scratch:
        store = FileTokenStore(Path(scratch) / "fleet-token.json")
        server.take()
        with log.attached(AUTH_LOGGER):
            for name in ("first", "second"):
                with AuthenticatedClient(base_url=base_url, credentials=credentials, token_store=store) as shared:
                    expect(list_vehicles.sync(client=shared), VehicleList, f"GET /vehicles by the {name} client")
                    hits = shared.lifecycle.stats
                    print(f"   {name} client: {hits.logins} login(s), {hits.store_hits} token(s) from {store!r}")
        check(server.take() == (1, 0), "one login for both clients")

    step("Summary")
    print(
        f"   main client: {stats.logins} logins, {stats.proactive_refreshes} proactive refreshes, "
        f"{stats.invalidations} invalidation, {stats.replays} replay"
    )
    check((stats.logins, stats.proactive_refreshes, stats.replays) == (4, 2, 1), f"expected counts, {stats}")
    secrets = (credentials.password, VIEWER.password, WRONG.password)
    check(not any(secret in line for line in log.lines for secret in secrets), "no password in the auth log")
    simulator.close()


if __name__ == "__main__":
    run(main, client_errors=(AuthError, ServiceLimitError))
