"""Telemetry: spans and counters of logins, refreshes, recovered 401s, retry and rate-limit waits; never a secret."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode
from token_lifecycle import (
    ADVISORY_REFRESH_SECONDS,
    AsyncPacedTransport,
    AsyncRetryTransport,
    ClientCredentials,
    Credentials,
    LocalRateLimiter,
    LoginCall,
    LoginError,
    PacedTransport,
    RateLimitTimeoutError,
    RetryPolicy,
    RetryTransport,
    ServiceLimits,
    TokenLifecycle,
    TokenPlacement,
    TokenRejectedError,
    fingerprint,
)

from tests.otel_support import Otel, exported_texts, otel_pipeline

from ._oauth_support import API as OAUTH_API
from ._oauth_support import CLIENT_ID, CLIENT_SECRET, TOKEN_URL, FakeOAuth
from ._oauth_support import PASSWORD as OAUTH_PASSWORD
from ._oauth_support import USER as OAUTH_USER
from ._support import (
    BASE_URL,
    LIFETIME,
    PASSWORD,
    FakeClock,
    FakeService,
    make_lifecycle,
    sent_token,
)

#: Every value the exported telemetry must never hold: the password, a query string's secret.
QUERY_SECRET = "q-canary-7f3a"


@pytest.fixture
def otel() -> Iterator[Otel]:
    with otel_pipeline() as pipeline:
        yield pipeline


def _attrs(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def test_a_first_login_is_one_login_span_and_count_and_later_calls_emit_nothing(otel: Otel) -> None:
    """The first login is a span: the login URL without its query (the password is there), the token's fingerprint."""
    service = FakeService()
    auth = make_lifecycle(telemetry=otel.telemetry)
    with httpx.Client(transport=service.transport(), auth=auth) as client:
        token = sent_token(client.get(f"{BASE_URL}/items"))
        for _ in range(3):
            client.get(f"{BASE_URL}/items")

    (span,) = otel.spans()
    assert span.name == "bearer_codegen.login"
    assert span.status.status_code is StatusCode.UNSET
    assert _attrs(span) == {
        "http.request.method": "GET",
        "url.full": "https://api.example/v1/login",
        "server.address": "api.example",
        "bearer_codegen.login.reason": "no_token",
        "http.response.status_code": 200,
        "bearer_codegen.token.fingerprint": fingerprint(token),
    }
    assert otel.points("bearer_codegen.logins") == [
        ({"server.address": "api.example", "bearer_codegen.login.reason": "no_token"}, 1)
    ]
    assert otel.total("bearer_codegen.refreshes") == 0


def test_the_login_span_is_a_child_of_the_callers_current_span(otel: Otel) -> None:
    """A login is traced within the application's span of the call that needed it."""
    service = FakeService()
    auth = make_lifecycle(telemetry=otel.telemetry)
    tracer = otel.tracer_provider.get_tracer("tests")
    with httpx.Client(transport=service.transport(), auth=auth) as client, tracer.start_as_current_span("outer"):
        client.get(f"{BASE_URL}/items")
    (login,) = otel.spans("bearer_codegen.login")
    (outer,) = otel.spans("outer")
    assert login.parent is not None
    assert outer.context is not None
    assert login.parent.span_id == outer.context.span_id


def test_a_proactive_refresh_is_a_refresh_span_and_count(otel: Otel) -> None:
    """A login made inside the advisory window, token still valid, is a refresh (reason advisory, method login)."""
    clock = FakeClock()
    service = FakeService()
    auth = make_lifecycle(clock, telemetry=otel.telemetry)
    with httpx.Client(transport=service.transport(), auth=auth) as client:
        client.get(f"{BASE_URL}/items")
        clock.advance(LIFETIME - ADVISORY_REFRESH_SECONDS + 60)
        client.get(f"{BASE_URL}/items")

    (refresh,) = otel.spans("bearer_codegen.refresh")
    assert _attrs(refresh)["bearer_codegen.login.reason"] == "advisory"
    assert _attrs(refresh)["bearer_codegen.refresh.method"] == "login"
    assert _attrs(refresh)["bearer_codegen.token.fingerprint"] == fingerprint(service.issued[1])
    assert otel.points("bearer_codegen.refreshes") == [
        ({"server.address": "api.example", "bearer_codegen.login.reason": "advisory"}, 1)
    ]
    assert otel.total("bearer_codegen.logins") == 1
    assert auth.stats.proactive_refreshes == 1


