"""Every security scheme end to end: a client generated at test time from each scheme document, driven
against a real simulator over loopback (issue 14, "Done when").

The documents are tests/integration/clients/schemes/*.yaml (no extension except where a login is
non-standard); each is generated into a temporary directory once per session and imported. Time
moves on the simulator through its control API and on the client through an injected clock, so
expiry and refresh are tested without sleeping. What the simulator saw (logins, refreshes, which
origin received credentials or tokens) comes from its control API.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from generator import Toolkit, generate, job_for_spec
from generator._clients import ClientJob
from generator._problems import has_errors, render_problems
from tests.integration.simulator._support import ROOT, Simulator, running

SCHEMES = ROOT / "tests" / "integration" / "clients" / "schemes"
DOCUMENTS = ("password", "client-credentials", "static", "idp", "mixed", "header-login", "cookie-login")
HOUR = 3600.0


class FakeClock:
    """The client's monotonic clock, moved by the test together with the simulator's."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="session")
def packages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ModuleType]:
    """Each scheme document generated (in one run) and imported, by document name."""
    root = tmp_path_factory.mktemp("scheme-clients")
    jobs: dict[str, ClientJob] = {}
    for name in DOCUMENTS:
        # Not "scheme_<name>": tests/functional/test_schemes.py imports packages of that name in the same process.
        package = "sim_scheme_" + name.replace("-", "_")
        job = job_for_spec(SCHEMES / f"{name}.yaml", root / package, package, None)
        assert isinstance(job, ClientJob), job
        jobs[name] = job
    problems = generate(list(jobs.values()), Toolkit.locate())
    assert not has_errors(problems), render_problems(problems)
    for job in jobs.values():
        sys.path.insert(0, str(job.output))
    return {name: importlib.import_module(job.package) for name, job in jobs.items()}


class Scheme:
    """One generated package and its simulator."""

    def __init__(self, package: ModuleType, sim: Simulator) -> None:
        self.package = package
        self.sim = sim

    def op(self, operation: str) -> Any:
        """The module of ``operation`` (its snake_case name) under the package's ``api``."""
        api = Path(self.package.__file__ or "").parent / "api"
        found = next(api.glob(f"*/{operation}.py"))
        return importlib.import_module(f"{self.package.__name__}.api.{found.parent.name}.{operation}")

    def client(self, **kwargs: Any) -> Any:
        """An AuthenticatedClient of the package for the simulator's base URL."""
        return self.package.AuthenticatedClient(base_url=self.sim.url, timeout=None, **kwargs)

    def stats(self) -> Any:
        return self.sim.control("GET", "stats")

    def advance(self, clock: FakeClock, seconds: float) -> None:
        """Move the simulator's clock and the client's by ``seconds``."""
        self.sim.control("POST", "clock/advance", seconds=seconds)
        clock.now += seconds


def _serving(name: str, tmp: pytest.TempPathFactory, *args: str) -> Iterator[Simulator]:
    folder = tmp.mktemp(name)
    with running(SCHEMES / f"{name}.yaml", "--control", *args, log=folder / "stderr.log") as simulator:
        yield simulator


def _fixture(fixture: str, name: str, *args: str) -> Callable[..., Iterator[Scheme]]:
    """A module-scoped fixture called ``fixture``: the package of document ``name`` and its simulator."""

    @pytest.fixture(scope="module", name=fixture)
    def process(packages: dict[str, ModuleType], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scheme]:
        for simulator in _serving(name, tmp_path_factory, *args):
            yield Scheme(packages[name], simulator)

    return process


password_process = _fixture("password_process", "password")
clients_process = _fixture("clients_process", "client-credentials")
static_process = _fixture("static_process", "static")
idp_process = _fixture("idp_process", "idp", "--token-port", "0")
mixed_process = _fixture("mixed_process", "mixed")
header_process = _fixture("header_process", "header-login")
cookie_process = _fixture("cookie_process", "cookie-login")


def _reset(scheme: Scheme) -> Scheme:
    scheme.sim.control("POST", "reset")
    scheme.sim.control("POST", "clock/freeze", frozen="true")
    return scheme


@pytest.fixture
def password(password_process: Scheme) -> Scheme:
    return _reset(password_process)


@pytest.fixture
def clients(clients_process: Scheme) -> Scheme:
    return _reset(clients_process)


@pytest.fixture
def static(static_process: Scheme) -> Scheme:
    return _reset(static_process)


@pytest.fixture
def idp(idp_process: Scheme) -> Scheme:
    return _reset(idp_process)


@pytest.fixture
def mixed(mixed_process: Scheme) -> Scheme:
    return _reset(mixed_process)


def _names(items: Any) -> list[str]:
    return [item.name for item in items]


# --- OAuth2 password grant, inferred from the flow -------------------------------------------------------


