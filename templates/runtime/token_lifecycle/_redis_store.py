"""A token shared by every process of a fleet, on any number of hosts, through Redis (placeholder: issue 15)."""

from __future__ import annotations


class RedisTokenStore:
    """Not built yet."""

    def __init__(self) -> None:
        raise NotImplementedError("RedisTokenStore is being built (issue 15)")
