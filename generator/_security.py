"""Resolve every security scheme a document's operations use into what a generated client needs.

openapi-python-client ignores security schemes, so the generator reads them itself. Each scheme
becomes a :class:`SchemeSpec` of one of four kinds, inferred from OpenAPI alone:

==================================================  ==================  ==========================
scheme                                              kind                the client sends
==================================================  ==================  ==========================
apiKey (header / query / cookie)                    token               the token as is, under ``name``
http bearer; oauth2 implicit / authorizationCode /  token               ``Authorization: Bearer …``
deviceAuthorization; openIdConnect
http basic                                          basic               ``Authorization: Basic …``
oauth2 password                                     login               RFC 6749 §4.3 to ``tokenUrl``
oauth2 clientCredentials                            client_credentials  RFC 6749 §4.4 to ``tokenUrl``
==================================================  ==================  ==========================

An oauth2 scheme with several flows uses the first of password, clientCredentials, then the
token flows: the ones the client can run by itself come first. ``x-token-lifecycle`` (see
:mod:`._lifecycle`) overrides what is inferred. Each operation keeps its own effective
requirements, so an endpoint can never borrow another scheme's credential.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, cast
from urllib.parse import urlsplit

import attrs

from ._jsonish import as_mapping
from ._lifecycle import EXTENSION, HEADER_NAME, ExtensionOverrides, read_extension
from ._oauth2 import flow_login, token_url
from ._pointer import join_pointer
from ._problems import Problem, Severity
from ._requirements import (
    HTTP_METHODS,
    RawRequirements,
    document_requirements,
    effective_requirements,
    protected_operations,
    resolve_ref,
)
from ._scheme_model import (
    CredentialField,
    LoginOperation,
    Placement,
    Requirement,
    Requirements,
    SchemeKind,
    SchemeSpec,
    SecurityModel,
    TokenSource,
)
from ._service_limits import resolve_service_limits

__all__ = [
    "HTTP_METHODS",
    "CredentialField",
    "LoginOperation",
    "Placement",
    "Requirement",
    "Requirements",
    "SchemeKind",
    "SchemeSpec",
    "SecurityModel",
    "TokenSource",
    "protected_operations",
    "resolve_security",
]

_SCHEMES = "/components/securitySchemes"
OAUTH2_LIFETIME_SECONDS = 3600.0
"""A token's lifetime when an OAuth 2.0 token response has no ``expires_in`` (RFC 6749 leaves it to the server)."""
_TOKEN_FLOWS = ("implicit", "authorizationCode", "deviceAuthorization")
_LOGIN_KINDS = ("login", "client_credentials")


@attrs.frozen
class _Inferred:
    """What the scheme itself says, before the extension overrides it."""

    kind: SchemeKind
    placement: Placement
    flow: Literal["password", "clientCredentials"] | None = None
    token_url: str | None = None
    note: tuple[tuple[str, ...], str] | None = None
    """A warning: (the scheme's fields it is about, what the client does differently from what the scheme means)."""


@attrs.frozen
class _Resolved:
    """A resolved scheme, or a scheme the client satisfies by other means (mutual TLS): ``spec`` None."""

    spec: SchemeSpec | None
    warnings: tuple[Problem, ...] = ()


def _placement(scheme: Mapping[str, Any]) -> Placement | tuple[str, str]:
    """Where the scheme's token travels, or (the field that is wrong, why)."""
    kind = scheme.get("type")
    if kind == "apiKey":
        location, key = scheme.get("in"), str(scheme.get("name", ""))
        if location not in ("header", "query", "cookie"):
            return "in", f"an apiKey scheme goes 'in' header, query or cookie, not {location!r}"
        if location == "query" and (not key or any(c.isspace() or c in ";=,&#" or not c.isprintable() for c in key)):
            return "name", f"{key!r} is not a usable query parameter name (no spaces, control characters or ;=,&#)"
        if location != "query" and not HEADER_NAME.fullmatch(key):
            what = "HTTP field name" if location == "header" else "cookie name"
            return "name", f"{key!r} is not a valid {what} (an RFC 9110 token: letters, digits, !#$%&'*+.^_`|~-)"
        return Placement(location, key, "{token}")
    if kind == "http":
        word = str(scheme.get("scheme", ""))
        if word.lower() == "basic":
            return Placement("header", "Authorization", "Basic {token}")
        if word.lower() == "bearer" or not word:
            return Placement("header", "Authorization", "Bearer {token}")
        if not HEADER_NAME.fullmatch(word):
            return "scheme", f"the http scheme {word!r} is not an HTTP authentication scheme name (an RFC 9110 token)"
        return Placement("header", "Authorization", word + " {token}")
    return Placement("header", "Authorization", "Bearer {token}")


