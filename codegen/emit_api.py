"""Emit the operation table, one resource class per namespace, the namespace mixin and the API reference."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from . import text
from .annotate import ANY_IMPORT, DATETIME, MAPPING, Import
from .emit_models import HEADER, ModelPlan, alias_annotation
from .operations import Op, Param
from .schema import camel, python_field_name

# Namespaces whose generated class a hand-written subclass extends with helpers (module, class).
UNSET_IMPORTS = (Import("msgspec", "UNSET"), Import("msgspec", "UnsetType"))
PAGINATOR = Import("...pagination", "AsyncPaginator")

EXTENSIONS: dict[str, tuple[str, str]] = {
    "media": ("..media", "MediaNamespace"),
}


def by_namespace(ops: list[Op]) -> dict[str, list[Op]]:
    grouped: dict[str, list[Op]] = defaultdict(list)
    for op in ops:
        grouped[op.namespace].append(op)
    return dict(sorted(grouped.items()))


def _literal(value: Any) -> str:
    return repr(value)


def _param_source(p: Param, indent: str) -> str:
    args = [repr(p.name), repr(p.location)]
    if p.required:
        args.append("required=True")
    if p.schema:
        args.append(f"schema={p.schema!r}")
    if not p.explode:
        args.append("explode=False")
    if p.deep_object:
        args.append("deep_object=True")
    return f"{indent}Parameter({', '.join(args[:2])}{''.join(', ' + a for a in args[2:])}),"


def emit_operations(plan: ModelPlan, ops: list[Op], version: str) -> str:
    names = plan.names
    lines = [
        HEADER.format(
            doc="The operation table: every Pinterest API v5 operation, by the constant its method uses.",
            version=version,
        ),
        "from __future__ import annotations",
        "",
        "from collections.abc import Mapping",
        "from types import MappingProxyType",
        "",
        "from .._operation import Operation, Parameter",
        "",
    ]
    for op in ops:
        lines.append(f"{op.constant} = Operation(")
        fields: list[tuple[str, Any]] = [
            ("operation_id", op.operation_id),
            ("method", op.method),
            ("path", op.path),
            ("namespace", op.namespace),
            ("name", op.name),
            ("summary", op.summary),
            ("ratelimit_category", op.ratelimit_category),
            ("scopes", op.scopes),
        ]
        if not op.sandbox:
            fields.append(("sandbox", False))
        for key, value in fields:
            lines.append(f"    {key}={_literal(value)},")
        if op.params:
            lines.append("    parameters=(")
            for p in op.params:
                lines.append(_param_source(_runtime_param(plan, p), "        "))
            lines.append("    ),")
        if op.body:
            lines.append(f"    body={names[op.body]!r},")
            if op.body_required:
                lines.append("    body_required=True,")
            lines.append(f"    body_content_type={op.body_content_type!r},")
        if op.response:
            lines.append(f"    response={names[op.response]!r},")
        if op.response_status != 200:
            lines.append(f"    response_status={op.response_status},")
        if op.item:
            lines.append(f"    item={names[op.item]!r},")
        if op.max_page_size:
            lines.append(f"    max_page_size={op.max_page_size},")
        lines.append(")")
    lines += [
        "",
        "OPERATIONS: Mapping[str, Operation] = MappingProxyType(",
        "    {",
        *(f"        {op.operation_id!r}: {op.constant}," for op in ops),
        "    }",
        ")",
        '"""Every operation by its operationId."""',
    ]
    return "\n".join(lines) + "\n"


def _runtime_param(plan: ModelPlan, p: Param) -> Param:
    """Parameter schemas go into the table with Python model names and without prose."""

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: (plan.names[v] if k == "$ref" else strip(v))
                for k, v in node.items()
                if k not in ("description", "title", "example")
            }
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    return Param(p.name, p.location, p.required, strip(p.schema), "", p.explode, p.deep_object)


class _Method:
    """One generated method: its signature pieces, the call it makes, and what it imports."""

    def __init__(self, plan: ModelPlan, op: Op) -> None:
        self.plan, self.op = plan, op
        self.imports: set[Import] = set()

    def model(self, name: str) -> str:
        python = self.plan.names[name]
        self.imports.add(Import("models", python))
        return python

    def strict(self, node: dict[str, Any]) -> str:
        annotation = self.plan.annotator.strict(node)
        self.imports |= annotation.imports
        return annotation.text

    def optional(self, node: dict[str, Any], *, none_omits: bool = False) -> str:
        """An optional argument: not sent unless given (``UNSET``); ``None`` sends null where the spec allows it,
        and (``none_omits``: a query parameter, where null has no form) is taken as not given."""
        self.imports.update(UNSET_IMPORTS)
        annotation = self.strict(node)
        if none_omits and not annotation.endswith(" | None"):
            annotation += " | None"
        return f"{annotation} | UnsetType = UNSET"

    def source(self) -> list[str]:
        op = self.op
        signature: list[str] = []
        path_args: list[str] = []
        query_args: list[str] = []
        docs: list[tuple[str, str]] = []
        taken = {"self", "body", "options"}
        ordered = sorted(op.params, key=lambda p: (not p.required, p.location != "path"))
        for p in ordered:
            annotation = (
                self.strict(p.schema)
                if p.required
                else self.optional(p.schema, none_omits=p.location == "query")
            )
            signature.append(f"{p.name}: {annotation}")
            (path_args if p.location == "path" else query_args).append(p.name)
            taken.add(p.name)
            docs.append(
                (
                    p.name,
                    text.first_sentence(p.description)
                    or text.first_sentence(p.schema.get("description"))
                    or f"{p.location} parameter ``{p.name}``",
                )
            )
        body_fields = self._body_arguments(taken, signature, docs)
        signature.append("options: RequestOptions | None = None")
        docs.append(("options", "per-call timeout, extra headers or query, raw-response capture"))
        returns, call, first = self._returns()
        lines = [f"    {'async ' if call == 'await self._request' else ''}def {op.name}("]
        lines.append("        self,")
        lines.append("        *,")
        lines.extend(f"        {s}," for s in signature)
        lines.append(f"    ) -> {returns}:")
        lines.extend(self._docstring(docs))
        args = [f"ops.{op.constant}", first]
        if path_args:
            args.append("path={" + ", ".join(f'"{n}": {n}' for n in path_args) + "}")
        if query_args:
            args.append("query={" + ", ".join(f'"{n}": {n}' for n in query_args) + "}")
        if body_fields:
            fields = "{" + ", ".join(f'"{n}": {n}' for n in body_fields) + "}"
            args.append(f"body=self._body(ops.{op.constant}, body, {fields})")
        elif op.body:
            args.append("body=body")
        args.append("options=options")
        lines.append(f"        return {call}(")
        lines.extend(f"            {a}," for a in args)
        lines.append("        )")
        return lines

    def _body_arguments(
        self, taken: set[str], signature: list[str], docs: list[tuple[str, str]]
    ) -> list[str]:
        """``body=``, and where the body is an object, each of its top-level fields as a keyword argument."""
        op, plan = self.op, self.plan
        if not op.body:
            return []
        body_node = {"$ref": op.body}
        annotation = self.strict(body_node)
        if "Mapping[str, Any]" not in annotation and "Sequence[" not in annotation:
            annotation += " | Mapping[str, Any]"
            self.imports |= {MAPPING, ANY_IMPORT}
        signature.append(f"body: {annotation} | None = None")
        docs.append(("body", f"the request body (``{plan.names[op.body]}``, or a dict validated against it)"))
        target = plan.table.deref(body_node)
        if (
            op.body not in plan.structs
            or not target.get("properties")
            or target.get("oneOf")
            or target.get("anyOf")
        ):
            return []
        body_fields = []
        for prop, schema in target["properties"].items():
            if python_field_name(prop) != prop or prop in taken or schema.get("readOnly"):
                continue
            signature.append(f"{prop}: {self.optional(schema)}")
            body_fields.append(prop)
            docs.append(
                (prop, text.first_sentence(schema.get("description")) or f"the body's ``{prop}`` field")
            )
        return body_fields

    def _returns(self) -> tuple[str, str, str]:
        """The return annotation, the runtime call, and the type argument the call decodes into."""
        op = self.op
        if op.paginated and op.item:
            item = self.model(op.item)
            self.imports.add(PAGINATOR)
            return f"AsyncPaginator[{item}]", "self._paginate", item
        if not op.response:
            return "None", "await self._request", "type(None)"
        returns = self.model(op.response)
        if op.response not in self.plan.structs and " | " in alias_annotation(self.plan, op.response).text:
            # A union alias is a valid msgspec type but not a ``type[T]`` to mypy.
            self.imports.add(Import("typing", "cast"))
            return returns, "await self._request", f'cast("type[{returns}]", {returns})'
        return returns, "await self._request", returns

    def _docstring(self, params: list[tuple[str, str]]) -> list[str]:
        op = self.op
        paras = text.paragraphs(op.summary, 1) or [op.operation_id]
        description = text.paragraphs(op.description, 3)
        if description and description[0] != paras[0]:
            paras += description
        facts = f"``{op.method} {op.path}``; rate-limit category ``{op.ratelimit_category}``"
        if op.scopes:
            facts += "; scopes " + ", ".join(f"``{s}``" for s in op.scopes)
        if not op.sandbox:
            facts += "; not available in the sandbox"
        if op.paginated:
            facts += "; paginated: await for the first page, ``async for`` for every item"
        paras.append(facts + ".")
        lines = text.docstring(paras, "        ")
        lines[-1:] = [] if lines[-1].strip() == '"""' else [lines[-1][:-3]]
        if lines[-1].strip().endswith('"""'):
            lines[-1] = lines[-1][:-3].rstrip()
        lines += ["", "        Args:"]
        for name, doc in params:
            wrapped = text.wrap(f"{name}: {doc}".rstrip(": "), "            ")
            lines.append(f"            {wrapped[0]}")
            lines.extend(f"                {w}" for w in wrapped[1:])
        lines.append('        """')
        return lines


