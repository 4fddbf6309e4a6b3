"""The wheel as users get it: what it holds, its metadata, and that it installs into a clean environment and works.

Builds the wheel once per run (``pip wheel --no-deps``, about 5 s) and installs it with its dependencies into a
new virtual environment (from pip's cache or PyPI, 10 to 30 s on the project's machine): the slowest module of
the suite after the benchmarks' own, kept in ``make test`` because a broken package is the worst release bug.
"""

from __future__ import annotations

import email
import email.message
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REPOSITORY = "https://github.com/aiopinterest/aiopinterest"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [built] = out.glob("aiopinterest-*.whl")
    return built


@pytest.fixture(scope="module")
def metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as archive:
        [name] = [name for name in archive.namelist() if name.endswith(".dist-info/METADATA")]
        return email.message_from_bytes(archive.read(name))


def test_the_wheel_holds_the_package_the_simulator_and_its_type_marker(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "aiopinterest/py.typed",
        "aiopinterest/_generated/operations.py",
        "aiopinterest/testing/_simulator.py",
        "aiopinterest/testing/pytest_plugin.py",
        "aiopinterest/bulk/reports.py",
    ):
        assert required in names
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)


def test_the_wheel_holds_no_tests_benchmarks_or_tooling(wheel: Path) -> None:
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert tops == {"aiopinterest", "aiopinterest-0.1.0.dist-info"}


def test_metadata_names_the_license_the_pythons_and_the_project_urls(metadata: email.message.Message) -> None:
    assert metadata["License-Expression"] == "MIT"
    classifiers = metadata.get_all("Classifier") or []
    # The supported Pythons, from requires-python up to the newest we test on.
    assert metadata["Requires-Python"] == ">=3.11"
    for version in ("3.11", "3.12", "3.13"):
        assert f"Programming Language :: Python :: {version}" in classifiers
    assert {"Framework :: AsyncIO", "Typing :: Typed"} <= set(classifiers)
    # PyPI refuses a license classifier beside a License-Expression (PEP 639).
    assert not [classifier for classifier in classifiers if classifier.startswith("License ::")]
    urls = dict(url.split(", ", 1) for url in metadata.get_all("Project-URL") or [])
    assert {"Repository", "Documentation", "Changelog"} <= set(urls)
    assert all(url.startswith(REPOSITORY) for url in urls.values())
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")


def test_the_testing_extra_brings_what_the_fixtures_need() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    testing = project["optional-dependencies"]["testing"]
    assert {requirement.split(">")[0] for requirement in testing} == {"pytest", "pytest-asyncio"}
    assert project["entry-points"]["pytest11"] == {"aiopinterest": "aiopinterest.testing.pytest_plugin"}


def test_the_wheel_installs_into_a_clean_environment_and_works(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr
    # Outside the checkout, so that only the installed copy can be imported; a real call through the simulator.
    probe = """
import asyncio, importlib.metadata, pathlib
import aiopinterest
from aiopinterest.testing import PinterestSimulator

assert "site-packages" in pathlib.Path(aiopinterest.__file__).parts, aiopinterest.__file__
assert importlib.metadata.version("aiopinterest") == aiopinterest.__version__

async def main():
    async with PinterestSimulator() as sim:
        [board_id] = sim.seed(boards=1, pins_per_board=3)
        async with aiopinterest.Client(access_token=sim.access_token, base_url=sim.base_url) as client:
            return [pin.id async for pin in client.boards.list_pins(board_id=board_id)]

print(len(asyncio.run(main())))
"""
    result = subprocess.run(
        [str(python), "-W", "error", "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "3"


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_readme_links_work_on_pypi_too() -> None:
    # PyPI shows the README without the repository around it: file links must be absolute.
    readme = (ROOT / "README.md").read_text()
    anchors = {_anchor(heading) for heading in re.findall(r"^#+ (.+)$", readme, re.M)}
    targets = re.findall(r"\]\(([^)\s]+)\)", readme)
    assert targets
    for target in targets:
        if target.startswith("#"):
            assert target[1:] in anchors, target
        else:
            assert target.startswith("https://"), target
    repository_files = [target for target in targets if target.startswith(REPOSITORY + "/blob/main/")]
    for target in repository_files:
        assert (ROOT / target.removeprefix(REPOSITORY + "/blob/main/")).exists(), target
