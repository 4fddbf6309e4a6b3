"""Emit the operation table, one resource class per namespace, the namespace mixin and the API reference."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from . import imports, text
from .annotate import NONE, Annotation, Atom, mapping
from .emit_models import HEADER, alias_annotation
from .imports import Code, Import, relocate
from .operations import Op, Param
from .plan import ModelPlan
from .schema import camel, python_field_name

PAGINATOR = Import("...pagination", "AsyncPaginator")
CAST = Import("typing", "cast")
OPTIONS_IMPORT = Import("..._options", "RequestOptions")
# What every resource module imports besides the types of its methods.
RESOURCE_IMPORTS = frozenset(
    {
        Import("typing", "TYPE_CHECKING"),
        OPTIONS_IMPORT,
        Import("..._resource", "Resource"),
        Import("..", "operations", "ops"),
    }
)
# Imported for annotations only: pagination loads on first use (``Resource._paginate`` imports it), and the
# namespaces module imports the resources.
TYPE_ONLY_MODULES = frozenset({"...pagination", "..namespaces"})
NAMESPACES_IMPORT = Import("..namespaces", "GeneratedNamespaces")
NAMESPACES_RUNTIME_IMPORTS = frozenset(
    {
        Import("functools", "cached_property"),
        Import("typing", "TYPE_CHECKING"),
        Import(".._requester", "Requester"),
    }
)

# Namespaces the client composes itself from a hand-written subclass of the generated resource (``client.media``
# is a ``MediaNamespace``). They are left out of ``GeneratedNamespaces``, and their resource takes the client as
# ``GeneratedNamespaces``, so that the hand-written helpers can call other namespaces (a media upload makes a Pin).
EXTENDED_BY_CLIENT = frozenset({"media"})


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
        lines += _operation_source(plan, op)
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


def _operation_source(plan: ModelPlan, op: Op) -> list[str]:
    """``PINS_GET = Operation(...)``: the facts of the operation, its parameters, and its body and response."""
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
    lines = [f"{op.constant} = Operation(", *(f"    {key}={_literal(value)}," for key, value in fields)]
    if op.params:
        lines.append("    parameters=(")
        lines.extend(_param_source(_runtime_param(plan, p), "        ") for p in op.params)
        lines.append("    ),")
    lines += [f"    {key}={value}," for key, value in _payload_fields(plan, op)]
    lines.append(")")
    return lines


def _payload_fields(plan: ModelPlan, op: Op) -> list[tuple[str, str]]:
    """The keyword arguments (source text) of an operation's body, response and paging, where they apply."""
    names = plan.names
    fields = []
    if op.body:
        fields.append(("body", repr(names[op.body])))
        if op.body_required:
            fields.append(("body_required", "True"))
        fields.append(("body_content_type", repr(op.body_content_type)))
    if op.response:
        fields.append(("response", repr(names[op.response])))
    if op.response_status != 200:
        fields.append(("response_status", str(op.response_status)))
    if op.item:
        fields.append(("item", repr(names[op.item])))
    if op.max_page_size:
        fields.append(("max_page_size", str(op.max_page_size)))
    return fields


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


@dataclass(frozen=True)
class _Argument:
    """One keyword argument of a generated method: how it is declared, documented and passed on."""

    name: str
    annotation: Annotation
    default: Code | None
    doc: str
    role: str  # where the call passes it: "path", "query", "body", "field" (of the body) or "options"

    @property
    def declaration(self) -> str:
        default = f" = {self.default.text}" if self.default else ""
        return f"{self.name}: {self.annotation.text}{default}"

    @property
    def imports(self) -> frozenset[Import]:
        return self.annotation.imports | (self.default.imports if self.default else frozenset())


@dataclass(frozen=True)
class _Returns:
    """What a method returns, and the call that produces it."""

    annotation: Code
    decoded_as: Code  # the type argument the call decodes into
    paginated: bool


UNSET_ARGUMENT = Atom("UnsetType", "unset", frozenset({Import("msgspec", "UnsetType")}))
NOT_GIVEN = Code("UNSET", frozenset({Import("msgspec", "UNSET")}))
NONE_DEFAULT = Code("None")
OPTIONS = _Argument(
    "options",
    Annotation((Atom("RequestOptions", "struct", frozenset({OPTIONS_IMPORT})), NONE)),
    NONE_DEFAULT,
    "per-call timeout, extra headers or query, raw-response capture",
    "options",
)


