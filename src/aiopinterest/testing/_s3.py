"""An S3-compatible endpoint for browser-style presigned POST uploads, as Pinterest's media upload uses.

``presign`` issues what ``POST /media`` returns (an upload URL and the form fields, including a signed policy);
the endpoint then checks an upload the way S3 does: every field the policy names is present and matches, the
signature is right, the policy has not expired, the file is the last form field, and its size is within the
policy's ``content-length-range``. Errors are S3's XML documents; success is ``204 No Content``.

Unlike the API, the endpoint never takes an ``Authorization`` header: the policy signature is the credential, and a
client that leaks its API bearer token to the storage host gets a 400.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import msgspec
from aiohttp import BodyPartReader, web
from multidict import CIMultiDict, CIMultiDictProxy

BUCKET = "pinterest-media-upload"
ROUTE = f"/s3/{BUCKET}/"
_POLICY_LIFETIME = datetime.timedelta(hours=1)
_CHUNK = 1 << 16


@dataclass(frozen=True, slots=True)
class S3Upload:
    """One POST the endpoint received, whatever its outcome: for tests to assert on (e.g. no ``Authorization``)."""

    headers: CIMultiDictProxy[str]
    fields: tuple[str, ...]  # form field names in the order sent, the file's included
    status: int
    error_code: str | None
    key: str | None


class S3Error(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        self.status = status
        self.code = code
        super().__init__(message)


class S3Bucket:
    """The simulated bucket: issues presigned POST forms, receives uploads, keeps the bytes in ``objects``."""

    def __init__(self, *, min_bytes: int, max_bytes: int, on_upload: Callable[[str], None]) -> None:
        self.min_bytes = min_bytes
        self.max_bytes = max_bytes
        self.objects: dict[str, bytes] = {}
        self.uploads: list[S3Upload] = []
        self._on_upload = on_upload
        self._secret = secrets.token_bytes(32)

    def presign(self, key: str, origin: str) -> tuple[str, dict[str, str]]:
        """The upload URL and form fields (by their S3 names) that let one client upload ``key``."""
        now = datetime.datetime.now(datetime.UTC)
        stamp = now.strftime("%Y%m%dT%H%M%SZ")
        fields = {
            "key": key,
            "Content-Type": "multipart/form-data",
            "x-amz-algorithm": "AWS4-HMAC-SHA256",
            "x-amz-credential": f"ASIASIMULATOR/{now:%Y%m%d}/us-east-1/s3/aws4_request",
            "x-amz-date": stamp,
            "x-amz-security-token": base64.b64encode(secrets.token_bytes(24)).decode(),
        }
        expiration = (now + _POLICY_LIFETIME).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        conditions: list[Any] = [{"bucket": BUCKET}, *({name: value} for name, value in fields.items())]
        conditions.append(["content-length-range", self.min_bytes, self.max_bytes])
        policy = base64.b64encode(msgspec.json.encode({"expiration": expiration, "conditions": conditions}))
        fields["policy"] = policy.decode()
        fields["x-amz-signature"] = self._sign(policy)
        return f"{origin}{ROUTE}", fields

    def _sign(self, policy: bytes) -> str:
        return hmac.new(self._secret, policy, hashlib.sha256).hexdigest()

    async def handle(self, request: web.Request) -> web.Response:
        """The aiohttp handler of ``POST /s3/<bucket>/``."""
        seen: list[str] = []
        key: str | None = None
        try:
            if "Authorization" in request.headers:
                raise S3Error(
                    400,
                    "InvalidArgument",
                    "Unsupported Authorization Type: a POST upload is authorised by its policy",
                )
            if request.content_type != "multipart/form-data":
                raise S3Error(
                    412, "PreconditionFailed", "Bucket POST must be of the enclosure-type multipart/form-data"
                )
            key, content = await self._receive(request, seen)
        except S3Error as error:
            self.uploads.append(S3Upload(request.headers, tuple(seen), error.status, error.code, key))
            return s3_error_response(error)
        self.objects[key] = content
        self.uploads.append(S3Upload(request.headers, tuple(seen), 204, None, key))
        self._on_upload(key)
        return web.Response(status=204, headers={"ETag": f'"{hashlib.md5(content).hexdigest()}"'})

    async def _receive(self, request: web.Request, seen: list[str]) -> tuple[str, bytes]:
        fields: dict[str, str] = {}
        content: bytes | None = None
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise S3Error(400, "MalformedPOSTRequest", "Nested multipart bodies are not supported")
            name = part.name or ""
            seen.append(name)
            if content is not None:
                raise S3Error(
                    400,
                    "InvalidArgument",
                    f"The file must be the last field of the form; {name!r} came after it",
                )
            if part.filename is None and name != "file":
                fields[name] = (await part.read()).decode("utf-8", "replace")
                continue
            limits = self._check_fields(fields)
            content = await _read_limited(part, limits[1])
            if len(content) < limits[0]:
                raise S3Error(
                    400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size"
                )
        if content is None:
            raise S3Error(400, "InvalidArgument", "POST requires exactly one file upload per request")
        return fields["key"], content

    def _check_fields(self, fields: Mapping[str, str]) -> tuple[int, int]:
        """Check the fields sent before the file against their policy; returns the allowed size range."""
        for name in ("key", "policy", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature"):
            if name not in fields:
                raise S3Error(400, "InvalidArgument", f"Bucket POST must contain a field named '{name}'")
        policy = fields["policy"].encode()
        if not hmac.compare_digest(self._sign(policy), fields["x-amz-signature"]):
            raise S3Error(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided",
            )
        document = msgspec.json.decode(base64.b64decode(policy))
        expiration = datetime.datetime.fromisoformat(document["expiration"].replace("Z", "+00:00"))
        if expiration < datetime.datetime.now(datetime.UTC):
            raise S3Error(403, "AccessDenied", "Invalid according to Policy: Policy expired.")
        size_range = (0, self.max_bytes)
        for condition in document["conditions"]:
            if isinstance(condition, list):
                size_range = (condition[1], condition[2])
                continue
            ((name, expected),) = condition.items()
            if name != "bucket" and fields.get(name) != expected:
                raise S3Error(
                    403,
                    "AccessDenied",
                    f'Invalid according to Policy: Policy Condition failed: ["eq", "${name}", "{expected}"]',
                )
        return size_range


async def _read_limited(part: BodyPartReader, max_bytes: int) -> bytes:
    """The file's bytes, refusing as soon as it grows past ``max_bytes`` (S3 does not read on either)."""
    chunks: list[bytes] = []
    size = 0
    while chunk := await part.read_chunk(_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise S3Error(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
        chunks.append(chunk)
    return b"".join(chunks)


def s3_error_response(error: S3Error) -> web.Response:
    """S3's XML error document; the connection is closed, as S3 does after refusing a request."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(error.code)}</Code><Message>{escape(str(error))}</Message>"
        f"<RequestId>{secrets.token_hex(8).upper()}</RequestId></Error>"
    )
    return web.Response(
        status=error.status,
        text=body,
        content_type="application/xml",
        headers=CIMultiDict(Connection="close"),
    )
