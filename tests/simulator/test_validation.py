"""The simulator checks what it receives against the spec, and names the offending parameter or field."""

from __future__ import annotations

import ast
import datetime
import os
import subprocess
import sys
import textwrap
from typing import Any

import aiohttp
import pytest

from aiopinterest.testing import PinterestSimulator

_TODAY = datetime.datetime.now(datetime.UTC).date()
_TEN_DAYS = datetime.timedelta(days=10)


async def _send(
    simulator: PinterestSimulator,
    http: aiohttp.ClientSession,
    method: str,
    path: str,
    *,
    params: dict[str, str] | None = None,
    body: Any = None,
) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {simulator.access_token}"}
    async with http.request(
        method, simulator.base_url + path, params=params, json=body, headers=headers
    ) as response:
        return response.status, await response.json()


@pytest.mark.parametrize(
    ("method", "path", "params", "body", "field"),
    [
        pytest.param("GET", "/boards", {"privacy": "EVERYONE"}, None, "privacy", id="bad enum"),
        pytest.param("GET", "/boards", {"page_size": "251"}, None, "page_size", id="page_size too big"),
        pytest.param("GET", "/pins", {"page_size": "0"}, None, "page_size", id="page_size too small"),
        pytest.param(
            "GET", "/media", {"page_size": "many"}, None, "page_size", id="page_size not an integer"
        ),
        pytest.param("GET", "/pins", {"pin_metrics": "yes"}, None, "pin_metrics", id="not a boolean"),
        pytest.param(
            "POST", "/boards", None, {"description": "no name"}, "body.name", id="missing body field"
        ),
        pytest.param("POST", "/boards", None, {"name": 42}, "body.name", id="wrong body type"),
        pytest.param(
            "POST", "/boards", None, {"name": "x", "privacy": "HIDDEN"}, "body.privacy", id="bad enum in body"
        ),
        pytest.param("POST", "/media", None, {"media_type": "gif"}, "body.media_type", id="bad media type"),
        pytest.param(
            "POST",
            "/pins",
            None,
            {"board_id": "1", "media_source": {"source_type": "image_url"}},
            "body.media_source.url",
            id="missing field in a union variant",
        ),
        pytest.param("POST", "/boards", None, None, "body", id="missing body"),
        pytest.param(
            "GET", "/pins/analytics", {"start_date": "2026-01-01"}, None, "pin_ids", id="missing query"
        ),
        pytest.param(
            "GET",
            "/user_account/analytics",
            {"start_date": "2026-01-01", "end_date": "2026-06-01"},
            None,
            "start_date",
            id="date range too long",
        ),
        pytest.param(
            "GET",
            "/user_account/analytics",
            {"start_date": str(_TODAY - datetime.timedelta(days=91)), "end_date": str(_TODAY)},
            None,
            "start_date",
            id="start date more than 90 days back",
        ),
        pytest.param(
            "GET",
            "/user_account/analytics",
            {"start_date": str(_TODAY - datetime.timedelta(days=85)), "end_date": str(_TODAY + _TEN_DAYS)},
            None,
            "end_date",
            id="span over 90 days",
        ),
        pytest.param("GET", "/ad_accounts/12a", None, None, "ad_account_id", id="path pattern"),
        pytest.param(
            "GET", "/boards", {"bookmark": "not-a-bookmark"}, None, "bookmark", id="forged bookmark"
        ),
    ],
)
async def test_bad_requests_get_400_naming_the_field(
    pinterest_simulator: PinterestSimulator,
    http: aiohttp.ClientSession,
    method: str,
    path: str,
    params: dict[str, str] | None,
    body: Any,
    field: str,
) -> None:
    status, error = await _send(pinterest_simulator, http, method, path, params=params, body=body)
    assert status == 400, error
    assert error["code"] == 1
    assert f" {field}: " in error["message"], error["message"]


async def test_array_query_parameters_are_read_both_ways(
    pinterest_simulator: PinterestSimulator, http: aiohttp.ClientSession
) -> None:
    # pin_ids repeats the key (explode), metric_types is comma-separated (explode=false), as the client sends them.
    [board_id] = pinterest_simulator.seed(boards=1, pins_per_board=2)
    _, page = await _send(pinterest_simulator, http, "GET", f"/boards/{board_id}/pins")
    pin_ids = [pin["id"] for pin in page["items"]]
    query = [("pin_ids", pin_id) for pin_id in pin_ids]
    today = datetime.datetime.now(datetime.UTC).date()
    query += [("start_date", str(today - datetime.timedelta(days=2))), ("end_date", str(today))]
    query += [("metric_types", "IMPRESSION,SAVE")]
    headers = {"Authorization": f"Bearer {pinterest_simulator.access_token}"}
    async with http.get(
        pinterest_simulator.base_url + "/pins/analytics", params=query, headers=headers
    ) as response:
        assert response.status == 200
        analytics = await response.json()
    assert sorted(analytics) == sorted(pin_ids)
    assert set(analytics[pin_ids[0]]["all"]["summary_metrics"]) == {"IMPRESSION", "SAVE"}


