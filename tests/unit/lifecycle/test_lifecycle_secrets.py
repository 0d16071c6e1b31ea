"""Secrets canary: a password and tokens that must never show up in logs, messages, reprs or tracebacks."""

from __future__ import annotations

import io
import logging
import traceback
from collections.abc import Iterator

import httpx
import pytest
from token_lifecycle import (
    LOGIN_FAILURE_BACKOFF_SECONDS,
    Credentials,
    LoginError,
    RetryPolicy,
    RetryTransport,
    SecretRedactionFilter,
    ServiceLimitError,
    StoredToken,
    TokenLifecycle,
    TokenRejectedError,
    TokenState,
    install_redaction_filter,
)

from ._support import BASE_URL, LIFETIME, USERNAME, FakeClock, FakeService, make_lifecycle, run_script_or_fail

# Alphanumeric prefixes survive every encoding (URL, form, JSON), so finding them finds any leak.
PASSWORD_CANARY = "CanaryPW"
TOKEN_CANARY = "CanaryTOK"
PASSWORD = f"{PASSWORD_CANARY}/7 &é+x"
ITEMS = f"{BASE_URL}/items"
LOGIN_URL = f"{BASE_URL}/login?user={USERNAME}&password=" + str(httpx.QueryParams({"p": PASSWORD}))[2:]


@pytest.fixture
def root_capture() -> Iterator[io.StringIO]:
    """Attach a DEBUG handler to the root logger and put every logger involved at DEBUG."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    names = ["", "httpx", "httpcore", "tests.lifecycle.auth", "token_lifecycle.retry"]
    levels = {name: logging.getLogger(name).level for name in names}
    root.addHandler(handler)
    for name in names:
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def _texts_of(error: BaseException) -> list[str]:
    return [str(error), repr(error), "".join(traceback.format_exception(error))]


def _assert_clean(texts: list[str]) -> None:
    for text in texts:
        assert PASSWORD_CANARY not in text
        assert TOKEN_CANARY not in text


def test_canaries_never_leak_through_a_whole_sync_lifecycle(
    caplog: pytest.LogCaptureFixture, root_capture: io.StringIO
) -> None:
    """Login, refreshes, 401 recovery, failed logins and 503 exhaustion leave no secret anywhere."""
    caplog.set_level(logging.DEBUG)
    service, clock = FakeService(password=PASSWORD, issue_prefix=f"{TOKEN_CANARY}-"), FakeClock()
    auth = make_lifecycle(clock, credentials=Credentials(USERNAME, PASSWORD))
    texts: list[str] = [repr(auth), repr(Credentials(USERNAME, PASSWORD))]
    transport = RetryTransport(service.transport(), policy=RetryPolicy(attempts=2).no_sleep())
    with httpx.Client(transport=transport, auth=auth) as client:
        client.get(ITEMS)  # login
        texts.append(repr(auth))
        clock.advance(LIFETIME - 600)
        client.get(ITEMS)  # advisory refresh
        clock.advance(LIFETIME - 100)
        client.get(ITEMS)  # mandatory refresh
        service.revoke_all()
        client.get(ITEMS)  # 401 recovery
        service.forced["/v1/denied"] = 401
        with pytest.raises(TokenRejectedError) as rejected:
            client.get(f"{BASE_URL}/denied")
        texts += _texts_of(rejected.value)

        auth.invalidate()
        service.login_status = 401
        with pytest.raises(LoginError) as failed:
            client.get(ITEMS)
        texts += _texts_of(failed.value)

        clock.advance(LOGIN_FAILURE_BACKOFF_SECONDS)  # past the back-off of the failed login
        service.login_status = 503
        with pytest.raises(ServiceLimitError) as limited:
            client.get(ITEMS)
        texts += _texts_of(limited.value)
        texts.append(repr(auth))

    assert auth.stats.logins == 5
    # Tokens are remembered by the filter: a library echoing one (e.g. a Set-Cookie header) is redacted.
    logging.getLogger("httpcore.http11").debug("response headers %s", [("Set-Cookie", f"s={service.issued[0]}")])
    assert "response headers [('Set-Cookie', 's=***')]" in caplog.text
    # httpx's own INFO line for the login was captured, and redacted.
    assert 'HTTP Request: GET https://api.example/v1/login?user=alice&password=*** "HTTP/1.1 200 OK"' in caplog.text
    texts += [caplog.text, root_capture.getvalue(), *(record.getMessage() for record in caplog.records)]
    _assert_clean(texts)


@pytest.mark.anyio
async def test_canaries_never_leak_through_a_whole_async_lifecycle(
    caplog: pytest.LogCaptureFixture, root_capture: io.StringIO
) -> None:
    """The async flow keeps the same secrets out of logs and exceptions."""
    caplog.set_level(logging.DEBUG)
    service, clock = FakeService(password=PASSWORD, issue_prefix=f"{TOKEN_CANARY}-"), FakeClock()
    auth = make_lifecycle(clock, credentials=Credentials(USERNAME, PASSWORD))
    texts: list[str] = []
    async with httpx.AsyncClient(transport=service.async_transport(), auth=auth) as client:
        await client.get(ITEMS)
        clock.advance(LIFETIME + 1)
        await client.get(ITEMS)
        service.revoke_all()
        await client.get(ITEMS)
        auth.invalidate()
        service.login_status = 403
        with pytest.raises(LoginError) as failed:
            await client.get(ITEMS)
        texts += _texts_of(failed.value)
    assert "password=***" in caplog.text
    texts += [caplog.text, root_capture.getvalue(), repr(auth)]
    _assert_clean(texts)


def test_a_static_token_is_redacted_and_its_rejection_names_only_a_fingerprint(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A static token never appears in the rejection error or the logs."""
    caplog.set_level(logging.DEBUG)
    token = f"{TOKEN_CANARY}-static"
    auth = TokenLifecycle(
        base_url=BASE_URL, login=None, token=token, header_name="Authentication", scheme="bearer", lifetime=60.0
    )
    transport = httpx.MockTransport(lambda request: httpx.Response(401))
    with httpx.Client(transport=transport, auth=auth) as client, pytest.raises(TokenRejectedError) as caught:
        client.get(ITEMS)
    logging.getLogger("httpx").info("echo %s", token)
    assert "echo ***" in caplog.text
    _assert_clean([*_texts_of(caught.value), caplog.text, repr(auth)])


