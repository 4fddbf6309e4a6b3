"""Fixtures for media upload tests: a Pinterest API stand-in, a scriptable S3 endpoint, and moto's real S3."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from aiohttp import BodyPartReader, web
from aiohttp.test_utils import TestServer
from botocore.config import Config  # type: ignore[import-untyped]
from moto.server import ThreadedMotoServer

from aiopinterest import Client, RetryPolicy

ACCESS_TOKEN = "test-access-token"
#: Lets tests poll without waiting.
FAST_POLL = 0.001

#: Presigns one upload: (media_id) -> (upload_url, upload_parameters).
Presigner = Callable[[str], tuple[str, dict[str, str]]]


class PinterestApi:
    """POST /v5/media, GET /v5/media/{media_id}, POST /v5/pins; records what it received."""

    def __init__(self, presign: Presigner) -> None:
        self.presign = presign
        #: Statuses GET /media/{id} answers in turn; the last one repeats.
        self.statuses = ["processing", "succeeded"]
        self.registrations = 0
        #: The Authorization header of every request the API received.
        self.authorizations: list[str | None] = []
        self.status_reads = 0
        self.pins: list[dict[str, Any]] = []
        self.app = web.Application(middlewares=[self._record_authorization])
        self.app.router.add_post("/v5/media", self._register)
        self.app.router.add_get("/v5/media/{media_id}", self._status)
        self.app.router.add_post("/v5/pins", self._create_pin)
        self._server = TestServer(self.app, host="127.0.0.1", port=0)

    @web.middleware
    async def _record_authorization(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.authorizations.append(request.headers.get("Authorization"))
        response: web.StreamResponse = await handler(request)
        return response

    async def _register(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.registrations += 1
        media_id = str(1000 + self.registrations)
        upload_url, parameters = self.presign(media_id)
        return web.json_response(
            {
                "media_id": media_id,
                "media_type": body["media_type"],
                "upload_url": upload_url,
                "upload_parameters": parameters,
            },
            status=201,
        )

    async def _status(self, request: web.Request) -> web.Response:
        status = self.statuses[min(self.status_reads, len(self.statuses) - 1)]
        self.status_reads += 1
        return web.json_response(
            {"media_id": request.match_info["media_id"], "media_type": "video", "status": status}
        )

    async def _create_pin(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.pins.append(body)
        return web.json_response({"id": str(5000 + len(self.pins)), **body}, status=201)

    async def start(self) -> None:
        await self._server.start_server()

    async def close(self) -> None:
        await self._server.close()

    @property
    def base_url(self) -> str:
        return str(self._server.make_url("/v5"))


@dataclass
class ReceivedUpload:
    """One POST as the fake S3 endpoint saw it."""

    headers: dict[str, str]
    field_names: list[str]
    fields: dict[str, str]
    filename: str | None = None
    file_content_type: str | None = None
    content: bytes = b""
    complete: bool = False


@dataclass
class FakeS3:
    """An S3-like presigned-POST endpoint at ``/bucket`` with scripted answers.

    ``answers`` are served in turn, one per request, after the body was read; when they run out every upload
    succeeds with 204. ``drop_after`` makes the next requests close the connection after reading that many body
    bytes (one entry per request).
    """

    answers: list[tuple[int, str]] = field(default_factory=list)
    drop_after: list[int] = field(default_factory=list)
    received: list[ReceivedUpload] = field(default_factory=list)
    stored: dict[str, bytes] = field(default_factory=dict)
    #: When set, requests wait for it before reading the body; ``in_flight`` counts the waiting ones.
    gate: asyncio.Event | None = None
    #: Count the body's bytes and drop them, instead of parsing and keeping the file.
    discard: bool = False
    discarded: int = 0
    in_flight: int = 0
    #: Requests whose handler has finished, however it ended.
    handled: int = 0
    server: TestServer | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> None:
        app = web.Application(client_max_size=1024**3)
        app.router.add_post("/bucket", self._upload)
        self.server = TestServer(app, host="127.0.0.1", port=0)
        await self.server.start_server()

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/bucket"))

    async def until_held(self, count: int) -> None:
        """Wait until ``count`` requests are held at the gate."""
        await self._until(lambda: self.in_flight >= count)

    async def until_handled(self, count: int) -> None:
        await self._until(lambda: self.handled >= count)

    async def _until(self, condition: Callable[[], bool]) -> None:
        while not condition():
            self._changed.clear()
            await self._changed.wait()

    async def _upload(self, request: web.Request) -> web.StreamResponse:
        try:
            return await self._receive(request)
        finally:
            self.handled += 1
            self._changed.set()

    def presign(self, media_id: str) -> tuple[str, dict[str, str]]:
        return self.url, {
            "x-amz-date": "20221012T154547Z",
            "x-amz-signature": "secret-signature-value",
            "x-amz-security-token": "secret-session-token",
            "x-amz-algorithm": "AWS4-HMAC-SHA256",
            "key": f"uploads/{media_id}",
            "policy": "c2VjcmV0LXBvbGljeQ==",
            "x-amz-credential": "ASIAEXAMPLE/20221012/us-east-1/s3/aws4_request",
            "Content-Type": "multipart/form-data",
        }

    async def _receive(self, request: web.Request) -> web.StreamResponse:
        upload = ReceivedUpload(headers=dict(request.headers), field_names=[], fields={})
        self.received.append(upload)
        if self.gate is not None:
            self.in_flight += 1
            self._changed.set()
            try:
                await self.gate.wait()
            finally:
                self.in_flight -= 1
        if self.drop_after:
            limit = self.drop_after.pop(0)
            await request.content.readexactly(limit)
            assert request.transport is not None
            request.transport.close()
            return web.Response(status=500)
        if self.discard:
            while chunk := await request.content.readany():
                self.discarded += len(chunk)
            return web.Response(status=204)
        reader = await request.multipart()
        async for part in reader:
            assert isinstance(part, BodyPartReader) and part.name is not None
            upload.field_names.append(part.name)
            if part.filename is None:
                upload.fields[part.name] = await part.text()
            else:
                upload.filename = part.filename
                upload.file_content_type = part.headers.get("Content-Type")
                upload.content = await part.read()
        upload.complete = True
        if self.answers:
            status, body = self.answers.pop(0)
            return web.Response(status=status, text=body, content_type="application/xml")
        self.stored[upload.fields["key"]] = upload.content
        return web.Response(status=204)


def s3_error_xml(code: str, message: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message><RequestId>R1</RequestId></Error>"
    )


@pytest.fixture
def retry() -> RetryPolicy:
    # No backoff: the tests never wait for real.
    return RetryPolicy(jitter=lambda: 0.0)


@pytest.fixture
async def fake_s3() -> AsyncIterator[FakeS3]:
    s3 = FakeS3()
    await s3.start()
    yield s3
    await s3.close()


@pytest.fixture
async def api(fake_s3: FakeS3) -> AsyncIterator[PinterestApi]:
    """The API stand-in, presigning uploads to :class:`FakeS3`."""
    server = PinterestApi(fake_s3.presign)
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def client(api: PinterestApi, retry: RetryPolicy) -> AsyncIterator[Client]:
    async with Client(access_token=ACCESS_TOKEN, base_url=api.base_url, retry=retry) as client:
        yield client


# --- moto: a real S3 implementation in server mode -----------------------------------------------------------


@dataclass(frozen=True)
class MotoS3:
    endpoint: str

    def client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            config=Config(signature_version="s3v4"),
        )


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[MotoS3]:
    """moto's S3 in server mode on 127.0.0.1, with dummy credentials for boto3."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.setenv("AWS_SESSION_TOKEN", "testing-session")
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
            patch.delenv(name, raising=False)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        try:
            host, port = server.get_host_and_port()
            yield MotoS3(f"http://{host}:{port}")
        finally:
            server.stop()


