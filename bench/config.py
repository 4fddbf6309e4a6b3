"""Sizes of the workloads, where things live, and the per-client environments."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
WORK = BENCH / ".work"
VENVS = BENCH / ".venvs"

PAGE_SIZE = 250
BOARD_ID = "549755885175"


@dataclass(frozen=True, slots=True)
class Scale:
    """How much work each workload does; ``quick`` is for developing the harness, not for quoting."""

    name: str
    get_count: int
    concurrencies: tuple[int, ...]
    pages: int
    decode_times: int
    import_runs: int
    rounds: int  # every client runs every workload this many times, alternating; the best round counts
    # Every measured run stops taking new work after this many seconds, so the slow clients fit the ten-minute
    # budget; their throughput is steady long before, and is computed over the work done.
    time_cap: float
    # Arguments for each of the other issues' benchmark scripts (run by the harness, reported in one section each).
    companions: tuple[tuple[str, str, tuple[str, ...]], ...]
    report: Path
    chart: Path

    @property
    def quick(self) -> bool:
        return self.name == "quick"


FULL = Scale(
    name="full",
    get_count=20_000,
    concurrencies=(1, 16, 64, 256),
    pages=400,
    decode_times=1_000,
    import_runs=5,
    rounds=3,
    time_cap=3.5,
    companions=(
        (
            "Transport: client.pins.get against bare aiohttp, in alternating slices (issue 3)",
            "transport_pins_get.py",
            ("--calls", "60000", "--concurrency", "64"),
        ),
        (
            "Transport: CPU instructions per client.pins.get against bare aiohttp (issue 3)",
            "instructions.py",
            ("--calls", "2000"),
        ),
        (
            "Transport: the same count with Pinterest's rate-limit headers on every answer (issue 3)",
            "instructions.py",
            ("--calls", "2000", "--rate-limit-headers"),
        ),
        (
            "Rate limits: efficiency and 429s against three server shapes, before and after the governor (issue 13)",
            "ratelimit.py",
            ("--baseline", "5c28a42"),
        ),
        (
            "Response decoding: the cached Decoder per response type against decode(type=) (issue 17)",
            "decoder_cache.py",
            (),
        ),
        ("Import cost (issue 2)", "import_cost.py", ("--runs", "7")),
        ("Streamed pagination: memory and prefetch (issue 4)", "pagination_stream.py", ()),
        (
            "Media upload against curl -F (issue 5)",
            "media_upload.py",
            ("--size-mib", "1024", "--rounds", "3"),
        ),
        ("aiopinterest export: board pins to JSONL and Parquet (issue 16)", "export.py", ()),
        (
            "A fleet: 1, 4 and 16 processes sharing one 100/s budget through Redis, and each its own (issue 15)",
            "shared_budget.py",
            ("--calls", "600", "--baseline-calls", "600"),
        ),
    ),
    report=ROOT / "BENCHMARKS.md",
    chart=ROOT / "docs" / "bench-throughput.png",
)

QUICK = Scale(
    name="quick",
    get_count=2_000,
    concurrencies=(1, 16, 64, 256),
    pages=40,
    decode_times=100,
    import_runs=3,
    rounds=2,
    time_cap=2.0,
    companions=(
        (
            "Transport: client.pins.get against bare aiohttp, in alternating slices (issue 3)",
            "transport_pins_get.py",
            ("--calls", "2000", "--concurrency", "64", "--slice", "500"),
        ),
        (
            "Transport: CPU instructions per client.pins.get against bare aiohttp (issue 3)",
            "instructions.py",
            ("--calls", "300"),
        ),
        (
            "Rate limits: efficiency and 429s against three server shapes, before and after the governor (issue 13)",
            "ratelimit.py",
            ("--calls-fixed", "300", "--calls-bucket", "240"),
        ),
        (
            "Response decoding: the cached Decoder per response type against decode(type=) (issue 17)",
            "decoder_cache.py",
            ("--times", "2000", "--rounds", "2"),
        ),
        ("Import cost (issue 2)", "import_cost.py", ("--runs", "2")),
        ("Streamed pagination: memory and prefetch (issue 4)", "pagination_stream.py", ("--quick",)),
        (
            "Media upload against curl -F (issue 5)",
            "media_upload.py",
            ("--size-mib", "32", "--rounds", "1"),
        ),
        (
            "aiopinterest export: board pins to JSONL and Parquet (issue 16)",
            "export.py",
            ("--items", "20000", "--small", "5000"),
        ),
        (
            "A fleet: 1, 4 and 16 processes sharing one 100/s budget through Redis, and each its own (issue 15)",
            "shared_budget.py",
            ("--calls", "300", "--baseline-calls", "160", "--processes", "1", "4"),
        ),
    ),
    report=WORK / "BENCHMARKS-quick.md",
    chart=WORK / "bench-throughput-quick.png",
)


@dataclass(frozen=True, slots=True)
class Environment:
    """A virtual environment under bench/.venvs, created on first use with these requirements from PyPI."""

    name: str
    requirements: tuple[str, ...]

    @property
    def path(self) -> Path:
        return ROOT / ".venv" if self is PROJECT else VENVS / self.name

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"


# aiopinterest and the limit run in the project's own venv: the code under test, with the exact aiohttp and
# msgspec it ships with, so the two differ only by the SDK layer.
PROJECT = Environment("project", ())
OFFICIAL = Environment("official", ("pinterest-api-sdk==0.2.7",))
PYTHON_PINTEREST = Environment("python-pinterest", ("python-pinterest==0.2.0",))
PYDANTIC = Environment("pydantic", ("pydantic>=2.7,<3",))
CHART = Environment("chart", ("matplotlib>=3.8",))
