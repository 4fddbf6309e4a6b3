"""Turn a results file into BENCHMARKS.md: goals met or missed, tables of ratios and absolute figures, profiles."""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import PAGE_SIZE, ROOT, Scale
from .drivers import BY_KEY, CLIENTS

Results = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Goal:
    text: str
    measured: float  # a ratio, "higher is better"
    target: float

    @property
    def met(self) -> bool:
        return self.measured >= self.target

    def verdict(self) -> str:
        if self.met:
            return f"**met** ({self.measured / self.target - 1:+.0%} margin)"
        return f"**missed** by {1 - self.measured / self.target:.0%} (needs {self.target / self.measured:.2f}x more)"


def write(results_path: Path, scale: Scale) -> None:
    results: Results = json.loads(results_path.read_text())
    scale.report.parent.mkdir(parents=True, exist_ok=True)
    scale.report.write_text(render(results, scale))


def throughput(run: dict[str, Any]) -> float:
    """Requests per second for GET /pins, pins per second for listing and decoding."""
    done = run["operations"] if run["workload"] == "get" else run["items"]
    return float(done / run["seconds"])


def _find(results: Results, client: str, workload: str, concurrency: int = 1) -> dict[str, Any] | None:
    for run in results["runs"]:
        if (run["client"], run["workload"]) == (client, workload) and (
            workload != "get" or run["concurrency"] == concurrency
        ):
            return dict(run)
    return None


def _rate(results: Results, client: str, workload: str, concurrency: int = 1) -> float:
    run = _find(results, client, workload, concurrency)
    return throughput(run) if run else float("nan")


def _import_ms(results: Results, client: str) -> float:
    return statistics.median(results["imports"][client]) * 1000


def goals(results: Results) -> list[Goal]:
    rate = lambda *args: _rate(results, *args)  # noqa: E731
    concurrencies = sorted({run["concurrency"] for run in results["runs"] if run["workload"] == "get"})
    found = [
        Goal(
            f"GET /pins at concurrency {c}: aiopinterest >= 0.90x bare aiohttp+msgspec",
            rate("aiopinterest", "get", c) / rate("bare", "get", c),
            0.90,
        )
        for c in concurrencies
    ]
    found += [
        Goal(
            "List 100,000 pins: aiopinterest >= 0.90x bare",
            rate("aiopinterest", "list") / rate("bare", "list"),
            0.90,
        ),
        Goal(
            "List 100,000 pins: aiopinterest >= 10x the official client",
            rate("aiopinterest", "list") / rate("official", "list"),
            10.0,
        ),
        Goal(
            "GET /pins at concurrency 64: aiopinterest >= 5x the official client",
            rate("aiopinterest", "get", 64) / rate("official", "get", 64),
            5.0,
        ),
        Goal(
            "GET /pins at concurrency 64: aiopinterest >= 10x python-pinterest",
            rate("aiopinterest", "get", 64) / rate("python-pinterest", "get", 64),
            10.0,
        ),
        Goal(
            "Decode a 250-pin page: aiopinterest >= 5x faster than pydantic v2",
            rate("aiopinterest", "decode") / rate("pydantic", "decode"),
            5.0,
        ),
        # Time within 1.1x of msgspec's is throughput at least 1/1.1 of it.
        Goal(
            "Decode a 250-pin page: aiopinterest within 1.1x of bare msgspec (shown as msgspec time / ours)",
            rate("aiopinterest", "decode") / rate("bare", "decode"),
            1 / 1.1,
        ),
        Goal(
            "Import faster than the official client (shown as official time / ours)",
            _import_ms(results, "official") / _import_ms(results, "aiopinterest"),
            1.0,
        ),
    ]
    return found


