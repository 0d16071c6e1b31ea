"""Compare the public API two specs generate and say which semver bump the changes call for.

``bearer-codegen diff OLD_SPEC NEW_SPEC`` builds the :class:`~generator._surface.ApiSurface` of each
spec (what a generated package exposes: operations, their arguments and return types, models,
enums, the token lifecycle) and classifies every difference. Two kinds of caller are protected:
code written against the old package that is upgraded to the new one, and old packages still
deployed when the service starts to behave as the new spec says. A change is

**breaking** (semver major) when either of them can fail:

- an operation, model or enum removed; an operation moved to another tag (its import path
  ``<package>.api.<tag>`` changes), to another method or path shape (old clients call the old URL),
  or newly needing a token (its functions accept only an ``AuthenticatedClient``);
- a parameter removed, a new required one, one that became required, changed location or wire
  name, changed default (callers that omit it get another request), or changed type, unless the new
  type only widens the old union (``int`` to ``int | str``); path parameters reordered (they are
  positional); the request body dropping a media type;
- a response status no longer documented (answers that parsed now come back unparsed), one whose
  type changed, or a new one whose type widens the return type (annotated callers stop checking);
- model fields, by the direction the model travels in. Sent in requests: a field removed, a new
  required field, a field that became required, changed type (other than widening) or default.
  Read from responses: a field removed, one that became optional (readers now meet ``Unset``),
  any change of type. A model used both ways, or by no operation, is judged both ways, because
  breaking one direction is enough; a model losing ``additional_properties`` is breaking either way;
- enum values removed or members renamed; a **new value in an enum read from responses** (or used
  both ways): generated enums reject unknown values, so an old client fails to parse the answer;
- token lifecycle: header name, scheme word, login method or path, where the user name or password
  travel, the login constants, where the token is read from, a new ``invalidOn`` status (old
  clients do not recover from it), or the lifecycle removed.

**additive** (semver minor): a new operation, optional parameter, optional or response-only field,
model, enum, media type or response status whose type the return type already has; a parameter or
request field that became optional or wider; a response field that became required; an operation
that no longer needs a token; a new value in an enum that is only sent.

**patch**: documentation (summaries, descriptions, the title), an operationId that keeps its
Python name, and lifecycle tunings old clients absorb by themselves: the lifetime, ``expiresIn``
(a client that finds no value falls back to the lifetime), an ``invalidOn`` status dropped, the
security scheme's name. Identical public APIs are a patch as well.

The command line is :mod:`._diff_cli`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Literal, TypeVar

import attrs

from ._document import path_shape
from ._lifecycle import TokenLifecycleSpec
from ._surface import ApiSurface, Direction, EnumType, Field, Model, Operation, Parameter, union_members

__all__ = ["Bump", "Change", "Level", "compare", "semver_bump", "version_bump"]

_VERSION = re.compile(r"^\s*v?(\d+)\.(\d+)(?:\.(\d+))?")
Bump = Literal["major", "minor", "patch"]
_BOTH: frozenset[Direction] = frozenset({"request", "response"})
_BUMP_ORDER: tuple[Bump, ...] = ("major", "minor", "patch")
_T = TypeVar("_T")


class Level(enum.Enum):
    """How a change affects existing callers; the order of the members is the order of the report."""

    BREAKING = "breaking"
    ADDITIVE = "additive"
    PATCH = "patch"


@attrs.frozen
class Change:
    """One difference between the two public APIs, with what it breaks."""

    level: Level
    subject: str
    """What changed: ``operation listTests``, ``model NewNote``, ``enum TestType``, ``auth``, ``info``."""
    message: str

    def render(self) -> str:
        """One line: ``breaking: operation listTests: parameter testType removed``."""
        return f"{self.level.value}: {self.subject}: {self.message}"


def semver_bump(changes: Iterable[Change]) -> Bump:
    """The bump the changes call for: major for any breaking one, minor for any additive one, else patch."""
    levels = {change.level for change in changes}
    if Level.BREAKING in levels:
        return "major"
    return "minor" if Level.ADDITIVE in levels else "patch"


def compare(old: ApiSurface, new: ApiSurface) -> list[Change]:
    """Every change from ``old`` to ``new``, breaking ones first, in a stable order."""
    directions = _merged_directions(old, new)
    changes = [
        *_operation_changes(old, new),
        *_model_changes(old, new, directions),
        *_enum_changes(old, new, directions),
        *_auth_changes(old.auth, new.auth),
    ]
    if old.title != new.title:
        changes.append(Change(Level.PATCH, "info", f"title changed from {old.title!r} to {new.title!r}"))
    order = list(Level)
    return sorted(changes, key=lambda change: order.index(change.level))


def _merged_directions(old: ApiSurface, new: ApiSurface) -> dict[str, frozenset[Direction]]:
    """Each class's directions in either spec; a class no operation uses counts as both (conservative)."""
    before, after = old.directions(), new.directions()
    return {name: (before.get(name, frozenset()) | after.get(name, frozenset())) or _BOTH for name in {*before, *after}}


