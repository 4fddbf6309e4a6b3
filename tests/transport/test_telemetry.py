"""OpenTelemetry: a span per call and per attempt, by the HTTP client conventions, and the SDK's counters."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from aiohttp import web
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from aiopinterest import Client
from aiopinterest.errors import NotFoundError
from aiopinterest.telemetry import Telemetry, instrument

from .conftest import ApiServer, FakeClock, MakeClient

ROUTE = "/v5/pins/{pin_id}"


class Recorded:
    """In-memory span exporter and metric reader behind one client's instrumentation."""

    def __init__(self) -> None:
        self.spans = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def instrument(self, client: Client, **options: Any) -> Telemetry:
        return instrument(
            client, tracer_provider=self.tracer_provider, meter_provider=self.meter_provider, **options
        )

    def finished(self) -> list[ReadableSpan]:
        return list(self.spans.get_finished_spans())

    def points(self, name: str) -> list[Any]:
        data = self.reader.get_metrics_data()
        assert data is not None
        return [
            point
            for resource in data.resource_metrics
            for scope in resource.scope_metrics
            for metric in scope.metrics
            if metric.name == name
            for point in metric.data.data_points
        ]


@pytest.fixture
def recorded() -> Iterator[Recorded]:
    recording = Recorded()
    yield recording
    recording.tracer_provider.shutdown()
    recording.meter_provider.shutdown()


def pin_answers(server: ApiServer, *statuses: int) -> list[web.Request]:
    """Route GET /v5/pins/{pin_id}: each status in turn (a 429 asks for 2 s), then 200 with a Pin."""
    remaining, seen = list(statuses), []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request)
        if remaining:
            status = remaining.pop(0)
            return web.json_response(
                {"code": 1, "message": "no"}, status=status, headers={"Retry-After": "2"}
            )
        return web.json_response({"id": request.match_info["pin_id"]})

    server.route("GET", ROUTE, handler)
    return seen


async def test_a_call_is_a_span_with_a_client_span_per_attempt(
    server: ApiServer, make_client: MakeClient, recorded: Recorded, clock: FakeClock
) -> None:
    pin_answers(server, 503)
    client = await make_client(access_token="secret-token")
    recorded.instrument(client)

    await client.pins.get(pin_id="42")

    first, second, call = recorded.finished()
    assert (call.name, call.kind) == ("pins/get", SpanKind.INTERNAL)
    assert call.parent is None and call.attributes is not None
    assert call.attributes["aiopinterest.attempts"] == 2
    assert call.attributes["http.response.status_code"] == 200
    assert call.attributes["aiopinterest.retry.backoff"] == clock.sleeps[0]
    assert call.status.status_code is StatusCode.UNSET
    for attempt in (first, second):
        assert (attempt.name, attempt.kind) == ("GET /v5/pins/{pin_id}", SpanKind.CLIENT)
        assert attempt.parent is not None and attempt.parent.span_id == call.context.span_id
        assert attempt.context.trace_id == call.context.trace_id
    attributes = dict(first.attributes or {})
    assert attributes["http.request.method"] == "GET"
    assert attributes["server.address"] == "127.0.0.1"
    assert attributes["server.port"] == int(server.origin.rsplit(":", 1)[1])
    assert attributes["url.full"] == f"{server.base_url}/pins/42"
    assert attributes["url.template"] == ROUTE
    assert attributes["aiopinterest.operation_id"] == "pins/get"
    assert attributes["aiopinterest.rate_limit.category"] == "org_read"
    assert attributes["http.response.status_code"] == 503 and attributes["error.type"] == "503"
    assert "http.request.resend_count" not in attributes
    assert first.status.status_code is StatusCode.ERROR
    retried = dict(second.attributes or {})
    assert retried["http.request.resend_count"] == 1
    assert retried["aiopinterest.retry.reason"] == "503"
    assert retried["aiopinterest.retry.backoff"] == clock.sleeps[0] > 0
    assert retried["http.response.status_code"] == 200 and "error.type" not in retried
    assert not any(
        "secret-token" in str(value) for span in (first, second, call) for value in span.attributes.values()
    )


async def test_429s_and_waits_are_counted(
    server: ApiServer, make_client: MakeClient, recorded: Recorded
) -> None:
    pin_answers(server, 429)
    client = await make_client()
    recorded.instrument(client)

    await client.pins.get(pin_id="42")

    first, second, _ = recorded.finished()
    assert (first.attributes or {})["error.type"] == "429"
    assert (second.attributes or {})["aiopinterest.rate_limit.wait"] == 2.0
    assert (second.attributes or {})["aiopinterest.retry.reason"] == "429"
    requests = {
        p.attributes.get("http.response.status_code"): p.value
        for p in recorded.points("aiopinterest.client.requests")
    }
    assert requests == {429: 1, 200: 1}
    [limited] = recorded.points("aiopinterest.client.rate_limited")
    assert limited.value == 1 and limited.attributes == {"aiopinterest.rate_limit.category": "org_read"}
    waits = {
        p.attributes["aiopinterest.wait.kind"]: p.value
        for p in recorded.points("aiopinterest.client.wait.duration")
    }
    assert waits == {"rate_limit": 2.0}
    durations = recorded.points("http.client.request.duration")
    assert sum(p.count for p in durations) == 2
    assert all(p.attributes["url.template"] == ROUTE for p in durations)