def _check_recovered_401(otel: Otel, service: FakeService) -> None:
    (replay,) = otel.spans("bearer_codegen.replay")
    logins = otel.spans("bearer_codegen.login")
    assert [_attrs(span)["bearer_codegen.login.reason"] for span in logins] == ["no_token", "rejected"]
    assert replay.status.status_code is StatusCode.UNSET
    assert _attrs(replay)["bearer_codegen.token.fingerprint"] == fingerprint(service.issued[0])
    assert _attrs(replay)["http.response.status_code"] == 401
    assert _attrs(replay)["url.full"] == f"{BASE_URL}/items"
    # The login that recovered is traced within the replay.
    assert logins[1].parent is not None
    assert replay.context is not None
    assert logins[1].parent.span_id == replay.context.span_id
    assert otel.points("bearer_codegen.rejections") == [
        ({"server.address": "api.example", "http.response.status_code": 401}, 1)
    ]
    assert otel.total("bearer_codegen.logins") == 2


def test_a_recovered_401_is_a_replay_span_holding_the_new_login(otel: Otel) -> None:
    """401 → compare-and-invalidate → login → replay: one rejection, a replay span, the login within it."""
    service = FakeService()
    auth = make_lifecycle(telemetry=otel.telemetry)
    with httpx.Client(transport=service.transport(), auth=auth) as client:
        client.get(f"{BASE_URL}/items")
        service.revoke_all()
        assert client.get(f"{BASE_URL}/items?filter={QUERY_SECRET}").status_code == 200
    _check_recovered_401(otel, service)


@pytest.mark.anyio
async def test_async_a_recovered_401_is_a_replay_span_holding_the_new_login(otel: Otel) -> None:
    """The async flow traces a recovered 401 the same way."""
    service = FakeService()
    auth = make_lifecycle(telemetry=otel.telemetry)
    async with httpx.AsyncClient(transport=service.async_transport(), auth=auth) as client:
        await client.get(f"{BASE_URL}/items")
        service.revoke_all()
        assert (await client.get(f"{BASE_URL}/items?filter={QUERY_SECRET}")).status_code == 200
    _check_recovered_401(otel, service)


def test_a_rejected_static_token_ends_the_replay_span_in_error(otel: Otel) -> None:
    """A rejection that cannot be recovered (a static token) is counted and its span says why it failed."""
    service = FakeService()
    auth = make_lifecycle(credentials=None, login=None, token="static-token-1", telemetry=otel.telemetry)
    with httpx.Client(transport=service.transport(), auth=auth) as client, pytest.raises(TokenRejectedError):
        client.get(f"{BASE_URL}/items")
    (replay,) = otel.spans()
    assert replay.name == "bearer_codegen.replay"
    assert replay.status.status_code is StatusCode.ERROR
    assert _attrs(replay)["error.type"] == "TokenRejectedError"
    assert _attrs(replay)["bearer_codegen.token.fingerprint"] == fingerprint("static-token-1")
    assert otel.total("bearer_codegen.rejections") == 1


def test_a_failed_login_ends_its_span_in_error_and_counts_it_with_its_error_type(otel: Otel) -> None:
    """A refused login: span status ERROR with error.type, counter with error.type, no fingerprint."""
    service = FakeService()
    service.login_status = 503
    auth = make_lifecycle(telemetry=otel.telemetry)
    with httpx.Client(transport=service.transport(), auth=auth) as client, pytest.raises(LoginError):
        client.get(f"{BASE_URL}/items")
    (span,) = otel.spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "LoginError"
    assert _attrs(span)["error.type"] == "LoginError"
    assert _attrs(span)["http.response.status_code"] == 503
    assert "bearer_codegen.token.fingerprint" not in _attrs(span)
    assert otel.points("bearer_codegen.logins") == [
        ({"server.address": "api.example", "bearer_codegen.login.reason": "no_token", "error.type": "LoginError"}, 1)
    ]


def test_a_login_cut_by_a_transport_error_ends_its_span_with_that_error(otel: Otel) -> None:
    """The flow closed mid-login (a connection error) still ends the span, naming the cause."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    auth = make_lifecycle(telemetry=otel.telemetry)
    with httpx.Client(transport=httpx.MockTransport(refuse), auth=auth) as client, pytest.raises(httpx.ConnectError):
        client.get(f"{BASE_URL}/items")
    (span,) = otel.spans()
    assert (span.name, _attrs(span)["error.type"]) == ("bearer_codegen.login", "ConnectError")


def _busy_then_ok(request: httpx.Request, answers: list[int]) -> httpx.Response:
    status = answers.pop(0) if answers else 200
    return httpx.Response(status, headers={"Retry-After": "2"} if status == 503 else {})


def _check_retry_waits(otel: Otel) -> None:
    waits = otel.spans("bearer_codegen.retry.wait")
    assert [_attrs(span)["bearer_codegen.retry.attempt"] for span in waits] == [2, 3]
    assert {_attrs(span)["bearer_codegen.wait.seconds"] for span in waits} == {2.0}
    assert {_attrs(span)["url.full"] for span in waits} == {f"{BASE_URL}/items"}
    assert otel.points("bearer_codegen.retries") == [
        ({"server.address": "api.example", "http.response.status_code": 503}, 2)
    ]


def test_each_retry_wait_is_a_span_and_a_count(otel: Otel) -> None:
    """The 503 layer's waits are traced with the attempt they precede and the planned seconds."""
    answers = [503, 503]
    transport = RetryTransport(
        httpx.MockTransport(lambda request: _busy_then_ok(request, answers)),
        RetryPolicy().no_sleep(),
        telemetry=otel.telemetry,
    )
    with httpx.Client(transport=transport) as client:
        assert client.get(f"{BASE_URL}/items?password={QUERY_SECRET}").status_code == 200
        client.get(f"{BASE_URL}/items")  # answered at once: nothing more
    _check_retry_waits(otel)