def _keyed(items: Iterable[_T], key: Callable[[_T], str]) -> dict[str, _T]:
    return {key(item): item for item in items}


def _by_name(item: Operation | Model | EnumType) -> str:
    return item.name


def _by_python_name(item: Parameter | Field) -> str:
    return item.python_name


# --- operations ------------------------------------------------------------------------------------


def _operation_changes(old: ApiSurface, new: ApiSurface) -> list[Change]:
    before, after = _keyed(old.operations, _by_name), _keyed(new.operations, _by_name)
    changes: list[Change] = []
    for name in sorted(before.keys() | after.keys()):
        was, now = before.get(name), after.get(name)
        if now is None and was is not None:
            changes.append(Change(Level.BREAKING, f"operation {was.label}", f"removed ({was.method} {was.path})"))
        elif was is None and now is not None:
            changes.append(Change(Level.ADDITIVE, f"operation {now.label}", f"new ({now.method} {now.path})"))
        elif was is not None and now is not None:
            changes.extend(_operation_change(was, now))
    return changes


def _operation_change(was: Operation, now: Operation) -> list[Change]:
    subject = f"operation {now.label}"
    changes: list[Change] = []

    def add(level: Level, message: str) -> None:
        changes.append(Change(level, subject, message))

    if was.label != now.label:
        add(Level.PATCH, f"operationId changed from {was.label} to {now.label} (same Python name {now.name})")
    lost_tags = set(was.tags) - set(now.tags)
    if lost_tags:
        add(Level.BREAKING, f"moved from {_modules(was.tags)} to {_modules(now.tags)}")
    elif set(now.tags) - set(was.tags):
        add(Level.ADDITIVE, f"also importable from {_modules(sorted(set(now.tags) - set(was.tags)))}")
    if (was.method, path_shape(was.path)) != (now.method, path_shape(now.path)):
        add(Level.BREAKING, f"now {now.method} {now.path} (was {was.method} {was.path}); old clients call the old URL")
    if now.protected and not was.protected:
        add(Level.BREAKING, "now needs a token: its functions accept only an AuthenticatedClient")
    elif was.protected and not now.protected:
        add(Level.ADDITIVE, "no longer needs a token: its functions accept a plain Client too")
    params_before, params_after = _keyed(was.parameters, _by_python_name), _keyed(now.parameters, _by_python_name)
    for key in [*params_before, *(k for k in params_after if k not in params_before)]:
        changes.extend(_slot_changes(subject, params_before.get(key), params_after.get(key), sent=True, received=False))
    if set(was.positional) == set(now.positional) and was.positional != now.positional:
        add(
            Level.BREAKING,
            f"path parameters reordered from ({', '.join(was.positional)}) to "
            f"({', '.join(now.positional)}); they are positional",
        )
    changes.extend(_response_changes(subject, was, now))
    if was.docs != now.docs:
        add(Level.PATCH, "summary or description changed")
    return changes


def _modules(tags: Iterable[str]) -> str:
    return ", ".join(f"api.{tag}" for tag in tags)


def _response_changes(subject: str, was: Operation, now: Operation) -> list[Change]:
    before, after = _keyed(was.responses, lambda r: r.status), _keyed(now.responses, lambda r: r.status)
    changes: list[Change] = []
    for status in sorted(before.keys() | after.keys()):
        old, new = before.get(status), after.get(status)
        if new is None and old is not None:
            changes.append(Change(Level.BREAKING, subject, f"response {status} ({old.type}) no longer documented"))
        elif old is None and new is not None:
            widened = union_members(new.type) - was.return_types
            if widened:
                message = f"new response {status} ({new.type}) widens the return type with {', '.join(sorted(widened))}"
                changes.append(Change(Level.BREAKING, subject, message))
            else:
                changes.append(Change(Level.ADDITIVE, subject, f"new response {status} ({new.type})"))
        elif old is not None and new is not None and old.type != new.type:
            changes.append(
                Change(Level.BREAKING, subject, f"response {status} type changed from {old.type} to {new.type}")
            )
    return changes


# --- parameters and fields -------------------------------------------------------------------------


