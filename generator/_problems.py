"""Problems found in the input: values with a severity and a location, reported once.

Exceptions are for bugs; everything a user can get wrong (an unreadable file, an invalid
document, a malformed ``x-token-lifecycle``) becomes a :class:`Problem` that names the file and
the JSON pointer, so the CLI can print every problem of a run together and exit with code 2.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

import attrs

__all__ = ["Problem", "Severity", "has_errors", "render_problems"]


MAX_MESSAGE_CHARS = 600
"""Messages quoting hostile documents are cut here so one problem stays one paragraph."""


class Severity(enum.Enum):
    """How bad a problem is: errors stop generation, warnings are reported and generation goes on."""

    ERROR = "error"
    WARNING = "warning"


@attrs.frozen
class Problem:
    """One thing wrong with an input, with where it is."""

    file: str
    """The file as the user named it (never an absolute path made up by us)."""
    pointer: str
    """RFC 6901 JSON pointer into the document; empty for the whole document."""
    message: str
    severity: Severity = Severity.ERROR

    def render(self) -> str:
        """One paragraph: ``error: FILE#POINTER: message``."""
        where = f"{self.file}#{self.pointer}" if self.pointer else self.file
        text = " ".join(self.message.split())
        if len(text) > MAX_MESSAGE_CHARS:
            text = text[: MAX_MESSAGE_CHARS - 1] + "…"
        return f"{self.severity.value}: {where}: {text}"


def has_errors(problems: Iterable[Problem]) -> bool:
    """True when any of ``problems`` is an error (nothing usable was, or may be, made)."""
    return any(problem.severity is Severity.ERROR for problem in problems)


def render_problems(problems: Iterable[Problem]) -> str:
    """All problems, errors first, one paragraph each, in a stable order."""
    ordered = sorted(problems, key=lambda p: (p.severity is not Severity.ERROR, p.file, p.pointer, p.message))
    return "\n".join(problem.render() for problem in ordered)