async def test_an_error_status_marks_the_call_span(
    server: ApiServer, make_client: MakeClient, recorded: Recorded
) -> None:
    pin_answers(server, 404)
    client = await make_client()
    recorded.instrument(client)

    with pytest.raises(NotFoundError):
        await client.pins.get(pin_id="42")

    attempt, call = recorded.finished()
    assert call.status.status_code is StatusCode.ERROR
    assert (call.attributes or {})["error.type"] == "404"
    assert (call.attributes or {})["http.response.status_code"] == 404
    assert (attempt.attributes or {})["error.type"] == "404"


async def test_a_cancelled_call_ends_its_spans(
    server: ApiServer, make_client: MakeClient, recorded: Recorded
) -> None:
    async def stalled(request: web.Request) -> web.Response:
        await server.stalled()
        return web.Response()

    server.route("GET", ROUTE, stalled)
    client = await make_client()
    recorded.instrument(client)

    with anyio.move_on_after(0.2):
        await client.pins.get(pin_id="42")

    attempt, call = recorded.finished()
    assert (attempt.attributes or {})["error.type"] == "CancelledError"
    assert (call.attributes or {})["error.type"] == "CancelledError"
    assert attempt.parent is not None and attempt.parent.span_id == call.context.span_id


async def test_spans_nest_under_the_callers_span_and_context_propagates_only_when_asked(
    server: ApiServer, make_client: MakeClient, recorded: Recorded
) -> None:
    seen = pin_answers(server)
    client = await make_client()
    recorded.instrument(client, propagate_context=True)
    tracer = recorded.tracer_provider.get_tracer("app")

    with tracer.start_as_current_span("handler") as handler:
        await client.pins.get(pin_id="42")

    attempt, call, _ = recorded.finished()
    assert call.parent is not None and call.parent.span_id == handler.get_span_context().span_id
    assert seen[0].headers["traceparent"].split("-")[2] == format(attempt.context.span_id, "016x")

    quiet = await make_client()
    recorded.instrument(quiet)
    await quiet.pins.get(pin_id="42")
    assert "traceparent" not in seen[1].headers


async def test_uninstrument_removes_every_hook(
    server: ApiServer, make_client: MakeClient, recorded: Recorded
) -> None:
    pin_answers(server)
    client = await make_client()
    recorded.instrument(client).uninstrument()

    await client.pins.get(pin_id="42")

    hooks = client.hooks
    assert (hooks.call_start, hooks.call_end, hooks.request, hooks.response) == ([], [], [], [])
    assert recorded.finished() == []


def test_without_telemetry_no_opentelemetry_module_is_imported() -> None:
    script = """
import asyncio, sys
import aiopinterest
from aiopinterest.testing import PinterestSimulator

async def main():
    async with PinterestSimulator() as sim:
        sim.seed(boards=1, pins_per_board=3)
        async with aiopinterest.Client(base_url=sim.base_url, access_token=sim.access_token) as client:
            await client.user_account.get()
            async for _ in client.pins.list():
                pass

asyncio.run(main())
loaded = sorted(name for name in sys.modules if name.startswith("opentelemetry"))
assert not loaded, loaded
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


async def test_a_streamed_attempt_ends_when_its_body_is_closed(
    server: ApiServer, make_client: MakeClient, recorded: Recorded
) -> None:
    async def download(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * 10_000)

    server.route("GET", "/files/report.csv", download)
    client = await make_client()
    recorded.instrument(client)

    async with client.stream("GET", str(server.url("/files/report.csv"))) as response:
        [call] = recorded.finished()  # the call is over once the headers are in; the attempt is not
        assert len(await response.read()) == 10_000

    call, attempt = recorded.finished()
    assert (call.name, attempt.name) == ("GET", "GET")  # no operation, so no route template
    assert attempt.parent is not None and attempt.parent.span_id == call.context.span_id
    assert (attempt.attributes or {})["http.response.body.size"] == 10_000
    assert "url.template" not in (attempt.attributes or {})


def test_without_the_extra_the_import_says_what_to_install() -> None:
    script = """
import sys
sys.modules["opentelemetry"] = None  # as if opentelemetry-api were not installed
try:
    import aiopinterest.telemetry
except ImportError as error:
    print(error)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert "pip install 'aiopinterest[otel]'" in result.stdout
