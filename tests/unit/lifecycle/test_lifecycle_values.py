"""The runtime's value classes: immutable, equal and hashed by their fields, copied and pickled whole,
and shown without secrets. They are frozen, slotted dataclasses (the Value base of token_lifecycle/_values.py);
these tests pin what the hand-written classes and attrs before them gave."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from typing import cast

import pytest
from token_lifecycle import (
    Credentials,
    LifecycleStats,
    LoginCall,
    LoginResult,
    RetryPolicy,
    StoredToken,
    TokenState,
)
from token_lifecycle._values import Value

SECRET = "s3cr3t-t0ken-value"

VALUES: list[Callable[[], Value]] = [
    lambda: Credentials("ada", SECRET),
    lambda: TokenState(SECRET, 1.0, 2.0),
    lambda: LifecycleStats(logins=2, replays=1),
    lambda: StoredToken(SECRET, 100.0, 40.0, "ada@https://api.example"),
    lambda: LoginResult(SECRET, 60.0),
    lambda: LoginCall(
        method="GET",
        path="/login",
        username_in="query",
        username_name="user",
        password_in="query",
        password_name="password",
        token_from="body",
    ),
    lambda: RetryPolicy(attempts=3),
]
IDS = ["credentials", "token-state", "stats", "stored-token", "login-result", "login-call", "retry-policy"]


@pytest.mark.parametrize("make", VALUES, ids=IDS)
def test_equal_by_fields_and_hashable(make: Callable[[], Value]) -> None:
    first, second = make(), make()
    assert first is not second
    assert first == second
    assert hash(first) == hash(second)
    assert len({first, second}) == 1
    assert first != object()


@pytest.mark.parametrize("make", VALUES, ids=IDS)
def test_immutable(make: Callable[[], Value]) -> None:
    value = make()
    name = cast(tuple[str, ...], type(value).__slots__)[0]
    before = getattr(value, name)
    with pytest.raises(AttributeError, match="immutable"):
        setattr(value, name, "changed")
    with pytest.raises(AttributeError, match="immutable"):
        delattr(value, name)
    with pytest.raises(AttributeError):
        value.__dict__  # noqa: B018 - slotted: no instance dict to write around the guard
    assert getattr(value, name) == before


@pytest.mark.parametrize("make", VALUES, ids=IDS)
def test_copied_and_pickled_whole(make: Callable[[], Value]) -> None:
    value = make()
    clones = [copy.copy(value)]
    if not isinstance(value, RetryPolicy):
        # A policy holds random.random, bound to a Random whose deep copy or pickle is another Random.
        clones += [copy.deepcopy(value), pickle.loads(pickle.dumps(value))]  # noqa: S301 - our own bytes
    for clone in clones:
        assert clone == value
        assert type(clone) is type(value)


@pytest.mark.parametrize("make", VALUES, ids=IDS)
def test_repr_never_shows_a_secret(make: Callable[[], Value]) -> None:
    text = repr(make())
    assert SECRET not in text
    assert text.startswith(f"{type(make()).__name__}(")


def test_repr_shows_what_is_safe() -> None:
    assert repr(Credentials("ada", SECRET)) == "Credentials(username='ada', password='***')"
    assert repr(LoginResult(SECRET, 60.0)) == "LoginResult(lifetime=60.0, lifetime_problem=None)"
    assert repr(LifecycleStats(logins=2)) == (
        "LifecycleStats(logins=2, failed_logins=0, proactive_refreshes=0, invalidations=0, replays=0, store_hits=0, "
        "token_refreshes=0, failed_token_refreshes=0)"
    )


def test_values_of_different_classes_differ() -> None:
    assert TokenState(SECRET, 1.0, 2.0) != StoredToken(SECRET, 1.0, 2.0)


def test_retry_policy_replace_validates_like_the_constructor() -> None:
    policy = RetryPolicy(attempts=3)
    longer = policy.replace(attempts=7, base_delay=0.1)
    assert (longer.attempts, longer.base_delay, longer.max_delay) == (7, 0.1, policy.max_delay)
    assert policy.attempts == 3
    with pytest.raises(ValueError, match="attempts must be >= 1"):
        policy.replace(attempts=0)
    with pytest.raises(ValueError, match="max_total must be >= 0"):
        policy.replace(max_total=-1.0)
    with pytest.raises(TypeError):
        policy.replace(no_such_field=1)


@pytest.mark.parametrize(
    ("field", "value"),
    [("method", "PUT"), ("username_in", "body"), ("password_in", "path"), ("token_from", "xml")],
)
def test_login_call_refuses_an_unknown_choice_naming_the_field(field: str, value: str) -> None:
    fields: dict[str, str] = {
        "method": "GET",
        "path": "/login",
        "username_in": "query",
        "username_name": "user",
        "password_in": "query",
        "password_name": "password",
        "token_from": "body",
        field: value,
    }
    with pytest.raises(ValueError, match=f"{field} must be one of .* got {value!r}"):
        LoginCall(**fields)  # type: ignore[arg-type]  # deliberately outside the Literal types
