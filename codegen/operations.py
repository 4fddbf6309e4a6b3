"""Operations of the spec, with the names the public API gives them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .schema import Builder, camel

HTTP_METHODS = ("get", "post", "put", "patch", "delete")
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


def method_name(operation_id: str, tag: str) -> str:
    """The naming rule of DESIGN.md: ``pins/get`` -> ``get``; ``board_sections/list_pins`` (tag boards) ->
    ``sections_list_pins``; ``user_account/analytics/top_video_pins`` -> ``analytics_top_video_pins``."""
    parts = operation_id.split("/")
    if len(parts) == 2 and parts[0] == tag:
        return parts[1]
    name = operation_id.replace("/", "_")
    for prefix in (f"{tag}_", f"{tag.removesuffix('s')}_"):
        if name.startswith(prefix) and len(name) > len(prefix):
            return name[len(prefix) :]
    return name


@dataclass
class Param:
    name: str
    location: str
    required: bool
    schema: dict[str, Any]
    description: str
    explode: bool = True
    deep_object: bool = False


@dataclass
class Op:
    operation_id: str
    method: str
    path: str
    namespace: str
    name: str
    summary: str
    description: str
    ratelimit_category: str
    scopes: tuple[str, ...]
    sandbox: bool
    params: list[Param] = field(default_factory=list)
    body: str | None = None
    body_required: bool = False
    body_content_type: str | None = None
    response: str | None = None
    response_status: int = 200
    item: str | None = None
    max_page_size: int | None = None

    @property
    def constant(self) -> str:
        return f"{self.namespace}_{self.name}".upper()

    @property
    def paginated(self) -> bool:
        return any(p.name == "bookmark" and p.location == "query" for p in self.params)


def collect(builder: Builder) -> list[Op]:
    """Every operation of the spec, in path order, with its parameters, body and response schemas named."""
    spec = builder.spec
    component_params: dict[str, Any] = spec["components"].get("parameters", {})
    ops: list[Op] = []
    for path, item in spec["paths"].items():
        for method in HTTP_METHODS:
            raw = item.get(method)
            if raw is None:
                continue
            op = _operation(path, method, raw)
            hint = camel(op.namespace, op.name)
            for param in [*item.get("parameters", []), *raw.get("parameters", [])]:
                if "$ref" in param:
                    param = component_params[param["$ref"].rsplit("/", 1)[1]]
                _add_parameter(builder, op, param, hint)
            _add_body(builder, op, raw.get("requestBody"), hint)
            _add_response(builder, op, raw["responses"], hint)
            ops.append(op)
    return ops


def _operation(path: str, method: str, raw: dict[str, Any]) -> Op:
    """The operation's facts: its name by the naming rule, its rate-limit category, scopes and sandbox flag."""
    tag = raw["tags"][0]
    return Op(
        operation_id=raw["operationId"],
        method=method.upper(),
        path=path,
        namespace=tag,
        name=method_name(raw["operationId"], tag),
        summary=raw.get("summary", "").strip(),
        description=raw.get("description", "").strip(),
        ratelimit_category=raw.get("x-ratelimit-category", ""),
        scopes=_scopes(raw),
        sandbox=raw.get("x-sandbox", "enabled") != "disabled",
    )


def _add_parameter(builder: Builder, op: Op, param: dict[str, Any], hint: str) -> None:
    schema = builder.add(param.get("schema", {}), camel(hint, param["name"]))
    op.params.append(
        Param(
            name=param["name"],
            location=param["in"],
            required=bool(param.get("required")),
            schema=schema,
            description=param.get("description", "").strip(),
            explode=param.get("explode", param.get("style", "form") == "form"),
            deep_object=param.get("style") == "deepObject",
        )
    )
    if param["name"] == "page_size":
        op.max_page_size = builder.table.deref(schema).get("maximum")


def _add_body(builder: Builder, op: Op, body: dict[str, Any] | None, hint: str) -> None:
    """The request body's schema, named; JSON where the operation offers it."""
    if not body:
        return
    content = body["content"]
    media_type = JSON if JSON in content else next(iter(content))
    op.body_content_type = media_type
    op.body_required = bool(body.get("required"))
    op.body = builder.name(content[media_type].get("schema", {}), hint + "Request")


def _add_response(builder: Builder, op: Op, responses: dict[str, Any], hint: str) -> None:
    """The first 2xx response: its status, its JSON schema named, and for a list operation its item's model."""
    for status, response in sorted(responses.items()):
        if not status.startswith("2"):
            continue
        op.response_status = int(status)
        schema = response.get("content", {}).get(JSON, {}).get("schema")
        if schema is not None:
            op.response = builder.name(schema, hint + "Response", response.get("description"))
        break
    if op.paginated and op.response:
        op.item = _item_name(builder, op.response, hint)


def _scopes(raw: dict[str, Any]) -> tuple[str, ...]:
    for requirement in raw.get("security", []):
        if "pinterest_oauth2" in requirement:
            return tuple(requirement["pinterest_oauth2"])
    for requirement in raw.get("security", []):
        for scopes in requirement.values():
            if scopes:
                return tuple(scopes)
    return ()


def _item_name(builder: Builder, response: str, hint: str) -> str | None:
    """The model of one element of a paginated response's ``items`` array."""
    page = builder.table.deref({"$ref": response})
    items = page.get("properties", {}).get("items")
    if items is None:
        return None
    element = builder.table.deref(items).get("items", {}) if "$ref" in items else items.get("items", {})
    if "$ref" in element and not element.get("nullable"):
        return str(element["$ref"])
    name = builder.table.unique_name(hint + "Item")
    builder.table.nodes[name] = element
    return name
