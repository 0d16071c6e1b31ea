"""ISO-8601 durations (``PT18H``) as seconds, for token lifetimes."""

from __future__ import annotations

import re

__all__ = ["parse_duration"]

_DURATION = re.compile(
    r"P(?!$)(?:(?P<weeks>\d+(?:[.,]\d+)?)W)?(?:(?P<days>\d+(?:[.,]\d+)?)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+(?:[.,]\d+)?)H)?(?:(?P<minutes>\d+(?:[.,]\d+)?)M)?(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?)?"
)
_SECONDS_PER = {"weeks": 604_800, "days": 86_400, "hours": 3_600, "minutes": 60, "seconds": 1}


def parse_duration(text: str) -> float | str:
    """Seconds in an ISO-8601 duration, or a message saying what is wrong with it.

    Years and months are refused because their length in seconds varies; a token lifetime
    must be an exact span. The result is always positive.
    """
    if text.startswith("-"):
        return f"{text!r} is negative; a lifetime must be a positive duration such as PT18H"
    match = _DURATION.fullmatch(text)
    if match is None:
        if re.fullmatch(r"P(\d+Y)?(\d+M)?.*", text) and ("Y" in text.split("T")[0] or "M" in text.split("T")[0]):
            return f"{text!r} uses years or months, whose length varies; use days, hours, minutes or seconds"
        return f"{text!r} is not an ISO-8601 duration such as PT18H, PT30M or P1DT2H"
    seconds = sum(
        float(value.replace(",", ".")) * _SECONDS_PER[unit] for unit, value in match.groupdict().items() if value
    )
    if seconds <= 0:
        return f"{text!r} is zero; a lifetime must be a positive duration such as PT18H"
    return seconds