@pytest.mark.anyio
async def test_async_each_retry_wait_is_a_span_and_a_count(otel: Otel) -> None:
    """The async 503 layer traces its waits the same way."""
    answers = [503, 503]
    transport = AsyncRetryTransport(
        httpx.MockTransport(lambda request: _busy_then_ok(request, answers)),
        RetryPolicy().no_sleep(),
        telemetry=otel.telemetry,
    )
    async with httpx.AsyncClient(transport=transport) as client:
        assert (await client.get(f"{BASE_URL}/items?password={QUERY_SECRET}")).status_code == 200
    _check_retry_waits(otel)


def test_a_rate_limit_wait_is_recorded_as_it_ends_failed_when_it_timed_out(otel: Otel) -> None:
    """The pacing layer's hook: a wait that got its slot, one that timed out (error.type); spans cover the wait."""
    request = httpx.Request("GET", f"{BASE_URL}/items?password={QUERY_SECRET}")
    otel.telemetry.rate_limit_waited(request, 0.5)
    otel.telemetry.rate_limit_waited(request, 2.0, TimeoutError())
    ok, timed_out = otel.spans("bearer_codegen.rate_limit.wait")
    assert (_attrs(ok)["bearer_codegen.wait.seconds"], _attrs(timed_out)["bearer_codegen.wait.seconds"]) == (0.5, 2.0)
    assert ok.end_time is not None
    assert ok.start_time == ok.end_time - 500_000_000
    assert "error.type" not in _attrs(ok)
    assert _attrs(timed_out)["error.type"] == "TimeoutError"
    assert _attrs(timed_out)["url.full"] == f"{BASE_URL}/items"
    assert sorted(otel.points("bearer_codegen.waits"), key=lambda point: len(point[0])) == [
        ({"server.address": "api.example"}, 1),
        ({"server.address": "api.example", "error.type": "TimeoutError"}, 1),
    ]


def _paced_by_one_call_per_ten_seconds(clock: FakeClock) -> LocalRateLimiter:
    async def async_sleep(seconds: float) -> None:
        clock.advance(seconds)

    return LocalRateLimiter(
        ServiceLimits(requests=1, per=10.0), margin=0.0, clock=clock, sleep=clock.advance, async_sleep=async_sleep
    )


def _check_paced_waits(otel: Otel) -> None:
    waited, timed_out = otel.spans("bearer_codegen.rate_limit.wait")
    assert _attrs(waited)["bearer_codegen.wait.seconds"] == 10.0
    assert "error.type" not in _attrs(waited)
    assert _attrs(timed_out)["error.type"] == "RateLimitTimeoutError"
    assert _attrs(timed_out)["url.full"] == f"{BASE_URL}/items"
    assert otel.total("bearer_codegen.waits") == 2


def test_the_pacing_layer_records_only_the_calls_that_waited_or_timed_out(otel: Otel) -> None:
    """A slot at once: nothing; a wait for the window: a span and a count; no slot within max_wait: error.type."""
    clock = FakeClock()
    limiter = _paced_by_one_call_per_ten_seconds(clock)
    ok = httpx.MockTransport(lambda request: httpx.Response(200))
    with httpx.Client(transport=PacedTransport(ok, limiter, 30.0, telemetry=otel.telemetry)) as client:
        client.get(f"{BASE_URL}/items?password={QUERY_SECRET}")
        assert otel.spans() == []
        client.get(f"{BASE_URL}/items?password={QUERY_SECRET}")
    with (
        httpx.Client(transport=PacedTransport(ok, limiter, 1.0, telemetry=otel.telemetry)) as client,
        pytest.raises(RateLimitTimeoutError),
    ):
        client.get(f"{BASE_URL}/items?password={QUERY_SECRET}")
    _check_paced_waits(otel)


