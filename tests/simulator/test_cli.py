"""``python -m aiopinterest.testing`` serves until interrupted."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request


def test_the_simulator_runs_standalone() -> None:
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
            request = urllib.request.Request(
                settings["PINTEREST_BASE_URL"] + "/boards", headers={"Authorization": "Bearer t0k3n"}
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                assert len(json.load(response)["items"]) == 2
        finally:
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=10) == 0