def _infer(document: Mapping[str, Any], name: str, scheme: Mapping[str, Any]) -> _Inferred | Problem | None:
    """What the scheme means without extension; None for mutual TLS (no credential in the request)."""
    kind = scheme.get("type")
    pointer = join_pointer(_SCHEMES, name)
    if kind == "mutualTLS":
        return None
    if kind not in ("apiKey", "http", "oauth2", "openIdConnect"):
        return Problem(
            "",
            join_pointer(pointer, "type"),
            f"unknown security scheme type {kind!r}; use apiKey, http, oauth2, openIdConnect or mutualTLS",
        )
    placement = _placement(scheme)
    if isinstance(placement, tuple):
        return Problem("", join_pointer(pointer, placement[0]), placement[1])
    if kind == "http" and str(scheme.get("scheme", "")).lower() == "basic":
        return _Inferred("basic", placement)
    word = str(scheme.get("scheme", "bearer"))
    if kind == "http" and word.lower() != "bearer":
        note = (
            f"the http scheme {word!r} is not bearer or basic: the client sends a token it is given as "
            f"'Authorization: {word} <token>' and does not run the scheme's own exchange"
        )
        return _Inferred("token", placement, note=(("scheme",), note))
    if kind != "oauth2":
        return _Inferred("token", placement)
    flows = as_mapping(scheme.get("flows"))
    for flow, spec_kind in (("password", "login"), ("clientCredentials", "client_credentials")):
        if flow in flows:
            url = as_mapping(flows[flow]).get("tokenUrl")
            if not isinstance(url, str) or not url:
                return Problem("", join_pointer(pointer, "flows", flow, "tokenUrl"), "the flow needs a tokenUrl")
            if "://" in url and urlsplit(url).scheme.lower() not in ("http", "https"):
                message = f"the tokenUrl {url!r} is neither a path nor an http(s) URL"
                return Problem("", join_pointer(pointer, "flows", flow, "tokenUrl"), message)
            resolved, outside = token_url(document, url)
            warning = None if outside is None else (("flows", flow, "tokenUrl"), outside)
            return _Inferred(cast(SchemeKind, spec_kind), placement, cast(Any, flow), resolved, warning)
    if any(flow in flows for flow in _TOKEN_FLOWS):
        return _Inferred("token", placement)
    return Problem(
        "",
        join_pointer(pointer, "flows"),
        "an oauth2 scheme needs a flow: password, clientCredentials, "
        "implicit, authorizationCode or deviceAuthorization",
    )


def _spec(
    document: Mapping[str, Any],
    display: str,
    name: str,
    scheme: Mapping[str, Any],
    scopes: tuple[str, ...],
) -> _Resolved | list[Problem]:
    inferred = _infer(document, name, scheme)
    pointer = join_pointer(_SCHEMES, name)
    if isinstance(inferred, Problem):
        return [attrs.evolve(inferred, file=display)]
    if inferred is None:
        if EXTENSION in scheme:
            return [Problem(display, join_pointer(pointer, EXTENSION), f"a mutualTLS scheme takes no {EXTENSION}")]
        message = (
            f"the mutualTLS scheme {name!r} is satisfied by the TLS connection, not by the request: pass the client "
            "certificate as httpx_args={'cert': ...}; requirements treat it as met"
        )
        return _Resolved(None, (Problem(display, pointer, message, Severity.WARNING),))
    overrides = ExtensionOverrides(None, None, None, None, None, False, None, None)
    base = join_pointer(pointer, EXTENSION)
    if EXTENSION in scheme:
        read = read_extension(document, display, scheme[EXTENSION], base)
        if isinstance(read, list):
            return read
        overrides = read
    merged = _merge(document, display, name, scheme, inferred, overrides, scopes, base)
    if isinstance(merged, list) or inferred.note is None:
        return merged
    return attrs.evolve(
        merged,
        warnings=(Problem(display, join_pointer(pointer, *inferred.note[0]), inferred.note[1], Severity.WARNING),),
    )