def _slot_changes(
    subject: str, old: Parameter | Field | None, new: Parameter | Field | None, *, sent: bool, received: bool
) -> list[Change]:
    """Changes of one parameter or model field; ``sent``/``received``: the direction its values travel in."""
    noun = "parameter" if isinstance(old or new, Parameter) else "field"
    why_sent, why_read = ("", "") if noun == "parameter" else (" (sent in requests)", " (read from responses)")
    if new is None:
        return [Change(Level.BREAKING, subject, f"{_name(noun, old)} removed")] if old is not None else []
    name = _name(noun, new)
    if old is None:
        if new.required and sent:
            return [Change(Level.BREAKING, subject, f"new required {name} ({new.type}){why_sent}")]
        optional = "" if new.required else "optional "
        return [Change(Level.ADDITIVE, subject, f"new {optional}{name} ({new.type})")]
    changes: list[Change] = []

    def add(level: Level, message: str) -> None:
        changes.append(Change(level, subject, f"{name} {message}"))

    if _is_body(old) and _is_body(new):
        changes.extend(_media_type_changes(subject, old.wire_name, new.wire_name))
    elif isinstance(old, Parameter) and isinstance(new, Parameter) and old.location != new.location:
        add(Level.BREAKING, f"moved from {old.location} to {new.location}")
    elif old.wire_name != new.wire_name:
        add(Level.BREAKING, f"is sent as {new.wire_name!r} instead of {old.wire_name!r}")
    if new.required and not old.required:
        add(Level.BREAKING if sent else Level.ADDITIVE, "became required" + (why_sent if sent else ""))
    elif old.required and not new.required:
        add(Level.BREAKING if received else Level.ADDITIVE, "became optional" + (why_read if received else ""))
    if old.type != new.type:
        widened = union_members(old.type) < union_members(new.type)
        if widened and not received:
            add(Level.ADDITIVE, f"type widened from {old.type} to {new.type}")
        else:
            add(Level.BREAKING, f"type changed from {old.type} to {new.type}")
    if old.default != new.default:
        add(Level.BREAKING if sent else Level.PATCH, f"default changed from {old.default} to {new.default}")
    if old.description != new.description:
        add(Level.PATCH, "description changed")
    return changes


def _is_body(slot: Parameter | Field) -> bool:
    return isinstance(slot, Parameter) and slot.location == "body"


def _name(noun: str, slot: Parameter | Field) -> str:
    if _is_body(slot):
        return "request body"
    return f"{noun} {slot.wire_name}"


def _media_type_changes(subject: str, old: str, new: str) -> list[Change]:
    before, after = set(filter(None, old.split(", "))), set(filter(None, new.split(", ")))
    changes = [
        Change(Level.BREAKING, subject, f"request body no longer accepts {media}") for media in sorted(before - after)
    ]
    changes += [
        Change(Level.ADDITIVE, subject, f"request body also accepts {media}") for media in sorted(after - before)
    ]
    return changes


# --- models and enums ------------------------------------------------------------------------------


def _model_changes(old: ApiSurface, new: ApiSurface, directions: Mapping[str, frozenset[Direction]]) -> list[Change]:
    before, after = _keyed(old.models, _by_name), _keyed(new.models, _by_name)
    changes: list[Change] = []
    for name in sorted(before.keys() | after.keys()):
        was, now = before.get(name), after.get(name)
        subject = f"model {name}"
        if now is None:
            changes.append(Change(Level.BREAKING, subject, "removed"))
        elif was is None:
            changes.append(Change(Level.ADDITIVE, subject, "new"))
        else:
            changes.extend(_model_change(subject, was, now, directions.get(name, _BOTH)))
    return changes


def _model_change(subject: str, was: Model, now: Model, directions: frozenset[Direction]) -> list[Change]:
    sent, received = "request" in directions, "response" in directions
    fields_before, fields_after = _keyed(was.fields, _by_python_name), _keyed(now.fields, _by_python_name)
    changes: list[Change] = []
    for key in [*fields_before, *(k for k in fields_after if k not in fields_before)]:
        changes.extend(
            _slot_changes(subject, fields_before.get(key), fields_after.get(key), sent=sent, received=received)
        )
    if was.additional != now.additional:
        if was.additional is None:
            changes.append(Change(Level.ADDITIVE, subject, f"now keeps additional properties ({now.additional})"))
        elif now.additional is None:
            changes.append(Change(Level.BREAKING, subject, "no longer has additional_properties"))
        else:
            message = f"additional properties changed from {was.additional} to {now.additional}"
            changes.append(Change(Level.BREAKING, subject, message))
    if was.description != now.description:
        changes.append(Change(Level.PATCH, subject, "description changed"))
    return changes


