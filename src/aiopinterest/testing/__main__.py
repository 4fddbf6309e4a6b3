"""``python -m aiopinterest.testing``: run the simulator in the foreground until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from ._limits import DEFAULT_RATE_LIMIT, Faults, RateLimit
from ._simulator import PinterestSimulator


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m aiopinterest.testing", description="Run the Pinterest API v5 simulator."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument(
        "--port", type=int, default=8080, help="port to listen on; 0 picks one (default: %(default)s)"
    )
    parser.add_argument("--token", help="the access token to accept (default: a random one, printed)")
    parser.add_argument("--seed", type=int, default=0, help="seed of synthesised data and faults")
    parser.add_argument("--boards", type=int, default=0, help="boards to seed")
    parser.add_argument("--pins-per-board", type=int, default=0, help="pins to seed on each board")
    parser.add_argument("--rate-limit", type=int, help="requests per minute allowed in every category")
    parser.add_argument("--error-rate", type=float, default=0.0, help="probability of an injected 5xx")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every response")
    return parser


async def _serve(args: argparse.Namespace) -> None:
    simulator = PinterestSimulator(
        host=args.host,
        port=args.port,
        access_token=args.token,
        seed=args.seed,
        faults=Faults(error_rate=args.error_rate, latency=args.latency),
        default_rate_limit=RateLimit(args.rate_limit, 60.0) if args.rate_limit else DEFAULT_RATE_LIMIT,
    )
    async with simulator:
        if args.boards:
            simulator.seed(args.boards, args.pins_per_board)
        print(f"PINTEREST_BASE_URL={simulator.base_url}", flush=True)
        print(f"PINTEREST_ACCESS_TOKEN={simulator.access_token}", flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