@pytest.mark.anyio
async def test_async_the_pacing_layer_records_only_the_calls_that_waited_or_timed_out(otel: Otel) -> None:
    """The async pacing layer records its waits the same way."""
    clock = FakeClock()
    limiter = _paced_by_one_call_per_ten_seconds(clock)
    ok = httpx.MockTransport(lambda request: httpx.Response(200))
    async with httpx.AsyncClient(transport=AsyncPacedTransport(ok, limiter, 30.0, telemetry=otel.telemetry)) as client:
        await client.get(f"{BASE_URL}/items")
        assert otel.spans() == []
        await client.get(f"{BASE_URL}/items")
    async with httpx.AsyncClient(transport=AsyncPacedTransport(ok, limiter, 1.0, telemetry=otel.telemetry)) as client:
        with pytest.raises(RateLimitTimeoutError):
            await client.get(f"{BASE_URL}/items")
    _check_paced_waits(otel)


def test_no_secret_reaches_any_exported_span_or_metric(otel: Otel) -> None:
    """A full scenario (login by query string, refresh, 401 + replay, retries, a failed login): no canary anywhere."""
    clock = FakeClock()
    service = FakeService(issue_prefix="tok-canary-")
    answers: list[int] = []

    def handle(request: httpx.Request) -> httpx.Response:
        if answers:
            return _busy_then_ok(request, answers)
        return service.handle(request)

    auth = make_lifecycle(clock, telemetry=otel.telemetry)
    transport = RetryTransport(httpx.MockTransport(handle), RetryPolicy().no_sleep(), telemetry=otel.telemetry)
    with httpx.Client(transport=transport, auth=auth) as client:
        answers += [503]  # the login itself is retried
        client.get(f"{BASE_URL}/items?key={QUERY_SECRET}")
        clock.advance(LIFETIME - ADVISORY_REFRESH_SECONDS + 60)
        client.get(f"{BASE_URL}/items?key={QUERY_SECRET}")
        service.revoke_all()
        answers += [503]
        client.get(f"{BASE_URL}/items?key={QUERY_SECRET}")
        auth.invalidate()
        service.login_status = 500
        with pytest.raises(LoginError):
            client.get(f"{BASE_URL}/items?key={QUERY_SECRET}")

    canaries = [PASSWORD, QUERY_SECRET, *service.issued]
    assert len(service.issued) == 3
    names = {span.name for span in otel.spans()}
    assert names >= {
        "bearer_codegen.login",
        "bearer_codegen.refresh",
        "bearer_codegen.replay",
        "bearer_codegen.retry.wait",
    }
    exported = exported_texts(otel)
    leaks = [(canary, text) for canary in canaries for text in exported if canary in text]
    assert leaks == []
    assert any("tok:" in text for text in exported)  # the fingerprints are there, so the scan saw attributes


def test_a_refused_refresh_token_is_a_failed_refresh_span_then_a_login_without_any_oauth2_secret(otel: Otel) -> None:
    """RFC 6749 §6: the refresh by refresh token fails (refresh_refused), a full login follows; no secret exported."""
    oauth, clock = FakeOAuth(expires_in=3600), FakeClock()
    auth = TokenLifecycle(
        base_url=OAUTH_API,
        login=LoginCall.oauth2_password(TOKEN_URL),
        credentials=Credentials(OAUTH_USER, OAUTH_PASSWORD),
        client=ClientCredentials(CLIENT_ID, CLIENT_SECRET),
        placement=TokenPlacement(),
        lifetime=600.0,
        clock=clock,
        telemetry=otel.telemetry,
    )
    with httpx.Client(auth=auth, transport=oauth.transport()) as client:
        client.get(f"{OAUTH_API}/items")
        clock.advance(3600 - 100)
        refresh_tokens = sorted(oauth.refresh_tokens)
        oauth.refresh_tokens.clear()  # revoked
        assert client.get(f"{OAUTH_API}/items").status_code == 200

    spans = [
        (span.name, _attrs(span).get("bearer_codegen.refresh.method"), _attrs(span).get("error.type"))
        for span in otel.spans()
    ]
    assert spans == [
        ("bearer_codegen.login", None, None),
        ("bearer_codegen.refresh", "refresh_token", "refresh_refused"),
        ("bearer_codegen.refresh", "login", None),
    ]
    assert {_attrs(span)["url.full"] for span in otel.spans()} == {TOKEN_URL}
    canaries = [OAUTH_PASSWORD, CLIENT_SECRET, *refresh_tokens, *oauth.issued]
    assert [(canary, text) for canary in canaries for text in exported_texts(otel) if canary in text] == []
