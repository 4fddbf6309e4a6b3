"""examples/ingest.py: the demo on its own simulator, and what --live touches with and without --write."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiopinterest import Client
from aiopinterest.testing import PinterestSimulator
from examples import ingest

# The only request a read-only live run may send that is not a GET: asking for the ad-account report.
READ_ONLY_POSTS = {"analytics/create_report"}
CLIP = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 64


@pytest.fixture
def video(tmp_path: Path) -> Path:
    path = tmp_path / "clip.mp4"
    path.write_bytes(CLIP)
    return path


async def test_the_demo_checks_out_on_its_own_simulator(capsys: pytest.CaptureFixture[str]) -> None:
    assert await ingest.main(["--boards", "2", "--pins-per-board", "120"]) == 0
    out = capsys.readouterr().out
    assert "streaming pins:       241 from 2/2 boards" in out
    assert "FAIL" not in out and "ok   video pin created" in out


@pytest.mark.usefixtures("api_environment")
async def test_a_live_run_without_write_changes_nothing(pinterest_simulator: PinterestSimulator) -> None:
    pinterest_simulator.seed(boards=2, pins_per_board=30)
    assert await ingest.main(["--live"]) == 0
    writes = [
        (request.method, request.operation_id)
        for request in pinterest_simulator.requests
        if request.method != "GET" and request.operation_id not in READ_ONLY_POSTS
    ]
    assert writes == []
    assert pinterest_simulator.s3_uploads == []
    assert {request.operation_id for request in pinterest_simulator.requests} >= {
        "boards/list_pins",
        "multi_pins/analytics",
        "analytics/create_report",
    }


@pytest.mark.usefixtures("api_environment")
async def test_a_live_run_with_write_uploads_the_named_file_once_and_pins_it(
    pinterest_simulator: PinterestSimulator, pinterest_client: Client, video: Path
) -> None:
    _, second_board = pinterest_simulator.seed(boards=2, pins_per_board=5)
    assert await ingest.main(["--live", "--write", str(video), "--board", second_board]) == 0
    assert list(pinterest_simulator.s3_objects.values()) == [CLIP]
    created = [request for request in pinterest_simulator.requests if request.operation_id == "pins/create"]
    assert len(created) == 1
    pins = [pin async for pin in pinterest_client.boards.list_pins(board_id=second_board)]
    assert len(pins) == 6


@pytest.mark.parametrize(
    ("content", "message"), [(None, "no such file"), (b"", "the file is empty")], ids=["missing", "empty"]
)
@pytest.mark.usefixtures("api_environment")
async def test_write_refuses_a_missing_or_empty_file_before_sending_anything(
    pinterest_simulator: PinterestSimulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes | None,
    message: str,
) -> None:
    path = tmp_path / "clip.mp4"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SystemExit) as exit_info:
        await ingest.main(["--live", "--write", str(path)])
    assert exit_info.value.code == 2
    assert f"argument --write: {path}: {message}" in capsys.readouterr().err
    assert list(pinterest_simulator.requests) == []


async def test_board_without_write_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        await ingest.main(["--live", "--board", "123"])
    assert "--board: only used with --write" in capsys.readouterr().err
