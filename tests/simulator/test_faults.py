"""Rate limits and injected faults: configurable, adjustable at runtime, and deterministic for a seed."""

from __future__ import annotations

import time

import aiohttp
import pytest

from aiopinterest.testing import Faults, PinterestSimulator, RateLimit

from .conftest import FakeClock


async def _statuses(
    simulator: PinterestSimulator, http: aiohttp.ClientSession, count: int, path: str = "/user_account"
) -> list[int | None]:
    headers = {"Authorization": f"Bearer {simulator.access_token}"}
    statuses: list[int | None] = []
    for _ in range(count):
        try:
            async with http.get(simulator.base_url + path, headers=headers) as response:
                await response.read()
                statuses.append(response.status)
        except aiohttp.ClientConnectionError:
            statuses.append(None)
    return statuses


async def test_rate_limit_answers_429_with_headers_and_refills(
    clock: FakeClock, http: aiohttp.ClientSession
) -> None:
    async with PinterestSimulator(clock=clock, rate_limits={"org_read": RateLimit(3, 10.0)}) as sim:
        headers = {"Authorization": f"Bearer {sim.access_token}"}
        remaining = []
        for _ in range(3):
            async with http.get(sim.base_url + "/user_account", headers=headers) as response:
                assert response.status == 200
                assert response.headers["X-RateLimit-Limit"] == "3"
                assert response.headers["X-RateLimit-Reset"] == "10"
                remaining.append(response.headers["X-RateLimit-Remaining"])
        assert remaining == ["2", "1", "0"]
        clock.advance(2.5)
        async with http.get(sim.base_url + "/user_account", headers=headers) as response:
            assert response.status == 429
            assert response.headers["Retry-After"] == "8"
            # To the millisecond, so a client pacing itself from it does not wait the rounding for nothing.
            assert response.headers["X-RateLimit-Reset"] == "7.5"
            assert response.headers["X-RateLimit-Remaining"] == "0"
            assert (await response.json())["code"] == 8
        # Another category has its own budget.
        async with http.get(sim.base_url + "/ad_accounts", headers=headers) as response:
            assert response.status == 200
        clock.advance(7.5)
        async with http.get(sim.base_url + "/user_account", headers=headers) as response:
            assert response.status == 200
            assert response.headers["X-RateLimit-Remaining"] == "2"


async def test_rate_limits_change_at_runtime(
    pinterest_simulator: PinterestSimulator, http: aiohttp.ClientSession
) -> None:
    assert await _statuses(pinterest_simulator, http, 2) == [200, 200]
    pinterest_simulator.rate_limits["org_read"] = RateLimit(2, 60.0)
    assert await _statuses(pinterest_simulator, http, 1) == [429]
    pinterest_simulator.reset_rate_limits()
    assert await _statuses(pinterest_simulator, http, 3) == [200, 200, 429]


async def test_same_seed_gives_the_same_fault_sequence(http: aiohttp.ClientSession) -> None:
    faults = Faults(error_rate=0.3, drop_rate=0.1)

    async def served(seed: int) -> list[int | None]:
        async with PinterestSimulator(seed=seed, faults=faults) as sim:
            await _statuses(sim, http, 40)
            # What the simulator did (a dropped connection is None), not what aiohttp's own reconnects made of it.
            return [request.status for request in sim.requests]

    first = await served(42)
    assert await served(42) == first
    assert None in first and 200 in first
    assert any(status is not None and status >= 500 for status in first)
    assert await served(43) != first


async def test_faults_flip_at_runtime_and_per_route(
    pinterest_simulator: PinterestSimulator, http: aiohttp.ClientSession
) -> None:
    pinterest_simulator.faults = Faults(error_rate=1.0, error_statuses=(503,))
    assert await _statuses(pinterest_simulator, http, 2) == [503, 503]
    pinterest_simulator.route_faults["user_account/get"] = Faults()
    assert await _statuses(pinterest_simulator, http, 1) == [200]
    assert await _statuses(pinterest_simulator, http, 1, "/boards") == [503]
    pinterest_simulator.faults = Faults()
    assert await _statuses(pinterest_simulator, http, 1, "/boards") == [200]
    assert [r.status for r in list(pinterest_simulator.requests)[-2:]] == [503, 200]


async def test_latency_is_added(pinterest_simulator: PinterestSimulator, http: aiohttp.ClientSession) -> None:
    pinterest_simulator.faults = Faults(latency=0.2)
    started = time.perf_counter()
    assert await _statuses(pinterest_simulator, http, 1) == [200]
    assert time.perf_counter() - started >= 0.2


def test_fault_settings_are_checked() -> None:
    with pytest.raises(ValueError):
        Faults(error_rate=1.5)
    with pytest.raises(ValueError):
        Faults(error_statuses=(404,))
    with pytest.raises(ValueError):
        RateLimit(10, 0)
