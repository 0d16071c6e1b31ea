"""OpenTelemetry spans and counters of the rare events: logins, refreshes, recovered 401s, retry and rate-limit waits.

Only the events that cost a round trip or a wait are traced, so a call with a valid token emits
nothing and touches nothing here. ``opentelemetry-api`` (never the SDK) is imported at an event, not
when the runtime is imported, and only when there is somewhere to send it: providers were given, or
(the default, OpenTelemetry's global providers) the application imported ``opentelemetry`` itself.
An application that never did so cannot have set a global provider, so a client pays nothing, not
even the import, until it does. When the API cannot be imported, every `Telemetry` is a no-op for
good (decided once per process). With the API but no SDK configured, OpenTelemetry's own no-op
providers make each event a few attribute writes on a non-recording span.

=================================  ========================  ============================================
span                               counter (unit)            when
=================================  ========================  ============================================
``bearer_codegen.login``           ``bearer_codegen.logins``     a login request and its answer
                                   (``{login}``)
``bearer_codegen.refresh``         ``bearer_codegen.refreshes``  a refresh: by refresh token, or a login made
                                   (``{refresh}``)               while the token is still valid (proactive)
``bearer_codegen.replay``          ``bearer_codegen.rejections`` a 401 of the token: compare-and-invalidate,
                                   (``{rejection}``)             wait for the login, replay the request once
``bearer_codegen.retry.wait``      ``bearer_codegen.retries``    the 503 layer's sleep before a retry
                                   (``{retry}``)
``bearer_codegen.rate_limit.wait`` ``bearer_codegen.waits``      a call waiting for a slot of the rate limiter
                                   (``{wait}``)
=================================  ========================  ============================================

A span is started with ``tracer.start_span`` and ended by hand, never attached to the current
context: a login spans the yields of the auth flow's generator, and a context token cannot be reset
in another context. Its parent is the caller's current span (the login inside a replay: the replay).

Secrets never reach an attribute, a span name or an event: URLs are `safe_url` (no query string,
where a login may carry the password), a token appears only as its `fingerprint`, errors only as
their type (``error.type``), never their message; exceptions are not recorded as events.
Counters carry only attributes of low cardinality (no URL, no fingerprint). Telemetry never fails
a call: a provider or exporter that raises is logged once (its exception's type) and ignored.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from types import TracebackType
from typing import TYPE_CHECKING, Final, Literal, Self

import httpx

from ._attempts import interruption
from ._fork import renew_after_fork
from ._oauth2 import REFRESH_EXTENSION
from ._redaction import fingerprint
from ._urls import safe_url

if TYPE_CHECKING:
    from opentelemetry.metrics import Counter, MeterProvider
    from opentelemetry.trace import Span, Tracer, TracerProvider

#: Span names (see the module docstring).
LOGIN_SPAN: Final = "bearer_codegen.login"
REFRESH_SPAN: Final = "bearer_codegen.refresh"
REPLAY_SPAN: Final = "bearer_codegen.replay"
RETRY_WAIT_SPAN: Final = "bearer_codegen.retry.wait"
RATE_LIMIT_WAIT_SPAN: Final = "bearer_codegen.rate_limit.wait"

#: Counters: name -> (unit, description).
COUNTERS: Final = {
    "bearer_codegen.logins": ("{login}", "Logins sent; a failed one carries error.type"),
    "bearer_codegen.refreshes": ("{refresh}", "Refreshes sent (refresh token or proactive login); failed: error.type"),
    "bearer_codegen.rejections": ("{rejection}", "Answers that rejected the token (401), each recovered or not"),
    "bearer_codegen.retries": ("{retry}", "Retries of a service-limit answer (503) after a wait"),
    "bearer_codegen.waits": ("{wait}", "Calls that waited for a rate-limit slot; a timed-out wait: error.type"),
}

#: Attributes of our own (the others are OpenTelemetry's semantic conventions).
TOKEN_FINGERPRINT: Final = "bearer_codegen.token.fingerprint"  # noqa: S105 -- an attribute name, no secret
LOGIN_REASON: Final = "bearer_codegen.login.reason"
REFRESH_METHOD: Final = "bearer_codegen.refresh.method"
RETRY_ATTEMPT: Final = "bearer_codegen.retry.attempt"
WAIT_SECONDS: Final = "bearer_codegen.wait.seconds"

#: Seconds: a rate-limit slot obtained faster than this came at once (the limiter's bookkeeping, a
#: Redis round trip), not after a wait for the window: such a call records nothing.
MIN_RECORDED_WAIT_SECONDS: Final = 0.01

#: Why a login or refresh is sent (``bearer_codegen.login.reason``).
LoginReason = Literal["no_token", "expiring", "advisory", "rejected"]

#: The instrumentation scope: the runtime package (``<client>._token_lifecycle`` in a generated client).
SCOPE_NAME: Final = __name__.rpartition(".")[0] or __name__

AttributeValue = str | int | float | bool


class _Api:
    """The few names of ``opentelemetry-api`` the runtime uses, imported together at the first event."""

    def __init__(self) -> None:
        from opentelemetry import metrics, trace

        self.get_tracer = trace.get_tracer
        self.get_meter = metrics.get_meter
        self.set_span_in_context = trace.set_span_in_context
        self.Status = trace.Status
        self.StatusCode = trace.StatusCode


# None: not tried yet; False: the API is not installed (decided once per process).
_api: _Api | Literal[False] | None = None


def _load_api() -> _Api | None:
    global _api  # one verdict per process: the import is tried only once
    if _api is None:
        try:
            _api = _Api()
        except ImportError:
            _api = False
    return _api or None


def _imported_by_the_application() -> bool:
    """Whether something imported the API already: only then can a global provider have been set."""
    return "opentelemetry.trace" in sys.modules or "opentelemetry.metrics" in sys.modules


class _Instruments:
    """A tracer and the counters of one `Telemetry`, built at its first event."""

    def __init__(self, api: _Api, tracer_provider: TracerProvider | None, meter_provider: MeterProvider | None) -> None:
        self.api = api
        self.tracer: Tracer = api.get_tracer(SCOPE_NAME, tracer_provider=tracer_provider)
        meter = api.get_meter(SCOPE_NAME, meter_provider=meter_provider)
        self.counters: dict[str, Counter] = {
            name: meter.create_counter(name, unit=unit, description=description)
            for name, (unit, description) in COUNTERS.items()
        }


_logger = logging.getLogger(__name__)
_warned = False


def _broken(exc: Exception) -> None:
    """Telemetry never fails a call: a provider or exporter that raises is logged once, then ignored.

    Only the exception's type is logged: its message is the provider's, which we cannot vouch for.
    """
    global _warned  # one line per process: a broken exporter would otherwise log at every event
    if not _warned:
        _warned = True
        _logger.warning("OpenTelemetry raised %s; calls go on without that span or count", type(exc).__qualname__)


def _error_type(error: BaseException | str) -> str:
    """``error.type``: the exception's class name (of the cause, for a flow closed mid-way), never its message."""
    if isinstance(error, str):
        return error
    if isinstance(error, GeneratorExit):
        cause = interruption(error)
        return "GeneratorExit" if cause is None else type(cause).__qualname__
    return type(error).__qualname__