class _Method:
    """One generated method: its arguments, what it returns, and its source with the imports that needs."""

    def __init__(self, plan: ModelPlan, op: Op) -> None:
        self.plan, self.op = plan, op
        self.arguments = self._arguments()
        self.returns = self._returns()

    @property
    def imports(self) -> frozenset[Import]:
        returns = self.returns.annotation.imports | self.returns.decoded_as.imports
        return returns.union(*(a.imports for a in self.arguments))

    def source(self) -> list[str]:
        return [*self._signature(), *self._docstring(), *self._call()]

    # -- arguments ----------------------------------------------------------------------------------------
    def _arguments(self) -> list[_Argument]:
        """Required parameters first, path before query; then the body and its fields; ``options`` last."""
        ordered = sorted(self.op.params, key=lambda p: (not p.required, p.location != "path"))
        arguments = [self._parameter(p) for p in ordered]
        taken = {"self", "body", "options", *(a.name for a in arguments)}
        return [*arguments, *self._body_arguments(taken), OPTIONS]

    def _parameter(self, p: Param) -> _Argument:
        doc = (
            text.first_sentence(p.description)
            or text.first_sentence(p.schema.get("description"))
            or f"{p.location} parameter ``{p.name}``"
        )
        if p.required:
            return _Argument(p.name, self.plan.annotator.strict(p.schema), None, doc, p.location)
        annotation = self._optional(p.schema, none_omits=p.location == "query")
        return _Argument(p.name, annotation, NOT_GIVEN, doc, p.location)

    def _optional(self, node: dict[str, Any], *, none_omits: bool = False) -> Annotation:
        """An optional argument: not sent unless given (``UNSET``); ``None`` sends null where the spec allows it,
        and (``none_omits``: a query parameter, where null has no form) is taken as not given."""
        annotation = self.plan.annotator.strict(node)
        if none_omits and NONE not in annotation.members:
            annotation = annotation.extended(NONE)
        return annotation.extended(UNSET_ARGUMENT)

    def _body_arguments(self, taken: set[str]) -> list[_Argument]:
        """``body=``, and where the body is an object, each of its top-level fields as a keyword argument."""
        op, plan = self.op, self.plan
        if not op.body:
            return []
        body_node = {"$ref": op.body}
        annotation = plan.annotator.strict(body_node)
        if not annotation.admits("dict", "list"):
            annotation = annotation.extended(mapping())
        doc = f"the request body (``{plan.names[op.body]}``, or a dict validated against it)"
        body = _Argument("body", annotation.extended(NONE), NONE_DEFAULT, doc, "body")
        return [body, *self._body_fields(plan.table.deref(body_node), taken)]

    def _body_fields(self, target: dict[str, Any], taken: set[str]) -> list[_Argument]:
        """The fields of an object body (not of a union) that can be keyword arguments."""
        if self.op.body not in self.plan.structs or target.get("oneOf") or target.get("anyOf"):
            return []
        return [
            _Argument(
                prop,
                self._optional(schema),
                NOT_GIVEN,
                text.first_sentence(schema.get("description")) or f"the body's ``{prop}`` field",
                "field",
            )
            for prop, schema in target.get("properties", {}).items()
            if python_field_name(prop) == prop and prop not in taken and not schema.get("readOnly")
        ]

    def _returns(self) -> _Returns:
        op, plan = self.op, self.plan
        if op.paginated and op.item:
            item = self._model(op.item)
            return _Returns(Code(f"AsyncPaginator[{item.text}]", item.imports | {PAGINATOR}), item, True)
        if not op.response:
            return _Returns(Code("None"), Code("type(None)"), False)
        returns = self._model(op.response)
        if op.response not in plan.structs and len(alias_annotation(plan, op.response).members) > 1:
            # A union alias is a valid msgspec type but not a ``type[T]`` to mypy.
            cast = Code(f'cast("type[{returns.text}]", {returns.text})', returns.imports | {CAST})
            return _Returns(returns, cast, False)
        return _Returns(returns, returns, False)

    def _model(self, name: str) -> Code:
        python = self.plan.names[name]
        return Code(python, frozenset({Import("models", python)}))

    # -- source -------------------------------------------------------------------------------------------
    def _signature(self) -> list[str]:
        keyword = "" if self.returns.paginated else "async "
        return [
            f"    {keyword}def {self.op.name}(",
            "        self,",
            "        *,",
            *(f"        {a.declaration}," for a in self.arguments),
            f"    ) -> {self.returns.annotation.text}:",
        ]

    def _docstring(self) -> list[str]:
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
        args = [(a.name, a.doc) for a in self.arguments]
        return text.docstring([*paras, facts + "."], "        ", args)

    def _call(self) -> list[str]:
        constant = f"ops.{self.op.constant}"
        args = [constant, self.returns.decoded_as.text]
        for role in ("path", "query"):
            names = [a.name for a in self.arguments if a.role == role]
            if names:
                args.append(f"{role}={_passed(names)}")
        fields = [a.name for a in self.arguments if a.role == "field"]
        if fields:
            args.append(f"body=self._body({constant}, body, {_passed(fields)})")
        elif self.op.body:
            args.append("body=body")
        args.append("options=options")
        call = "self._paginate" if self.returns.paginated else "await self._request"
        return [f"        return {call}(", *(f"            {a}," for a in args), "        )"]