def render(results: Results, scale: Scale) -> str:
    machine, lines = results["machine"], []
    add = lines.append
    title = "Benchmarks" if not scale.quick else "Benchmarks (QUICK MODE: small counts, not for quoting)"
    add(f"# {title}\n")
    add(
        f"Written by `make bench` (`python -m bench`{' --quick' if scale.quick else ''}) on {results['date']}; "
        "do not edit by hand. All clients ran in one run against one local aiohttp server on 127.0.0.1 (its own "
        "process) serving the same bytes to every client: a full Pin (1.4 KB, four image renditions) and "
        f"{PAGE_SIZE}-pin pages (357 KB) with bookmarks.\n"
    )
    add(
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['implementation']} {machine['python']}, "
        f"{machine['os']}. The server and the client under test share these cores; the load average when the "
        f"run started was {', '.join(f'{load:.2f}' for load in results['load_average'])} (other work on the "
        "machine can only lower a figure, so every client runs each workload in several alternating rounds and "
        "its best round is shown; all rounds are listed).\n"
    )
    add(
        "Versions: "
        + "; ".join(
            f"{env}: " + ", ".join(f"{name} {version}" for name, version in names.items())
            for env, names in results["versions"].items()
        )
        + ".\n"
    )
    add("![throughput per client and concurrency](docs/bench-throughput.png)\n" if not scale.quick else "")

    add("## Goals (issue 7)\n")
    add("| goal | measured | target | verdict |\n|---|---:|---:|---|")
    for goal in goals(results):
        add(f"| {goal.text} | {goal.measured:.2f}x | {goal.target:.2f}x | {goal.verdict()} |")
    add("")
    _misses_summary(results, add)
    _workload_get(results, add)
    _workload_list(results, add)
    _workload_decode(results, add)
    _imports(results, scale, add)
    _companions(results, add)
    _profiles(results, add)
    _method(scale, add)
    return "\n".join(lines) + "\n"


def _workload_get(results: Results, add: Any) -> None:
    runs = [run for run in results["runs"] if run["workload"] == "get"]
    add("## 1. GET /pins/{pin_id}\n")
    count = max(run["operations"] for run in runs)
    add(
        f"{count:,} requests per client and concurrency (after a warm-up). Requests per second; ratio = "
        "aiopinterest's throughput divided by the other client's (so > 1 means aiopinterest is faster). Each run "
        "is a process of its own; the transport's benchmark (issue 3), `client.pins.get` against bare aiohttp + "
        "`msgspec.json.decode` into the same struct with both paths taking turns in one process, has its own "
        "section below.\n"
    )
    add(
        "| concurrency | client | requests/s | aiopinterest ÷ client | vs the limit | seconds | peak RSS MB | rounds |"
    )
    add("|---:|---|---:|---:|---:|---:|---:|---|")
    for run in runs:
        ours = _rate(results, "aiopinterest", "get", run["concurrency"])
        limit = _rate(results, "bare", "get", run["concurrency"])
        add(
            f"| {run['concurrency']} | {BY_KEY[run['client']].label} | {throughput(run):,.0f} | "
            f"{ours / throughput(run):.2f}x | {throughput(run) / limit:.2f} | {run['seconds']:.2f}"
            f"{_capped(run)} | {run['peak_rss_mb']:.0f} | {_rounds(run)} |"
        )
    add("")


def _workload_list(results: Results, add: Any) -> None:
    runs = [run for run in results["runs"] if run["workload"] == "list"]
    add("## 2. List a board's pins, item by item\n")
    add("Every page of the board in order (`page_size=250`), each pin consumed one at a time.\n")
    add("| client | pins/s | pages/s | aiopinterest ÷ client | pins | seconds | peak RSS MB | rounds |")
    add("|---|---:|---:|---:|---:|---:|---:|---|")
    ours = _rate(results, "aiopinterest", "list")
    for run in runs:
        add(
            f"| {BY_KEY[run['client']].label} | {throughput(run):,.0f} | {run['operations'] / run['seconds']:,.1f} | "
            f"{ours / throughput(run):.2f}x | {run['items']:,} | {run['seconds']:.2f}{_capped(run)} | "
            f"{run['peak_rss_mb']:.0f} | {_rounds(run)} |"
        )
    add("")


def _workload_decode(results: Results, add: Any) -> None:
    runs = [run for run in results["runs"] if run["workload"] == "decode"]
    add("## 3. Decode only: one 250-pin page\n")
    add(
        "The page body decoded into typed objects again and again: msgspec into aiopinterest's structs (the "
        "limit), aiopinterest's own path (what `AsyncPaginator` runs per page: `Client._request` decoding "
        "with its cached decoder of the paginator's page type), and pydantic v2 `model_validate_json` on models generated by "
        "datamodel-code-generator from the same spec.\n"
    )
    add("| client | pages/s | ms per page | pins/s | aiopinterest ÷ client | peak RSS MB | rounds (pins/s) |")
    add("|---|---:|---:|---:|---:|---:|---|")
    ours = _rate(results, "aiopinterest", "decode")
    for run in runs:
        add(
            f"| {BY_KEY[run['client']].label} | {run['operations'] / run['seconds']:,.0f} | "
            f"{run['seconds'] / run['operations'] * 1000:.3f} | {throughput(run):,.0f} | "
            f"{ours / throughput(run):.2f}x | {run['peak_rss_mb']:.0f} | {_rounds(run)} |"
        )
    add("")


