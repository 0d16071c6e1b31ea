"""OAuth 2.0 flows the client runs by itself: where the token request goes and what it carries.

RFC 6749 fixes the request of the password grant (§4.3: form fields ``grant_type=password``,
``username``, ``password``, ``scope``) and of the client credentials grant (§4.4, the client
authenticated by HTTP Basic by default, §2.3.1); only ``tokenUrl`` comes from the document, and it
may be relative to the server URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

from ._jsonish import as_list, as_mapping
from ._requirements import operations
from ._scheme_model import CredentialField, CredentialLocation, LoginOperation

__all__ = ["flow_login", "token_url"]


def _server_url(document: Mapping[str, Any]) -> str:
    """The document's first server URL with its variables' defaults (``/`` when it has none)."""
    server = as_mapping(next(iter(as_list(document.get("servers"))), None))
    url = str(server.get("url", "/"))
    for name, variable in as_mapping(server.get("variables")).items():
        url = url.replace("{" + name + "}", str(as_mapping(variable).get("default", "")))
    return url


def token_url(document: Mapping[str, Any], raw: str) -> tuple[str, str | None]:
    """``tokenUrl`` as the runtime takes it: a path under the server URL (joined to the client's
    base URL like any operation), or an absolute URL (an identity provider elsewhere); and a
    warning when neither says where the document means.

    Relative URLs resolve against the first server URL (OpenAPI, RFC 3986).
    """
    server = _server_url(document)
    resolved = urljoin(server, raw)
    base, target = urlsplit(server), urlsplit(resolved)
    prefix = base.path.rstrip("/")
    same_origin = (base.scheme, base.netloc) == (target.scheme, target.netloc)
    if same_origin and (target.path == prefix or target.path.startswith(prefix + "/")):
        rest = target.path[len(prefix) :] or "/"
        return rest + (f"?{target.query}" if target.query else ""), None
    if not target.scheme:
        return resolved, (
            f"the tokenUrl {raw!r} resolves to {resolved!r}, outside the server URL {server!r}: the client joins it "
            "to its base_url like an operation's path; pass token_url= to AuthenticatedClient if that is not where "
            "tokens are issued"
        )
    return resolved, None


def _operation_id_at(document: Mapping[str, Any], url: str, method: str) -> str | None:
    """The operationId of the operation ``method url`` of the document, if ``url`` is one of its paths."""
    for path, op_method, _, operation in operations(document):
        if path == url and op_method == method.lower() and isinstance(operation.get("operationId"), str):
            return str(operation["operationId"])
    return None


def flow_login(document: Mapping[str, Any], flow: str, url: str, scopes: tuple[str, ...], auth: str) -> LoginOperation:
    """The RFC 6749 token request of a password (§4.3) or clientCredentials (§4.4) flow to ``url``."""
    scope = (("scope", " ".join(scopes)),) if scopes else ()
    if flow == "password":
        username, password = CredentialField("form", "username"), CredentialField("form", "password")
        constants = (("grant_type", "password"), *scope)
    else:
        where: CredentialLocation = "basic" if auth == "basic" else "form"
        username, password = CredentialField(where, "client_id"), CredentialField(where, "client_secret")
        constants = (("grant_type", "client_credentials"), *scope)
    return LoginOperation(_operation_id_at(document, url, "POST"), "POST", url, username, password, constants)
