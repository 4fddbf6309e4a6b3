"""The hand-written HTTP runtime under every generated method: session, auth, governor, retries, metrics, hooks."""

from .auth import OAuthToken
from .clock import Clock, SystemClock
from .hooks import CallEndEvent, CallEvent, Hooks, RequestEvent, ResponseEvent
from .metrics import CategoryMetrics, Metrics
from .retry import Failure, RetryPolicy

__all__ = [
    "CallEndEvent",
    "CallEvent",
    "CategoryMetrics",
    "Clock",
    "Failure",
    "Hooks",
    "Metrics",
    "OAuthToken",
    "RequestEvent",
    "ResponseEvent",
    "RetryPolicy",
    "SystemClock",
]
