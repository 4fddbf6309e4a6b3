"""What the namespaces and paginators call on the client: a protocol, so that the generated code never names
:class:`~aiopinterest.Client` and nothing below the client imports it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from yarl import URL

    from ._operation import Operation
    from ._options import RawResponse, RequestOptions, Timeout
    from ._transport.clock import Clock
    from ._transport.request import Body
    from ._transport.response import Response

T = TypeVar("T")


class Requester(Protocol):
    """The client as a namespace sees it: the entry of every operation, the raw HTTP entry for URLs that are not
    operations (media uploads to S3), and the clock helpers wait on. See :class:`~aiopinterest.Client`."""

    @property
    def clock(self) -> Clock: ...

    async def _request(
        self,
        operation: Operation,
        response_type: type[T],
        *,
        path: Mapping[str, object] | None = None,
        query: Mapping[str, object] | None = None,
        body: object = None,
        options: RequestOptions | None = None,
    ) -> T: ...

    async def request(
        self,
        method: str,
        url: str | URL,
        *,
        query: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
        body: Body = None,
        authenticated: bool | None = None,
        category: str | None = None,
        replay_safe: bool = False,
        timeout: float | Timeout | None = None,  # noqa: ASYNC109
        raise_for_status: bool = True,
        capture: RawResponse | None = None,
    ) -> Response: ...