def _imports(results: Results, scale: Scale, add: Any) -> None:
    add("## Import time\n")
    add(
        f"Median of {scale.import_runs} fresh interpreters: the statements that leave each client ready for its "
        "first call, without I/O (interpreter start-up excluded).\n"
    )
    add("| client | median ms | min ms | max ms | measured |")
    add("|---|---:|---:|---:|---|")
    for client in CLIENTS:
        times = [t * 1000 for t in results["imports"][client.key]]
        snippet = "; ".join(client.import_snippet.splitlines()).replace("|", "\\|")
        add(
            f"| {client.label} | {statistics.median(times):.0f} | {min(times):.0f} | {max(times):.0f} | `{snippet}` |"
        )
    add("")
    add(
        "Where aiopinterest's import time goes (`python -X importtime`, one run; the costliest modules by self time):\n"
    )
    add("| module | self ms | cumulative ms |\n|---|---:|---:|")
    for module, own, cumulative in results["import_breakdown"]:
        add(f"| `{module}` | {own:.1f} | {cumulative:.1f} |")
    add("")


def _companions(results: Results, add: Any) -> None:
    """The other issues' benchmark scripts, run by the harness in the same run; each compares side by side."""
    for title, (command, output, seconds) in results["companions"].items():
        add(f"## {title}\n")
        add(f"`{command}`, run by the harness in this run ({seconds:.0f} s); as it printed:\n")
        add("```text\n" + output + "\n```\n")


def _profiles(results: Results, add: Any) -> None:
    add("## Where aiopinterest's time goes (cProfile)\n")
    add(
        "aiopinterest and the limit profiled on the same workloads (GET at concurrency 64, the listing, the "
        "decode). Self time per operation (request, page listed, or page decoded) by library area, in "
        "microseconds; cProfile inflates every Python call, so compare the columns with each other, not with "
        "the throughput tables.\n"
    )
    for workload, unit in (("get", "request"), ("list", "page"), ("decode", "page decoded")):
        ours = results["profiles"].get(f"aiopinterest/{workload}")
        limit = results["profiles"].get(f"bare/{workload}")
        if not ours or not limit:
            continue
        add(f"### {workload}: µs per {unit}\n")
        own = sum(us for name, us in ours["areas_us"].items() if name.startswith("aiopinterest"))
        add(
            f"Total: aiopinterest {ours['total_us']:,.0f} µs, the limit {limit['total_us']:,.0f} µs "
            f"({ours['total_us'] / limit['total_us'] - 1:+.0%}); aiopinterest's own modules: {own:,.1f} µs.\n"
        )
        add("| area | aiopinterest | the limit | difference |")
        add("|---|---:|---:|---:|")
        names = sorted(
            set(ours["areas_us"]) | set(limit["areas_us"]), key=lambda n: -ours["areas_us"].get(n, 0.0)
        )
        for name in names:
            a, b = ours["areas_us"].get(name, 0.0), limit["areas_us"].get(name, 0.0)
            if max(a, b) >= 0.5:
                add(f"| {name} | {a:,.1f} | {b:,.1f} | {a - b:+,.1f} |")
        add("")
        add(
            "aiopinterest functions by cumulative time (µs per operation; cProfile counts every resumption of a "
            "coroutine as a call):\n"
        )
        add("| function | cumulative µs | self µs | calls |")
        add("|---|---:|---:|---:|")
        for entry in ours["aiopinterest_cumulative"][:10]:
            add(
                f"| `{entry['function']}` | {entry['cumulative_us']:,.1f} | {entry['self_us']:,.1f} | "
                f"{entry['calls_per_op']:.1f} |"
            )
        add("")


