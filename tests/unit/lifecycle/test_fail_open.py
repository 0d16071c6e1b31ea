"""FailOpen: one warning per outage, no tries before the recheck time, one line when the backend is back."""

from __future__ import annotations

import logging

import pytest
from token_lifecycle._fail_open import FailOpen


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_outage_warns_once_and_waits_for_the_recheck(caplog: pytest.LogCaptureFixture):
    clock = Clock()
    health = FailOpen("the store X", recheck=5.0, clock=clock)
    assert health.usable()
    assert not health.down
    with caplog.at_level(logging.INFO):
        health.failed(ConnectionError("refused"))
        health.failed(TimeoutError("slow"))
        assert health.down
        assert not health.usable()
        clock.now += 4.9
        assert not health.usable()
        clock.now += 0.2
        assert health.usable()  # the next operation probes the backend
        health.failed(ConnectionError("still refused"))
        assert not health.usable()  # and a failed probe waits a full recheck again
        clock.now += 5.0
        health.succeeded()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "the store X is unavailable (ConnectionError: refused); working without it, in this process only, "
        "until it is back (next try in 5s)"
    ]
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert infos == ["the store X is back after 10.1s"]
    assert health.usable()
    assert not health.down


def test_success_without_an_outage_logs_nothing(caplog: pytest.LogCaptureFixture):
    health = FailOpen("the store X")
    with caplog.at_level(logging.DEBUG):
        health.succeeded()
    assert caplog.records == []