async def test_a_bookmark_from_another_listing_is_refused(
    pinterest_simulator: PinterestSimulator, http: aiohttp.ClientSession
) -> None:
    first, second = pinterest_simulator.seed(boards=2, pins_per_board=3)
    status, page = await _send(
        pinterest_simulator, http, "GET", f"/boards/{first}/pins", params={"page_size": "1"}
    )
    assert status == 200 and page["bookmark"]
    status, error = await _send(
        pinterest_simulator, http, "GET", f"/boards/{second}/pins", params={"bookmark": page["bookmark"]}
    )
    assert status == 400 and " bookmark: " in error["message"]


async def test_nested_deep_object_query_parameters_are_read(
    pinterest_simulator: PinterestSimulator, http: aiohttp.ClientSession
) -> None:
    query = {
        "parameters[catalog_type]": "HOTEL",
        "parameters[report][feed_id]": "123",
        "parameters[report][report_type]": "FEED_INGESTION_ISSUES",
    }
    status, body = await _send(pinterest_simulator, http, "GET", "/catalogs/reports/stats", params=query)
    assert status == 200, body
    query["parameters[report][report_type]"] = "NO_SUCH_REPORT"
    status, body = await _send(pinterest_simulator, http, "GET", "/catalogs/reports/stats", params=query)
    assert status == 400 and "parameters.report" in body["message"], body


_IMAGE = {"source_type": "image_url", "url": "https://example.com/a.jpg"}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"media_source": _IMAGE}, id="no board"),
        pytest.param({"media_source": _IMAGE, "is_removable": False}, id="no board, not ad-only"),
        pytest.param({"media_source": _IMAGE, "board_id": None}, id="null board"),
    ],
)
async def test_an_organic_pin_without_a_board_is_refused(
    pinterest_simulator: PinterestSimulator, http: aiohttp.ClientSession, body: dict[str, Any]
) -> None:
    status, error = await _send(pinterest_simulator, http, "POST", "/pins", body=body)
    assert status == 400, error
    assert " body.board_id: is required unless is_removable is true" in error["message"], error


async def test_an_ad_only_pin_needs_no_board_and_is_on_none(
    pinterest_simulator: PinterestSimulator, http: aiohttp.ClientSession
) -> None:
    [board_id] = pinterest_simulator.seed(boards=1, pins_per_board=1)
    body = {"media_source": _IMAGE, "is_removable": True, "title": "ad only"}
    status, pin = await _send(pinterest_simulator, http, "POST", "/pins", body=body)
    assert status == 200, pin
    assert (pin.get("board_id"), pin["is_removable"], pin["title"]) == (None, True, "ad only")
    status, fetched = await _send(pinterest_simulator, http, "GET", f"/pins/{pin['id']}")
    assert status == 200 and fetched["id"] == pin["id"]
    _, listing = await _send(pinterest_simulator, http, "GET", f"/boards/{board_id}/pins")
    assert pin["id"] not in [item["id"] for item in listing["items"]]
    status, mine = await _send(pinterest_simulator, http, "GET", "/pins")
    assert status == 200 and pin["id"] in [item["id"] for item in mine["items"]]
    headers = {"Authorization": f"Bearer {pinterest_simulator.access_token}"}
    async with http.delete(f"{pinterest_simulator.base_url}/pins/{pin['id']}", headers=headers) as response:
        assert response.status == 204
    status, _ = await _send(pinterest_simulator, http, "GET", f"/pins/{pin['id']}")
    assert status == 404


_REFUSE_A_BAD_BODY_AND_LIST_THE_CLIENT_MODULES = """
    import asyncio, sys, aiohttp
    from aiopinterest.testing import PinterestSimulator

    async def main():
        async with PinterestSimulator() as sim, aiohttp.ClientSession() as http:
            headers = {"Authorization": f"Bearer {sim.access_token}"}
            async with http.post(sim.base_url + "/boards", json={"name": 42}, headers=headers) as response:
                print(response.status, (await response.json())["message"])

    asyncio.run(main())
    print(sorted(name for name in sys.modules if name.startswith("aiopinterest._")))
"""


def test_the_simulator_checks_requests_with_code_of_its_own() -> None:
    # The simulator refuses a bad body sent past the client without loading any of the client's request code,
    # so a fault in the client's validation cannot hide as the same fault in the simulator.
    completed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_REFUSE_A_BAD_BODY_AND_LIST_THE_CLIENT_MODULES)],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if not k.startswith("PINTEREST_")},
    )
    assert completed.returncode == 0, completed.stderr
    refusal, modules = completed.stdout.splitlines()
    assert refusal.startswith("400 ") and " body.name: expected a string, got int 42" in refusal
    loaded = ast.literal_eval(modules)
    assert "aiopinterest._generated" in loaded  # the spec's data, shared on purpose
    for client_code in ("aiopinterest._validation", "aiopinterest._request_builder", "aiopinterest._client"):
        assert client_code not in loaded