def test_state_and_stored_token_reprs_show_fingerprints() -> None:
    """TokenState and StoredToken reprs show ``tok:`` fingerprints, not tokens."""
    token = f"{TOKEN_CANARY}-1"
    texts = [
        repr(TokenState(token=token, obtained_at=0.0, expires_at=1.0)),
        repr(StoredToken(token=token, expires_at_wall=1.0)),
    ]
    assert all("tok:" in text for text in texts)
    _assert_clean(texts)


def test_the_filter_redacts_an_httpx_shaped_record_in_args() -> None:
    """A record built like httpx's ``HTTP Request:`` line has the password removed from its arguments."""
    redaction = SecretRedactionFilter()
    redaction.pin(PASSWORD)
    record = logging.LogRecord(
        "httpx",
        logging.INFO,
        __file__,
        1,
        'HTTP Request: %s %s "%s %d %s"',
        ("GET", httpx.URL(LOGIN_URL), "HTTP/1.1", 200, "OK"),
        None,
    )
    assert redaction.filter(record)
    assert record.getMessage() == (
        f'HTTP Request: GET https://api.example/v1/login?user={USERNAME}&password=*** "HTTP/1.1 200 OK"'
    )
    assert record.args == ()


def test_the_filter_redacts_msg_exception_text_and_every_encoding() -> None:
    """Raw, URL-encoded and JSON-escaped forms are redacted in the message and in exception text."""
    redaction = SecretRedactionFilter()
    redaction.remember(f"{TOKEN_CANARY}-9")
    redaction.pin(PASSWORD)
    try:
        raise RuntimeError(f"boom {TOKEN_CANARY}-9")
    except RuntimeError as error:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, f'{PASSWORD} {{"p": "{PASSWORD}"}}', None, (type(error), error, None)
        )
    redaction.filter(record)
    formatted = logging.Formatter().format(record)
    assert "boom ***" in formatted
    _assert_clean([formatted, record.getMessage()])
    for encoded in ("CanaryPW%2F7%20%26%C3%A9%2Bx", "CanaryPW%2F7+%26%C3%A9%2Bx", "CanaryPW/7 &\\u00e9+x"):
        assert redaction.redact(f"[{encoded}]") == "[***]"


def test_unpinned_secrets_are_no_longer_redacted_and_tokens_are_bounded() -> None:
    """Pins are reference-counted and the token memory forgets the oldest tokens past its bound."""
    redaction = SecretRedactionFilter()
    redaction.pin("pw-one")
    redaction.pin("pw-one")
    redaction.unpin("pw-one")
    assert redaction.redact("pw-one") == "***"
    redaction.unpin("pw-one")
    assert redaction.redact("pw-one") == "pw-one"
    for number in range(300):
        redaction.remember(f"token-{number:04d}")
    assert redaction.redact("token-0299") == "***"
    assert redaction.redact("token-0000") == "token-0000"


def test_the_shared_filter_is_installed_once_on_the_http_loggers() -> None:
    """Many lifecycles install one shared filter on httpx, httpcore (and children) and their own logger."""
    make_lifecycle(logger_name="tests.lifecycle.one")
    make_lifecycle(logger_name="tests.lifecycle.one")
    shared = install_redaction_filter()
    for name in ("httpx", "httpcore", "httpcore.http11", "httpcore.connection", "tests.lifecycle.one"):
        filters = logging.getLogger(name).filters
        assert filters.count(shared) == 1, name


COLLECTED_WHILE_PINNING = """
import gc
from tests.unit.lifecycle._support import make_lifecycle
from token_lifecycle import install_redaction_filter

shared = install_redaction_filter()
gc.set_threshold(5, 1, 1)
for i in range(800):
    lifecycle = make_lifecycle(token=f"static-token-{i}")
    holder: list[object] = [lifecycle]
    holder.append(holder)  # a cycle: only the garbage collector frees it, during any allocation
    del lifecycle, holder
    shared.pin(f"secret-{i}")
    shared.remember(f"issued-{i}")
print(len(shared.redact("static-token-0 secret-0")))
"""


def test_lifecycles_collected_while_the_filter_changes_do_not_deadlock() -> None:
    """A collected lifecycle releases its secrets from inside whatever allocation ran the collector.

    That may be an allocation made under the shared filter's lock (by another lifecycle pinning a
    secret), so the release must not take the lock. Run in a child process, so that a regression fails
    this test instead of hanging the suite: before the fix this script deadlocked every time.
    """
    result = run_script_or_fail(
        COLLECTED_WHILE_PINNING, "a lifecycle collected while the redaction filter was changing deadlocked the thread"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(len("static-token-0 ***"))]  # released, while the pinned one stays