def _server(url: httpx.URL) -> dict[str, AttributeValue]:
    attributes: dict[str, AttributeValue] = {"server.address": url.host}
    if url.port is not None:
        attributes["server.port"] = url.port
    return attributes


def _request(request: httpx.Request) -> dict[str, AttributeValue]:
    return {"http.request.method": request.method, "url.full": safe_url(request.url), **_server(request.url)}


class Activity:
    """One started span of ours and the counter it adds 1 to when it ends; inert when telemetry is off.

    End it exactly once: `end` (or use it as a context manager around a wait).
    """

    __slots__ = ("_count_attributes", "_counter", "_instruments", "_span")

    def __init__(
        self,
        instruments: _Instruments | None = None,
        span: Span | None = None,
        counter: Counter | None = None,
        count_attributes: dict[str, AttributeValue] | None = None,
    ) -> None:
        self._instruments = instruments
        self._span = span
        self._counter = counter
        self._count_attributes = count_attributes or {}

    @property
    def span(self) -> Span | None:
        """The OpenTelemetry span, None when telemetry is off."""
        return self._span

    def set(self, key: str, value: AttributeValue) -> None:
        """Set a span attribute (a value that is no secret: see the module docstring)."""
        if self._span is not None:
            try:
                self._span.set_attribute(key, value)
            except Exception as exc:  # noqa: BLE001 -- telemetry never fails a call (see _broken)
                _broken(exc)

    def set_token(self, token: str) -> None:
        """Name ``token`` on the span by its fingerprint (the token itself never)."""
        if self._span is not None:
            self.set(TOKEN_FINGERPRINT, fingerprint(token))

    def end(self, error: BaseException | str | None = None, *, end_time: int | None = None) -> None:
        """End the span (an error status and ``error.type`` when ``error``) and add 1 to the counter.

        ``end_time``: nanoseconds since the epoch (``time.time_ns()``), now when None.
        """
        instruments = self._instruments
        if instruments is None:
            return
        self._instruments = None  # a second end() does nothing
        attributes = self._count_attributes
        try:
            if error is not None:
                error_type = _error_type(error)
                attributes = {**attributes, "error.type": error_type}
                if self._span is not None:
                    self._span.set_attribute("error.type", error_type)
                    self._span.set_status(instruments.api.Status(instruments.api.StatusCode.ERROR, error_type))
            if self._span is not None:
                self._span.end(end_time)
            if self._counter is not None:
                self._counter.add(1, attributes)
        except Exception as exc:  # noqa: BLE001 -- telemetry never fails a call (see _broken)
            _broken(exc)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.end(exc)


