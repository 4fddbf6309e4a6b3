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
from .schema import python_field_name

if TYPE_CHECKING:
    from .emit_models import ModelPlan

UNSET_TYPE = Atom("msgspec.UnsetType", "unset")
# The empty value each kind of field falls back to when a response leaves a required field out. Scalars get
# markers (see aiopinterest._model) so that re-encoding omits only what was absent, never a real "" or 0; a
# required boolean stays optional, since False cannot be told apart from "absent".
ZEROS = {
    "str": "MISSING_STR",
    "literal": "MISSING_STR",
    "int": "MISSING_INT",
    "float": "MISSING_FLOAT",
    "list": "msgspec.field(default_factory=missing_list)",
    "dict": "msgspec.field(default_factory=missing_dict)",
}
MARKERS = ("MISSING_STR", "MISSING_INT", "MISSING_FLOAT", "missing_list", "missing_dict")


@dataclass(frozen=True)
class Field:
    ident: str
    wire: str
    annotation: Annotation
    default: str | None  # source text of the default value; None: the field has none (required to construct)
    doc: str
    builds: str | None = None  # the struct whose empty value the default builds

    def source(self) -> list[str]:
        if self.ident != self.wire:
            value = self.default or "msgspec.field()"
            if value.startswith("msgspec.field("):
                value = value.replace("msgspec.field(", f'msgspec.field(name="{self.wire}", ', 1).replace(
                    ", )", ")"
                )
            else:
                value = f'msgspec.field(default={value}, name="{self.wire}")'
            lines = [f"    {self.ident}: {self.annotation.text} = {value}"]
        elif self.default is None:
            lines = [f"    {self.ident}: {self.annotation.text}"]
        else:
            lines = [f"    {self.ident}: {self.annotation.text} = {self.default}"]
        if self.doc:
            lines.extend(text.docstring([self.doc], "    "))
        return lines


def struct_fields(plan: ModelPlan, name: str) -> list[Field]:
    required = plan.required(name)
    decoded = name in plan.decoded
    fields = []
    for prop, schemas in plan.fields(name).items():
        doc = text.first_sentence(next((s.get("description") for s in schemas if s.get("description")), None))
        if decoded:
            annotation, default = _lenient(plan, name, prop, schemas, required)
        else:
            annotation, default = _strict(plan, prop, schemas, required)
        builds = (
            plan.python_to_schema.get(annotation.text) if default and "default_factory" in default else None
        )
        fields.append(Field(python_field_name(prop), prop, annotation, default, doc, builds))
    return fields


def _lenient(
    plan: ModelPlan, struct: str, prop: str, schemas: list[dict[str, Any]], required: set[str]
) -> tuple[Annotation, str]:
    annotator = plan.annotator
    atoms = combine(a for s in schemas for a in annotator.lenient(s))
    if atoms[0].kind == "any":
        return Annotation.union(atoms), "None"
    nullable = any(annotator.nullable(s) for s in schemas)
    if prop in required and not nullable:
        zero = _zero(plan, struct, atoms)
        if zero is not None:
            return Annotation.union(atoms), zero
    if nullable and struct in plan.requested:
        return Annotation.union([*atoms, NONE, UNSET_TYPE]), "msgspec.UNSET"
    return Annotation.union([*atoms, NONE]), "None"


def _zero(plan: ModelPlan, struct: str, atoms: list[Atom]) -> str | None:
    first = atoms[0]
    if first.kind == "literal" and not any(a.kind == "str" for a in atoms):
        # An enum of numbers or booleans: the empty value of its base type.
        first = next((a for a in atoms if a.kind in ZEROS and a.kind != "literal"), first)
        if first.kind == "literal":
            return None
    if first.kind == "struct":
        target = plan.python_to_schema[first.text]
        constructible = plan.constructible(target, frozenset({struct}))
        return f"msgspec.field(default_factory={first.text})" if constructible else None
    return ZEROS.get(first.kind)


def _strict(
    plan: ModelPlan, prop: str, schemas: list[dict[str, Any]], required: set[str]
) -> tuple[Annotation, str | None]:
    annotations = list(dict.fromkeys(plan.annotator.strict(s, in_struct=True) for s in schemas))
    annotation = Annotation(tuple(a for each in annotations for a in each.members))
    if prop in required and not any(s.get("readOnly") for s in schemas):
        return annotation, None
    return annotation.extended(UNSET_TYPE), "msgspec.UNSET"
