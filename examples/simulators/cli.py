"""``python -m simulators {billing|inventory|network|listener|all}``: serve until Ctrl-C/SIGTERM.

The URLs are printed as ``NAME_URL=http://127.0.0.1:PORT`` lines so that a shell script (or
``make demo``) can ``eval`` them into the environment the catalog's base-URL overrides read.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from . import SYSTEMS, Listener, start_all, stop_all
from . import start as start_system
from .server import LoopbackServer

TARGETS = (*SYSTEMS, "listener", "all")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and ``--help``)."""
    parser = argparse.ArgumentParser(prog="python -m simulators", description=__doc__)
    parser.add_argument("target", choices=TARGETS)
    parser.add_argument("--port", type=int, default=0, help="port (all: first of 4); 0 = free")
    parser.add_argument("--token", help="require 'Authorization: Bearer TOKEN'")
    parser.add_argument("--error-rate", type=float, default=0.0, help="0..1, seeded")
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--async", dest="async_mode", action="store_true", help="answer 202")
    parser.add_argument("--callback-delay-ms", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0, help="seed of the error-rate RNG")
    return parser


def start_servers(args: argparse.Namespace) -> dict[str, LoopbackServer]:
    """Start what ``args.target`` names; ports are consecutive from ``--port`` when given."""
    config: dict[str, Any] = {
        "token": args.token,
        "error_rate": args.error_rate,
        "latency_ms": args.latency_ms,
        "async_mode": args.async_mode,
        "callback_delay_ms": args.callback_delay_ms,
        "seed": args.seed,
    }
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
