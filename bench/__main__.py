"""``python -m bench [--quick]``: run every benchmark and write BENCHMARKS.md and the chart."""

from __future__ import annotations

import argparse

from .config import FULL, QUICK
from .run import main

parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
parser.add_argument(
    "--quick", action="store_true", help="small counts, for developing the harness; writes under bench/.work/"
)
main(QUICK if parser.parse_args().quick else FULL)
