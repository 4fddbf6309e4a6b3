"""The record the generator emits for every operation, and that the runtime and the simulator read.

The runtime only ever sees operations through this record: it never imports a generated resource by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import msgspec

ParameterLocation = Literal["path", "query"]
HTTPMethod = Literal["GET", "POST", "PATCH", "PUT", "DELETE"]


class Parameter(msgspec.Struct, frozen=True):
    """A path or query parameter as the spec declares it."""

    name: str
    location: ParameterLocation
    required: bool = False
    schema: Mapping[str, Any] = msgspec.field(default_factory=dict)
    # OpenAPI's explode=false for arrays: one comma-separated value instead of a repeated key.
    explode: bool = True
    # style=deepObject: an object serialised as name[key]=value pairs.
    deep_object: bool = False


class Operation(msgspec.Struct, frozen=True, kw_only=True):
    """One Pinterest API operation: where it lives, what it takes and returns, and how it is limited.

    ``body`` and ``response`` name entries of :mod:`aiopinterest.models` (and of the schema table used for
    validation), so the table stays cheap to import; ``response_type`` resolves them on demand.
    """

    operation_id: str
    method: HTTPMethod
    path: str
    namespace: str
    name: str
    summary: str
    ratelimit_category: str
    scopes: tuple[str, ...] = ()
    # x-sandbox: "enabled" operations also exist on https://api-sandbox.pinterest.com/v5.
    sandbox: bool = True
    parameters: tuple[Parameter, ...] = ()
    body: str | None = None
    body_required: bool = False
    body_content_type: str | None = None
    response: str | None = None
    response_status: int = 200
    # For paginated operations: the model name of one item of the page's ``items`` array.
    item: str | None = None
    max_page_size: int | None = None

    @property
    def paginated(self) -> bool:
        """Whether the operation pages with an opaque ``bookmark`` query parameter."""
        return any(p.name == "bookmark" and p.location == "query" for p in self.parameters)

    @property
    def response_type(self) -> Any:
        """The type a 2xx body decodes into (``None`` when the API answers without a body)."""
        return _model(self.response) if self.response else None

    @property
    def body_type(self) -> Any:
        """The request-body model, or ``None`` for operations without a body."""
        return _model(self.body) if self.body else None

    @property
    def item_type(self) -> Any:
        """The model of one item of a paginated response, or ``None``."""
        return _model(self.item) if self.item else None

    def parameter(self, name: str) -> Parameter | None:
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        return None


def _model(name: str) -> Any:
    from aiopinterest import models

    return getattr(models, name)
