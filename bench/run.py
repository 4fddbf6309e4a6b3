"""The harness: environments, the server, every measured run, import times, profiles, then the report."""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import envs, loopback, profiling, pydantic_gen, report
from .config import CHART, OFFICIAL, PROJECT, PYDANTIC, PYTHON_PINTEREST, ROOT, WORK, Scale
from .drivers import AIOPINTEREST, BARE, CLIENTS, ClientSpec

# Distributions whose versions the report names, per environment.
VERSIONS = {
    PROJECT: ("aiopinterest", "aiohttp", "msgspec", "anyio", "yarl", "datamodel-code-generator"),
    OFFICIAL: ("pinterest-api-sdk", "Pinterest-Generated-Client", "urllib3"),
    PYTHON_PINTEREST: ("python-pinterest", "httpx", "dataclasses-json"),
    PYDANTIC: ("pydantic", "pydantic-core"),
}
# Seconds; hitting it means a hang. The longest child, ratelimit.py with its baseline, takes 3-5 minutes: the old
# code waits out whole 60-second windows, so its time depends on where the first call falls in one.
_CHILD_TIMEOUT = 600.0


@dataclass
class Run:
    client: str
    workload: str
    concurrency: int
    operations: int
    items: int
    seconds: float
    capped: bool
    peak_rss_mb: float
    # Throughput of every round; the fields above are those of the best round.
    rounds: list[float] = field(default_factory=list)


@dataclass
class Results:
    scale: str
    date: str
    machine: dict[str, str]
    versions: dict[str, dict[str, str]]
    runs: list[Run] = field(default_factory=list)
    imports: dict[str, list[float]] = field(default_factory=dict)
    import_breakdown: list[tuple[str, float, float]] = field(default_factory=list)
    load_average: tuple[float, float, float] = (0.0, 0.0, 0.0)
    profiles: dict[str, Any] = field(default_factory=dict)
    # Title -> the command, what it printed, and its wall time in seconds.
    companions: dict[str, tuple[str, str, float]] = field(default_factory=dict)


def main(scale: Scale) -> None:
    for environment in {client.environment for client in CLIENTS} | {CHART}:
        envs.ensure(environment)
    pydantic_gen.generate()
    WORK.mkdir(parents=True, exist_ok=True)
    results = Results(
        scale=scale.name,
        date=datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        machine=_machine(),
        versions={
            environment.name: envs.versions(environment, names) for environment, names in VERSIONS.items()
        },
        # Other work on the machine skews every figure; the report says how busy it was.
        load_average=os.getloadavg(),
    )
    with server(scale.pages) as base_url:
        for concurrency in scale.concurrencies:
            results.runs += _measure_all("get", scale, base_url=base_url, concurrency=concurrency)
        results.runs += _measure_all("list", scale, base_url=base_url)
        results.runs += _measure_all("decode", scale)
        _log("profiling aiopinterest and the limit")
        results.profiles = _profiles(scale, base_url)
    for client in CLIENTS:
        _log(f"import time: {client.label}")
        results.imports[client.key] = _import_times(client, scale.import_runs)
    results.import_breakdown = import_breakdown(AIOPINTEREST)
    for title, script, arguments in scale.companions:
        _log(f"{script} {' '.join(arguments)}")
        results.companions[title] = _companion(script, arguments)
    results_path = WORK / f"results-{scale.name}.json"
    results_path.write_text(json.dumps(asdict(results), indent=1))
    report.write(results_path, scale)
    _chart(results_path, scale.chart)
    _log(f"wrote {scale.report.relative_to(ROOT)} and {scale.chart.relative_to(ROOT)}")


def _clients_for(workload: str) -> list[ClientSpec]:
    return [client for client in CLIENTS if workload in client.workloads]


@contextmanager
def server(pages: int) -> Iterator[str]:
    """The local API server in its own process; yields its base URL and always stops it."""
    with loopback.serving(PROJECT.python, "-m", "bench.server", "--pages", str(pages), cwd=ROOT) as port:
        yield f"http://127.0.0.1:{port}"


