"""``python -m simulators {billing|inventory|network|listener|all}``: serve until Ctrl-C/SIGTERM.

The URLs are printed as ``NAME_URL=http://127.0.0.1:PORT`` lines so that a shell script (or
``make demo``) can ``eval`` them into the environment the catalog's base-URL overrides read.
"""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from . import SYSTEMS, Listener, start_all, stop_all
from . import start as start_system
from .faults import CALLBACK_STATUSES, SimConfig
from .server import LoopbackServer

TARGETS = (*SYSTEMS, "listener", "all")
SIM_FIELDS = frozenset(field.name for field in dataclasses.fields(SimConfig))
DEFAULTS = SimConfig()


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and ``--help``)."""
    parser = argparse.ArgumentParser(prog="python -m simulators", description=__doc__)
    parser.add_argument("target", choices=TARGETS)
    parser.add_argument("--port", type=int, default=0, help="port (all: first of 4); 0 = free")
    parser.add_argument("--token", help="require 'Authorization: Bearer TOKEN'")
    _add_fault_options(parser)
    _add_async_options(parser)
    return parser


def _add_fault_options(parser: argparse.ArgumentParser) -> None:
    """Options named after SimConfig fields; unset ones are absent, so SimConfig's defaults hold."""
    group = parser.add_argument_group(
        "faults (billing, inventory, network)", argument_default=argparse.SUPPRESS
    )
    group.add_argument("--error-rate", type=float, metavar="X", help="0..1 of requests fail")
    group.add_argument("--seed", type=int, help=f"seed of the error-rate RNG ({DEFAULTS.seed})")
    group.add_argument(
        "--error-status",
        type=int,
        metavar="CODE",
        help=f"status of --error-rate and --fail-times failures ({DEFAULTS.error_status})",
    )
    group.add_argument(
        "--status", type=int, metavar="CODE", help="fixed error status (400-599) for every request"
    )
    group.add_argument("--latency-ms", type=int, metavar="N", help="sleep before every answer")
    group.add_argument(
        "--timeout", action="store_true", help="never answer in time: hang --timeout-s, then 504"
    )
    group.add_argument(
        "--timeout-s", type=float, metavar="S", help=f"hang time ({DEFAULTS.timeout_s:g})"
    )
    group.add_argument(
        "--fail-times",
        type=int,
        metavar="N",
        help="only the next N requests fail (--timeout, --status or --error-status), then succeed",
    )
    group.add_argument(
        "--path",
        metavar="PREFIX",
        help="faults and --async apply only to request paths starting with PREFIX (e.g. /ports)",
    )
    group.add_argument(
        "--after-effect",
        action="store_true",
        help="faults strike after the work is done (reply lost)",
    )


def _add_async_options(parser: argparse.ArgumentParser) -> None:
    """Async mode and its callback knobs, defaults again left to SimConfig."""
    group = parser.add_argument_group("async callbacks", argument_default=argparse.SUPPRESS)
    group.add_argument("--async", dest="async_mode", action="store_true", help="answer 202")
    group.add_argument(
        "--callback-delay-ms",
        type=int,
        metavar="N",
        help=f"delay before the callback ({DEFAULTS.callback_delay_ms})",
    )
    group.add_argument(
        "--callback-status",
        choices=CALLBACK_STATUSES,
        help=f"result the callback reports ({DEFAULTS.callback_status})",
    )
    group.add_argument("--callback-reason", metavar="TEXT", help="reason of a failed callback")
    group.add_argument(
        "--callback-retries",
        type=int,
        metavar="N",
        help=f"redeliveries when the target refuses ({DEFAULTS.callback_retries})",
    )
    group.add_argument(
        "--callback-backoff-ms",
        type=int,
        metavar="N",
        help=f"first redelivery backoff, doubling ({DEFAULTS.callback_backoff_ms})",
    )


def sim_config(args: argparse.Namespace) -> dict[str, Any]:
    """The SimConfig changes ``args`` ask for, validated by SimConfig before anything starts.

    Raises:
        ValueError: a value SimConfig rejects (e.g. ``--status 200``), reported by ``main``.
    """
    config = {name: value for name, value in vars(args).items() if name in SIM_FIELDS}
    SimConfig().merged(config)
    return config


def start_servers(args: argparse.Namespace) -> dict[str, LoopbackServer]:
    """Start what ``args.target`` names; ports are consecutive from ``--port`` when given."""
    config = sim_config(args)
    if args.target == "listener":
        return {"listener": Listener(token=args.token).start(args.port)}
    if args.target != "all":
        return {args.target: start_system(args.target, args.port, **config)}
    ports = {name: args.port + i if args.port else 0 for i, name in enumerate(SYSTEMS)}
    servers: dict[str, LoopbackServer] = dict(start_all(ports=ports, **config))
    listener_port = args.port + len(SYSTEMS) if args.port else 0
    try:
        servers["listener"] = Listener(token=args.token).start(listener_port)
    except BaseException:
        stop_all(servers)
        raise
    return servers


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: print the URL(s), then block until SIGINT or SIGTERM."""
    args = build_parser().parse_args(argv)
    try:
        servers = start_servers(args)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for name, server in servers.items():
        line = server.url if args.target != "all" else f"{name.upper()}_URL={server.url}"
        print(line, flush=True)
    done = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: done.set())
    try:
        while not done.wait(0.5):
            pass
    finally:
        for server in servers.values():
            server.stop()
    return 0
