"""The one sequence of decisions of the auth flow, shared by the sync and the async driver.

`auth_steps` walks a request through "begin → log in → finish" and the 401 replay, and yields a
`Step` wherever it needs the outside world: a request sent, a response read, a lock taken or given
back. A driver (``TokenLifecycle.sync_auth_flow`` or ``async_auth_flow``) carries out each step in its
own way (threading or asyncio locks, ``read()`` or ``aread()``) and answers it:

===========  ===============================================  ============================
step         the driver                                        and resumes the steps with
===========  ===============================================  ============================
`Send`       yields the request to httpx                       the response (body unread)
`Read`       reads the response body                           None
`Hold`       takes the flow's or the store's lock              whether it got the lock
`RELEASE`    gives back the lock taken last                    None
`LOAD`       reads the token store                             the `StoredToken`, or None
`Save`       writes ``token`` to the token store               None
`Discard`    forgets the stored ``token`` if it is still it    None
===========  ===============================================  ============================

The store steps come only between a store `Hold` and its `RELEASE`. The sync driver calls the store's
methods; the async driver awaits an `AsyncTokenStore`'s (so a network store never blocks the event
loop) and calls the sync ones otherwise. A store that fails to read or write (``OSError``) is logged
and the flow goes on: the store only shares logins (see `._store_io`).

Every `Hold` is followed by one `RELEASE`, whether the lock was got or not. When the steps raise, the
driver gives back every lock it still holds: the steps themselves never clean up. A blocking `Hold`
gives up after the lifecycle's ``login_wait``: the flow lock then fails the call (`LoginError`), the
store's lock lets the caller log in without it (its holder, maybe another process, may be hung).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, Literal, TypeAlias

import httpx

from ._errors import LoginError
from ._keeper import TokenKeeper
from ._state import Need, TokenState
from ._stores import StoredToken

# Plain slotted classes, not dataclasses: building a dataclass at import costs about 0.5 ms apiece.


class Send:
    """Send ``request`` through the client; resume with its response, body unread."""

    __slots__ = ("request",)

    def __init__(self, request: httpx.Request) -> None:
        self.request = request


class Read:
    """Read ``response``'s body (returning its connection to the pool); resume with None."""

    __slots__ = ("response",)

    def __init__(self, response: httpx.Response) -> None:
        self.response = response


class Hold:
    """Take a lock; resume with whether it was got (a blocking take may still fail, see the drivers).

    ``"flow"`` is the single flight of logins of this lifecycle; ``"store"`` is the token store's lock,
    held around "load → log in → save" so that every user of the store logs in once.
    """

    __slots__ = ("blocking", "lock")

    def __init__(self, lock: Literal["flow", "store"], *, blocking: bool) -> None:
        self.lock = lock
        self.blocking = blocking


class Release:
    """Give back the lock taken last; resume with None."""

    __slots__ = ()


RELEASE = Release()


class Load:
    """Read the token store; resume with the `StoredToken` it holds, or None."""

    __slots__ = ()


LOAD = Load()


class Save:
    """Write ``token`` to the token store (after a login); resume with None."""

    __slots__ = ("token",)

    def __init__(self, token: StoredToken) -> None:
        self.token = token


class Discard:
    """Forget the stored token if it is still ``token`` (compare-and-invalidate); resume with None."""

    __slots__ = ("token",)

    def __init__(self, token: str) -> None:
        self.token = token


StoreStep: TypeAlias = Load | Save | Discard
Step: TypeAlias = Send | Read | Hold | Release | StoreStep
#: What `auth_steps` yields, what it is resumed with (see the table above), and what it returns.
Steps: TypeAlias = Generator[Step, Any, None]


def auth_steps(keeper: TokenKeeper, request: httpx.Request) -> Steps:
    """Authenticate ``request``: the decisions of `TokenLifecycle`, as steps for a driver."""
    if not keeper.applies_to(request):
        yield Send(request)
        return
    need, state = keeper.assess()
    if state is None or need is Need.MANDATORY:
        # Every caller waits; the first re-checks and logs in, the rest find its token (single flight)
        # or its failure (a failed login is not repeated by each waiter, nor during the back-off).
        seen = keeper.attempts
        if not (yield Hold("flow", blocking=True)):
            raise keeper.gave_up_waiting()
        need, state = keeper.assess()
        if state is None or need is Need.MANDATORY:
            keeper.check_failure(seen)
            yield Hold("store", blocking=True)
            state = yield from _refresh(keeper, request, need, state, rejected=None)
            yield RELEASE
        yield RELEASE
    elif need is Need.ADVISORY:
        # Exactly one caller refreshes; the others keep sending the still valid token.
        if (yield Hold("flow", blocking=False)) and keeper.assess()[0] is not Need.NOTHING and not keeper.backing_off():
            if (yield Hold("store", blocking=False)):
                try:
                    state = yield from _refresh(keeper, request, need, state, rejected=None)
                except LoginError:
                    keeper.log_advisory_failure(state)
            yield RELEASE
        yield RELEASE

    sent = state.token
    keeper.apply(request, sent)
    response: httpx.Response = yield Send(request)
    if response.status_code not in keeper.invalid_on or not keeper.answered_by_service(response):
        return
    yield Read(response)  # return the connection to the pool before waiting on the lock
    keeper.on_rejected(request, response, sent)
    seen = keeper.attempts
    if not (yield Hold("flow", blocking=True)):
        raise keeper.gave_up_waiting()
    need, current = keeper.assess()
    if current is None or current.token == sent or need is Need.MANDATORY:
        keeper.check_failure(seen)
        yield Hold("store", blocking=True)
        current = yield from _refresh(keeper, request, need, current, rejected=sent)
        yield RELEASE
    yield RELEASE
    keeper.replay(request, response, current)
    response = yield Send(request)
    if response.status_code in keeper.invalid_on and keeper.answered_by_service(response):
        raise keeper.rejected_again(request, response, current)


def _refresh(
    keeper: TokenKeeper,
    request: httpx.Request,
    need: Need,
    current: TokenState | None,
    *,
    rejected: str | None,
) -> Generator[Step, Any, TokenState]:
    """Begin → log in → finish: adopt the store's token, or send the login (or refresh) request and read its answer."""
    keeper.check_can_log_in()
    stored = yield LOAD
    adopted, refused = keeper.adopt(stored, need, current, rejected=rejected)
    if refused is not None:
        yield Discard(refused)
    if adopted is not None:
        return adopted
    outcome: TokenState | httpx.Request = keeper.login_request(request, need, current, rejected=rejected)
    # At most two rounds: a refresh by refresh token, then (when it was refused) one full login.
    while not isinstance(outcome, TokenState):
        try:
            response: httpx.Response = yield Send(outcome)
            keeper.check_login_response(response)  # before reading a byte of it
            yield Read(response)
        except GeneratorExit as exit_:
            # Closed mid-login (a timeout, a reset, a cancelled task): the waiters must not each try again.
            keeper.login_interrupted(exit_)
            raise
        outcome = keeper.finish_login(response, need, current, rejected=rejected)
    yield Save(keeper.stored_form(outcome))
    return outcome
