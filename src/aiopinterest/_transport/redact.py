"""Keeping secrets out of logs, reprs, hook events and exception messages."""

from __future__ import annotations

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