#: The inert activity of a `Telemetry` that is off.
_INERT = Activity()


class Telemetry:
    """Where the runtime's spans and counters go: OpenTelemetry providers, the global ones by default.

    ``tracer_provider`` / ``meter_provider``: None means OpenTelemetry's global providers, as set by
    the application (``opentelemetry.trace.set_tracer_provider``), which are no-ops until it sets them;
    with both None, events are dropped without importing anything until the application has imported
    ``opentelemetry`` (see the module docstring). Nothing is imported before the first event;
    ``enabled=False`` never imports anything. One object may serve many clients (their lifecycles,
    retry and pacing transports); it is thread-safe.
    """

    __slots__ = ("__weakref__", "_enabled", "_instruments", "_lock", "_meter_provider", "_tracer_provider")

    def __init__(
        self,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        *,
        enabled: bool = True,
    ) -> None:
        self._tracer_provider = tracer_provider
        self._meter_provider = meter_provider
        self._enabled = enabled
        self._instruments: _Instruments | None = None
        self._lock = threading.Lock()  # guards building _instruments once; never held across I/O
        renew_after_fork(self, _lock=threading.Lock)

    def __repr__(self) -> str:
        providers = "global" if self._tracer_provider is None and self._meter_provider is None else "given"
        return f"<Telemetry {'on' if self._enabled else 'off'} providers={providers}>"

    def _ready(self) -> _Instruments | None:
        if not self._enabled:
            return None
        instruments = self._instruments
        if instruments is None:
            if self._tracer_provider is None and self._meter_provider is None and not _imported_by_the_application():
                return None  # nowhere to send it yet: asked again at the next event, which is rare
            api = _load_api()
            if api is None:
                self._enabled = False  # no API in this process: nothing to try again
                return None
            with self._lock:
                if self._instruments is None:
                    self._instruments = _Instruments(api, self._tracer_provider, self._meter_provider)
                instruments = self._instruments
        return instruments

    def start(
        self,
        name: str,
        attributes: dict[str, AttributeValue],
        *,
        counter: str | None = None,
        count_attributes: dict[str, AttributeValue] | None = None,
        parent: Activity | None = None,
        start_time: int | None = None,
    ) -> Activity:
        """Start span ``name`` (child of ``parent``'s span, else of the current one); count on `Activity.end`."""
        try:
            instruments = self._ready()
            if instruments is None:
                return _INERT
            context = None
            if parent is not None and parent.span is not None:
                context = instruments.api.set_span_in_context(parent.span)
            span = instruments.tracer.start_span(name, context=context, attributes=attributes, start_time=start_time)
        except Exception as exc:  # noqa: BLE001 -- telemetry never fails a call (see _broken)
            _broken(exc)
            return _INERT
        return Activity(
            instruments,
            span,
            None if counter is None else instruments.counters[counter],
            count_attributes,
        )

    def count(self, counter: str, attributes: dict[str, AttributeValue]) -> None:
        """Add 1 to ``counter`` (one of `COUNTERS`)."""
        try:
            instruments = self._ready()
            if instruments is not None:
                instruments.counters[counter].add(1, attributes)
        except Exception as exc:  # noqa: BLE001 -- telemetry never fails a call (see _broken)
            _broken(exc)

    # -- the events of the runtime's parts ------------------------------------------------------------

    def login(self, request: httpx.Request, *, reason: LoginReason, refresh: bool, parent: Activity | None) -> Activity:
        """A login (or refresh, when ``refresh``) request is about to be sent: end the activity with its outcome."""
        if self._ready() is None:
            return _INERT
        by_refresh_token = request.extensions.get(REFRESH_EXTENSION) is True
        refresh = refresh or by_refresh_token
        attributes: dict[str, AttributeValue] = {**_request(request), LOGIN_REASON: reason}
        if refresh:
            attributes[REFRESH_METHOD] = "refresh_token" if by_refresh_token else "login"
        return self.start(
            REFRESH_SPAN if refresh else LOGIN_SPAN,
            attributes,
            counter="bearer_codegen.refreshes" if refresh else "bearer_codegen.logins",
            count_attributes={**_server(request.url), LOGIN_REASON: reason},
            parent=parent,
        )

    def replay(self, request: httpx.Request, response: httpx.Response, rejected: str) -> Activity:
        """The service rejected the token ``request`` carried: count it; the activity lasts until the replay."""
        if self._ready() is None:
            return _INERT
        status = response.status_code
        self.count("bearer_codegen.rejections", {**_server(request.url), "http.response.status_code": status})
        return self.start(
            REPLAY_SPAN,
            {**_request(request), "http.response.status_code": status, TOKEN_FINGERPRINT: fingerprint(rejected)},
        )

    def retry_wait(self, request: httpx.Request, response: httpx.Response, seconds: float, attempt: int) -> Activity:
        """The 503 layer waits ``seconds`` before attempt number ``attempt``: use as a context manager around it."""
        if self._ready() is None:
            return _INERT
        status = response.status_code
        self.count("bearer_codegen.retries", {**_server(request.url), "http.response.status_code": status})
        return self.start(
            RETRY_WAIT_SPAN,
            {**_request(request), "http.response.status_code": status, RETRY_ATTEMPT: attempt, WAIT_SECONDS: seconds},
        )

    def rate_limit_waited(
        self, request: httpx.Request, seconds: float, error: BaseException | str | None = None
    ) -> None:
        """A call waited ``seconds`` for a rate-limit slot: record that wait as it ends (a failed one: ``error``).

        Recorded after the fact, the span's start set ``seconds`` back, so that a call that got a slot
        at once costs nothing: the pacing layer calls this only when it waited, or timed out.
        """
        if self._ready() is None:
            return
        end = time.time_ns()
        activity = self.start(
            RATE_LIMIT_WAIT_SPAN,
            {**_request(request), WAIT_SECONDS: seconds},
            counter="bearer_codegen.waits",
            count_attributes=_server(request.url),
            start_time=end - int(seconds * 1e9),
        )
        activity.end(error, end_time=end)


#: The telemetry of every part not given one: OpenTelemetry's global providers (no-ops unless set).
DEFAULT_TELEMETRY: Final = Telemetry()


def telemetry_or_default(telemetry: Telemetry | None) -> Telemetry:
    """``telemetry``, or `DEFAULT_TELEMETRY` when None."""
    return DEFAULT_TELEMETRY if telemetry is None else telemetry


def login_reason(*, rejected: bool, has_token: bool, advisory: bool) -> LoginReason:
    """Why a login is sent, in the few words of ``bearer_codegen.login.reason``."""
    if rejected:
        return "rejected"
    if not has_token:
        return "no_token"
    return "advisory" if advisory else "expiring"
