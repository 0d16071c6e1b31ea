"""ISO-8601 durations become exact seconds; anything ambiguous or malformed becomes a message."""

from __future__ import annotations

import pytest

from generator._duration import parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("PT18H", 64_800.0), ("PT30M", 1_800.0), ("PT1.5S", 1.5), ("P1DT2H", 93_600.0), ("P2W", 1_209_600.0)],
)
def test_valid_durations(text: str, seconds: float) -> None:
    """Weeks, days, hours, minutes and (fractional) seconds add up exactly."""
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "words"),
    [("P", "not an ISO"), ("PT", "not an ISO"), ("18h", "not an ISO"), ("P1Y", "years"), ("-PT5M", "negative")],
)
def test_invalid_durations(text: str, words: str) -> None:
    """Malformed, empty, calendar-length and negative durations are refused with a reason."""
    message = parse_duration(text)
    assert isinstance(message, str)
    assert words in message
