"""An OpenTelemetry SDK pipeline of a test's own (in-memory spans and metrics), for the runtime's `Telemetry`.

Providers are passed explicitly, never set globally: OpenTelemetry lets a process set them only once.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Generator
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, NumberDataPoint
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from token_lifecycle import Telemetry

#: The runtime's counters (see ``_telemetry.COUNTERS``).
COUNTER_NAMES = (
    "bearer_codegen.logins",
    "bearer_codegen.refreshes",
    "bearer_codegen.rejections",
    "bearer_codegen.retries",
    "bearer_codegen.waits",
)


class _Started(SpanProcessor):
    """Remember every span started, to check that each one was ended too."""

    def __init__(self) -> None:
        self.started: list[Span] = []

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        self.started.append(span)


@dataclasses.dataclass
class Otel:
    """The pipeline: ``telemetry`` to give the client, what it exported."""

    telemetry: Telemetry
    exporter: InMemorySpanExporter
    reader: InMemoryMetricReader
    started: _Started
    tracer_provider: TracerProvider

    def spans(self, name: str | None = None) -> list[ReadableSpan]:
        """The ended spans (named ``name``), in the order they ended."""
        return [span for span in self.exporter.get_finished_spans() if name is None or span.name == name]

    def points(self, metric: str) -> list[tuple[dict[str, Any], int]]:
        """The data points (attributes, cumulative value) of counter ``metric``."""
        data = self.reader.get_metrics_data()
        found: list[tuple[dict[str, Any], int]] = []
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric_ in scope.metrics:
                    if metric_.name == metric:
                        found += [
                            (dict(point.attributes or {}), int(point.value))
                            for point in metric_.data.data_points
                            if isinstance(point, NumberDataPoint)
                        ]
        return found

    def total(self, metric: str) -> int:
        """The sum of counter ``metric`` over its attributes."""
        return sum(value for _, value in self.points(metric))


@contextlib.contextmanager
def otel_pipeline() -> Generator[Otel]:
    """A fresh pipeline; on exit, checks that every span started was ended."""
    exporter = InMemorySpanExporter()
    started = _Started()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(started)
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    try:
        yield Otel(Telemetry(tracer_provider, meter_provider), exporter, reader, started, tracer_provider)
        assert all(span.end_time is not None for span in started.started), "a span was started and never ended"
    finally:
        meter_provider.shutdown()
        tracer_provider.shutdown()


def exported_texts(otel: Otel) -> list[str]:
    """Every exported name and value as text: span names, statuses, attributes, events; metric attributes."""
    texts: list[str] = []
    for span in otel.spans():
        texts += [span.name, str(span.status.description)]
        texts += [f"{key}={value!r}" for key, value in (span.attributes or {}).items()]
        for event in span.events:
            texts += [event.name, *(f"{key}={value!r}" for key, value in (event.attributes or {}).items())]
    for metric in COUNTER_NAMES:
        for attributes, _ in otel.points(metric):
            texts += [f"{key}={value!r}" for key, value in attributes.items()]
    return texts
