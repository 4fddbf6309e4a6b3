"""The reference docs under docs/reference: complete, current, and every link in them (and in the README) lands."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from aiopinterest import OPERATIONS, models
from codegen import source
from codegen.emit_docs import anchor, letter

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "reference"
# Markdown links [text](target), skipping images; targets carry no spaces in these pages.
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#+ (.+)$", re.M)
GITHUB_BLOB = "https://github.com/aiopinterest/aiopinterest/blob/main/"


def pages() -> list[Path]:
    return sorted(REFERENCE.rglob("*.md"))


def anchors(page: Path) -> set[str]:
    return {anchor(title) for title in HEADING.findall(page.read_text())}


def test_every_link_between_pages_reaches_a_heading() -> None:
    cache: dict[Path, set[str]] = {}
    broken = []
    for page in pages():
        for target in LINK.findall(page.read_text()):
            if target.startswith("http"):
                continue
            file_part, _, fragment = target.partition("#")
            destination = (page.parent / file_part).resolve() if file_part else page
            if not destination.is_file():
                broken.append(f"{page.name}: {target} (no such page)")
            elif fragment and fragment not in cache.setdefault(destination, anchors(destination)):
                broken.append(f"{page.name}: {target} (no such heading)")
    assert not broken, "\n".join(broken[:20])


def test_every_operation_is_documented_with_its_facts() -> None:
    for op in OPERATIONS.values():
        page = (REFERENCE / f"{op.namespace}.md").read_text()
        section = page.split(f"\n### `{op.name}`\n", 1)[1].split("\n### ", 1)[0]
        assert f"`{op.method} {op.path}`" in section, op.operation_id
        assert f"rate-limit category `{op.ratelimit_category}`" in section, op.operation_id
        for scope in op.scopes:
            assert f"`{scope}`" in section, (op.operation_id, scope)
        for parameter in op.parameters:
            assert f"| `{parameter.name}` | {parameter.location} |" in section, (op.operation_id, parameter)
        if op.response is not None and not op.paginated:
            assert f"Returns [`{op.response}`]" in section, op.operation_id


def test_every_model_has_an_entry_on_its_initials_page() -> None:
    for name in models.__all__:
        page = REFERENCE / "models" / f"{letter(name)}.md"
        assert f"\n### `{name}`\n" in page.read_text(), name


def test_a_documented_field_gives_its_type_and_requirement() -> None:
    page = (REFERENCE / "models" / "B.md").read_text()
    board = page.split("\n### `BoardOwner`\n", 1)[0].split("\n### `Board`\n", 1)[1]
    assert "| `name` | `str` | yes |" in board
    assert "| `privacy` | [`BoardPrivacy`](B.md#boardprivacy) | no |" in board
    assert "| `owner` | [`BoardOwner`](B.md#boardowner) | no |" in board
    privacy = page.split("\n### `BoardPrivacy`\n", 1)[1].split("\n### ", 1)[0]
    assert 'Type: `"PUBLIC"` \\| `"PROTECTED"` \\| `"SECRET"`' in privacy


def test_reference_is_current() -> None:
    """`make check-docs`: the committed pages are exactly what a fresh generation writes."""
    try:
        source.locate(download=False)
    except source.SpecNotFound as exc:
        pytest.skip(str(exc))
    result = subprocess.run(
        [sys.executable, "-m", "codegen", "check-docs"], capture_output=True, text=True, check=False, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_readme_links_to_docs_work_on_pypi_and_exist() -> None:
    """PyPI shows the README without the repository around it: links into docs/ must be absolute."""
    readme = (ROOT / "README.md").read_text()
    targets = LINK.findall(readme)
    assert not [t for t in targets if t.startswith("docs/")], "relative links into docs/ break on PyPI"
    into_docs = [t for t in targets if t.startswith(GITHUB_BLOB + "docs/")]
    assert any(t.startswith(GITHUB_BLOB + "docs/reference/") for t in into_docs)
    for target in into_docs:
        path = ROOT / target.removeprefix(GITHUB_BLOB).partition("#")[0]
        assert path.is_file(), target
