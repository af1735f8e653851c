"""Running the `om` CLI in the test process, and picking free loopback ports."""

from __future__ import annotations

import socket

import pytest

from om_dsl.cli import main


def free_port() -> int:
    """A 127.0.0.1 port the OS says is free (and nothing listens on once this returns)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def om(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the `om` CLI in this process: its exit code, stdout and stderr."""
    with pytest.raises(SystemExit) as done:
        main(list(argv))
    captured = capsys.readouterr()
    return int(done.value.code or 0), captured.out, captured.err