def test_password_flow_logs_in_then_refreshes_with_the_refresh_token(password: Scheme) -> None:
    """§4.3 login with the scopes the operations need; at expiry a §6 refresh instead of a second login."""
    clock = FakeClock()
    credentials = password.package.Credentials(username="demo", password="demo-password")
    with password.client(credentials=credentials, clock=clock) as client:
        assert _names(password.op("list_items").sync(client=client)) == ["Widget", "Gadget"]
        item = password.package.models.Item(id=3, name="Gizmo")
        assert password.op("create_item").sync(client=client, body=item).name == "Gizmo"
        password.advance(clock, HOUR)
        assert _names(password.op("list_items").sync(client=client)) == ["Widget", "Gadget"]
    stats = password.stats()
    assert stats["logins"]["by_user"] == {"demo": 1}
    assert stats["refreshes"]["by_user"] == {"demo": 1}
    assert stats["grants"]["by_type"] == {"password": 1}
    contexts = password.sim.control("GET", "contexts")["contexts"]
    assert contexts[0]["scopes"] == ["read", "write"]


def test_a_rejected_refresh_token_falls_back_to_one_login(password: Scheme) -> None:
    clock = FakeClock()
    credentials = password.package.Credentials(username="demo", password="demo-password")
    with password.client(credentials=credentials, clock=clock) as client:
        password.op("list_items").sync(client=client)
        password.sim.control("POST", "tokens/revoke", user="demo", refresh="true")
        password.advance(clock, HOUR)
        assert _names(password.op("list_items").sync(client=client)) == ["Widget", "Gadget"]
    stats = password.stats()
    assert (stats["logins"]["total"], stats["refreshes"]["total"], stats["refreshes"]["failed"]) == (2, 0, 1)


def test_a_revoked_access_token_is_replaced_and_the_request_replayed(password: Scheme) -> None:
    credentials = password.package.Credentials(username="demo", password="demo-password")
    with password.client(credentials=credentials) as client:
        password.op("list_items").sync(client=client)
        password.sim.control("POST", "tokens/revoke", user="demo")
        assert _names(password.op("list_items").sync(client=client)) == ["Widget", "Gadget"]
    assert password.stats()["requests"]["by_status"]["401"] == 1


def test_an_authenticated_client_in_the_password_grant_also_authenticates_its_refresh(password: Scheme) -> None:
    """``oauth2_client=``: the grant is bound to the client, so the refresh must authenticate it too (§6)."""
    clock = FakeClock()
    credentials = password.package.Credentials(username="demo", password="demo-password")
    web_app = password.package.ClientCredentials(client_id="web-app", client_secret="web-app-secret")
    with password.client(credentials=credentials, oauth2_client=web_app, clock=clock) as client:
        password.op("list_items").sync(client=client)
        password.advance(clock, HOUR)
        assert _names(password.op("list_items").sync(client=client)) == ["Widget", "Gadget"]
    stats = password.stats()
    assert (stats["logins"]["total"], stats["refreshes"]["total"], stats["refreshes"]["failed"]) == (1, 1, 0)
    contexts = password.sim.control("GET", "contexts")["contexts"]
    assert [context["client"] for context in contexts] == ["web-app", "web-app"]


def test_a_user_without_a_scope_gets_403_and_keeps_the_token(password: Scheme) -> None:
    """The reader is granted only 'read': creating answers 403 insufficient_scope, which is no invalidation."""
    credentials = password.package.Credentials(username="reader", password="reader-password")
    with password.client(credentials=credentials) as client:
        password.op("list_items").sync(client=client)
        item = password.package.models.Item(id=3, name="Gizmo")
        response = password.op("create_item").sync_detailed(client=client, body=item)
        assert response.status_code == 403
        password.op("list_items").sync(client=client)
    assert password.stats()["logins"]["total"] == 1


def test_wrong_password_raises_login_error_with_the_oauth2_error(password: Scheme) -> None:
    credentials = password.package.Credentials(username="demo", password="wrong")
    with password.client(credentials=credentials) as client, pytest.raises(password.package.LoginError) as caught:
        password.op("list_items").sync(client=client)
    assert "invalid_grant" in str(caught.value)
    assert "wrong" not in str(caught.value)


@pytest.mark.anyio
async def test_password_flow_async_refreshes_once_for_concurrent_calls(password: Scheme) -> None:
    import asyncio

    clock = FakeClock()
    credentials = password.package.Credentials(username="demo", password="demo-password")
    async with password.client(credentials=credentials, clock=clock) as client:
        await password.op("list_items").asyncio(client=client)
        password.advance(clock, HOUR)
        results = await asyncio.gather(*(password.op("list_items").asyncio(client=client) for _ in range(5)))
    assert all(_names(result) == ["Widget", "Gadget"] for result in results)
    stats = password.stats()
    assert (stats["logins"]["total"], stats["refreshes"]["total"]) == (1, 1)


