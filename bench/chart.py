"""The throughput chart, drawn with matplotlib in its own environment (it is no dependency of the project).

``python -m bench.chart results.json out.png``
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display
import matplotlib.pyplot as plt

from .drivers import BY_KEY


def draw(results: dict, output: Path) -> None:
    runs = results["runs"]
    gets = [run for run in runs if run["workload"] == "get"]
    concurrencies = sorted({run["concurrency"] for run in gets})
    clients = list(dict.fromkeys(run["client"] for run in gets))
    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 5), gridspec_kw={"width_ratios": [2, 1]})
    width = 0.8 / len(clients)
    for index, client in enumerate(clients):
        rates = [
            next(
                r["operations"] / r["seconds"]
                for r in gets
                if r["client"] == client and r["concurrency"] == c
            )
            for c in concurrencies
        ]
        positions = [
            c_index + (index - (len(clients) - 1) / 2) * width for c_index in range(len(concurrencies))
        ]
        bars = left.bar(positions, rates, width, label=BY_KEY[client].label)
        left.bar_label(bars, labels=[f"{rate:,.0f}" for rate in rates], fontsize=7, rotation=90, padding=2)
    left.set_xticks(range(len(concurrencies)), [str(c) for c in concurrencies])
    left.set_xlabel("concurrency")
    left.set_ylabel("requests per second")
    left.set_title("GET /pins/{pin_id}")
    left.legend(fontsize=8)
    left.margins(y=0.15)

    lists = [run for run in runs if run["workload"] == "list"]
    labels = [BY_KEY[run["client"]].label.split(" (")[0] for run in lists]
    rates = [run["items"] / run["seconds"] for run in lists]
    bars = right.barh(labels, rates, color=[f"C{clients.index(run['client'])}" for run in lists])
    right.bar_label(bars, labels=[f"{rate:,.0f}" for rate in rates], fontsize=8, padding=2)
    right.set_xscale("log")
    right.set_xlabel("pins per second (log scale)")
    right.set_title("List a board: 250-pin pages, item by item")
    right.invert_yaxis()
    right.margins(x=0.25)

    scale = "" if results["scale"] == "full" else " (quick mode)"
    figure.suptitle(
        f"aiopinterest benchmarks{scale}: {results['machine']['cpu']}, {results['machine']['cores']} cores"
    )
    figure.tight_layout()
    figure.savefig(output, dpi=110)


if __name__ == "__main__":
    draw(json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2]))
