"""Steps run in forked children give the same values, order and exceptions as run here, and leave no zombie."""

from __future__ import annotations

import errno
import os
import signal
from collections.abc import Callable, Iterator
from typing import NoReturn, TypeVar

import pytest

import generator._fork as fork
from generator._fork import Background, in_background, map_in_parallel, parallel

_T = TypeVar("_T")


class Refused(Exception):
    """A picklable exception with a message of its own."""


@pytest.fixture
def forked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the forked mode (skipped where it does not exist)."""
    monkeypatch.delenv("BEARER_CODEGEN_SERIAL", raising=False)
    if not parallel():
        pytest.skip("no second CPU or no fork: steps always run in this process here")


@pytest.fixture
def gate() -> Iterator[tuple[int, int]]:
    """A pipe a child can block on until the test writes to it (no timing involved)."""
    read, write = os.pipe()
    yield read, write
    os.close(read)
    os.close(write)


def _gone(pid: int) -> bool:
    """True when ``pid`` is neither running as our child nor left as a zombie to reap."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def _wait_for_exit(pid: int) -> None:
    """Block until child ``pid`` has exited, without reaping it (the :class:`Background` reaps it)."""
    if not hasattr(os, "waitid"):
        pytest.skip("os.waitid is not available here")
    os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)


def _pid(background: Background[_T]) -> int:
    return background._pid  # pyright: ignore[reportPrivateUsage]


def _raise_in_child(parent: int) -> None:
    if os.getpid() != parent:
        raise Refused("no such thing")


# The switch


def test_serial_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    """``BEARER_CODEGEN_SERIAL`` turns forking off whatever the machine offers."""
    monkeypatch.setenv("BEARER_CODEGEN_SERIAL", "1")
    assert parallel() is False


# Values, order and exceptions


def test_value_comes_back(mode: str) -> None:
    """The function's value (a structure, not only a scalar) is what result() returns."""
    background = in_background(lambda: {"answer": [42, "forty-two", (4, 2)]})
    assert background.result() == {"answer": [42, "forty-two", (4, 2)]}
    assert background.result() == {"answer": [42, "forty-two", (4, 2)]}, "a second call returns the same value"
    assert background.ready()


def test_value_is_computed_in_a_child(forked: None) -> None:
    """In parallel mode the function runs in another process."""
    assert in_background(os.getpid).result() != os.getpid()


@pytest.mark.parametrize("count", [0, 1, 2, 3, 10, 11])
def test_map_keeps_order_and_equals_serial(monkeypatch: pytest.MonkeyPatch, count: int) -> None:
    """Every item's value lands at its item's place, the same as ``[function(item) for item in items]``."""
    items = [f"item-{index}" for index in range(count)]

    def describe(item: str) -> tuple[str, int]:
        return item.upper(), len(item)

    monkeypatch.setenv("BEARER_CODEGEN_SERIAL", "1")
    serial = map_in_parallel(describe, items)
    monkeypatch.delenv("BEARER_CODEGEN_SERIAL")
    assert serial == [describe(item) for item in items]
    assert map_in_parallel(describe, items) == serial


def test_map_shares_the_items_with_a_child(forked: None) -> None:
    """With enough items both halves are used: odd places come from the child, even ones from here."""
    items = list(range(11))
    results = map_in_parallel(lambda item: (item * item, os.getpid()), items)
    assert [square for square, _ in results] == [item * item for item in items]
    here = os.getpid()
    assert {pid for index, (_, pid) in enumerate(results) if index % 2 == 0} == {here}
    child = {pid for index, (_, pid) in enumerate(results) if index % 2 == 1}
    assert len(child) == 1
    assert here not in child


def test_picklable_exception_is_reraised(mode: str) -> None:
    """The function's own exception comes out of result() with its type and message."""

    def refuse() -> int:
        raise Refused("no such thing")

    with pytest.raises(Refused, match=r"^no such thing$"):
        in_background(refuse).result()


def test_exception_raised_in_the_child_itself(forked: None) -> None:
    """An exception that only the child raises crosses back to the parent."""
    parent = os.getpid()
    background = in_background(lambda: _raise_in_child(parent))
    pid = _pid(background)
    with pytest.raises(Refused, match=r"^no such thing$"):
        background.result()
    assert _gone(pid)