def child(client: ClientSpec, request: dict[str, Any]) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter of the client's environment; returns its RESULT."""
    completed = subprocess.run(
        [
            str(client.environment.python),
            "-m",
            "bench.child",
            json.dumps({"module": client.module, **request}),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=_CHILD_TIMEOUT,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    for line in completed.stdout.splitlines():
        if line.startswith("RESULT "):
            result: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
            return result
    raise RuntimeError(f"{client.label} {request.get('workload')} failed:\n{completed.stderr[-3000:]}")


def _measure_all(workload: str, scale: Scale, *, base_url: str = "", concurrency: int = 1) -> list[Run]:
    """Every client that has this workload, in ``scale.rounds`` rounds that alternate the clients; the best round
    of each client is kept: other work on the machine can only slow a run down, never speed it up."""
    clients = _clients_for(workload)
    samples: dict[str, list[Run]] = {client.key: [] for client in clients}
    for round_number in range(scale.rounds):
        for client in clients:
            _log(f"{workload} (concurrency {concurrency}), round {round_number + 1}: {client.label}")
            samples[client.key].append(_measure(client, workload, scale, base_url, concurrency))
    return [_best_round(runs) for runs in samples.values()]


def _best_round(runs: list[Run]) -> Run:
    rates = [report.throughput(asdict(run)) for run in runs]
    best = runs[rates.index(max(rates))]
    best.rounds = rates
    best.peak_rss_mb = max(run.peak_rss_mb for run in runs)
    return best


def _measure(client: ClientSpec, workload: str, scale: Scale, base_url: str, concurrency: int) -> Run:
    count = scale.get_count if workload == "get" else scale.decode_times
    result = child(
        client,
        {
            "workload": workload,
            "base_url": base_url,
            "count": count,
            "concurrency": concurrency,
            "time_cap": scale.time_cap,
        },
    )
    return Run(client=client.key, workload=workload, concurrency=concurrency, **result)


def _profiles(scale: Scale, base_url: str) -> dict[str, Any]:
    """cProfile of aiopinterest and of the limit on the same runs, summarised per request."""
    summaries: dict[str, Any] = {}
    concurrency = 64
    for workload in ("get", "list", "decode"):
        for client in (AIOPINTEREST, BARE):
            path = WORK / f"profile-{client.key}-{workload}.prof"
            # A quarter of the work is plenty for a profile, and cProfile doubles the time it takes.
            count = (scale.get_count if workload == "get" else scale.decode_times) // 4
            result = child(
                client,
                {
                    "workload": workload,
                    "base_url": base_url,
                    "count": count,
                    "concurrency": concurrency,
                    # Within the ten minutes: a profile needs proportions, not every request of the quarter.
                    "time_cap": scale.time_cap,
                    "profile": str(path),
                },
            )
            summaries[f"{client.key}/{workload}"] = profiling.summarise(path, result["operations"])
    return summaries


def _import_times(client: ClientSpec, runs: int) -> list[float]:
    """Seconds the client's import snippet takes in each of ``runs`` fresh interpreters."""
    code = f"import time\nstarted = time.perf_counter()\nexec({client.import_snippet!r})\nprint(time.perf_counter() - started)"
    # One untimed run first, with bytecode writing allowed: an installed package has its .pyc files (pip compiles
    # them), and this machine's PYTHONDONTWRITEBYTECODE would otherwise leave the editable source uncompiled.
    _python(client, "-c", code)
    return [float(_python(client, "-c", code).stdout.split()[-1]) for _ in range(runs)]


def import_breakdown(client: ClientSpec, top: int = 12) -> list[tuple[str, float, float]]:
    """``python -X importtime``: the modules costing most (name, self ms, cumulative ms), costliest first."""
    rows = []
    for line in _python(client, "-X", "importtime", "-c", client.import_snippet).stderr.splitlines():
        fields = line.removeprefix("import time:").split("|")
        if len(fields) == 3 and fields[0].strip().isdigit():
            rows.append((fields[2].strip(), int(fields[0]) / 1000, int(fields[1]) / 1000))
    return sorted(rows, key=lambda row: -row[1])[:top]


def _companion(script: str, arguments: tuple[str, ...]) -> tuple[str, str, float]:
    """Run one of bench/'s standalone benchmark scripts in the project's environment: the command, its output
    and its seconds."""
    started = time.perf_counter()
    completed = subprocess.run(
        [str(PROJECT.python), str(ROOT / "bench" / script), *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=_CHILD_TIMEOUT,
    )
    command = " ".join(["python", f"bench/{script}", *arguments])
    return command, completed.stdout.strip(), time.perf_counter() - started


def _python(client: ClientSpec, *arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    return subprocess.run(
        [str(client.environment.python), *arguments],
        cwd=WORK,  # not the repository root: only the environment's own packages are importable
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )


def _chart(results_path: Path, output: Path) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [str(CHART.python), "-m", "bench.chart", str(results_path), str(output)],
        cwd=ROOT,
        check=True,
        timeout=300,
    )


def _machine() -> dict[str, str]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "os": f"{platform.system()} {platform.release()}",
    }


def _log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)
