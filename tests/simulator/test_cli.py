"""``python -m aiopinterest.testing`` serves until interrupted (SIGINT or SIGTERM), exiting with status 0."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from typing import Any

import pytest


def _get(settings: dict[str, str], path: str) -> Any:
    request = urllib.request.Request(
        settings["PINTEREST_BASE_URL"] + path,
        headers={"Authorization": f"Bearer {settings['PINTEREST_ACCESS_TOKEN']}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_the_simulator_runs_standalone(stop_signal: signal.Signals) -> None:
    command = [
        sys.executable,
        "-m",
        "aiopinterest.testing",
        "--port",
        "0",
        "--token",
        "t0k3n",
        "--boards",
        "2",
    ]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            settings = dict(process.stdout.readline().strip().split("=", 1) for _ in range(2))
            assert settings["PINTEREST_ACCESS_TOKEN"] == "t0k3n"
            assert len(_get(settings, "/boards")["items"]) == 2
        finally:
            process.send_signal(stop_signal)
            assert process.wait(timeout=10) == 0


def test_report_options_reach_the_simulator() -> None:
    command = [
        sys.executable,
        "-m",
        "aiopinterest.testing",
        "--port",
        "0",
        "--report-delay",
        "0",
        "--fail-reports",
    ]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            settings = dict(process.stdout.readline().strip().split("=", 1) for _ in range(2))
            request = urllib.request.Request(
                settings["PINTEREST_BASE_URL"] + "/ad_accounts/1/reports",
                data=json.dumps(
                    {
                        "start_date": "2026-01-01",
                        "end_date": "2026-01-02",
                        "granularity": "DAY",
                        "level": "ADVERTISER",
                        "columns": ["SPEND_IN_DOLLAR"],
                    }
                ).encode(),
                headers={
                    "Authorization": f"Bearer {settings['PINTEREST_ACCESS_TOKEN']}",
                    "Content-Type": "application/json",
                },
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                token = json.load(response)["token"]
            assert _get(settings, f"/ad_accounts/1/reports?token={token}")["report_status"] == "FAILED"
        finally:
            process.terminate()
            assert process.wait(timeout=10) == 0
