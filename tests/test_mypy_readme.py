"""The README's Python blocks and a typical user program pass ``mypy --strict`` with no casts, asserts or None
checks for the fields the API always returns, and mypy refuses what the spec refuses (an enum value it does not
list, a field of the wrong type). One mypy run over every file, with its cache in a temporary directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_readme import blocks

TYPICAL = Path(__file__).parent / "typing" / "typical_program.py"
REFUSED = """
import aiopinterest
from aiopinterest.models import BoardCreate, PinCreate


async def wrong(client: aiopinterest.Client) -> None:
    await client.boards.create(name="x", privacy="HIDDEN")
    BoardCreate(name="x", privacy="HIDDEN")
    PinCreate(board_id="1")
"""


@pytest.fixture(scope="module")
def mypy_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("mypy")
    files = {f"readme_block_{index}.py": block for index, block in enumerate(blocks())}
    files["typical_program.py"] = TYPICAL.read_text()
    files["refused.py"] = REFUSED
    for name, content in files.items():
        (folder / name).write_text(content)
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(folder / ".cache"), *sorted(files)],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = result.stdout.splitlines()
    return {name: "\n".join(line for line in lines if line.startswith(name + ":")) for name in files}


def test_readme_blocks_and_a_typical_program_pass_mypy_strict(mypy_report: dict[str, str]) -> None:
    problems = {name: text for name, text in mypy_report.items() if text and name != "refused.py"}
    assert not problems, "\n".join(problems.values())


def test_mypy_refuses_an_unlisted_enum_value_and_a_missing_required_field(
    mypy_report: dict[str, str],
) -> None:
    refused = mypy_report["refused.py"]
    assert refused.count("Literal['HIDDEN']") == 2, refused
    assert 'Missing named argument "media_source" for "PinCreate"' in refused, refused
