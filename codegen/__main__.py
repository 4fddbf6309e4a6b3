"""``python -m codegen generate|check``: write src/aiopinterest/_generated/ (and docs/api.md), or verify them.

``python -m codegen docs|check-docs``: write the reference pages under docs/reference/, or verify them.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

from . import source
from .emit_api import by_namespace, emit_namespaces, emit_operations, emit_reference, emit_resource
from .emit_docs import DOCS, render_docs
from .emit_models import emit_models, runtime_table
from .operations import Op, collect
from .plan import ModelPlan
from .schema import Builder

OUTPUT = source.ROOT / "src" / "aiopinterest" / "_generated"
REFERENCE = source.ROOT / "docs" / "api.md"


def _model() -> tuple[str, ModelPlan, list[Op]]:
    """The intermediate model: the spec's version, the named schemas and the operations."""
    spec = source.load(source.locate())
    builder = Builder(spec)
    builder.load_components()
    ops = collect(builder)
    return spec["info"]["version"], ModelPlan(builder, ops), ops


def render() -> dict[Path, str]:
    """Every generated file and its content; a pure function of the spec and the overlay."""
    version, plan, ops = _model()
    grouped = by_namespace(ops)
    files = {
        OUTPUT
        / "__init__.py": f'"""Code generated from Pinterest\'s OpenAPI description {version}; do not edit."""\n',
        OUTPUT / "models.py": emit_models(plan, version),
        OUTPUT / "schemas.json": runtime_table(plan),
        OUTPUT / "operations.py": emit_operations(plan, ops, version),
        OUTPUT / "namespaces.py": emit_namespaces(grouped, version),
        OUTPUT / "resources" / "__init__.py": '"""One module per namespace; loaded on first use."""\n',
        REFERENCE: emit_reference(plan, grouped, version),
    }
    for namespace, namespace_ops in grouped.items():
        files[OUTPUT / "resources" / f"{namespace}.py"] = emit_resource(
            plan, namespace, namespace_ops, version
        )
    return files


def _format(files: dict[Path, str]) -> dict[Path, str]:
    """Run ruff's formatter over the Python files so generated code reads like hand-written code."""
    import subprocess

    formatted = dict(files)
    for path, content in files.items():
        if path.suffix != ".py":
            continue
        result = subprocess.run(
            [sys.executable, "-m", "ruff", "format", "--stdin-filename", str(path), "-"],
            input=content,
            capture_output=True,
            text=True,
            check=True,
        )
        formatted[path] = result.stdout
    return formatted


def generate() -> int:
    files = _format(render())
    stale = [p for p in OUTPUT.rglob("*") if p.is_file() and p not in files and "__pycache__" not in p.parts]
    for path in stale:
        path.unlink()
    for path, content in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    print(
        f"wrote {len(files)} files into {OUTPUT.relative_to(source.ROOT)} and {REFERENCE.relative_to(source.ROOT)}"
    )
    return 0


def check() -> int:
    try:
        files = _format(render())
    except source.SpecNotFound as exc:
        print(f"skipped: {exc}")
        return 0
    problems = []
    for path, content in files.items():
        current = path.read_text() if path.exists() else ""
        if current != content:
            diff = difflib.unified_diff(
                current.splitlines(), content.splitlines(), str(path), "generated", lineterm="", n=1
            )
            problems.append("\n".join(list(diff)[:20]))
    extra = [p for p in OUTPUT.rglob("*.py") if p not in files and "__pycache__" not in p.parts]
    problems += [f"{p}: not produced by the generator" for p in extra]
    if problems:
        print("src/aiopinterest/_generated differs from a fresh generation (run `make generate`):")
        print("\n".join(problems))
        return 1
    print(f"generated code is up to date ({len(files)} files)")
    return 0


def render_reference() -> dict[Path, str]:
    version, plan, ops = _model()
    return render_docs(plan, by_namespace(ops), version)


def _pages_on_disk() -> set[Path]:
    return set(DOCS.rglob("*.md")) if DOCS.is_dir() else set()


def docs() -> int:
    pages = render_reference()
    for stale in _pages_on_disk() - set(pages):
        stale.unlink()
    for path, content in pages.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    print(f"wrote {len(pages)} pages into {DOCS.relative_to(source.ROOT)}")
    return 0


def check_docs() -> int:
    try:
        pages = render_reference()
    except source.SpecNotFound as exc:
        print(f"skipped: {exc}")
        return 0
    stale = [path for path, content in pages.items() if not path.is_file() or path.read_text() != content]
    extra = _pages_on_disk() - set(pages)
    if stale or extra:
        print(f"{DOCS.relative_to(source.ROOT)} differs from a fresh generation (run `make docs`):")
        print(
            "\n".join(
                [
                    *(f"{p}: out of date" for p in sorted(stale)),
                    *(f"{p}: not generated" for p in sorted(extra)),
                ]
            )
        )
        return 1
    print(f"reference docs are up to date ({len(pages)} pages)")
    return 0


COMMANDS = {"generate": generate, "check": check, "docs": docs, "check-docs": check_docs}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m codegen")
    parser.add_argument("command", choices=list(COMMANDS))
    args = parser.parse_args()
    return COMMANDS[args.command]()


if __name__ == "__main__":
    raise SystemExit(main())