def emit_resource(plan: ModelPlan, namespace: str, ops: list[Op], version: str) -> str:
    methods = [_Method(plan, op) for op in ops]
    bodies = [m.source() for m in methods]
    imports: set[Import] = set().union(*(m.imports for m in methods))

    def names(module: str) -> list[str]:
        return sorted(i.name for i in imports if i.module == module)

    lines = [
        HEADER.format(doc=f"The ``{namespace}`` namespace: {len(ops)} operation(s).", version=version),
        "from __future__ import annotations",
        "",
    ]
    if DATETIME in imports:
        lines.append("import datetime")
    if names("collections.abc"):
        lines.append(f"from collections.abc import {', '.join(names('collections.abc'))}")
    lines.append(f"from typing import {', '.join(['TYPE_CHECKING', *names('typing')])}")
    lines.append("")
    if names("msgspec"):
        lines += [f"from msgspec import {', '.join(names('msgspec'))}", ""]
    lines += [
        "from ..._options import RequestOptions",
        "from ..._resource import Resource",
        "from .. import operations as ops",
    ]
    if names("models"):
        lines.append("from ..models import (")
        lines.extend(f"    {name}," for name in names("models"))
        lines.append(")")
    lines += [
        "",
        "if TYPE_CHECKING:",
        *([f"    from ...pagination import {n}" for n in names("...pagination")] or ["    pass"]),
    ]
    lines += ["", "", f"class {resource_class(namespace)}(Resource):"]
    lines.append(f'    """Operations tagged ``{namespace}``: {", ".join(op.name for op in ops)}."""')
    for body in bodies:
        lines += ["", *body]
    return "\n".join(lines) + "\n"