def _passed(names: list[str]) -> str:
    """The dict literal a call passes arguments in: ``{"pin_id": pin_id}``."""
    return "{" + ", ".join(f'"{n}": {n}' for n in names) + "}"


def emit_resource(plan: ModelPlan, namespace: str, ops: list[Op], version: str) -> str:
    methods = [_Method(plan, op) for op in ops]
    extended = namespace in EXTENDED_BY_CLIENT
    used = relocate(frozenset().union(*(m.imports for m in methods)), "models", "..models")
    used |= RESOURCE_IMPORTS
    type_only = {i for i in used if i.module in TYPE_ONLY_MODULES}
    if extended:
        type_only.add(NAMESPACES_IMPORT)
    lines = [
        HEADER.format(
            doc=f"The ``{namespace}`` namespace: {text.count(len(ops), 'operation')}.", version=version
        ),
        "from __future__ import annotations",
        "",
        *imports.lines(used - type_only, exploded={"..models"}),
        "",
        # Every resource module has the block, empty or not, so that they all read alike.
        "if TYPE_CHECKING:",
        *(imports.lines(type_only, indent="    ") or ["    pass"]),
        "",
        "",
        f"class {resource_class(namespace)}(Resource):",
        f'    """Operations tagged ``{namespace}``: {", ".join(op.name for op in ops)}."""',
        *(_EXTENDED_CLIENT if extended else []),
    ]
    for method in methods:
        lines += ["", *method.source()]
    return "\n".join(lines) + "\n"


# The client as an extended resource sees it: with every generated namespace, for the hand-written helpers.
_EXTENDED_CLIENT = [
    "",
    "    _client: GeneratedNamespaces",
    "",
    "    def __init__(self, client: GeneratedNamespaces) -> None:",
    "        super().__init__(client)",
]


def resource_class(namespace: str) -> str:
    return camel(namespace) + "Resource"


def emit_namespaces(grouped: dict[str, list[Op]], version: str) -> str:
    generated = {ns: ops for ns, ops in grouped.items() if ns not in EXTENDED_BY_CLIENT}
    resources = {Import(f".resources.{ns}", resource_class(ns)) for ns in generated}
    lines = [
        HEADER.format(
            doc="The namespaces of the client (``client.pins``, ``client.boards``, ...), each loaded on first use.",
            version=version,
        ),
        "from __future__ import annotations",
        "",
        *imports.lines(NAMESPACES_RUNTIME_IMPORTS),
        "",
        "if TYPE_CHECKING:",
        *imports.lines(resources, indent="    "),
        "",
        "",
        "class GeneratedNamespaces(Requester):",
        '    """One attribute per API namespace, each imported and built around the client on first use; the client',
        '    subclasses this, and composes the namespaces it extends by hand (``client.media``) itself."""',
    ]
    for ns, ops in generated.items():
        lines += ["", *_namespace_property(ns, ops)]
    return "\n".join(lines) + "\n"


def _namespace_property(namespace: str, ops: list[Op]) -> list[str]:
    cls = resource_class(namespace)
    names = ", ".join(op.name for op in ops)
    summary = (
        f"{text.count(len(ops), 'operation')}: {names}."
        if len(names) < 70
        else f"{len(ops)} operations tagged ``{namespace}``."
    )
    return [
        "    @cached_property",
        f"    def {namespace}(self) -> {cls}:",
        f'        """{summary}"""',
        f"        from .resources.{namespace} import {cls}",
        "",
        f"        return {cls}(self)",
    ]


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
