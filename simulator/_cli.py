"""``bearer-codegen serve SPEC``: the command line of the simulator.

Bad input — an unreadable or invalid spec, a bad fixtures file, a malformed ``--rate-limit`` or
``--token-lifetime``, a non-loopback ``--host`` without ``--allow-remote``, a port that cannot be
bound — is reported as ``error: WHERE: what is wrong`` (with the file and JSON pointer where
there is one) and exit code 2, never a traceback. Everything is checked before the server starts.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from pathlib import Path

from token_lifecycle._urls import is_loopback_host

from generator._duration import parse_duration
from generator._problems import Problem, render_problems

from ._api import Api, load_api
from ._app import build_app
from ._clock import Clock
from ._fixtures import Fixtures, resolve_fixtures
from ._server import bind, run, url
from ._state import RateLimit, SimulatorState

__all__ = ["DEFAULT_PORT", "DEFAULT_RATE_LIMIT", "add_serve_arguments", "parse_lifetime", "parse_rate_limit", "serve"]

DEFAULT_PORT = 8000
DEFAULT_RATE_LIMIT = RateLimit(count=600, seconds=60)
"""Per customer account: generous for a person trying things, small enough for a runaway loop to hit."""
EXIT_OK = 0
EXIT_BAD_INPUT = 2
_RATE = re.compile(r"(?P<count>\d+)/(?P<seconds>\d+(?:\.\d+)?)")


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the arguments of ``serve`` on ``parser``."""
    parser.add_argument("spec", metavar="SPEC", help="an OpenAPI 3.0/3.1 document (YAML or JSON)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port to listen on; 0 picks a free one (default: {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--fixtures",
        type=Path,
        help="accounts, users and response bodies (YAML); default: fixtures/<stem>.yaml beside SPEC if it "
        "exists, else one user demo / demo-password with every permission",
    )
    parser.add_argument(
        "--token-lifetime",
        metavar="DURATION",
        help="token lifetime as an ISO-8601 duration (PT30M) or seconds (1800); default: the spec's lifetime",
    )
    parser.add_argument(
        "--rate-limit",
        metavar="COUNT/SECONDS",
        help="requests per customer account in a sliding window (default: the spec's x-service-limits, else "
        f"{DEFAULT_RATE_LIMIT.render()})",
    )
    parser.add_argument(
        "--token-port",
        type=int,
        metavar="PORT",
        help="also listen on this port (0 picks a free one), serving only the OAuth2 token endpoints: an "
        "identity provider on another origin; announced as 'Token endpoint on URL'",
    )
    parser.add_argument(
        "--control", action="store_true", help="serve the control API under BASE/_control/ (loopback clients only)"
    )
    parser.add_argument("--allow-remote", action="store_true", help="allow a --host that is not a loopback address")


def parse_lifetime(text: str) -> float | str:
    """Seconds from ``--token-lifetime`` (ISO-8601 duration or plain seconds), or what is wrong."""
    try:
        seconds = float(text)
    except ValueError:
        return parse_duration(text)
    if not math.isfinite(seconds) or seconds <= 0:
        return f"{text!r} is not a positive number of seconds"
    return seconds


def parse_rate_limit(text: str) -> RateLimit | str:
    """The limit of ``--rate-limit COUNT/SECONDS``, or what is wrong."""
    match = _RATE.fullmatch(text.strip())
    if match is None:
        return f"{text!r} is not COUNT/SECONDS, e.g. 600/60 for 600 requests per minute"
    count, seconds = int(match["count"]), float(match["seconds"])
    if count < 1 or seconds <= 0:
        return f"{text!r}: COUNT must be at least 1 and SECONDS greater than 0"
    return RateLimit(count, seconds)


def _settings(args: argparse.Namespace) -> tuple[Api, Fixtures, float | None, RateLimit] | list[Problem]:
    problems: list[Problem] = []
    limit = None if args.rate_limit is None else parse_rate_limit(str(args.rate_limit))
    if isinstance(limit, str):
        problems.append(Problem("--rate-limit", "", limit))
    override = None if args.token_lifetime is None else parse_lifetime(str(args.token_lifetime))
    if isinstance(override, str):
        problems.append(Problem("--token-lifetime", "", override))
    if not args.allow_remote and not is_loopback_host(str(args.host)):
        problems.append(
            Problem(
                "--host",
                "",
                f"{args.host!r} is not a loopback address; the simulator has fake users with published "
                "passwords, so pass --allow-remote to expose it anyway",
            )
        )
    if not 0 <= int(args.port) <= 65535:
        problems.append(Problem("--port", "", f"{args.port} is not a port number (0-65535)"))
    if args.token_port is not None and not 0 <= int(args.token_port) <= 65535:
        problems.append(Problem("--token-port", "", f"{args.token_port} is not a port number (0-65535)"))
    spec = Path(str(args.spec))
    api = load_api(spec, str(args.spec))
    if isinstance(api, list):
        return problems + api
    fixtures = resolve_fixtures(spec, args.fixtures, api)
    if isinstance(fixtures, list):
        problems.extend(fixtures)
    if args.token_port is not None and not api.token_endpoints:
        problems.append(
            Problem("--token-port", "", f"{args.spec} has no oauth2 password or clientCredentials flow to serve")
        )
    if problems or isinstance(fixtures, list) or isinstance(limit, str) or isinstance(override, str):
        return problems
    if limit is None:
        # The service's limit as the document declares it, which generated clients pace themselves to.
        declared = None if api.security is None else api.security.service_limits
        limit = DEFAULT_RATE_LIMIT if declared is None else RateLimit(declared.requests, declared.per)
    return api, fixtures, override, limit


def serve(args: argparse.Namespace) -> int:
    """Run the simulator until SIGINT/SIGTERM; returns the exit code (0, or 2 for bad input)."""
    settings = _settings(args)
    if isinstance(settings, list):
        print(render_problems(settings), file=sys.stderr)
        return EXIT_BAD_INPUT
    api, fixtures, lifetime, limit = settings
    if api.security is not None and api.security.warnings:
        # What generated clients will not do as the document says (a requirement they ignore) the
        # simulator does not enforce either: say so once, as `generate` does.
        print(render_problems(api.security.warnings), file=sys.stderr)
    sock = bind(str(args.host), int(args.port))
    if isinstance(sock, str):
        print(render_problems([Problem("--port", "", sock)]), file=sys.stderr)
        return EXIT_BAD_INPUT
    sockets = [sock]
    # The API's base URL first (with the server's path, as clients need it); then each token endpoint
    # on the identity provider's port, so that whoever reads the lines can point a client at it.
    lines = [f"Serving {args.spec} on {url(str(args.host), sock)}{api.base_path}"]
    token_port: int | None = None
    if args.token_port is not None:
        idp = bind(str(args.host), int(args.token_port))
        if isinstance(idp, str):
            sock.close()
            print(render_problems([Problem("--token-port", "", idp)]), file=sys.stderr)
            return EXIT_BAD_INPUT
        sockets.append(idp)
        token_port = int(idp.getsockname()[1])
        lines.extend(f"Token endpoint on {url(str(args.host), idp)}{e.path}" for e in api.token_endpoints)
    state = SimulatorState(Clock(), lifetime, limit)
    app = build_app(api, fixtures, state, control=bool(args.control), token_port=token_port)
    run(app, sockets, "\n".join(lines))
    return EXIT_OK
