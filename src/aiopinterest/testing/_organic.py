"""The operations the simulator models with state: one handler per operation id, each a thin layer over the store.

A handler takes the validated :class:`Call` and returns what to encode as the response body (``None`` for the
operations that answer ``204``), or raises :class:`ApiFailure`. Every operation not listed here is answered with
synthesised data by the simulator.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import zlib
from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any

import msgspec

from .. import models
from ._analytics import analytics_layout, metrics_by_split
from ._failures import invalid
from ._incoming import Call
from ._reports import Reports
from ._s3 import S3Bucket
from ._spec_checks import follow
from ._store import USERNAME, Store
from ._synthesis import Synthesiser

DEFAULT_PAGE_SIZE = 25

Handler = Callable[["OrganicApi", Call], Any]
_HANDLERS: dict[str, Handler] = {}


def _handles(operation_id: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        _HANDLERS[operation_id] = handler
        return handler

    return register


class OrganicApi:
    """Dispatches the stateful operations to their handlers."""

    def __init__(
        self, store: Store, bucket: S3Bucket, reports: Reports, synthesiser: Synthesiser, tokens: set[str]
    ) -> None:
        self.store = store
        self.bucket = bucket
        self.reports = reports
        self.synthesiser = synthesiser
        self.tokens = tokens

    @staticmethod
    def handles(operation_id: str) -> bool:
        return operation_id in _HANDLERS

    def answer(self, call: Call) -> Any:
        return _HANDLERS[call.operation.operation_id](self, call)


# -- pagination ------------------------------------------------------------------------------------------------


def _page(call: Call, ids: Callable[[int], Iterator[int]], render: Callable[[int], Any]) -> dict[str, Any]:
    """One page of a listing ordered by id: ``items`` and an opaque ``bookmark`` (``None`` on the last page)."""
    scope = _scope(call)
    token = call.query.get("bookmark")
    after = _read_bookmark(token, scope) if token else -1
    page_size = call.query.get("page_size") or _default_page_size(call)
    chosen = list(islice(ids(after), page_size + 1))
    more = len(chosen) > page_size
    chosen = chosen[:page_size]
    return {
        "items": [render(item_id) for item_id in chosen],
        "bookmark": _make_bookmark(scope, chosen[-1]) if more else None,
    }


def _scope(call: Call) -> int:
    """Ties a bookmark to its listing, so one from another board or operation is refused rather than misread."""
    return zlib.crc32("|".join([call.operation.operation_id, *map(str, call.path.values())]).encode())


def _default_page_size(call: Call) -> int:
    parameter = call.operation.parameter("page_size")
    default = follow(parameter.schema).get("default") if parameter is not None else None
    return int(default) if default is not None else DEFAULT_PAGE_SIZE


def _make_bookmark(scope: int, last_id: int) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode([scope, last_id])).decode().rstrip("=")


def _read_bookmark(token: str, scope: int) -> int:
    try:
        decoded = msgspec.json.decode(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, msgspec.DecodeError):
        decoded = None
    if not (
        isinstance(decoded, list)
        and len(decoded) == 2
        and decoded[0] == scope
        and isinstance(decoded[1], int)
    ):
        raise invalid("bookmark", "is not a bookmark issued for this listing")
    return decoded[1]


# -- account, boards, sections ---------------------------------------------------------------------------------


@_handles("user_account/get")
def _account(api: OrganicApi, call: Call) -> Any:
    return api.store.account()


@_handles("boards/list")
def _boards_list(api: OrganicApi, call: Call) -> Any:
    privacy = call.query.get("privacy", "ALL")
    return _page(call, lambda after: api.store.board_ids(after, privacy), api.store.board)


@_handles("search_user_boards/get")
def _boards_search(api: OrganicApi, call: Call) -> Any:
    query = call.query.get("query")
    return _page(call, lambda after: api.store.board_ids(after, query=query), api.store.board)


@_handles("boards/create")
def _boards_create(api: OrganicApi, call: Call) -> Any:
    return api.store.create_board(call.body)


@_handles("boards/get")
def _boards_get(api: OrganicApi, call: Call) -> Any:
    return api.store.board(call.path["board_id"])


@_handles("boards/update")
def _boards_update(api: OrganicApi, call: Call) -> Any:
    return api.store.update_board(call.path["board_id"], call.body)


@_handles("boards/delete")
def _boards_delete(api: OrganicApi, call: Call) -> Any:
    api.store.delete_board(call.path["board_id"])


@_handles("boards/list_pins")
def _boards_list_pins(api: OrganicApi, call: Call) -> Any:
    board_id = call.path["board_id"]
    api.store.board(board_id)
    return _page(call, lambda after: api.store.board_pin_ids(board_id, after), api.store.pin_json)


@_handles("board_sections/list")
def _sections_list(api: OrganicApi, call: Call) -> Any:
    board_id = call.path["board_id"]
    api.store.board(board_id)
    return _page(
        call,
        lambda after: api.store.section_ids(board_id, after),
        lambda section_id: api.store.section(board_id, section_id),
    )


@_handles("board_sections/create")
def _sections_create(api: OrganicApi, call: Call) -> Any:
    return api.store.create_section(call.path["board_id"], call.body["name"])


@_handles("board_sections/update")
def _sections_update(api: OrganicApi, call: Call) -> Any:
    return api.store.update_section(
        call.path["board_id"], call.path["section_id"], (call.body or {}).get("name")
    )


@_handles("board_sections/delete")
def _sections_delete(api: OrganicApi, call: Call) -> Any:
    api.store.delete_section(call.path["board_id"], call.path["section_id"])


@_handles("board_sections/list_pins")
def _sections_list_pins(api: OrganicApi, call: Call) -> Any:
    board_id, section_id = call.path["board_id"], call.path["section_id"]
    api.store.section(board_id, section_id)
    return _page(
        call, lambda after: api.store.section_pin_ids(board_id, section_id, after), api.store.pin_json
    )


# -- pins --------------------------------------------------------------------------------------------------------


@_handles("pins/list")
def _pins_list(api: OrganicApi, call: Call) -> Any:
    keep = api.store.pin_filter(
        include_protected=call.query.get("include_protected_pins", False),
        exclude_repins=call.query.get("pin_filter") == "exclude_repins",
        creative_types=call.query.get("creative_types"),
    )
    return _page(call, lambda after: api.store.all_pin_ids(after, keep), api.store.pin_json)


@_handles("search_user_pins/list")
def _pins_search(api: OrganicApi, call: Call) -> Any:
    matches = api.store.pin_matcher(call.query["query"])
    return _page(call, lambda after: api.store.all_pin_ids(after, matches), api.store.pin_json)


@_handles("pins/create")
def _pins_create(api: OrganicApi, call: Call) -> Any:
    return api.store.create_pin(call.body)


@_handles("pins/get")
def _pins_get(api: OrganicApi, call: Call) -> Any:
    return api.store.pin(call.path["pin_id"])


@_handles("pins/update")
def _pins_update(api: OrganicApi, call: Call) -> Any:
    return api.store.update_pin(call.path["pin_id"], call.body)


@_handles("pins/delete")
def _pins_delete(api: OrganicApi, call: Call) -> Any:
    api.store.delete_pin(call.path["pin_id"])


@_handles("pins/save")
def _pins_save(api: OrganicApi, call: Call) -> Any:
    return api.store.save_pin(call.path["pin_id"], call.body)


# -- analytics ---------------------------------------------------------------------------------------------------


@_handles("pins/analytics")
def _pin_analytics(api: OrganicApi, call: Call) -> Any:
    pin_id = call.path["pin_id"]
    api.store.check_pin(pin_id)
    layout = analytics_layout(call.query, call.query["metric_types"])
    return metrics_by_split(pin_id, layout, call.query.get("split_field", "NO_SPLIT"), lifetime=True)


@_handles("multi_pins/analytics")
def _multi_pin_analytics(api: OrganicApi, call: Call) -> Any:
    layout = analytics_layout(call.query, call.query["metric_types"])
    result = {}
    for pin_id in call.query["pin_ids"]:
        api.store.check_pin(pin_id)
        result[pin_id] = metrics_by_split(pin_id, layout, "NO_SPLIT", lifetime=True)
    return result


@_handles("user_account/analytics")
def _user_analytics(api: OrganicApi, call: Call) -> Any:
    layout = analytics_layout(call.query, call.query.get("metric_types") or _every_metric(call))
    return metrics_by_split(USERNAME, layout, call.query.get("split_field", "NO_SPLIT"))


def _every_metric(call: Call) -> list[str]:
    """All metric types the operation allows: what the API reports when the caller names none."""
    parameter = call.operation.parameter("metric_types")
    items = follow(parameter.schema).get("items", {}) if parameter is not None else {}
    return list(follow(items).get("enum", ()))


# -- media -------------------------------------------------------------------------------------------------------


@_handles("media/create")
def _media_create(api: OrganicApi, call: Call) -> Any:
    media = api.store.register_media(call.body["media_type"])
    url, fields = api.bucket.presign(media.key, call.origin)
    return models.MediaUpload(
        media_id=str(media.id),
        media_type=media.media_type,
        upload_url=url,
        upload_parameters=msgspec.convert(fields, models.MediaUploadParameters),
    )


@_handles("media/get")
def _media_get(api: OrganicApi, call: Call) -> Any:
    return api.store.media(call.path["media_id"])


@_handles("media/list")
def _media_list(api: OrganicApi, call: Call) -> Any:
    return _page(call, api.store.media_ids, api.store.media)


# -- the asynchronous report flow ------------------------------------------------------------------------------


@_handles("analytics/create_report")
def _report_create(api: OrganicApi, call: Call) -> Any:
    token = api.reports.create(call.path["ad_account_id"], call.body)
    return models.AdsAnalyticsCreateAsyncResponse(token=token, report_status="IN_PROGRESS", message=None)


@_handles("analytics/get_report")
def _report_get(api: OrganicApi, call: Call) -> Any:
    token = call.query["token"]
    state = api.reports.state(call.path["ad_account_id"], token)
    if state.content is None:
        return models.AdsAnalyticsGetAsyncResponse(report_status=state.status)
    # Every poll of a finished report hands out a fresh URL, as the API does.
    return models.AdsAnalyticsGetAsyncResponse(
        report_status=state.status, url=api.reports.url(token, call.origin), size=float(len(state.content))
    )


# -- OAuth: tokens the simulator issues are accepted from then on ------------------------------------------------

_TOKEN_RESPONSES = {
    "authorization_code": "OauthAccessTokenResponseCode",
    "refresh_token": "OauthAccessTokenResponseRefresh",
    "client_credentials": "OauthAccessTokenResponseClientCredentials",
}


@_handles("oauth/token")
def _oauth_token(api: OrganicApi, call: Call) -> Any:
    grant = call.body["grant_type"]
    response: dict[str, Any] = api.synthesiser.model(_TOKEN_RESPONSES[grant])
    token = "pina_sim_" + secrets.token_urlsafe(24)
    api.tokens.add(token)
    return {
        **response,
        "access_token": token,
        "token_type": "bearer",
        "expires_in": 2_592_000,
        "response_type": grant,
        "scope": call.body.get("scope") or "boards:read,boards:write,pins:read,pins:write,user_accounts:read",
    }


@_handles("token/revoke")
def _oauth_revoke(api: OrganicApi, call: Call) -> Any:
    api.tokens.discard(call.body["token"])
