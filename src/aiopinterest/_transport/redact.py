"""Keeping secrets out of logs, reprs, hook events, exception messages and the exceptions aiohttp raises."""

from __future__ import annotations

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

# Query parameters that grant access by themselves: presigned S3 URLs (report downloads) carry their signature
# in the query, and OAuth-style endpoints sometimes take tokens there.
_SECRET_QUERY_KEYS = frozenset(
    {
        "x-amz-signature",
        "x-amz-credential",
        "x-amz-security-token",
        "signature",
        "access_token",
        "refresh_token",
        "client_secret",
        "code",
    }
)
REDACTED = "REDACTED"


def redact_url(url: URL) -> str:
    """The URL as text, with user info and secret query values replaced."""
    text = str(url)
    if "?" not in text and "@" not in text:
        return text  # the common case, decided without parsing
    if url.user is not None or url.password is not None:
        url = url.with_user(None)
    if not url.query_string:
        return str(url)
    query = url.query
    if not any(key.lower() in _SECRET_QUERY_KEYS for key in query):
        return str(url)
    return str(
        url.with_query(
            [(key, REDACTED if key.lower() in _SECRET_QUERY_KEYS else value) for key, value in query.items()]
        )
    )


# Request headers that carry credentials, as aiohttp keeps them on the exceptions it raises.
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})


def redact_exception_chain(error: BaseException, url: URL) -> None:
    """Strip request secrets, in place, from ``error`` and every exception in its cause and context chain.

    aiohttp's ``ClientResponseError`` (raised, for one, when a response cannot be parsed) keeps the request's
    ``request_info``, headers included, and shows it in its ``repr()``: the bearer token or the HTTP Basic
    credentials of /oauth/token. Others put the whole URL, query and all, in their message (a presigned
    signature). The exceptions are kept as causes, for their types and messages, but without any of that.
    """
    secret_url, safe_url = str(url), redact_url(url)
    pending: list[BaseException] = [error]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        old_info = getattr(current, "request_info", None)
        if isinstance(old_info, aiohttp.RequestInfo):
            new_info = _redacted_request_info(old_info)
            current.request_info = new_info  # type: ignore[attr-defined]
            current.args = tuple(new_info if arg is old_info else arg for arg in current.args)
        if secret_url != safe_url:
            current.args = tuple(
                arg.replace(secret_url, safe_url) if isinstance(arg, str) else arg for arg in current.args
            )
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)


def _redacted_request_info(info: aiohttp.RequestInfo) -> aiohttp.RequestInfo:
    headers = CIMultiDict(
        (name, REDACTED if name.lower() in _SECRET_HEADERS else value) for name, value in info.headers.items()
    )
    return aiohttp.RequestInfo(
        URL(redact_url(info.url), encoded=True),
        info.method,
        CIMultiDictProxy(headers),
        URL(redact_url(info.real_url), encoded=True),
    )
