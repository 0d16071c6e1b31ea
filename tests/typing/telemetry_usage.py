"""Telemetry of a generated client, as users write it: type-checked only, never run.

Checks that the SDK's providers fit `Telemetry` (which names only the API's provider types) and that
``telemetry=`` is a keyword of ``AuthenticatedClient``.
"""

from __future__ import annotations

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from synthetic_classic_client import AuthenticatedClient, Credentials, Telemetry

BASE_URL = "https://synthetic.example/publicapi/rest/v1.0"


def traced_with_providers_of_its_own() -> AuthenticatedClient:
    telemetry = Telemetry(tracer_provider=TracerProvider(), meter_provider=MeterProvider([InMemoryMetricReader()]))
    return AuthenticatedClient(BASE_URL, credentials=Credentials("u", "p"), telemetry=telemetry)


def traced_with_the_global_providers() -> AuthenticatedClient:
    return AuthenticatedClient(BASE_URL, credentials=Credentials("u", "p"), telemetry=Telemetry())


def never_traced() -> AuthenticatedClient:
    return AuthenticatedClient(BASE_URL, credentials=Credentials("u", "p"), telemetry=Telemetry(enabled=False))