# --- OAuth2 client credentials ---------------------------------------------------------------------------


def test_client_credentials_flow_authenticates_the_client_and_never_sends_a_refresh(clients: Scheme) -> None:
    clock = FakeClock()
    credentials = clients.package.ClientCredentials(client_id="backend", client_secret="backend-secret")
    with clients.client(credentials=credentials, clock=clock) as client:
        assert _names(clients.op("list_items").sync(client=client)) == ["Widget"]
        clients.advance(clock, HOUR)
        assert _names(clients.op("list_items").sync(client=client)) == ["Widget"]
    stats = clients.stats()
    assert stats["grants"]["by_client"] == {"backend": 2}
    assert (stats["refreshes"]["total"], stats["logins"]["by_user"]) == (0, {})
    assert "backend-secret" not in repr(credentials)


@pytest.mark.anyio
async def test_client_credentials_async(clients: Scheme) -> None:
    credentials = clients.package.ClientCredentials(client_id="backend", client_secret="backend-secret")
    async with clients.client(credentials=credentials) as client:
        assert _names(await clients.op("list_items").asyncio(client=client)) == ["Widget"]
    assert clients.stats()["grants"]["by_client"] == {"backend": 1}


def test_a_wrong_client_secret_raises_login_error(clients: Scheme) -> None:
    credentials = clients.package.ClientCredentials(client_id="backend", client_secret="nope")
    with clients.client(credentials=credentials) as client, pytest.raises(clients.package.LoginError) as caught:
        clients.op("list_items").sync(client=client)
    assert "invalid_client" in str(caught.value)


# --- Static credentials: apiKey header / query / cookie, bearer, basic -----------------------------------


@pytest.mark.parametrize(
    "operation", ["list_by_header_key", "list_by_query_key", "list_by_cookie_key", "list_by_bearer"]
)
def test_one_static_token_serves_every_token_scheme_where_it_belongs(static: Scheme, operation: str) -> None:
    with static.client(token="static-key") as client:
        assert _names(static.op(operation).sync(client=client)) == ["Widget"]
    assert static.stats()["unauthorized"] == 0


def test_basic_credentials_and_and_or_requirements(static: Scheme) -> None:
    credentials = static.package.Credentials(username="demo", password="demo-password")
    with static.client(credentials=credentials, token="static-key") as client:
        assert _names(static.op("list_by_basic").sync(client=client)) == ["Widget"]
        assert _names(static.op("list_by_basic_and_key").sync(client=client)) == ["Widget"]
        assert _names(static.op("list_by_bearer_or_basic").sync(client=client)) == ["Widget"]
    assert static.stats()["unauthorized"] == 0


def test_per_scheme_tokens(static: Scheme) -> None:
    """``tokens=`` gives a scheme its own token; other schemes then have none."""
    with static.client(tokens={"keyQuery": "query-only-key"}) as client:
        assert _names(static.op("list_by_query_key").sync(client=client)) == ["Widget"]
        with pytest.raises(static.package.MissingCredentialsError):
            static.op("list_by_header_key").sync(client=client)


def test_an_operation_the_client_cannot_authenticate_fails_before_sending(static: Scheme) -> None:
    """A bearer-only client calling a basic operation: MissingCredentialsError naming the scheme, no request."""
    with static.client(token="static-key") as client:
        with pytest.raises(static.package.MissingCredentialsError) as caught:
            static.op("list_by_basic").sync(client=client)
        with pytest.raises(static.package.MissingCredentialsError):
            static.op("list_by_basic_and_key").sync(client=client)
    assert "basic" in str(caught.value)
    assert "static-key" not in str(caught.value)
    assert static.stats()["requests"]["total"] == 0


def test_a_rejected_static_token_or_basic_pair_raises_token_rejected(static: Scheme) -> None:
    with static.client(token="wrong-key") as client, pytest.raises(static.package.TokenRejectedError):
        static.op("list_by_header_key").sync(client=client)
    credentials = static.package.Credentials(username="demo", password="wrong-password")
    with static.client(credentials=credentials) as client, pytest.raises(static.package.TokenRejectedError) as caught:
        static.op("list_by_basic").sync(client=client)
    assert "wrong-password" not in str(caught.value)


def test_an_optional_requirement_is_met_anonymously(static: Scheme) -> None:
    with static.client() as client:
        assert _names(static.op("list_optionally_authenticated").sync(client=client)) == ["Widget"]


@pytest.mark.anyio
async def test_static_schemes_async(static: Scheme) -> None:
    async with static.client(token="static-key") as client:
        assert _names(await static.op("list_by_cookie_key").asyncio(client=client)) == ["Widget"]
        with pytest.raises(static.package.MissingCredentialsError):
            await static.op("list_by_basic").asyncio(client=client)