@dataclass
class MotoBucket:
    s3: Any
    name: str

    def presign(self, media_id: str, *, max_size: int = 64 * 1024 * 1024) -> tuple[str, dict[str, str]]:
        post = self.s3.generate_presigned_post(
            self.name,
            f"uploads/{media_id}",
            Conditions=[["content-length-range", 1, max_size]],
            ExpiresIn=600,
        )
        return post["url"], post["fields"]

    def stored(self, media_id: str) -> bytes:
        body: bytes = self.s3.get_object(Bucket=self.name, Key=f"uploads/{media_id}")["Body"].read()
        return body


@pytest.fixture
def moto_bucket(moto_s3: MotoS3) -> Iterator[MotoBucket]:
    s3 = moto_s3.client()
    name = f"media-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    yield MotoBucket(s3, name)
    s3.close()


@pytest.fixture
async def moto_api(moto_bucket: MotoBucket) -> AsyncIterator[PinterestApi]:
    server = PinterestApi(moto_bucket.presign)
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def moto_client(moto_api: PinterestApi, retry: RetryPolicy) -> AsyncIterator[Client]:
    async with Client(access_token=ACCESS_TOKEN, base_url=moto_api.base_url, retry=retry) as client:
        yield client


def random_bytes(size: int) -> bytes:
    return os.urandom(size)
