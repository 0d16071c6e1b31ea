"""URLs, shared by the auth flow and the retry transport: joining, the loopback rule, safe display."""

from __future__ import annotations

import ipaddress

import httpx

#: Host names that always resolve to this machine. ``*.localhost`` is reserved for loopback by RFC 6761.
LOOPBACK_HOST_NAMES = frozenset({"localhost"})


def join_url(base_url: httpx.URL, path: str) -> httpx.URL:
    """Append ``path`` to the base URL's path the way httpx's ``base_url`` does (no query, no fragment)."""
    joined = base_url.path.rstrip("/") + "/" + path.lstrip("/")
    return base_url.copy_with(path=joined, query=None, fragment=None)


def is_loopback_host(host: str) -> bool:
    """Tell whether ``host`` names this machine: the one rule of the runtime for "loopback".

    Accepted: ``localhost`` and ``*.localhost`` (RFC 6761), any address of 127.0.0.0/8, ``::1``, and
    IPv4-mapped loopback (``::ffff:127.0.0.1``); brackets, case and a trailing dot do not matter.
    """
    host = host.strip().removeprefix("[").removesuffix("]").lower().rstrip(".")
    if host in LOOPBACK_HOST_NAMES or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def is_loopback(url: httpx.URL) -> bool:
    """Tell whether ``url`` points at this machine (see `is_loopback_host`)."""
    return is_loopback_host(url.host)


def safe_url(url: httpx.URL) -> str:
    """Return ``url`` fit for messages and logs: no user info, no query string, no fragment."""
    netloc = url.netloc.decode("ascii", errors="replace")
    return f"{url.scheme}://{netloc}{url.path}"


def origin(url: httpx.URL) -> tuple[str, bytes, int | None]:
    """Return (scheme, host, port) with the default port made explicit; httpx has normalised the host."""
    return url.scheme, url.raw_host, _port(url)


def _port(url: httpx.URL) -> int | None:
    if url.port is not None:
        return url.port
    return {"http": 80, "https": 443}.get(url.scheme)