def _enum_changes(old: ApiSurface, new: ApiSurface, directions: Mapping[str, frozenset[Direction]]) -> list[Change]:
    before, after = _keyed(old.enums, _by_name), _keyed(new.enums, _by_name)
    changes: list[Change] = []
    for name in sorted(before.keys() | after.keys()):
        was, now = before.get(name), after.get(name)
        subject = f"enum {name}"
        if now is None:
            changes.append(Change(Level.BREAKING, subject, "removed"))
        elif was is None:
            changes.append(Change(Level.ADDITIVE, subject, "new"))
        else:
            changes.extend(_enum_change(subject, was, now, "response" in directions.get(name, _BOTH)))
    return changes


def _enum_change(subject: str, was: EnumType, now: EnumType, received: bool) -> list[Change]:
    changes: list[Change] = []
    if was.literal != now.literal:
        kind = "a Literal alias" if now.literal else "an enum class"
        changes.append(Change(Level.BREAKING, subject, f"is now {kind} (literal_enums)"))
    names_before = {value: member for member, value in was.members}
    names_after = {value: member for member, value in now.members}
    for value in sorted(names_before.keys() - names_after.keys()):
        changes.append(Change(Level.BREAKING, subject, f"value {value} removed"))
    for value in sorted(names_after.keys() - names_before.keys()):
        if received:
            message = f"new value {value}: old clients reject it when a response carries it"
            changes.append(Change(Level.BREAKING, subject, message))
        else:
            changes.append(Change(Level.ADDITIVE, subject, f"new value {value}"))
    for value in sorted(names_before.keys() & names_after.keys()):
        if names_before[value] != names_after[value] and not now.literal:
            message = f"member {names_before[value]} renamed to {names_after[value]} (value {value})"
            changes.append(Change(Level.BREAKING, subject, message))
    if was.description != now.description:
        changes.append(Change(Level.PATCH, subject, "description changed"))
    return changes


# --- token lifecycle -------------------------------------------------------------------------------


def _auth_changes(old: TokenLifecycleSpec | None, new: TokenLifecycleSpec | None) -> list[Change]:
    if old is None and new is None:
        return []
    if new is None:
        return [Change(Level.BREAKING, "auth", "token lifecycle removed: AuthenticatedClient no longer logs in")]
    if old is None:
        return [Change(Level.ADDITIVE, "auth", f"token lifecycle added (header {new.header_name})")]
    changes: list[Change] = []

    def compare_setting(what: str, before: object, after: object, level: Level = Level.BREAKING) -> None:
        if before != after:
            changes.append(Change(level, "auth", f"{what} changed from {_show(before)} to {_show(after)}"))

    compare_setting("token header", old.header_name, new.header_name)
    compare_setting("scheme word", old.scheme_word, new.scheme_word)
    compare_setting("login request", f"{old.login.method} {old.login.path}", f"{new.login.method} {new.login.path}")
    for role in ("username", "password"):
        before, after = getattr(old.login, role), getattr(new.login, role)
        compare_setting(f"login {role}", f"{before.location} {before.name}", f"{after.location} {after.name}")
    compare_setting("login constants", dict(old.login.constants), dict(new.login.constants))
    compare_setting(
        "token location",
        f"{old.token_from} {old.token_pointer or ''}".strip(),
        f"{new.token_from} {new.token_pointer or ''}".strip(),
    )
    gained = sorted(set(new.invalid_on) - set(old.invalid_on))
    if gained:
        message = f"invalidOn gained {', '.join(map(str, gained))}: old clients do not log in again on it"
        changes.append(Change(Level.BREAKING, "auth", message))
    lost = sorted(set(old.invalid_on) - set(new.invalid_on))
    if lost:
        changes.append(Change(Level.PATCH, "auth", f"invalidOn no longer lists {', '.join(map(str, lost))}"))
    compare_setting("lifetime", f"{old.lifetime_seconds:g} s", f"{new.lifetime_seconds:g} s", Level.PATCH)
    compare_setting("expiresIn pointer", old.expires_in_pointer, new.expires_in_pointer, Level.PATCH)
    compare_setting("security scheme name", old.security_scheme, new.security_scheme, Level.PATCH)
    compare_setting("login operationId", old.login.operation_id, new.login.operation_id, Level.PATCH)
    return changes


def _show(value: object) -> str:
    return "none" if value is None else str(value)


# --- versions --------------------------------------------------------------------------------------


def version_bump(old: str, new: str) -> Bump | Literal["none", "downgrade", "unknown"]:
    """How far ``info.version`` moved: the first of major.minor.patch that rose."""
    before, after = _VERSION.match(old), _VERSION.match(new)
    if before is None or after is None:
        return "unknown"
    parts_before = tuple(int(part or 0) for part in before.groups())
    parts_after = tuple(int(part or 0) for part in after.groups())
    if parts_after < parts_before:
        return "downgrade"
    for index, bump in enumerate(_BUMP_ORDER):
        if parts_after[index] > parts_before[index]:
            return bump
    return "none"