def _merge(
    document: Mapping[str, Any],
    display: str,
    name: str,
    scheme: Mapping[str, Any],
    inferred: _Inferred,
    ext: ExtensionOverrides,
    scopes: tuple[str, ...],
    base: str,
) -> _Resolved | list[Problem]:
    """The scheme as inferred, with what the extension says on top."""
    oauth2 = scheme.get("type") == "oauth2" and inferred.kind in _LOGIN_KINDS
    kind: SchemeKind = inferred.kind
    placement = inferred.placement
    if ext.template is not None:
        placement = attrs.evolve(placement, template=ext.template)
    login: LoginOperation | None = None
    if ext.login is not None:
        kind = "login" if inferred.kind != "client_credentials" else "client_credentials"
        login = ext.login
    elif inferred.kind in _LOGIN_KINDS:
        login = flow_login(
            document,
            cast(str, inferred.flow),
            cast(str, inferred.token_url),
            scopes,
            ext.client_authentication or "basic",
        )
    problems: list[Problem] = []
    if kind not in _LOGIN_KINDS:
        for field, given in (("token", ext.token), ("lifetime", ext.lifetime_seconds), ("expiresIn", ext.expires_in)):
            if given is not None:
                problems.append(
                    Problem(
                        display,
                        join_pointer(base, field),
                        f"{field} describes a login, but the scheme {name!r} ({scheme.get('type')}) has none: "
                        "add 'login' (the operation that issues tokens) or remove it",
                    )
                )
    elif not oauth2:
        for field, given in (("token", ext.token), ("lifetime", ext.lifetime_seconds)):
            if given is None:
                problems.append(
                    Problem(
                        display,
                        base,
                        f"{EXTENSION}: '{field}' is a required property with 'login' on a {scheme.get('type')} scheme "
                        "(only oauth2 flows have defaults)",
                    )
                )
    if ext.client_authentication is not None and inferred.flow != "clientCredentials":
        problems.append(
            Problem(
                display,
                join_pointer(base, "clientAuthentication"),
                "clientAuthentication applies to an oauth2 clientCredentials flow only; remove it",
            )
        )
    default_token = TokenSource("json", "/access_token", None) if oauth2 else None
    token = ext.token or default_token
    from_json = token is not None and token.source == "json"
    expires_in = ext.expires_in if ext.expires_in_given else ("/expires_in" if oauth2 and from_json else None)
    if expires_in is not None and token is not None and token.source != "json":
        problems.append(
            Problem(
                display, join_pointer(base, "expiresIn"), "expiresIn needs a JSON login response (token.from: json)"
            )
        )
    if problems:
        return problems
    return _Resolved(
        SchemeSpec(
            name=name,
            kind=kind,
            placement=placement,
            login=login if kind in _LOGIN_KINDS else None,
            token=token if kind in _LOGIN_KINDS else None,
            expires_in_pointer=expires_in if kind in _LOGIN_KINDS else None,
            refresh_token_pointer="/refresh_token" if oauth2 and from_json else None,
            lifetime_seconds=ext.lifetime_seconds or OAUTH2_LIFETIME_SECONDS,
            invalid_on=ext.invalid_on or (401,),
            scopes=scopes,
            oauth2=oauth2,
        )
    )


def _undefined(display: str, raws: list[RawRequirements], defined: Mapping[str, Any]) -> list[Problem]:
    """A warning per requirement that names a scheme the document does not define (once per place)."""
    found: dict[str, Problem] = {}
    for raw in raws:
        for index, alternative in enumerate(raw.alternatives):
            for name, _ in alternative:
                pointer = join_pointer(raw.pointer, index, name)
                if name not in defined and pointer not in found:
                    found[pointer] = Problem(
                        display,
                        pointer,
                        f"no security scheme named {name!r} under components/securitySchemes (defined: "
                        f"{', '.join(map(repr, defined)) or 'none'}); the client ignores this requirement",
                        Severity.WARNING,
                    )
    return list(found.values())


def _scopes(raws: list[RawRequirements]) -> dict[str, tuple[str, ...]]:
    """Scheme name → every scope some operation requires of it, in order of appearance."""
    scopes: dict[str, list[str]] = {}
    for raw in raws:
        for alternative in raw.alternatives:
            for name, wanted in alternative:
                known = scopes.setdefault(name, [])
                known.extend(scope for scope in wanted if scope not in known)
    return {name: tuple(values) for name, values in scopes.items()}


