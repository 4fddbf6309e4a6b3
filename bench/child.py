"""One measured run in a fresh process, inside the client's own virtual environment.

``python -m bench.child '<json request>'`` prints one line ``RESULT <json>``: the measurement and the peak RSS
of this process. A fresh process per run keeps the peak RSS of one workload apart from the others.
With ``"profile": "<path>"`` the measured part of the run is profiled with cProfile, the statistics dumped there.
"""

from __future__ import annotations

import cProfile
import importlib
import json
import resource
import sys
import time
from dataclasses import asdict
from typing import Any

from . import payloads
from .config import BOARD_ID, PAGE_SIZE
from .drivers import base
from .drivers.base import Driver, Measurement, measure_decode, measure_get, measure_list


def run(request: dict[str, Any]) -> Measurement:
    driver: Driver = importlib.import_module(f"bench.drivers.{request['module']}").Driver()
    workload, cap = request["workload"], request["time_cap"]
    if workload == "get":
        return measure_get(driver, request["base_url"], request["count"], request["concurrency"], cap)
    if workload == "list":
        return measure_list(driver, request["base_url"], BOARD_ID, PAGE_SIZE, cap)
    if workload == "decode":
        page = payloads.page_body(payloads.page_items(), payloads.bookmark_for(1))
        return measure_decode(driver, page, request["count"], cap)
    raise ValueError(f"unknown workload {workload!r}")


def main() -> None:
    request = json.loads(sys.argv[1])
    profile_path = request.get("profile")
    # CPU time, not wall time: on a busy machine a descheduled function would otherwise look slow.
    profiler = base.profiler = cProfile.Profile(time.process_time) if profile_path else None
    measurement = run(request)
    if profiler is not None:
        profiler.dump_stats(profile_path)
    print("RESULT " + json.dumps({**asdict(measurement), "peak_rss_mb": round(peak_rss_mb(), 1)}), flush=True)


def peak_rss_mb() -> float:
    """This process's peak resident set size.

    VmHWM rather than ``ru_maxrss``: Linux carries ``ru_maxrss`` across exec, so a child would report its parent's
    peak if that was higher.
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
