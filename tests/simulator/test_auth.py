from __future__ import annotations

import aiohttp
import pytest

import aiopinterest
from aiopinterest.errors import AuthenticationError
from aiopinterest.testing import PinterestSimulator


async def test_missing_and_wrong_tokens_get_401_in_pinterest_shape(
    pinterest_simulator: PinterestSimulator, http: aiohttp.ClientSession
) -> None:
    url = pinterest_simulator.base_url + "/user_account"
    for headers in ({}, {"Authorization": "Bearer not-the-token"}, {"Authorization": "Basic YTpi"}):
        async with http.get(url, headers=headers) as response:
            assert response.status == 401
            assert await response.json() == {"code": 2, "message": "Authentication failed."}
            assert response.headers["X-RateLimit-Limit"]


async def test_the_access_token_is_accepted(pinterest_client: aiopinterest.Client) -> None:
    account = await pinterest_client.user_account.get()
    assert account.username == "simulated_user"


async def test_client_with_a_wrong_token_raises_authentication_error(
    pinterest_simulator: PinterestSimulator,
) -> None:
    async with aiopinterest.Client(access_token="wrong", base_url=pinterest_simulator.base_url) as client:
        with pytest.raises(AuthenticationError) as raised:
            await client.user_account.get()
    assert raised.value.code == 2


async def test_tokens_issued_by_oauth_token_are_accepted_and_revocable(
    pinterest_simulator: PinterestSimulator, http: aiohttp.ClientSession
) -> None:
    base = pinterest_simulator.base_url
    async with http.post(
        base + "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "pins:read"},
        headers={"Authorization": "Basic YXBwOnNlY3JldA=="},
    ) as response:
        assert response.status == 200
        issued = (await response.json())["access_token"]
    bearer = {"Authorization": f"Bearer {issued}"}
    async with http.get(base + "/user_account", headers=bearer) as response:
        assert response.status == 200
    async with http.post(base + "/oauth/token/revoke", data={"token": issued}, headers=bearer) as response:
        assert response.status == 200
    async with http.get(base + "/user_account", headers=bearer) as response:
        assert response.status == 401


async def test_unknown_paths_and_methods_answer_in_pinterest_shape(
    pinterest_simulator: PinterestSimulator, http: aiohttp.ClientSession
) -> None:
    async with http.get(pinterest_simulator.base_url + "/no_such_thing") as response:
        assert response.status == 404
        assert set(await response.json()) == {"code", "message"}
    async with http.put(pinterest_simulator.base_url + "/pins") as response:
        assert response.status == 405
        assert "GET" in response.headers["Allow"]


async def test_recorded_requests_keep_the_token_out_of_their_repr(
    pinterest_simulator: PinterestSimulator, pinterest_client: aiopinterest.Client
) -> None:
    await pinterest_client.user_account.get()
    [recorded] = pinterest_simulator.requests
    assert recorded.headers["Authorization"] == f"Bearer {pinterest_simulator.access_token}"
    assert pinterest_simulator.access_token not in repr(recorded)


async def test_a_client_asking_for_continuous_refresh_renews_its_token_with_the_simulator(
    pinterest_simulator: PinterestSimulator,
) -> None:
    async with aiopinterest.Client(
        app_id="app",
        app_secret="secret",
        refresh_token="pinr_refresh",
        continuous_refresh=True,
        base_url=pinterest_simulator.base_url,
    ) as client:
        account = await client.user_account.get()
    assert account.username == "simulated_user"
    renewal = next(r for r in pinterest_simulator.requests if r.path.endswith("/oauth/token"))
    assert renewal.status == 200
