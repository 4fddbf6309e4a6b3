"""The second half of ``make demo``: ``aiopinterest export`` of the simulator's data, with its progress bars.

Starts the simulator as its own process (``python -m aiopinterest.testing``), points the command at it through
``PINTEREST_BASE_URL`` and ``PINTEREST_ACCESS_TOKEN``, exports boards, their Pins, Pin analytics and the ads
streams to a temporary directory, prints the summary, then runs the same command again to show that a finished
export has nothing left to do. Exits non-zero unless every Pin is in the output exactly once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

BOARDS, PINS_PER_BOARD = 8, 2_500
SIMULATOR = (sys.executable, "-m", "aiopinterest.testing", "--port", "0")
STREAMS = ("boards", "board_pins", "pin_analytics", "ad_accounts", "campaigns", "ad_account_analytics")


def main() -> int:
    simulator = subprocess.Popen(
        [*SIMULATOR, "--boards", str(BOARDS), "--pins-per-board", str(PINS_PER_BOARD), "--latency", "0.01"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert simulator.stdout is not None
        variables = dict(simulator.stdout.readline().strip().split("=", 1) for _ in range(2))
        with tempfile.TemporaryDirectory() as directory:
            command = [sys.executable, "-m", "aiopinterest", "export", *STREAMS, "--out", directory, "--json"]
            print("$ aiopinterest export " + " ".join(STREAMS) + " --out DIR --json", flush=True)
            first = subprocess.run(
                command, env={**os.environ, **variables}, stdout=subprocess.PIPE, check=True
            )
            summary = json.loads(first.stdout)
            print(json.dumps(summary, indent=1))
            print("$ aiopinterest export ... (the same command again)", flush=True)
            again = subprocess.run(
                command, env={**os.environ, **variables}, stdout=subprocess.PIPE, check=True
            )
            pins = Path(directory, "board_pins.jsonl").read_bytes().splitlines()
            ids = {json.loads(line)["id"] for line in pins}
    finally:
        simulator.terminate()
        simulator.wait(timeout=10)
    expected = BOARDS * PINS_PER_BOARD
    repeated = json.loads(again.stdout)
    if len(pins) != expected or len(ids) != expected or repeated["requests"] != 0:
        print(
            f"FAILED: {len(pins)} lines, {len(ids)} distinct Pins (expected {expected}); rerun sent "
            f"{repeated['requests']} requests",
            file=sys.stderr,
        )
        return 1
    print(f"OK: {expected:,} Pins exactly once; the rerun sent no request")
    return 0


if __name__ == "__main__":
    sys.exit(main())
