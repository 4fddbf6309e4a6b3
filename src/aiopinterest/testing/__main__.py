"""``python -m aiopinterest.testing``: the simulator as a standalone server, until interrupted.

Use it to point a program that is not your test process at the simulator (another process, another language,
a shell session)::

    $ python -m aiopinterest.testing --port 0 --boards 3 --pins-per-board 1000
    PINTEREST_BASE_URL=http://127.0.0.1:43817/v5
    PINTEREST_ACCESS_TOKEN=pina_sim_...

Once it listens (and after seeding), it prints exactly those two lines on standard output, flushed, and nothing
else there: a script can read the first two lines to learn the address and the token (``--port 0`` picks a free
port, so reading them is the only way to learn it). ``aiopinterest.Client()`` reads both variables from the
environment. The server runs in the foreground until SIGINT (Ctrl-C) or SIGTERM, then closes its connections
and exits with status 0. State lives in memory only: every start is a fresh simulator.

Run ``python -m aiopinterest.testing --help`` for every option; each maps to the :class:`PinterestSimulator`
argument of the same name.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from ._limits import DEFAULT_RATE_LIMIT, Faults, RateLimit
from ._reports import DEFAULT_DELAY as DEFAULT_REPORT_DELAY
from ._reports import DEFAULT_URL_LIFETIME
from ._simulator import PinterestSimulator
from ._store import DEFAULT_MEDIA_PROCESSING_DELAY


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m aiopinterest.testing",
        description="Run the Pinterest API v5 simulator until interrupted. Once listening, it prints "
        "PINTEREST_BASE_URL=... and PINTEREST_ACCESS_TOKEN=... on standard output.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument(
        "--port", type=int, default=8080, help="port to listen on; 0 picks a free one (default: %(default)s)"
    )
    parser.add_argument("--token", help="the access token to accept (default: a random one, printed)")
    parser.add_argument("--seed", type=int, default=0, help="seed of synthesised data and fault draws")
    parser.add_argument("--boards", type=int, default=0, help="boards to seed")
    parser.add_argument("--pins-per-board", type=int, default=0, help="pins to seed on each board")
    parser.add_argument("--rate-limit", type=int, help="requests per minute allowed in every category")
    parser.add_argument("--error-rate", type=float, default=0.0, help="probability of an injected 5xx")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every response")
    parser.add_argument(
        "--media-processing-delay",
        type=float,
        default=DEFAULT_MEDIA_PROCESSING_DELAY,
        help="seconds an uploaded media stays 'processing' (default: %(default)s)",
    )
    parser.add_argument(
        "--report-delay",
        type=float,
        default=DEFAULT_REPORT_DELAY,
        help="seconds a report stays IN_PROGRESS (default: %(default)s)",
    )
    parser.add_argument(
        "--report-url-lifetime",
        type=float,
        default=DEFAULT_URL_LIFETIME,
        help="seconds a report download URL works (default: %(default)s)",
    )
    parser.add_argument("--fail-reports", action="store_true", help="every report ends FAILED")
    return parser


async def _serve(args: argparse.Namespace) -> None:
    simulator = PinterestSimulator(
        host=args.host,
        port=args.port,
        access_token=args.token,
        seed=args.seed,
        faults=Faults(error_rate=args.error_rate, latency=args.latency),
        default_rate_limit=RateLimit(args.rate_limit, 60.0) if args.rate_limit else DEFAULT_RATE_LIMIT,
        media_processing_delay=args.media_processing_delay,
        report_delay=args.report_delay,
        report_url_lifetime=args.report_url_lifetime,
        fail_reports=args.fail_reports,
    )
    stop = asyncio.Event()
    # SIGTERM (docker stop, a CI runner, Popen.terminate) ends the server as cleanly as Ctrl-C does.
    with contextlib.suppress(NotImplementedError):  # no signal handlers in Windows event loops
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with simulator:
        if args.boards:
            simulator.seed(args.boards, args.pins_per_board)
        print(f"PINTEREST_BASE_URL={simulator.base_url}", flush=True)
        print(f"PINTEREST_ACCESS_TOKEN={simulator.access_token}", flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