def test_unpicklable_exception_becomes_runtime_error(mode: str) -> None:
    """An exception that cannot be pickled (a local class) comes back as a RuntimeError with its text."""

    class Local(Exception):
        pass

    def refuse() -> int:
        raise Local("the local reason")

    expected: type[Exception] = Local if mode == "serial" else RuntimeError
    with pytest.raises(expected) as raised:
        in_background(refuse).result()
    assert "the local reason" in str(raised.value)
    if mode == "parallel":
        assert "Local" in str(raised.value)


def test_map_reraises_the_childs_exception_and_leaves_no_zombie(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An exception on the child's half (odd places) is raised by map_in_parallel; the child is reaped."""
    started: list[tuple[Background[object], int]] = []
    original = fork.in_background

    def recording(function: Callable[[], object]) -> Background[object]:
        background = original(function)
        started.append((background, _pid(background)))
        return background

    monkeypatch.setattr(fork, "in_background", recording)

    def check(item: int) -> int:
        if item == 3:
            raise Refused(f"item {item} refused")
        return item

    with pytest.raises(Refused, match=r"^item 3 refused$"):
        map_in_parallel(check, list(range(6)))
    assert len(started) == (1 if mode == "parallel" else 0)
    for background, pid in started:
        assert pid > 0
        assert _gone(pid)
        assert _pid(background) == 0


def test_map_cancels_the_child_when_this_half_fails(forked: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """An exception on this process's half (even places) stops and reaps the child."""
    started: list[tuple[Background[object], int]] = []
    original = fork.in_background

    def recording(function: Callable[[], object]) -> Background[object]:
        background = original(function)
        started.append((background, _pid(background)))
        return background

    monkeypatch.setattr(fork, "in_background", recording)
    read, write = os.pipe()
    try:

        def check(item: int) -> int:
            if item % 2 == 1:
                os.read(read, 1)  # the child blocks here for good
            elif item == 2:
                raise Refused("item 2 refused")
            return item

        with pytest.raises(Refused, match=r"^item 2 refused$"):
            map_in_parallel(check, list(range(6)))
    finally:
        os.close(read)
        os.close(write)
    assert len(started) == 1
    background, pid = started[0]
    assert pid > 0
    assert _gone(pid)
    assert _pid(background) == 0


# Serial mode runs here; parallel mode runs in a copy of the memory


def test_serial_mode_runs_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``BEARER_CODEGEN_SERIAL`` set the function runs right away, in this process's memory."""
    monkeypatch.setenv("BEARER_CODEGEN_SERIAL", "1")
    seen: list[int] = []

    def note() -> int:
        seen.append(os.getpid())
        return len(seen)

    background = in_background(note)
    assert seen == [os.getpid()], "run at once, here"
    assert background.ready()
    assert background.result() == 1
    assert map_in_parallel(lambda item: seen.append(item), [10, 11, 12, 13]) == [None] * 4
    assert seen == [os.getpid(), 10, 11, 12, 13]


def test_parallel_mode_runs_in_a_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without it, the function's changes to memory stay in the child: this process does not see them."""
    monkeypatch.delenv("BEARER_CODEGEN_SERIAL", raising=False)
    seen: list[int] = []

    def note() -> int:
        seen.append(1)
        return len(seen)

    assert in_background(note).result() == 1
    if not parallel():
        pytest.skip("no second CPU or no fork: the step ran in this process")
    assert seen == []


# A child that dies is not an error


def test_child_exiting_without_answer_is_run_here(forked: None) -> None:
    """A child that leaves before answering (``os._exit``) has its step run again in this process."""
    parent = os.getpid()
    ran_in: list[int] = []

    def step() -> str:
        if os.getpid() != parent:
            os._exit(3)
        ran_in.append(os.getpid())
        return "done"

    background = in_background(step)
    pid = _pid(background)
    assert background.result() == "done"
    assert ran_in == [parent]
    assert _gone(pid)


def test_child_killed_is_run_here(forked: None) -> None:
    """A child killed by a signal (the OOM killer's SIGKILL) has its step run again in this process."""
    parent = os.getpid()

    def step() -> list[int]:
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return [1, 2, 3]

    background = in_background(step)
    pid = _pid(background)
    _wait_for_exit(pid)
    assert background.ready(), "a dead child's closed pipe does not make result() wait"
    assert background.result() == [1, 2, 3]
    assert _gone(pid)


def test_map_with_a_dying_child_still_has_every_value(forked: None) -> None:
    """map_in_parallel whose child dies gives the full, ordered result all the same."""
    parent = os.getpid()

    def square(item: int) -> int:
        if os.getpid() != parent:
            os._exit(3)
        return item * item

    assert map_in_parallel(square, list(range(7))) == [0, 1, 4, 9, 16, 25, 36]


# ready() and cancel()


def test_ready_once_the_child_has_finished(forked: None, gate: tuple[int, int]) -> None:
    """ready() is False while the child works and True once it has answered; result() does not wait then."""
    read, write = gate

    def step() -> bytes:
        return os.read(read, 5)

    background = in_background(step)
    assert not background.ready(), "the child is blocked on the gate, it cannot have answered"
    os.write(write, b"hello")
    _wait_for_exit(_pid(background))
    assert background.ready()
    assert background.result() == b"hello"
    assert background.ready()


def test_cancel_kills_and_reaps_a_running_child(forked: None, gate: tuple[int, int]) -> None:
    """cancel() of a child that would never finish stops it and leaves no zombie."""
    read, _ = gate
    background = in_background(lambda: os.read(read, 1))
    pid = _pid(background)
    assert pid > 0
    assert not _gone(pid), "still running"
    background.cancel()
    assert _gone(pid)
    assert _pid(background) == 0
    background.cancel()  # a second cancel is harmless


def test_cancel_after_result_is_harmless(mode: str) -> None:
    """The usual ``try: result() finally: cancel()`` keeps the value and does nothing more."""
    background = in_background(lambda: "value")
    pid = _pid(background)
    try:
        assert background.result() == "value"
    finally:
        background.cancel()
    assert background.result() == "value"
    if pid:
        assert _gone(pid)


def test_base_exception_is_reraised(mode: str) -> None:
    """Even SystemExit raised by the function comes out of result() (the child itself leaves via os._exit)."""

    def step() -> NoReturn:
        raise SystemExit(7)

    with pytest.raises(SystemExit) as raised:
        in_background(step).result()
    assert raised.value.code == 7


class TwoArguments(Exception):
    """Pickles (as its one ``args`` entry) but cannot be rebuilt from it: unpickling raises TypeError."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")


def test_exception_that_cannot_be_rebuilt_is_raised_by_running_the_step_here(forked: None) -> None:
    """An exception whose class cannot be rebuilt from its pickle: the step runs here and raises it itself."""
    parent = os.getpid()

    def refuse() -> int:
        raise TwoArguments("here" if os.getpid() == parent else "child", "the rebuilt reason")

    with pytest.raises(TwoArguments, match="here: the rebuilt reason"):
        in_background(refuse).result()


def test_unpicklable_value_is_computed_here(mode: str) -> None:
    """A value the child cannot send (a local function) is computed by the parent: both modes return it."""
    parent = os.getpid()

    def make() -> Callable[[], int]:
        where = os.getpid()

        def value() -> int:
            return where

        return value

    assert in_background(make).result()() == parent


def test_exception_is_raised_by_result_every_time(mode: str) -> None:
    """Serially as in a child, the step's exception comes out of result(), and again on the next call."""

    def fail() -> int:
        raise ValueError("no such thing")

    step = in_background(fail)
    for _ in range(2):
        with pytest.raises(ValueError, match="no such thing"):
            step.result()


def test_result_after_cancel_says_so(forked: None, gate: tuple[int, int]) -> None:
    """A cancelled step has no result: asking for one is a clear error, not a closed file descriptor."""
    read, _ = gate

    def wait() -> int:
        return len(os.read(read, 1))

    step = in_background(wait)
    step.cancel()
    with pytest.raises(RuntimeError, match="cancelled"):
        step.result()


def test_a_refused_fork_runs_the_step_here(monkeypatch: pytest.MonkeyPatch, forked: None) -> None:
    """No process to spare (fork fails with EAGAIN): the step runs in this process, no descriptor leaks."""

    def refuse() -> int:
        raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")

    before = len(os.listdir("/proc/self/fd"))
    monkeypatch.setattr(os, "fork", refuse)
    assert in_background(os.getpid).result() == os.getpid()
    assert len(os.listdir("/proc/self/fd")) == before
