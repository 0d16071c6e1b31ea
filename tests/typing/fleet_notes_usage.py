"""The public API of the generated Fleet Notes client, as users call it: type-checked only, never run.

`make check` runs mypy --strict and pyright strict on this file against generated/, and `make dist`
runs them again against the wheel installed in a fresh virtual environment: a change to the
templates, the runtime or the packaging that breaks a caller's code breaks both.
"""

from __future__ import annotations

import datetime
import logging
import time
from pathlib import Path

import httpx
from fleet_notes_client import (
    AuthenticatedClient,
    AuthError,
    Client,
    Credentials,
    FileTokenStore,
    LoginError,
    MemoryTokenStore,
    RetryPolicy,
    ServiceLimitError,
    TokenRejectedError,
    TokenStore,
)
from fleet_notes_client.api.auth import issue_token
from fleet_notes_client.api.notes import create_note, list_notes
from fleet_notes_client.api.vehicles import get_vehicle, list_vehicles
from fleet_notes_client.models import (
    Error,
    NewNote,
    Note,
    NoteCategory,
    NoteList,
    OAuthError,
    PasswordGrant,
    TokenResponse,
    Vehicle,
    VehicleList,
    VehicleStatus,
)
from fleet_notes_client.types import UNSET, Response, Unset


def active_plates(client: AuthenticatedClient) -> list[str]:
    """List the plates of active vehicles with at least 10 000 km, using every filter."""
    listed = list_vehicles.sync(
        client=client, status=VehicleStatus.ACTIVE, depot="BER-1", min_odometer_km=10_000, limit=50
    )
    if not isinstance(listed, VehicleList):
        return []
    return [vehicle.plate for vehicle in listed.vehicles if vehicle.status is VehicleStatus.ACTIVE]


def commissioned(client: AuthenticatedClient, vehicle_id: str) -> datetime.date | None:
    """Read an optional field of a response model, which may be Unset."""
    vehicle: Vehicle | Error | None = get_vehicle.sync(vehicle_id, client=client)
    if isinstance(vehicle, Error):
        raise RuntimeError(f"{vehicle.code}: {vehicle.message}")
    if vehicle is None or isinstance(vehicle.commissioned_on, Unset):
        return None
    _ = (vehicle.id, vehicle.model, vehicle.odometer_km)
    return vehicle.commissioned_on


def damage_report(
    client: AuthenticatedClient, vehicle_id: str, text: str, odometer_km: int | None
) -> Note | Error | None:
    """Post a note (JSON body, 201) and inspect the detailed response."""
    body = NewNote(category=NoteCategory.DAMAGE, text=text, odometer_km=UNSET if odometer_km is None else odometer_km)
    detailed: Response[Error | Note] = create_note.sync_detailed(vehicle_id, client=client, body=body)
    _ = (detailed.status_code, detailed.headers.get("Location"), body.to_dict())
    return detailed.parsed


async def latest_notes(client: AuthenticatedClient, vehicle_id: str) -> list[str]:
    """Fetch notes with the async API."""
    async with client as session:
        notes = await list_notes.asyncio(vehicle_id, client=session, category=NoteCategory.MAINTENANCE, limit=5)
    if not isinstance(notes, NoteList):
        return []
    return [f"{note.created_at:%Y-%m-%d} {note.author}: {note.text}" for note in notes.notes]


def manual_login(base_url: str) -> str | None:
    """Call the login operation by hand with a plain Client: it needs no token."""
    grant = PasswordGrant(grant_type="password", username="demo", password="demo-password")
    answer: OAuthError | TokenResponse | None = issue_token.sync(client=Client(base_url=base_url), body=grant)
    if isinstance(answer, TokenResponse):
        return answer.access_token if answer.expires_in > 0 else None
    return None


def build_clients(scratch: Path) -> None:
    """Construct clients the ways the documentation shows."""
    store: TokenStore = FileTokenStore(scratch / "fleet-token.json")
    client = AuthenticatedClient(
        base_url="https://api.fleet-notes.example/v1",
        credentials=Credentials.from_env("FLEET_USER", "FLEET_PASSWORD"),
        timeout=httpx.Timeout(10.0),
        retry=RetryPolicy(attempts=4, retry_after_cap=30.0),
        token_store=store,
        clock=time.monotonic,
    )
    shared = AuthenticatedClient(
        base_url="https://api.fleet-notes.example/v1",
        credentials=Credentials(username="demo", password="demo-password"),
        token_store=MemoryTokenStore(),
        lifecycle=client.lifecycle,
    )
    stats = client.lifecycle.stats
    fingerprint: str | None = client.lifecycle.token_fingerprint
    _ = (stats.logins, stats.proactive_refreshes, stats.replays, stats.store_hits, fingerprint, shared)
    logging.getLogger("fleet_notes_client.auth").setLevel(logging.INFO)
    try:
        active_plates(client)
    except LoginError as error:
        _ = (str(error), error.status_code)
    except TokenRejectedError:
        pass
    except ServiceLimitError:
        pass
    except AuthError:
        pass
