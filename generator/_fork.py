"""Run steps of a generation in forked children, on the CPUs a single Python process leaves idle.

A generation is CPU-bound Python from end to end, so threads would not help; a forked child
starts in milliseconds with the parsed document already in its memory and hands back only its
result. Two uses: the document checks (validation above all) run while openapi-python-client
models and renders, and the audit of the rendered modules is shared out.

Where there is no spare CPU, no ``fork`` (Windows), or ``BEARER_CODEGEN_SERIAL`` is set, every
step runs in this process, one after the other, with the same results. A child that dies (the
kernel's OOM killer, a signal) is not an error either: its step is run again here.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import warnings
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar, cast

__all__ = ["Background", "in_background", "map_in_parallel", "parallel"]

_T = TypeVar("_T")
_I = TypeVar("_I")


def parallel() -> bool:
    """True when steps may run in forked children: ``fork`` exists, a second CPU is ours, not switched off."""
    if os.environ.get("BEARER_CODEGEN_SERIAL") or not hasattr(os, "fork"):
        return False
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return cpus > 1


class Background(Generic[_T]):
    """A function running in a forked child (or run here); :meth:`result` gives its value or raises its exception.

    Both modes behave alike: the exception comes out of :meth:`result`, every time it is called;
    a value or exception that cannot cross from the child (not picklable, or not rebuilt) and a
    child that dies or cannot be started make the function run here instead.
    """

    def __init__(self, function: Callable[[], _T]) -> None:
        self._function = function
        self._pid = 0
        self._pipe = -1
        self._outcome: tuple[bool, object] | None = None
        self._cancelled = False
        if not parallel() or not self._start():
            self._run_here()

    def _start(self) -> bool:
        """Fork the child; False when the system refuses another process (EAGAIN, ENOMEM)."""
        read, write = os.pipe()
        try:
            with warnings.catch_warnings():
                # Python 3.12+ warns about forking a process that has threads (the render runs in one).
                # The child only computes, writes to its pipe and leaves through os._exit.
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
        except OSError:
            os.close(read)
            os.close(write)
            return False
        if pid == 0:  # pragma: no cover - the child; its work is checked through what the parent receives
            os.close(read)
            _child(self._function, write)
        os.close(write)
        self._pid, self._pipe = pid, read
        return True

    def _run_here(self) -> None:
        try:
            self._outcome = (True, self._function())
        except Exception as err:  # noqa: BLE001 - kept, and raised by result() as the child's would be
            self._outcome = (False, err)

    def ready(self) -> bool:
        """True when :meth:`result` would not wait."""
        if self._outcome is not None or self._pipe < 0:
            return True
        readable, _, _ = select.select([self._pipe], [], [], 0)
        return bool(readable)

    def result(self) -> _T:
        """The function's value (its exception is raised here); the child is reaped."""
        if self._outcome is None:
            if self._cancelled:
                raise RuntimeError("the step was cancelled; it has no result")
            self._collect()
        assert self._outcome is not None  # noqa: S101 - set by _collect or _run_here
        succeeded, value = self._outcome
        if not succeeded:
            raise value if isinstance(value, BaseException) else RuntimeError(str(value))
        return cast(_T, value)

    def _collect(self) -> None:
        chunks: list[bytes] = []
        while chunk := os.read(self._pipe, 1 << 20):
            chunks.append(chunk)
        self._reap()
        try:
            outcome = cast(tuple[bool, object], pickle.loads(b"".join(chunks)))  # noqa: S301 - written by our own child
        except Exception:  # noqa: BLE001 - no answer (the child died, or its answer cannot be rebuilt here)
            self._run_here()
        else:
            self._outcome = outcome

    def cancel(self) -> None:
        """Stop the child if it still runs (when the result is no longer wanted)."""
        if self._pid:
            os.kill(self._pid, signal.SIGKILL)
            self._cancelled = self._outcome is None
            self._reap()

    def _reap(self) -> None:
        if self._pid:
            os.waitpid(self._pid, 0)
            self._pid = 0
        if self._pipe >= 0:
            os.close(self._pipe)
            self._pipe = -1


def in_background(function: Callable[[], _T]) -> Background[_T]:
    """Start ``function`` in a forked child when :func:`parallel`, else run it now."""
    return Background(function)


def map_in_parallel(function: Callable[[_I], _T], items: Sequence[_I]) -> list[_T]:
    """``[function(item) for item in items]``, half of the items handled by a forked child."""
    if len(items) < 2 or not parallel():
        return [function(item) for item in items]
    theirs = items[1::2]
    child = in_background(lambda: [function(item) for item in theirs])
    try:
        mine = [function(item) for item in items[0::2]]
        other = child.result()
    finally:
        child.cancel()
    merged: list[_T] = []
    for index in range(len(items)):
        merged.append(mine[index // 2] if index % 2 == 0 else other[index // 2])
    return merged


def _child(function: Callable[[], object], pipe: int) -> None:  # pragma: no cover - runs in the child
    """Run ``function``, write ``(succeeded, value or exception)`` to ``pipe`` and leave without cleanup.

    Writes nothing when the value cannot be pickled: the parent then runs the function itself.
    """
    try:
        payload = b""
        try:
            value = function()
        except BaseException as err:  # noqa: BLE001 - handed to the parent, which raises it
            try:
                payload = pickle.dumps((False, err))
            except Exception:  # noqa: BLE001 - an exception that cannot be pickled goes as its text
                payload = pickle.dumps((False, f"{type(err).__name__}: {err}"))
        else:
            with contextlib.suppress(Exception):
                payload = pickle.dumps((True, value))
        view = memoryview(payload)
        while view:
            view = view[os.write(pipe, view) :]
    finally:
        os._exit(0)
