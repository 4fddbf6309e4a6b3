"""Import cost of aiopinterest against its own dependencies, each measured in fresh interpreters, side by side.

Run: ``.venv/bin/python bench/import_cost.py [--runs N]``. Prints a Markdown table; ``measure()`` returns the
figures for the harness.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

# Each snippet runs in a new interpreter and prints the seconds its body took.
SNIPPETS = {
    "import aiohttp, msgspec, anyio": "import aiohttp, msgspec, anyio",
    "import aiopinterest": "import aiopinterest",
    "aiopinterest.Client ready": "import aiopinterest\nclient = aiopinterest.Client(access_token='t')",
    "first namespace (client.pins)": (
        "import aiopinterest\nclient = aiopinterest.Client(access_token='t')\nclient.pins"
    ),
    "first call (client.pins.get, local server)": "FIRST_CALL",
}

FIRST_CALL = """
import http.server, threading

class Pin(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"id": "1", "title": "t"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass

# A stdlib server, so that aiohttp's import is counted in the measured part.
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Pin)
threading.Thread(target=server.serve_forever, daemon=True).start()
import time
start = time.perf_counter()
import asyncio
import aiopinterest

async def main():
    base_url = f"http://127.0.0.1:{server.server_address[1]}/v5"
    async with aiopinterest.Client(access_token="t", base_url=base_url) as client:
        await client.pins.get(pin_id="1")

asyncio.run(main())
print(time.perf_counter() - start)
server.shutdown()
"""


def _time_once(snippet: str) -> float:
    if snippet == "FIRST_CALL":
        code = FIRST_CALL
    else:
        code = f"import time\nstart = time.perf_counter()\n{snippet}\nprint(time.perf_counter() - start)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return float(result.stdout.strip().splitlines()[-1])


def measure(runs: int = 15) -> dict[str, float]:
    """Median seconds per snippet; the runs are interleaved so drift on the machine hits every snippet alike."""
    samples: dict[str, list[float]] = {name: [] for name in SNIPPETS}
    for snippet in SNIPPETS.values():
        _time_once(snippet)  # warm the bytecode caches once
    for _ in range(runs):
        for name, snippet in SNIPPETS.items():
            samples[name].append(_time_once(snippet))
    return {name: statistics.median(values) for name, values in samples.items()}


def table(results: dict[str, float]) -> str:
    baseline = results["import aiohttp, msgspec, anyio"]
    lines = ["| what | median ms | vs `import aiohttp, msgspec, anyio` |", "| --- | ---: | ---: |"]
    for name, seconds in results.items():
        lines.append(f"| {name} | {seconds * 1000:.1f} | {seconds / baseline:.2f}x |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    print(table(measure(args.runs)))


if __name__ == "__main__":
    main()