def _method(scale: Scale, add: Any) -> None:
    add("## How each client was run\n")
    add(
        "- Every measured run is a fresh process in the client's own virtual environment (`bench/.venvs/`, "
        "created by the harness from PyPI), so peak RSS is per workload. `concurrency` workers share one "
        "iterator of request numbers: asyncio tasks for the async clients, a thread pool for the official "
        "client (a plain loop at concurrency 1). Each GET run starts after an untimed warm-up of "
        "max(2 x concurrency, 100) requests.\n"
        "- aiopinterest: `Client(base_url=..., max_concurrency=<concurrency>)`, `await client.pins.get(pin_id=)`, "
        "`async for pin in client.boards.list_pins(board_id=, page_size=250)` (default prefetch of one page).\n"
        "- The limit: one `aiohttp.ClientSession` (`TCPConnector(limit=<concurrency>)`), status check, "
        "`msgspec.json.Decoder(Pin)` / a page struct of aiopinterest's `Pin`; pages fetched one after another.\n"
        "- pinterest-api-sdk: `PinterestSDKClient(configuration=Configuration(host=<server>/v5))` with the SDK's "
        "own defaults otherwise and `connection_pool_maxsize` raised to the thread count; `Pin(pin_id=, "
        "client=)`; `Board(board_id=, client=).list_pins(page_size=250)` then `bookmark.get_next()`.\n"
        "- python-pinterest: `AsyncApi(access_token=)` with `DEFAULT_API_URL` set to the server (it has no "
        "setting for it); `await api.pins.get(pin_id=)`, `await api.boards.list_pins(board_id=, page_size=250, "
        "bookmark=)`. Its httpx client keeps its default pool (100 connections), as its users get.\n"
        "- pydantic: `bench/pydantic_gen.py` runs datamodel-code-generator on the same spec and overlay into "
        "`bench/.work/` (never committed); a page model `items: list[Pin]`, `bookmark: str | None`.\n"
        f"- Rounds and time cap: every client runs every workload {scale.rounds} times, the clients alternating, "
        "and the best round is reported. A run stops taking new work after "
        f"{scale.time_cap:g} s and its throughput is computed over the work done (marked \\* in the tables): the "
        "slow clients' rate is steady well before that, and full counts for them would not fit the ten-minute "
        "budget.\n"
    )


def _misses_summary(results: Results, add: Any) -> None:
    """The costs behind the misses, in one place; the sections below have the full tables."""
    missed = [goal for goal in goals(results) if not goal.met]
    if not missed:
        return
    add("What the profiles show as the cost of the misses (details in the last sections):\n")
    profile = results["profiles"].get("aiopinterest/get")
    limit = results["profiles"].get("bare/get")
    if profile and limit and any("bare" in goal.text or "python-pinterest" in goal.text for goal in missed):
        own = {name: us for name, us in profile["areas_us"].items() if name.startswith("aiopinterest")}
        top = ", ".join(
            f"`{name.removeprefix('aiopinterest ')}` {us:.1f}" for name, us in list(own.items())[:6]
        )
        add(
            f"- GET /pins: under cProfile (CPU time) a request costs {profile['total_us']:,.0f} µs in aiopinterest "
            f"against {limit['total_us']:,.0f} µs for the limit; aiopinterest's own modules take "
            f"{sum(own.values()):,.1f} µs of it, costliest first (µs per request): {top}. The server shares the "
            "two cores, so the gap shows once requests overlap (concurrency 16 and up); at concurrency 1 the "
            "round trip dominates."
        )
    if any("Import" in goal.text for goal in missed) and results["import_breakdown"]:
        modules = ", ".join(f"`{module}` {own:.0f} ms" for module, own, _ in results["import_breakdown"][:4])
        add(
            f"- Import: the costliest modules by self time are {modules}; aiohttp's import alone is comparable to "
            "the official client's whole import (urllib3 and a lazily loaded generated client)."
        )
    add("")


def _rounds(run: dict[str, Any]) -> str:
    return " / ".join(f"{rate:,.0f}" for rate in run["rounds"])


def _capped(run: dict[str, Any]) -> str:
    return "\\*" if run["capped"] else ""


if __name__ == "__main__":
    import sys

    from .config import FULL, QUICK

    chosen = QUICK if "--quick" in sys.argv else FULL
    write(ROOT / "bench" / ".work" / f"results-{chosen.name}.json", chosen)
