"""The other examples, each against the simulator: the web back end, the CSV report pull, a user's test suite."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from aiopinterest.testing import PinterestSimulator
from examples import analytics_csv, web_backend

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.usefixtures("api_environment")
async def test_web_backend_serves_a_boards_pins_through_one_client(
    pinterest_simulator: PinterestSimulator,
) -> None:
    board_id, _ = pinterest_simulator.seed(boards=2, pins_per_board=300)
    app = web_backend.make_app()
    async with TestServer(app, host="127.0.0.1") as server, aiohttp.ClientSession() as http:
        client = app[web_backend.CLIENT]
        async with http.get(server.make_url(f"/boards/{board_id}/pins"), params={"limit": "260"}) as response:
            assert response.status == 200
            body = await response.json()
        assert body["board_id"] == board_id
        assert len({pin["id"] for pin in body["pins"]}) == 260
        async with http.get(server.make_url(f"/boards/{board_id}/pins")) as response:
            assert len((await response.json())["pins"]) == web_backend.DEFAULT_LIMIT
        async with http.get(server.make_url("/boards/999/pins")) as response:
            assert response.status == 404
        async with http.get(server.make_url(f"/boards/{board_id}/pins"), params={"limit": "0"}) as response:
            assert response.status == 400 and "limit" in await response.text()
        assert app[web_backend.CLIENT] is client  # the same Client served every request
    assert "closed=True" in repr(client)  # and the app's cleanup closed it


@pytest.mark.usefixtures("api_environment")
async def test_analytics_csv_writes_every_report_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "spend.csv"
    assert await analytics_csv.main(["--out", str(out), "--days", "7"]) == 0
    with out.open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 7
    assert set(analytics_csv.COLUMNS) <= set(rows[0])
    assert f"7 rows -> {out}" in capsys.readouterr().out
    assert not out.with_name("spend.csv.partial").exists()  # renamed once complete


def test_user_code_example_passes_under_pytest_with_the_plugin(tmp_path: Path) -> None:
    # A user's project: the example test file and the pytest settings the README recommends, nothing of ours.
    shutil.copy(EXAMPLES / "test_user_code.py", tmp_path / "test_user_code.py")
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\nfilterwarnings = error\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_user_code.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout
