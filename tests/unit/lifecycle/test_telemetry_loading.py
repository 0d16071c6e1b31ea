"""Telemetry's loading and robustness: no import until there is somewhere to send, off, a provider that raises."""

from __future__ import annotations

import logging

import httpx
import pytest
import token_lifecycle._telemetry as telemetry_module
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from token_lifecycle import Telemetry

from ._support import BASE_URL, FakeService, make_lifecycle, run_script_or_fail


class _Raising(SpanProcessor):
    """A span processor that fails at every span, as a broken exporter pipeline would."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        raise RuntimeError("processor down")

    def on_end(self, span: ReadableSpan) -> None:
        raise RuntimeError("processor down")


def test_a_provider_that_raises_never_fails_a_call_and_is_logged_once(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Login, 401 and replay work with a broken tracer provider: one WARNING naming the exception's type."""
    monkeypatch.setattr(telemetry_module, "_warned", False)  # once per process: this test's process may have had one
    provider = TracerProvider()
    provider.add_span_processor(_Raising())
    service = FakeService()
    auth = make_lifecycle(telemetry=Telemetry(provider))
    with caplog.at_level(logging.WARNING), httpx.Client(transport=service.transport(), auth=auth) as client:
        assert client.get(f"{BASE_URL}/items").status_code == 200
        service.revoke_all()
        assert client.get(f"{BASE_URL}/items").status_code == 200
    assert (auth.stats.logins, auth.stats.replays) == (2, 1)
    broken = [record.getMessage() for record in caplog.records if "OpenTelemetry raised" in record.getMessage()]
    assert broken == ["OpenTelemetry raised RuntimeError; calls go on without that span or count"]


def test_disabled_telemetry_emits_nothing() -> None:
    """Telemetry(enabled=False) never starts a span, even with providers given."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    auth = make_lifecycle(telemetry=Telemetry(provider, enabled=False))
    with httpx.Client(transport=FakeService().transport(), auth=auth) as client:
        client.get(f"{BASE_URL}/items")
    assert exporter.get_finished_spans() == ()


_NO_OTEL = """
import importlib.abc, sys

class Block(importlib.abc.MetaPathFinder):
    tried = []

    def find_spec(self, name, path=None, target=None):
        if name == "opentelemetry" or name.startswith("opentelemetry."):
            Block.tried.append(name)
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None

sys.meta_path.insert(0, Block())
"""

_SCENARIO = """
import sys
import httpx
from token_lifecycle import RetryPolicy, RetryTransport
from tests.unit.lifecycle._support import BASE_URL, FakeService, make_lifecycle

service = FakeService()
answers = [503]
def handle(request):
    if answers:
        answers.pop()
        return httpx.Response(503, headers={"Retry-After": "1"})
    return service.handle(request)

auth = make_lifecycle()
transport = RetryTransport(httpx.MockTransport(handle), RetryPolicy().no_sleep())
with httpx.Client(transport=transport, auth=auth) as client:
    assert client.get(BASE_URL + "/items").status_code == 200
    {between}
    service.revoke_all()
    assert client.get(BASE_URL + "/items").status_code == 200
print("imported", "opentelemetry" in sys.modules, auth.stats.logins, auth.stats.replays)
"""

_SET_GLOBAL_PROVIDER = """
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)
"""


def test_without_opentelemetry_installed_everything_works_and_no_import_is_tried() -> None:
    """No opentelemetry package: logins, a retry and a 401 replay work, and nothing tries to import it."""
    script = _NO_OTEL + _SCENARIO.replace("{between}", "pass") + "print('tried', Block.tried)"
    result = run_script_or_fail(script, "the scenario without opentelemetry hung")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["imported False 2 1", "tried []"]


def test_the_default_telemetry_imports_nothing_while_the_application_does_not_use_opentelemetry() -> None:
    """The default (global providers): events of an application that never imported opentelemetry import nothing."""
    result = run_script_or_fail(_SCENARIO.replace("{between}", "pass"), "the scenario hung")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["imported False 2 1"]


def test_the_default_telemetry_follows_a_global_provider_set_later() -> None:
    """An application that sets its global tracer provider after a first login gets the spans of later events."""
    between = "exec(" + repr(_SET_GLOBAL_PROVIDER) + ", globals())"
    script = (
        _SCENARIO.replace("{between}", between) + "print(sorted(span.name for span in exporter.get_finished_spans()))"
    )
    result = run_script_or_fail(script, "the scenario hung")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "imported True 2 1",
        "['bearer_codegen.login', 'bearer_codegen.replay']",
    ]
