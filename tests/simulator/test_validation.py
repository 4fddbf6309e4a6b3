"""The simulator checks what it receives against the spec, and names the offending parameter or field."""

from __future__ import annotations

import datetime
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
