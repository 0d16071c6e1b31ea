"""A client that does not use the fleet's parts or telemetry never imports redis, limits or opentelemetry.

Each check runs in a fresh interpreter (the test process has them all imported): importing the generated
package, building a client and making calls (a login included) loads none of the extras' libraries.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXTRAS = ("redis", "limits", "opentelemetry")

PROBE = """
import json, sys
import httpx
{body}
loaded = sorted({{name.split(".")[0] for name in sys.modules}} & set({extras!r}))
print(json.dumps(loaded))
"""

IMPORT_ONLY = "import synthetic_classic_client"

CALLS = """
from synthetic_classic_client import AuthenticatedClient, Credentials
from synthetic_classic_client.api.tests import list_tests

def answer(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("/login"):
        return httpx.Response(200, text="token-1")
    return httpx.Response(200, json={"Monitors": []})

client = AuthenticatedClient(
    "https://synthetic.example/publicapi/rest/v1.0",
    credentials=Credentials("demo", "demo-password"),
    httpx_args={"transport": httpx.MockTransport(answer)},
)
for _ in range(3):
    list_tests.sync_detailed(client=client)
assert client.lifecycle.stats.logins == 1
"""


def _loaded(body: str) -> list[str]:
    env_path = f"{ROOT / 'generated' / 'synthetic_classic_client'}"
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(body=body, extras=EXTRAS)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    loaded: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


@pytest.mark.parametrize("body", [IMPORT_ONLY, CALLS], ids=["import", "login-and-calls"])
def test_no_extra_is_imported_unless_used(body: str):
    assert _loaded(body) == []


def test_the_probe_sees_an_extra_that_is_imported():
    # The probe itself can fail: it sees a library of an extra once something imports it.
    assert "redis" in _loaded("import synthetic_classic_client, redis")