def _requirements(
    display: str, raw: RawRequirements, specs: Mapping[str, SchemeSpec | None], problems: list[Problem]
) -> Requirements:
    """Requirements as scheme names, without schemes met by other means; unsupported ones dropped with a warning."""
    result: list[Requirement] = []
    for index, alternative in enumerate(raw.alternatives):
        if any(name not in specs for name, _ in alternative):
            continue  # an undefined scheme, or one only the document-wide default names (not generated)
        names = tuple(name for name, _ in alternative if specs.get(name) is not None)
        logins = [name for name in names if cast(SchemeSpec, specs[name]).kind in _LOGIN_KINDS]
        if len(logins) > 1:
            problems.append(
                Problem(
                    display,
                    join_pointer(raw.pointer, index),
                    f"a requirement that needs two logins at once ({' AND '.join(map(repr, logins))}) is not "
                    "supported; the client ignores it and uses the other alternatives",
                    Severity.WARNING,
                )
            )
            continue
        if names not in result:
            result.append(names)
    return tuple(result)


def resolve_security(document: Mapping[str, Any], display: str) -> SecurityModel | list[Problem]:
    """Every scheme the operations use, and each operation's requirements; or the errors found.

    Warnings (requirements the client cannot satisfy as written) are in ``SecurityModel.warnings``.
    """
    defined = {
        str(name): resolve_ref(document, as_mapping(scheme))
        for name, scheme in as_mapping(as_mapping(document.get("components")).get("securitySchemes")).items()
    }
    per_operation = effective_requirements(document)
    default = document_requirements(document)
    raws = [*per_operation.values(), default]
    problems: list[Problem] = []
    warnings = _undefined(display, raws, defined)
    scopes = _scopes(list(per_operation.values()))
    specs: dict[str, SchemeSpec | None] = {}
    for name, scheme in defined.items():
        if name not in scopes:
            continue
        resolved = _spec(document, display, name, scheme, scopes[name])
        if isinstance(resolved, list):
            problems += resolved
            continue
        specs[name] = resolved.spec
        warnings += resolved.warnings
    problems += _one_login_operation(display, specs)
    limits, limit_problems = resolve_service_limits(document, display)
    problems += [problem for problem in limit_problems if problem.severity is Severity.ERROR]
    warnings += [problem for problem in limit_problems if problem.severity is Severity.WARNING]
    if problems:
        return problems
    operations_requirements: dict[tuple[str, str], Requirements] = {}
    for key, raw in per_operation.items():
        requirements = _requirements(display, raw, specs, warnings)
        if raw.alternatives and not requirements:
            warnings.append(
                Problem(
                    display,
                    raw.pointer,
                    f"{key[1].upper()} {key[0]}: a generated client can meet none of this operation's security "
                    "requirements, so it sends the operation no credentials",
                    Severity.WARNING,
                )
            )
        operations_requirements[key] = requirements
    # A scheme only a dropped requirement named is no longer used by any operation.
    used = {name for requirements in operations_requirements.values() for r in requirements for name in r}
    usable = {name: spec for name, spec in specs.items() if spec is not None and name in used}
    default_requirements = _requirements(
        display, default, {n: s for n, s in specs.items() if s is None or n in used}, []
    )
    return SecurityModel(
        schemes=tuple(usable.values()),
        default=default_requirements,
        operations=operations_requirements,
        warnings=tuple(warnings),
        service_limits=limits,
    )


def _one_login_operation(display: str, specs: Mapping[str, SchemeSpec | None]) -> list[Problem]:
    """At most one scheme logs in through an operation of the document.

    The generated module of a login operation redacts the credentials of the client's ``LOGIN``:
    with two login operations, one of them would log its password.
    """
    carriers = [
        name
        for name, spec in specs.items()
        if spec is not None and spec.login is not None and spec.login.operation_id is not None and not spec.oauth2
    ]
    if len(carriers) < 2:
        return []
    return [
        Problem(
            display,
            join_pointer(_SCHEMES, carriers[1], EXTENSION, "login"),
            f"only one security scheme may log in through an operation of the document (x-token-lifecycle login); "
            f"found {', '.join(map(repr, carriers))}: keep one login and describe the others' tokens as static",
        )
    ]
