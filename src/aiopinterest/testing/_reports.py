"""The asynchronous ad-account report flow: created, ``IN_PROGRESS`` for a while, then finished or failed.

A finished report is downloaded from a URL that, like Pinterest's pre-signed S3 links, needs no token and expires
(five minutes by default): the URL carries its deadline on the simulator's clock and a signature over the report
token and that deadline. Once the deadline has passed, the file host answers ``403`` with S3's
``AccessDenied``/``Request has expired`` document, and every ``get_report`` poll hands out a fresh URL.

A report ends ``FAILED`` (or ``CANCELLED``, ``EXPIRED``) instead of ``FINISHED`` when :meth:`Reports.fail` names it
or it was created while :attr:`Reports.fail_new` was set; either way it stays ``IN_PROGRESS`` for its delay first,
as a real report only fails once its preparation ends.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import quote

from aiohttp import web

from ._analytics import analytics_layout, render_report, report_rows
from ._s3 import S3Error, s3_error_response

ROUTE = "/reports/{token}"
#: Seconds a report stays ``IN_PROGRESS`` unless the simulator is told otherwise.
DEFAULT_DELAY = 1.0
#: How long a download URL works, as Pinterest documents ("the link is valid for five minutes").
DEFAULT_URL_LIFETIME = 300.0
#: The statuses a report can end in instead of ``FINISHED``.
FAILURE_STATUSES = frozenset({"FAILED", "CANCELLED", "EXPIRED"})


@dataclass(slots=True)
class _Report:
    ad_account_id: str
    request: Mapping[str, Any]
    created_at: float
    outcome: str  # the status once the delay is over: FINISHED or one of FAILURE_STATUSES
    content: bytes | None = None  # rendered when first seen finished


class ReportState(NamedTuple):
    """What ``get_report`` tells: the status and, once ``FINISHED``, the file's bytes."""

    status: str
    content: bytes | None


class Reports:
    """Every report the simulator was asked for, and the handler of their download URLs."""

    def __init__(
        self, *, clock: Callable[[], float], delay: float, url_lifetime: float, fail_new: bool
    ) -> None:
        self.clock = clock
        self.delay = delay
        self.url_lifetime = url_lifetime
        self.fail_new = fail_new
        self._reports: dict[str, _Report] = {}
        self._secret = secrets.token_bytes(32)

    def create(self, ad_account_id: str, request: Mapping[str, Any]) -> str:
        """Register a report; returns its token."""
        # Checking the dates now refuses a bad range at creation, as the API does.
        analytics_layout(request, request.get("columns") or ())
        token = secrets.token_hex(16)
        outcome = "FAILED" if self.fail_new else "FINISHED"
        self._reports[token] = _Report(ad_account_id, request, self.clock(), outcome)
        return token

    def fail(self, token: str, status: str = "FAILED") -> None:
        """Make the report end in ``status`` (``FAILED``, ``CANCELLED`` or ``EXPIRED``) instead of ``FINISHED``."""
        if status not in FAILURE_STATUSES:
            raise ValueError(f"status must be one of {sorted(FAILURE_STATUSES)}, not {status!r}")
        report = self._reports.get(token)
        if report is None:
            raise LookupError(f"the simulator has no report with token {token!r}")
        report.outcome = status

    def state(self, ad_account_id: str, token: str) -> ReportState:
        report = self._reports.get(token)
        if report is None or report.ad_account_id != ad_account_id:
            return ReportState("DOES_NOT_EXIST", None)
        if self.clock() < report.created_at + self.delay:
            return ReportState("IN_PROGRESS", None)
        if report.outcome != "FINISHED":
            return ReportState(report.outcome, None)
        if report.content is None:
            rows = report_rows(report.ad_account_id, report.request)
            report.content = render_report(rows, report.request.get("report_format", "JSON"))
        return ReportState("FINISHED", report.content)

    def url(self, token: str, origin: str) -> str:
        """A fresh download URL for a finished report, valid for :attr:`url_lifetime` seconds from now."""
        expires = repr(self.clock() + self.url_lifetime)
        signature = self._sign(token, expires)
        return f"{origin}{ROUTE.format(token=token)}?Expires={quote(expires)}&Signature={signature}"

    def _sign(self, token: str, expires: str) -> str:
        return hmac.new(self._secret, f"{token}\n{expires}".encode(), hashlib.sha256).hexdigest()

    async def handle_download(self, request: web.Request) -> web.Response:
        """``GET /reports/{token}?Expires=...&Signature=...``: the file, or an S3 error document."""
        try:
            content, content_type = self._file(request.match_info["token"], request.query)
        except S3Error as error:
            return s3_error_response(error)
        response = web.Response(body=content, content_type=content_type)
        # gzip on the wire when the client accepts it, as a CDN would.
        response.enable_compression()
        return response

    def _file(self, token: str, query: Mapping[str, str]) -> tuple[bytes, str]:
        expires, signature = query.get("Expires"), query.get("Signature")
        if expires is None or signature is None:
            raise S3Error(
                403,
                "AccessDenied",
                "Query-string authentication requires the Signature and Expires parameters",
            )
        if not hmac.compare_digest(self._sign(token, expires), signature):
            raise S3Error(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided",
            )
        # The signature vouches for the deadline, which is a number this class wrote.
        if self.clock() >= float(expires):
            raise S3Error(403, "AccessDenied", "Request has expired")
        report = self._reports.get(token)
        if report is None or report.outcome != "FINISHED" or report.content is None:
            raise S3Error(404, "NoSuchKey", "The specified key does not exist.")
        is_csv = report.request.get("report_format") == "CSV"
        return report.content, "text/csv" if is_csv else "application/json"
