"""Examples run as users run them: against the simulator, through the environment variables Client() reads."""

from __future__ import annotations

from typing import Any

import pytest

from aiopinterest.testing import PinterestSimulator


@pytest.fixture
def pinterest_simulator_options() -> dict[str, Any]:
    return {"media_processing_delay": 0.05, "report_delay": 0.1}


@pytest.fixture
def api_environment(pinterest_simulator: PinterestSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """``PINTEREST_BASE_URL`` and ``PINTEREST_ACCESS_TOKEN`` of the simulator, as ``--live`` and ``Client()`` use."""
    monkeypatch.setenv("PINTEREST_BASE_URL", pinterest_simulator.base_url)
    monkeypatch.setenv("PINTEREST_ACCESS_TOKEN", pinterest_simulator.access_token)
