"""Request bodies checked before sending: a body whose schema is only a discriminator (``/oauth/token``, keyed
by ``grant_type``) is held to the variant its tag names, as every other body is to its schema."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

import aiopinterest
from aiopinterest import models
from aiopinterest.errors import RequestValidationError


class LoopbackApi:
    """A loopback /v5/oauth/token that records every form it receives and answers with a token; any other path
    is recorded too."""

    def __init__(self) -> None:
        self.forms: list[dict[str, str]] = []
        #: Any other request, by path.
        self.other: list[str] = []

    async def anything(self, request: web.Request) -> web.Response:
        self.other.append(request.path)
        return web.json_response({})

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.forms.append({key: str(value) for key, value in form.items()})
        return web.json_response(
            {
                "access_token": "pina_new",
                "refresh_token": "pinr_new",
                "refresh_token_expires_in": 5_184_000,
                "token_type": "bearer",
                "expires_in": 2_592_000,
                "scope": "pins:read",
                "response_type": form["grant_type"],
            }
        )


@pytest.fixture
async def api() -> AsyncIterator[tuple[LoopbackApi, str]]:
    seen = LoopbackApi()
    app = web.Application()
    app.router.add_post("/v5/oauth/token", seen.token)
    app.router.add_route("*", "/{path:.*}", seen.anything)
    async with TestServer(app, host="127.0.0.1") as server:
        yield seen, str(server.make_url("/v5"))


@pytest.mark.parametrize(
    ("body", "field", "closest"),
    [
        (
            {"grant_type": "refresh_token", "refresh_token": "r", "continous_refresh": True},
            "body.continous_refresh",
            "continuous_refresh",
        ),
        (
            {"grant_type": "authorization_code", "code": "c", "redirect_url": "https://a.example/cb"},
            "body.redirect_url",
            "redirect_uri",
        ),
        ({"grant_type": "client_credentials", "scope": "pins:read", "scopes": "x"}, "body.scopes", "scope"),
        # A typo of a required field is named as the typo, not as the field it left out.
        ({"grant_type": "refresh_token", "refresh_tokn": "r"}, "body.refresh_tokn", "refresh_token"),
    ],
)
async def test_an_unknown_field_of_a_token_request_is_refused_naming_the_closest_field_of_its_grant(
    api: tuple[LoopbackApi, str], body: dict[str, Any], field: str, closest: str
) -> None:
    seen, base_url = api
    async with aiopinterest.Client(access_token="t", base_url=base_url) as client:
        with pytest.raises(RequestValidationError) as caught:
            await client.oauth.token(body=body)
    assert caught.value.field == field
    assert f"did you mean {closest!r}?" in str(caught.value)
    assert seen.forms == []


async def test_a_token_request_missing_a_field_its_grant_requires_is_refused(
    api: tuple[LoopbackApi, str],
) -> None:
    seen, base_url = api
    async with aiopinterest.Client(access_token="t", base_url=base_url) as client:
        with pytest.raises(RequestValidationError) as caught:
            await client.oauth.token(body={"grant_type": "authorization_code", "code": "c"})
        assert caught.value.field == "body.redirect_uri"
        with pytest.raises(RequestValidationError) as caught:
            await client.oauth.token(body={"grant_type": "password", "code": "c"})
        assert caught.value.field == "body.grant_type"
    assert seen.forms == []


async def test_a_token_request_in_dict_or_variant_struct_form_is_sent_and_its_answer_keeps_the_refresh_token(
    api: tuple[LoopbackApi, str],
) -> None:
    seen, base_url = api
    as_dict = {"grant_type": "refresh_token", "refresh_token": "r", "continuous_refresh": True}
    as_struct = models.OauthAccessTokenRequestRefresh(
        grant_type="refresh_token", refresh_token="r", continuous_refresh=True
    )
    async with aiopinterest.Client(access_token="t", base_url=base_url) as client:
        tokens = [await client.oauth.token(body=as_dict), await client.oauth.token(body=as_struct)]
    sent = {"grant_type": "refresh_token", "refresh_token": "r", "continuous_refresh": "true"}
    assert seen.forms == [sent, sent]
    for token in tokens:
        # Fields of the variant the answer is (the refresh grant's), not only those every variant shares.
        assert (token.access_token, token.refresh_token, token.refresh_token_expires_in) == (
            "pina_new",
            "pinr_new",
            5_184_000,
        )


async def test_a_body_whose_end_date_is_before_its_start_date_is_refused_before_sending(
    api: tuple[LoopbackApi, str],
) -> None:
    seen, base_url = api
    async with aiopinterest.Client(access_token="t", base_url=base_url) as client:
        with pytest.raises(
            RequestValidationError, match="2026-11-01 is before start_date 2026-11-30"
        ) as caught:
            await client.leads_export.create(
                ad_account_id="1", ad_id="2", start_date="2026-11-30", end_date="2026-11-01"
            )
    assert caught.value.field == "body.end_date"
    assert seen.forms == [] and seen.other == []