# --- An identity provider on another origin --------------------------------------------------------------


def test_credentials_go_to_the_identity_provider_and_tokens_to_the_api_only(idp: Scheme) -> None:
    """``token_url=`` points the flow at the simulator's token port: the password never reaches the API's
    origin, the access token never reaches the identity provider, refresh included."""
    assert idp.sim.token_url is not None
    clock = FakeClock()
    credentials = idp.package.Credentials(username="demo", password="demo-password")
    with idp.client(credentials=credentials, token_url=idp.sim.token_url, clock=clock) as client:
        assert _names(idp.op("list_items").sync(client=client)) == ["Widget"]
        idp.advance(clock, HOUR)
        assert _names(idp.op("list_items").sync(client=client)) == ["Widget"]
    stats = idp.stats()
    assert (stats["logins"]["total"], stats["refreshes"]["total"]) == (1, 1)
    origins = stats["origins"]
    assert origins["idp"]["requests"] == 2
    assert (origins["idp"]["credentials"], origins["idp"]["access_tokens"]) == (1, 0)
    assert origins["idp"]["refresh_tokens"] == 1
    assert origins["api"]["requests"] == 2
    assert (origins["api"]["credentials"], origins["api"]["refresh_tokens"]) == (0, 0)
    assert origins["api"]["access_tokens"] == 2


@pytest.mark.anyio
async def test_identity_provider_async(idp: Scheme) -> None:
    assert idp.sim.token_url is not None
    credentials = idp.package.Credentials(username="demo", password="demo-password")
    async with idp.client(credentials=credentials, token_url=idp.sim.token_url) as client:
        assert _names(await idp.op("list_items").asyncio(client=client)) == ["Widget"]
    origins = idp.stats()["origins"]
    assert (origins["idp"]["access_tokens"], origins["api"]["credentials"]) == (0, 0)


# --- Mixed per-operation security ------------------------------------------------------------------------


def test_each_operation_uses_the_first_requirement_the_client_can_meet(mixed: Scheme) -> None:
    """A user client lists and creates through the password scheme, cannot read reports (client credentials
    only), and calls the public operation without credentials."""
    credentials = mixed.package.Credentials(username="demo", password="demo-password")
    with mixed.client(credentials=credentials) as client:
        assert _names(mixed.op("list_items").sync(client=client)) == ["Widget"]
        assert mixed.op("create_item").sync(client=client, body=mixed.package.models.Item(id=3, name="G")).id == 3
        with pytest.raises(mixed.package.MissingCredentialsError) as caught:
            mixed.op("list_reports").sync(client=client)
        assert mixed.op("health").sync(client=client) == "ok"
    assert "service" in str(caught.value)
    stats = mixed.stats()
    # One token request, list, create and health: the reports call never left the client.
    assert (stats["logins"]["total"], stats["requests"]["total"]) == (1, 4)


def test_an_api_key_client_takes_the_key_alternative(mixed: Scheme) -> None:
    """``tokens=`` for the key alone (``token=`` would also be a first token for the password scheme)."""
    with mixed.client(tokens={"apiKey": "mixed-key"}) as client:
        assert _names(mixed.op("list_items").sync(client=client)) == ["Widget"]
        with pytest.raises(mixed.package.MissingCredentialsError):
            mixed.op("create_item").sync(client=client, body=mixed.package.models.Item(id=3, name="G"))
    assert mixed.stats()["logins"]["total"] == 0


def test_a_service_client_reads_reports(mixed: Scheme) -> None:
    credentials = mixed.package.ClientCredentials(client_id="reporter", client_secret="reporter-secret")
    with mixed.client(credentials=credentials) as client:
        assert mixed.op("list_reports").sync(client=client) == ["daily"]
    assert mixed.stats()["grants"]["by_client"] == {"reporter": 1}


# --- x-token-lifecycle logins answering in a header or a cookie -----------------------------------------


@pytest.mark.parametrize("name", ["header", "cookie"])
def test_a_login_answering_the_token_in_a_header_or_cookie(
    name: str, header_process: Scheme, cookie_process: Scheme
) -> None:
    scheme = _reset(header_process if name == "header" else cookie_process)
    clock = FakeClock()
    credentials = scheme.package.Credentials(username="demo", password="demo-password")
    with scheme.client(credentials=credentials, clock=clock) as client:
        assert _names(scheme.op("list_items").sync(client=client)) == ["Widget"]
        scheme.advance(clock, 1800)
        assert _names(scheme.op("list_items").sync(client=client)) == ["Widget"]
    stats = scheme.stats()
    assert (stats["logins"]["total"], stats["unauthorized"]) == (2, 0)
