"""A generated client's ``telemetry=`` against the simulator: a login, a revoked token recovered, 503 retry waits.

The spans and counters must tell the story the simulator's own counts tell, and hold no password
(the synthetic-classic login sends it in the query string).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.simulator._support import Simulator
from tests.otel_support import Otel, exported_texts, otel_pipeline

from ._apis import Api

#: The simulator's limit in this module (conftest: ``--rate-limit 6/60``): the seventh call is answered 503.
CALLS_IN_LIMIT = 6


@pytest.fixture
def otel() -> Iterator[Otel]:
    with otel_pipeline() as pipeline:
        yield pipeline


def test_the_spans_and_counters_of_a_session_match_the_simulators_counts(api: Api, sim: Simulator, otel: Otel) -> None:
    """Login, revoke → replay with a login inside, 503 → retry waits on the simulator's clock: all traced."""

    def wait_on_the_simulators_clock(seconds: float) -> None:
        sim.control("POST", "clock/advance", seconds=seconds)  # its clock is frozen: time travel, no sleep

    retry = api.package.RetryPolicy(sleep=wait_on_the_simulators_clock, random=lambda: 1.0)
    with api.client(sim.url, "demo", "demo-password", telemetry=otel.telemetry, retry=retry) as client:
        assert isinstance(api.call(client), api.listed)
        sim.control("POST", "tokens/revoke", user="demo")
        for _ in range(CALLS_IN_LIMIT):  # the last ones meet the limit, wait and are retried
            assert isinstance(api.call(client), api.listed)

    stats = sim.control("GET", "stats")
    assert (stats["logins"]["total"], stats["unauthorized"]) == (2, 1)
    assert stats["busy"] >= 1
    assert [span.name for span in otel.spans() if span.name != "bearer_codegen.retry.wait"] == [
        "bearer_codegen.login",
        "bearer_codegen.login",
        "bearer_codegen.replay",
    ]
    first, second, replay = (span for span in otel.spans() if span.name != "bearer_codegen.retry.wait")
    assert second.parent is not None
    assert replay.context is not None
    assert second.parent.span_id == replay.context.span_id
    assert (first.attributes or {})["bearer_codegen.login.reason"] == "no_token"
    assert (second.attributes or {})["bearer_codegen.login.reason"] == "rejected"
    assert "?" not in str((first.attributes or {})["url.full"])
    assert (otel.total("bearer_codegen.logins"), otel.total("bearer_codegen.rejections")) == (2, 1)
    assert otel.total("bearer_codegen.retries") == stats["busy"] == len(otel.spans("bearer_codegen.retry.wait"))
    assert client.lifecycle.stats.replays == 1
    assert [text for text in exported_texts(otel) if "demo-password" in text] == []


class _Clock:
    """Monotonic seconds that move only when the limiter sleeps: its waits take no real time."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_paced_client_records_its_rate_limit_waits_and_not_its_calls_served_at_once(
    api: Api, sim: Simulator, otel: Otel
) -> None:
    """One call per 10 s: the first call and the login go at once, the second waits a window (one span)."""
    clock = _Clock()
    limits = api.package.ServiceLimits(requests=2, per=10.0)  # the login takes a slot too
    limiter = api.package.LocalRateLimiter(limits, margin=0.0, clock=clock, sleep=clock.sleep)
    with api.client(sim.url, "demo", "demo-password", telemetry=otel.telemetry, rate_limiter=limiter) as client:
        assert isinstance(api.call(client), api.listed)
        assert otel.spans("bearer_codegen.rate_limit.wait") == []
        assert isinstance(api.call(client), api.listed)
    (wait,) = otel.spans("bearer_codegen.rate_limit.wait")
    assert (wait.attributes or {})["bearer_codegen.wait.seconds"] == 10.0
    assert otel.total("bearer_codegen.waits") == 1
    assert sim.control("GET", "stats")["busy"] == 0
