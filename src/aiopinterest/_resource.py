"""The base class of the generated namespaces (``client.pins``, ``client.boards``, ...)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, TypeVar

from msgspec import UNSET

if TYPE_CHECKING:
    from ._operation import Operation
    from ._options import RequestOptions
    from ._requester import Requester
    from .pagination import AsyncPaginator

T = TypeVar("T")


class Resource:
    """One namespace of the API; every method goes through the client's single request entry.

    The client is given as the :class:`~aiopinterest._requester.Requester` protocol: this class and the
    generated ones built on it depend on what they call, not on the client."""

    __slots__ = ("_client", "_request")

    def __init__(self, client: Requester) -> None:
        self._client = client
        # The client's entry itself, bound once: a generated method calls it with no frame in between.
        self._request = client._request

    def _paginate(
        self,
        operation: Operation,
        item_type: type[T],
        *,
        path: Mapping[str, object] | None = None,
        query: Mapping[str, object] | None = None,
        body: object = None,
        options: RequestOptions | None = None,
    ) -> AsyncPaginator[T]:
        from .pagination import AsyncPaginator

        return AsyncPaginator(
            self._client, operation, item_type, path=path or {}, query=query or {}, body=body, options=options
        )

    @staticmethod
    def _body(operation: Operation, body: object, fields: Mapping[str, object]) -> object:
        """Combine ``body=`` with top-level body fields given as keyword arguments: ``UNSET`` (the default) is
        not given, ``None`` is sent as JSON null (refused before sending where the spec does not allow it)."""
        given = {name: value for name, value in fields.items() if value is not UNSET}
        if not given:
            return body
        if body is not None:
            raise TypeError(
                f"{operation.namespace}.{operation.name}: pass the request body either as body= or as keyword "
                f"arguments ({', '.join(sorted(given))}), not both"
            )
        return given
