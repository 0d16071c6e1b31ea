"""Pacing calls to the account's service limit, as users write it: type-checked only, never run.

Checks that the names the package exports lazily (``RedisRateLimiter``) are visible to type checkers
through its ``TYPE_CHECKING`` imports, and that both limiters fit ``AuthenticatedClient``'s
``rate_limiter``.
"""

from __future__ import annotations

import asyncio

from synthetic_classic_client import (
    AuthenticatedClient,
    Credentials,
    LocalRateLimiter,
    RateLimiter,
    RateLimitTimeoutError,
    RedisRateLimiter,
    ServiceLimitError,
    ServiceLimits,
)
from synthetic_classic_client.api.tests import list_tests
from synthetic_classic_client.client import SERVICE_LIMITS

BASE_URL = "https://synthetic.example/publicapi/rest/v1.0"


def paced_by_the_document() -> AuthenticatedClient:
    limits: ServiceLimits | None = SERVICE_LIMITS
    return AuthenticatedClient(BASE_URL, credentials=Credentials("u", "p"), service_limits=limits)


def paced_by_hand() -> None:
    client = AuthenticatedClient(
        BASE_URL,
        credentials=Credentials("u", "p"),
        service_limits=ServiceLimits(requests=600, per=60),
        rate_limit_wait=10.0,
    )
    try:
        list_tests.sync(client=client)
    except RateLimitTimeoutError as error:
        waited: float = error.waited
        limit: ServiceLimits = error.limits
        never_sent: int | None = error.last_status
        print(waited, limit, never_sent)
    except ServiceLimitError as error:
        print(error.attempts)


def paced_as_a_fleet() -> None:
    limiter = RedisRateLimiter(
        "redis://localhost:6379/0", ServiceLimits(requests=600, per=60), api=BASE_URL, account="acme"
    )
    shared: RateLimiter = limiter
    from_the_client = RedisRateLimiter("redis://localhost:6379/0", account="acme")
    AuthenticatedClient(BASE_URL, service_limits=ServiceLimits(10, 1), rate_limiter=from_the_client)
    local: RateLimiter = LocalRateLimiter(ServiceLimits(10, 1))
    client = AuthenticatedClient(BASE_URL, credentials=Credentials("u", "p"), rate_limiter=shared)
    print(local.limits.requests, client.rate_limiter)
    limiter.close()


async def paced_async(limiter: RedisRateLimiter) -> None:
    waited: float = await limiter.acquire_async(5.0)
    await limiter.cool_down_async(2.0)
    await limiter.aclose()
    await asyncio.sleep(waited)
