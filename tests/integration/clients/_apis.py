"""The two generated clients, described so that one set of scenarios runs against either API.

Each profile names a protected call (a list operation), the operation the read-only ``viewer`` may
not use, and how long the simulator's tokens live for that spec; everything else is the same
public surface every generated package has.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import ModuleType
from typing import Any

import attrs
import fleet_notes_client
import synthetic_classic_client
from fleet_notes_client.api.vehicles import get_vehicle, list_vehicles
from fleet_notes_client.models import VehicleList
from synthetic_classic_client.api.results import get_test_results
from synthetic_classic_client.api.tests import list_tests
from synthetic_classic_client.models import MonitorList

HOUR = 3600.0


@attrs.frozen
class Api:
    """One generated client and the spec its simulator serves."""

    name: str
    spec: str
    package: ModuleType
    lifetime: float
    """Seconds a token lives on the simulator (the spec's lifetime, or what its login answer says)."""
    call: Callable[[Any], object]
    acall: Callable[[Any], Awaitable[object]]
    listed: type
    forbidden_for_viewer: Callable[[Any], Any]
    """A sync_detailed call that the viewer user is not allowed to make."""

    def client(self, base_url: str, user: str, password: str, **kwargs: Any) -> Any:
        """An AuthenticatedClient of this package, logging in as ``user``."""
        credentials = self.package.Credentials(username=user, password=password)
        return self.package.AuthenticatedClient(base_url=base_url, credentials=credentials, timeout=None, **kwargs)


SYNTHETIC_CLASSIC = Api(
    name="synthetic-classic",
    spec="spec/synthetic-classic.yaml",
    package=synthetic_classic_client,
    lifetime=18 * HOUR,
    call=lambda client: list_tests.sync(client=client),
    acall=lambda client: list_tests.asyncio(client=client),
    listed=MonitorList,
    forbidden_for_viewer=lambda client: get_test_results.sync_detailed(
        "21714841", client=client, start=1_700_000_000_000
    ),
)
FLEET_NOTES = Api(
    name="fleet-notes",
    spec="spec/fleet-notes.yaml",
    package=fleet_notes_client,
    lifetime=1 * HOUR,
    call=lambda client: list_vehicles.sync(client=client),
    acall=lambda client: list_vehicles.asyncio(client=client),
    listed=VehicleList,
    forbidden_for_viewer=lambda client: get_vehicle.sync_detailed("VAN-0042", client=client),
)
APIS = [SYNTHETIC_CLASSIC, FLEET_NOTES]
