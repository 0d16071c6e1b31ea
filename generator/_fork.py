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

import os
import pickle
import select
import signal
import warnings
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

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
    """A function running in a forked child (or already run here); :meth:`result` waits for its value."""

    def __init__(self, function: Callable[[], _T]) -> None:
        self._function = function
        self._pid = 0
        self._pipe = -1
        self._value: list[_T] = []
        if not parallel():
            self._value.append(function())
            return
        read, write = os.pipe()
        with warnings.catch_warnings():
            # Python 3.12+ warns about forking a process that has threads (the render runs in one).
            # The child only computes, writes to its pipe and leaves through os._exit.
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # pragma: no cover - the child; its work is checked through what the parent receives
            os.close(read)
            _child(function, write)
        os.close(write)
        self._pid, self._pipe = pid, read

    def ready(self) -> bool:
        """True when :meth:`result` would not wait."""
        if self._value or self._pipe < 0:
            return True
        readable, _, _ = select.select([self._pipe], [], [], 0)
        return bool(readable)

    def result(self) -> _T:
        """The function's value (its exception is raised here); the child is reaped."""
        if self._value:
            return self._value[0]
        chunks: list[bytes] = []
        while chunk := os.read(self._pipe, 1 << 20):
            chunks.append(chunk)
        self._reap()
        try:
            outcome: tuple[bool, object] = pickle.loads(b"".join(chunks))  # noqa: S301 - written by our own child
        except (pickle.UnpicklingError, EOFError, ValueError):
            # The child died before it could answer: do the work here instead.
            self._value.append(self._function())
            return self._value[0]
        succeeded, value = outcome
        if not succeeded:
            raise value if isinstance(value, BaseException) else RuntimeError(str(value))
        self._value.append(value)  # type: ignore[arg-type]  # the child pickled the function's own value
        return self._value[0]

    def cancel(self) -> None:
        """Stop the child if it still runs (when the result is no longer wanted)."""
        if self._pid:
            os.kill(self._pid, signal.SIGKILL)
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
    """Run ``function``, write ``(succeeded, value or exception)`` to ``pipe`` and leave without cleanup."""
    try:
        try:
            payload = pickle.dumps((True, function()))
        except BaseException as err:  # noqa: BLE001 - handed to the parent, which raises it
            try:
                payload = pickle.dumps((False, err))
            except Exception:  # noqa: BLE001 - an exception that cannot be pickled goes as its text
                payload = pickle.dumps((False, f"{type(err).__name__}: {err}"))
        view = memoryview(payload)
        while view:
            view = view[os.write(pipe, view) :]
    finally:
        os._exit(0)
