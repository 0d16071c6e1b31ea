"""Redaction: passwords and tokens stay out of log output (fingerprints for humans, a filter for the rest)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import sys
import threading
import traceback
from collections import Counter, deque
from collections.abc import Generator
from urllib.parse import quote, quote_plus

import httpx

from ._fork import renew_after_fork

#: What a secret becomes in a redacted log record.
REDACTED = "***"

#: How many past tokens the shared filter keeps redacting; the oldest are forgotten first. Tokens are
#: short-lived, so a bounded memory is enough to cover log lines written while they were current.
MAX_REMEMBERED_TOKENS = 256

#: Number of sha256 hex digits shown by `fingerprint`: enough to tell tokens apart in logs, far too few
#: to recover one.
FINGERPRINT_HEX_DIGITS = 8

#: Loggers of the HTTP stack that may print a request URL or response headers. httpx logs
#: ``HTTP Request: GET <url> ...`` at INFO, and that URL carries the password for APIs whose login
#: takes it in the query string. Logger filters do not apply to records propagated from child
#: loggers, so httpcore's children are listed one by one.
HTTP_LIBRARY_LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)


def fingerprint(token: str) -> str:
    """Return a log-safe name for a token: ``tok:`` and the first hex digits of its sha256."""
    digest = hashlib.sha256(token.encode("utf-8")).hexdigest()
    return f"tok:{digest[:FINGERPRINT_HEX_DIGITS]}"


def _encoded_forms(secret: str) -> set[str]:
    """Return the spellings a secret takes on its way into a log line: raw, URL-encoded, JSON-escaped."""
    forms = {
        secret,
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
        # httpx encodes query parameters with its own safe set; ask it rather than guess.
        str(httpx.QueryParams({"x": secret})).removeprefix("x="),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
    }
    forms.discard("")
    return forms


class SecretRedactionFilter(logging.Filter):
    """Attach to a logger to replace every registered secret in its records with ``***``.

    Secrets come in two kinds. *Pinned* secrets (passwords, static tokens) are reference-counted and
    stay until their owner releases them. Issued tokens are remembered in a bounded FIFO of
    `MAX_REMEMBERED_TOKENS`. A record is redacted whether the secret sits in ``msg`` or in ``args``:
    the filter formats the record with ``getMessage()``, redacts the result and stores it back as
    ``msg`` with empty ``args``. Exception text and stack info are formatted and redacted the same way.
    The filter never drops a record.
    """

    def __init__(self, name: str = "") -> None:
        super().__init__(name)
        self._lock = threading.Lock()
        renew_after_fork(self, _lock=threading.Lock)
        self._pinned: Counter[str] = Counter()
        self._tokens: dict[str, None] = {}  # insertion-ordered set: the first key is the oldest
        # Read without the lock on every record, so it is replaced, never mutated.
        self._patterns: tuple[str, ...] = ()
        # Releases requested by finalizers, applied by the next change under the lock (see unpin_later).
        self._released: deque[str] = deque()

    def pin(self, secret: str) -> None:
        """Redact ``secret`` until `unpin` has been called as many times as `pin`."""
        forms = _encoded_forms(secret)
        with self._lock:
            for form in forms:
                self._pinned[form] += 1
            self._settle()

    def unpin(self, secret: str) -> None:
        """Release one `pin` of ``secret``."""
        self._released.append(secret)
        with self._lock:
            self._settle()

    def unpin_later(self, secret: str) -> None:
        """Release one `pin` of ``secret`` at the next change, without taking the lock: for finalizers.

        The garbage collector runs finalizers inside whatever allocation triggers it, which may be one
        made under this filter's lock; taking the lock there would deadlock the thread. Until the next
        `pin`, `unpin` or `remember` the secret stays redacted, which is the safe side.
        """
        self._released.append(secret)  # deque.append is atomic and allocates no tracked object

    def remember(self, token: str) -> None:
        """Redact an issued token; the oldest remembered tokens are forgotten past the bound."""
        forms = _encoded_forms(token)
        with self._lock:
            for form in forms:
                self._tokens.pop(form, None)
                self._tokens[form] = None
            while len(self._tokens) > MAX_REMEMBERED_TOKENS:
                del self._tokens[next(iter(self._tokens))]
            self._settle()

    def redact(self, text: str) -> str:
        """Return ``text`` with every registered secret replaced by `REDACTED`."""
        for pattern in self._patterns:
            if pattern in text:
                text = text.replace(pattern, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record in place and keep it."""
        if not self._patterns:
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError, KeyError):
            # A malformed record is the handler's to report; a filter must never raise into the caller.
            return True
        redacted = self.redact(message)
        if redacted != message:
            record.msg = redacted
            record.args = ()
        if record.exc_info is not None and record.exc_text is None:
            # Handlers cache the formatted exception in exc_text; filling it here means they print ours.
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True

    def _settle(self) -> None:
        # Under the lock: apply the pending releases, then rebuild the patterns. Releases that
        # finalizers add meanwhile (an allocation here may run the garbage collector) wait for the next.
        for _ in range(len(self._released)):
            for form in _encoded_forms(self._released.popleft()):
                self._pinned[form] -= 1
                if self._pinned[form] <= 0:
                    del self._pinned[form]
        # Longest first, so a secret that contains another is replaced whole.
        self._patterns = tuple(sorted({*self._pinned, *self._tokens}, key=len, reverse=True))


#: The one filter of this package copy: installed once per logger, however many clients exist.
_SHARED_FILTER = SecretRedactionFilter()
_INSTALL_LOCK = threading.Lock()
renew_after_fork(sys.modules[__name__], _INSTALL_LOCK=threading.Lock)


def install_redaction_filter(*logger_names: str) -> SecretRedactionFilter:
    """Install the shared filter on the HTTP stack's loggers and on ``logger_names``; safe to repeat."""
    names = {*HTTP_LIBRARY_LOGGERS, *logger_names}
    with _INSTALL_LOCK:
        # Children of httpx/httpcore created by versions newer than the list above.
        names.update(
            name for name in list(logging.Logger.manager.loggerDict) if name.startswith(("httpx.", "httpcore."))
        )
        for name in sorted(names):
            logger = logging.getLogger(name)
            if _SHARED_FILTER not in logger.filters:
                logger.addFilter(_SHARED_FILTER)
    return _SHARED_FILTER


@contextlib.contextmanager
def redacting(*secrets: str) -> Generator[None, None, None]:
    """Redact ``secrets`` from the HTTP stack's logs while the block runs, and from its exceptions.

    For requests sent without a `TokenLifecycle` (the login operation called through a plain
    ``Client``): httpx logs each request URL at INFO, and a login may carry the password in it. The
    secrets are pinned while the block runs and then remembered like issued tokens (bounded), so that
    a line written soon after is redacted too. An exception leaving the block loses them from its
    message (its type and attributes stay).
    """
    present = [secret for secret in secrets if secret]
    shared = install_redaction_filter()
    for secret in present:
        shared.pin(secret)
        shared.remember(secret)
    try:
        yield
    except Exception as exc:
        exc.args = tuple(shared.redact(arg) if isinstance(arg, str) else arg for arg in exc.args)
        raise
    finally:
        for secret in present:
            shared.unpin(secret)
