"""What each struct field is: its annotation and its default, by the role of its struct.

Structs the client *decodes* (those reachable from a response) must read anything the API sends:
- a field the spec requires (or the overlay does, with its reason) is typed without ``None`` and defaults to its
  type's empty value (``""``, ``0``, ``[]``, ``{}``, an empty struct), so that a response lacking it still
  decodes and user code needs no ``None`` check; a required date or boolean stays optional, since no date means
  "missing" and ``False`` cannot be told from it;
- an optional field is ``T | None = None``; if the struct is also sent in requests and the field is nullable it is
  ``T | None | UnsetType = UNSET``, so that ``None`` there sends JSON null and a left-out field is not sent.

Structs that are only *sent* (request bodies) are typed strictly: required fields have no default (mypy and the
constructor insist), enums are plain ``Literal``, a union struct also takes each of its variants, and every
optional field defaults to ``msgspec.UNSET`` (not sent); ``None`` is accepted only where the spec allows null.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import text
from .annotate import NONE, Annotation, Atom, combine
from .imports import Import
from .schema import python_field_name

if TYPE_CHECKING:
    from .plan import ModelPlan

MSGSPEC = Import("msgspec")
UNSET_TYPE = Atom("msgspec.UnsetType", "unset", frozenset({MSGSPEC}))


@dataclass(frozen=True)
class Default:
    """A field's default: a value, or (``factory``) what msgspec calls to make one for each instance."""

    text: str
    imports: frozenset[Import] = frozenset()
    factory: bool = False
    builds: str | None = None  # the struct (schema name) whose empty value the factory builds


def _marker(name: str, *, factory: bool = False) -> Default:
    return Default(name, frozenset({Import(".._model", name)}), factory)


NONE_DEFAULT = Default("None")
NOT_SENT = Default("msgspec.UNSET", frozenset({MSGSPEC}))
# The empty value each kind of field falls back to when a response leaves a required field out. Scalars get
# markers (see aiopinterest._model) so that re-encoding omits only what was absent, never a real "" or 0; a
# required boolean stays optional, since False cannot be told apart from "absent".
ZEROS = {
    "str": _marker("MISSING_STR"),
    "literal": _marker("MISSING_STR"),
    "int": _marker("MISSING_INT"),
    "float": _marker("MISSING_FLOAT"),
    "list": _marker("missing_list", factory=True),
    "dict": _marker("missing_dict", factory=True),
}


@dataclass(frozen=True)
class Field:
    ident: str
    wire: str
    annotation: Annotation
    default: Default | None  # None: the field has none (required to construct)
    doc: str

    @property
    def builds(self) -> str | None:
        """The struct whose empty value the default builds (it must be defined first)."""
        return self.default.builds if self.default else None

    @property
    def imports(self) -> frozenset[Import]:
        defaults = self.default.imports if self.default else frozenset()
        field_call = self.ident != self.wire or (self.default and self.default.factory)
        return self.annotation.imports | defaults | ({MSGSPEC} if field_call else set())

    def source(self) -> list[str]:
        declaration = f"    {self.ident}: {self.annotation.text}"
        value = self._value()
        lines = [f"{declaration} = {value}" if value else declaration]
        if self.doc:
            lines.extend(text.docstring([self.doc], "    "))
        return lines

    def _value(self) -> str | None:
        """The right-hand side: the default, in ``msgspec.field(...)`` where it is a factory or the field is
        renamed (its Python name differs from its JSON one)."""
        default = self.default
        keywords = [f'name="{self.wire}"'] if self.ident != self.wire else []
        if default is None:
            return f"msgspec.field({keywords[0]})" if keywords else None
        if default.factory:
            return f"msgspec.field({', '.join([*keywords, f'default_factory={default.text}'])})"
        if keywords:
            return f"msgspec.field(default={default.text}, {keywords[0]})"
        return default.text


def struct_fields(plan: ModelPlan, name: str) -> list[Field]:
    required = plan.required(name)
    decoded = name in plan.decoded
    fields = []
    for prop, schemas in plan.fields(name).items():
        doc = text.first_sentence(next((s.get("description") for s in schemas if s.get("description")), None))
        default: Default | None
        if decoded:
            annotation, default = _lenient(plan, name, prop, schemas, required)
        else:
            annotation, default = _strict(plan, prop, schemas, required)
        fields.append(Field(python_field_name(prop), prop, annotation, default, doc))
    return fields


def _lenient(
    plan: ModelPlan, struct: str, prop: str, schemas: list[dict[str, Any]], required: set[str]
) -> tuple[Annotation, Default]:
    annotator = plan.annotator
    atoms = combine(a for s in schemas for a in annotator.lenient(s))
    if atoms[0].kind == "any":
        return Annotation.union(atoms), NONE_DEFAULT
    nullable = any(annotator.nullable(s) for s in schemas)
    if prop in required and not nullable:
        zero = _zero(plan, struct, atoms)
        if zero is not None:
            return Annotation.union(atoms), zero
    if nullable and struct in plan.requested:
        return Annotation.union([*atoms, NONE, UNSET_TYPE]), NOT_SENT
    return Annotation.union([*atoms, NONE]), NONE_DEFAULT


def _zero(plan: ModelPlan, struct: str, atoms: list[Atom]) -> Default | None:
    first = atoms[0]
    if first.kind == "literal" and not any(a.kind == "str" for a in atoms):
        # An enum of numbers or booleans: the empty value of its base type.
        first = next((a for a in atoms if a.kind in ZEROS and a.kind != "literal"), first)
        if first.kind == "literal":
            return None
    if first.kind == "struct":
        constructible = plan.constructible(first.schema, frozenset({struct}))
        return Default(first.text, factory=True, builds=first.schema) if constructible else None
    return ZEROS.get(first.kind)


def _strict(
    plan: ModelPlan, prop: str, schemas: list[dict[str, Any]], required: set[str]
) -> tuple[Annotation, Default | None]:
    annotations = list(dict.fromkeys(plan.annotator.strict(s, in_struct=True) for s in schemas))
    annotation = Annotation(tuple(a for each in annotations for a in each.members))
    if prop in required and not any(s.get("readOnly") for s in schemas):
        return annotation, None
    return annotation.extended(UNSET_TYPE), NOT_SENT
