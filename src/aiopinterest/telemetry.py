"""OpenTelemetry traces and metrics for a client, built on its hooks (install ``aiopinterest[otel]``).

>>> from aiopinterest.telemetry import instrument
>>> telemetry = instrument(client)  # the global tracer and meter providers, or pass your own
>>> ...
>>> telemetry.uninstrument()

Each call (``client.pins.get(...)``, a page of a paginator, an upload step) is an INTERNAL span named by its
operation id; each HTTP attempt of it is a CLIENT span beneath, named ``{method} {url.template}`` and attributed
by OpenTelemetry's HTTP client conventions (``http.request.method``, ``server.address``, ``server.port``,
``url.full`` with secrets redacted, ``url.template``, ``http.response.status_code``,
``http.request.resend_count``, ``error.type``), plus what the SDK knows: the operation id, the rate-limit
category, the seconds waited for the category's budget and for backoff, and why the attempt is a retry.
Metrics: the ``http.client.request.duration`` histogram per attempt, and counters of attempts
(``aiopinterest.client.requests``), 429 responses (``aiopinterest.client.rate_limited``) and seconds waited
(``aiopinterest.client.wait.duration``, by ``aiopinterest.wait.kind``: ``rate_limit`` or ``backoff``).

Nothing of OpenTelemetry is imported until this module is, and a client that is not instrumented runs no hook.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from yarl import URL

from . import __version__
from ._transport.hooks import CallEndEvent, CallEvent, RequestEvent, ResponseEvent

try:
    from opentelemetry import context as otel_context
    from opentelemetry import metrics, propagate, trace
    from opentelemetry.context import Context
    from opentelemetry.trace import Span, SpanKind, Status, StatusCode
except ImportError as missing:
    raise ImportError(
        "aiopinterest.telemetry needs OpenTelemetry: pip install 'aiopinterest[otel]'"
    ) from missing

if TYPE_CHECKING:
    from opentelemetry.util.types import AttributeValue

    from ._client import Client

__all__ = ["Telemetry", "instrument"]

OPERATION_ID: Final = "aiopinterest.operation_id"
CATEGORY: Final = "aiopinterest.rate_limit.category"
RATE_LIMIT_WAIT: Final = "aiopinterest.rate_limit.wait"
BACKOFF: Final = "aiopinterest.retry.backoff"
RETRY_REASON: Final = "aiopinterest.retry.reason"
ATTEMPTS: Final = "aiopinterest.attempts"
WAIT_KIND: Final = "aiopinterest.wait.kind"
# The attempt's attributes the metrics keep: a bounded set of values each.
METRIC_KEYS: Final[tuple[str, ...]] = (
    "http.request.method",
    "server.address",
    "server.port",
    "url.template",
    CATEGORY,
)
OUTCOME_KEYS: Final[tuple[str, ...]] = ("http.response.status_code", "error.type")
# Buckets of http.client.request.duration, as OpenTelemetry's HTTP conventions advise (seconds).
DURATION_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)


@dataclass(eq=False)
class _Call:
    """The span of one call and what its attempts add up to."""

    span: Span
    context_token: contextvars.Token[Context]
    current_token: contextvars.Token[_Call | None] | None = None
    attempts: int = 0
    rate_limit_wait: float = 0.0
    backoff: float = 0.0
    # The request event of the attempt in flight, if any.
    open_attempt: RequestEvent | None = None


@dataclass(eq=False)
class _Attempt:
    span: Span
    attributes: dict[str, AttributeValue] = field(default_factory=dict)


def error_type(status: int | None, error: BaseException | None) -> str | None:
    """``error.type`` as the HTTP conventions define it: the status code of an error status, else the exception's
    class name."""
    status = status if status is not None else getattr(error, "status", None)
    if isinstance(status, int) and status >= 400:
        return str(status)
    return type(error).__name__ if error is not None else None


class Telemetry:
    """The hooks that turn a client's calls and attempts into spans and metrics; see :func:`instrument`."""

    def __init__(
        self,
        client: Client,
        *,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
        propagate_context: bool = False,
    ) -> None:
        from ._generated.operations import OPERATIONS

        self._client = client
        self._paths = {op_id: op.path for op_id, op in OPERATIONS.items()}
        self._propagate = propagate_context
        self._tracer = trace.get_tracer("aiopinterest", __version__, tracer_provider)
        meter = metrics.get_meter("aiopinterest", __version__, meter_provider=meter_provider)
        self._duration = meter.create_histogram(
            "http.client.request.duration",
            unit="s",
            description="Duration of HTTP client requests.",
            explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS),
        )
        self._requests = meter.create_counter(
            "aiopinterest.client.requests", unit="{request}", description="HTTP attempts sent."
        )
        self._rate_limited = meter.create_counter(
            "aiopinterest.client.rate_limited", unit="{response}", description="429 responses received."
        )
        self._waits = meter.create_counter(
            "aiopinterest.client.wait.duration",
            unit="s",
            description="Seconds requests waited for a rate-limit budget or a retry backoff.",
        )
        self._calls: dict[CallEvent, _Call] = {}
        self._attempts: dict[int, _Attempt] = {}
        self._current: contextvars.ContextVar[_Call | None] = contextvars.ContextVar(
            "aiopinterest_telemetry_call", default=None
        )
        hooks = client.hooks
        hooks.call_start.append(self._call_started)
        hooks.call_end.append(self._call_ended)
        hooks.request.append(self._attempt_started)
        hooks.response.append(self._attempt_ended)

    def uninstrument(self) -> None:
        """Remove this instrumentation's hooks from the client; calls in flight finish their spans."""
        hooks = self._client.hooks
        hooks.call_start.remove(self._call_started)
        hooks.call_end.remove(self._call_ended)
        hooks.request.remove(self._attempt_started)
        hooks.response.remove(self._attempt_ended)

    # -- calls ------------------------------------------------------------------------------------------------
    def _call_started(self, event: CallEvent) -> None:
        attributes = self._common(event.method, event.url, event.operation_id, event.category)
        span = self._tracer.start_span(event.operation_id or event.method, kind=SpanKind.INTERNAL)
        span.set_attributes(attributes)
        # Current for the call's duration, so that the attempts (and anything the caller's hooks trace) nest in it.
        token = otel_context.attach(trace.set_span_in_context(span))
        call = _Call(span, token)
        self._calls[event] = call
        call.current_token = self._current.set(call)

    def _call_ended(self, event: CallEndEvent) -> None:
        call = self._calls.pop(event.call, None)
        if call is None:  # started before this instrumentation was installed
            return
        kind = error_type(event.status, event.error)
        if call.open_attempt is not None and event.error is not None:
            # Cancelled or failed mid-attempt: no response hook will end that span.
            self._end_attempt(call.open_attempt, None, kind, None)
        status = event.status if event.status is not None else getattr(event.error, "status", None)
        span = call.span
        outcome: dict[str, AttributeValue] = {
            ATTEMPTS: call.attempts,
            RATE_LIMIT_WAIT: call.rate_limit_wait,
            BACKOFF: call.backoff,
        }
        if isinstance(status, int):
            outcome["http.response.status_code"] = status
        if kind is not None:
            outcome["error.type"] = kind
            span.set_status(Status(StatusCode.ERROR, _describe(event.error)))
        span.set_attributes(outcome)
        if event.error is not None and status is None:
            span.record_exception(event.error)
        span.end()
        # Back to the caller's context (the outer call's, for a token renewal made within a call).
        otel_context.detach(call.context_token)
        if call.current_token is not None:
            self._current.reset(call.current_token)

    # -- attempts ---------------------------------------------------------------------------------------------
    def _attempt_started(self, event: RequestEvent) -> None:
        call = self._current.get()
        attributes = self._common(event.method, event.url, event.operation_id, event.category)
        attributes["url.full"] = event.url
        attributes[RATE_LIMIT_WAIT] = event.rate_limit_wait
        attributes[BACKOFF] = event.backoff
        if event.attempt > 1:
            attributes["http.request.resend_count"] = event.attempt - 1
        if event.retry_reason is not None:
            attributes[RETRY_REASON] = event.retry_reason
        template = attributes.get("url.template")
        name = f"{event.method} {template}" if template else event.method
        span = self._tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attributes)
        self._attempts[id(event)] = _Attempt(span, attributes)
        if self._propagate:
            propagate.inject(event.headers, context=trace.set_span_in_context(span))
        if call is not None:
            call.attempts += 1
            call.rate_limit_wait += event.rate_limit_wait
            call.backoff += event.backoff
            call.open_attempt = event
        self._count_waits(event)

    def _attempt_ended(self, event: ResponseEvent) -> None:
        call = self._current.get()
        if call is not None and call.open_attempt is event.request:
            call.open_attempt = None
        self._end_attempt(event.request, event.status, error_type(event.status, event.error), event)

    def _end_attempt(
        self, request: RequestEvent, status: int | None, kind: str | None, response: ResponseEvent | None
    ) -> None:
        attempt = self._attempts.pop(id(request), None)
        if attempt is None:
            return
        span, attributes = attempt.span, attempt.attributes
        metric_attributes: dict[str, AttributeValue] = {
            key: attributes[key] for key in METRIC_KEYS if key in attributes
        }
        if status is not None:
            metric_attributes["http.response.status_code"] = status
        if kind is not None:
            metric_attributes["error.type"] = kind
            span.set_status(Status(StatusCode.ERROR, _describe(response.error if response else None)))
        outcome = {key: metric_attributes[key] for key in OUTCOME_KEYS if key in metric_attributes}
        if response is not None:
            outcome["http.response.body.size"] = response.bytes_received
        span.set_attributes(outcome)
        span.end()
        if response is not None:
            self._duration.record(response.elapsed, metric_attributes)
        self._requests.add(1, metric_attributes)
        if status == 429:
            self._rate_limited.add(1, {CATEGORY: request.category})

    def _count_waits(self, event: RequestEvent) -> None:
        for kind, seconds in (("rate_limit", event.rate_limit_wait), ("backoff", event.backoff)):
            if seconds > 0:
                self._waits.add(seconds, {CATEGORY: event.category, WAIT_KIND: kind})

    # -- attributes -------------------------------------------------------------------------------------------
    def _common(
        self, method: str, url: str, operation_id: str | None, category: str
    ) -> dict[str, AttributeValue]:
        parsed = URL(url)
        attributes: dict[str, AttributeValue] = {
            "http.request.method": method,
            "server.address": parsed.host or "",
            CATEGORY: category,
        }
        if parsed.port is not None:
            attributes["server.port"] = parsed.port
        if operation_id is not None:
            attributes[OPERATION_ID] = operation_id
            attributes["url.template"] = self._template(operation_id, parsed.path)
        return attributes

    def _template(self, operation_id: str, path: str) -> str:
        """The route of an operation under the client's base path (``/v5/pins/{pin_id}``); an id outside the
        operation table (``oauth/token``) names a fixed path."""
        route = self._paths.get(operation_id)
        if route is None:
            return path
        parts = route.strip("/").split("/")
        actual = path.strip("/").split("/")
        base = actual[: max(len(actual) - len(parts), 0)]
        return "/" + "/".join([*base, *parts])


def _describe(error: BaseException | None) -> str | None:
    return f"{type(error).__name__}: {error}" if error is not None else None


def instrument(
    client: Client,
    *,
    tracer_provider: trace.TracerProvider | None = None,
    meter_provider: metrics.MeterProvider | None = None,
    propagate_context: bool = False,
) -> Telemetry:
    """Trace and measure every call ``client`` makes from now on; ``.uninstrument()`` on the result stops it.

    Args:
        client: the client to instrument.
        tracer_provider, meter_provider: where spans and metrics go; the global providers by default.
        propagate_context: also send the attempt's trace context (``traceparent``) to the server, with the
            globally configured propagator. Off by default: the API belongs to a third party.
    """
    return Telemetry(
        client,
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        propagate_context=propagate_context,
    )
