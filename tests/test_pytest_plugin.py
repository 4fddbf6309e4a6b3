"""The pytest plugin every project that installs aiopinterest loads: free until a fixture is used."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

# Modules a test that never touches the fixtures must not pay for.
HEAVY = ("aiopinterest.testing._simulator", "aiopinterest._client", "aiohttp.web", "msgspec")


def _run_pytest(folder: Path, test_module: str) -> subprocess.CompletedProcess[str]:
    (folder / "test_user.py").write_text(textwrap.dedent(test_module))
    (folder / "pytest.ini").write_text(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\nfilterwarnings = error\n"
    )
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_user.py"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_importing_the_plugin_loads_neither_the_simulator_nor_the_client() -> None:
    probe = (
        "import sys, aiopinterest.testing.pytest_plugin\n"
        f"print([name for name in {HEAVY!r} if name in sys.modules])"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_pytest_run_that_uses_no_fixture_never_imports_the_simulator(tmp_path: Path) -> None:
    result = _run_pytest(
        tmp_path,
        f"""
        import sys


        def test_nothing_heavy_was_imported(pytestconfig):
            assert pytestconfig.pluginmanager.has_plugin("aiopinterest")  # loaded through its entry point
            assert [name for name in {HEAVY[:2]!r} if name in sys.modules] == []
        """,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_fixtures_work_once_used(tmp_path: Path) -> None:
    result = _run_pytest(
        tmp_path,
        """
        import pytest


        @pytest.mark.asyncio
        async def test_client_reaches_the_simulator(pinterest_simulator, pinterest_client):
            [board_id] = pinterest_simulator.seed(boards=1, pins_per_board=3)
            page = await pinterest_client.boards.list_pins(board_id=board_id)
            assert len(page.items) == 3
        """,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_every_public_name_of_the_testing_package_resolves() -> None:
    import aiopinterest.testing as testing

    for name in testing.__all__:
        assert getattr(testing, name) is not None
    assert sorted(testing.__all__) == dir(testing)