def resource_class(namespace: str) -> str:
    return camel(namespace) + "Resource"


def emit_namespaces(grouped: dict[str, list[Op]], version: str) -> str:
    lines = [
        HEADER.format(
            doc="The namespaces of the client (``client.pins``, ``client.boards``, ...), each loaded on first use.",
            version=version,
        ),
        "from __future__ import annotations",
        "",
        "from functools import cached_property",
        "from typing import TYPE_CHECKING, cast",
        "",
        "if TYPE_CHECKING:",
        "    from .._client import Client",
    ]
    for ns in grouped:
        module, cls = EXTENSIONS.get(ns, (f".resources.{ns}", resource_class(ns)))
        lines.append(f"    from {module} import {cls}")
    lines += [
        "",
        "",
        "class GeneratedNamespaces:",
        '    """One attribute per API namespace; importing a namespace is deferred to its first use."""',
    ]
    for ns, ops in grouped.items():
        module, cls = EXTENSIONS.get(ns, (f".resources.{ns}", resource_class(ns)))
        lines += [
            "",
            "    @cached_property",
            f"    def {ns}(self) -> {cls}:",
            f'        """{len(ops)} operation(s): {", ".join(op.name for op in ops)}."""'
            if len(", ".join(op.name for op in ops)) < 70
            else f'        """{len(ops)} operations tagged ``{ns}``."""',
            f"        from {module} import {cls}",
            "",
            f'        return {cls}(cast("Client", self))',
        ]
    return "\n".join(lines) + "\n"


def emit_reference(plan: ModelPlan, grouped: dict[str, list[Op]], version: str) -> str:
    lines = [
        "# API reference",
        "",
        f"Generated by `make generate` from Pinterest's OpenAPI description {version}; do not edit.",
        "Every operation as `client.<namespace>.<method>`, with its HTTP method, path, required OAuth scopes and",
        "rate-limit category. Paginated methods return an `AsyncPaginator` of the item type shown.",
        "",
    ]
    for ns, ops in grouped.items():
        lines += [
            f"## `client.{ns}`",
            "",
            "| method | HTTP | scopes | rate limit | returns |",
            "| --- | --- | --- | --- | --- |",
        ]
        for op in ops:
            returns = plan.names[op.response] if op.response else "None"
            if op.paginated and op.item:
                returns = f"AsyncPaginator[{plan.names[op.item]}]"
            sandbox = "" if op.sandbox else " (not in sandbox)"
            lines.append(
                f"| `{ns}.{op.name}` | `{op.method} {op.path}`{sandbox} | {', '.join(op.scopes) or '-'} | "
                f"{op.ratelimit_category} | `{returns}` |"
            )
        lines.append("")
    return "\n".join(lines)
