"""`om notifications list|retry`: what a CRM outage made the outbox give up is listed, and sent
again at the next run with its eventId; a bulk resend needs a filter or --all."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_support import om
from test_runtime_cli import lab_folder


def _rows(capsys: pytest.CaptureFixture[str], *options: str) -> list[dict[str, Any]]:
    code, out, err = om(capsys, "notifications", "list", "--format", "json", *options)
    assert code == 0, err
    rows: list[dict[str, Any]] = json.loads(out)
    return rows


def test_abandoned_notifications_go_again_at_the_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    listener: Any,
) -> None:  # fmt: skip
    lab_folder(tmp_path, monkeypatch)
    listener.set_down(True)
    url = f"{listener.url}/crm?token=abc"
    code, _, err = om(capsys, "run", "lab.om", "order.json", "--notify", url,
                      "--notify-attempts", "1")  # fmt: skip
    assert code == 1, err  # held: no handlers
    lost = _rows(capsys, "--state", "abandoned")
    assert lost and {(r["order_id"], r["attempts"]) for r in lost} == {("ORD-1", 1)}
    assert {r["listener"] for r in lost} == {f"{listener.url}/crm?..."}  # no token shown
    code, out, _ = om(capsys, "notifications", "list", "--format", "tsv")
    assert out.splitlines()[0].split("\t")[:3] == ["event", "order", "type"]
    assert "token=abc" not in out

    code, _, err = om(capsys, "notifications", "retry")
    assert code == 2 and "give --all" in err
    code, _, err = om(capsys, "notifications", "retry", "--listener", f"{listener.url}/crm",
                      "--user", "sre", "--reason", "CRM back")  # fmt: skip
    assert code == 0 and f"{len(lost)} abandoned notification(s) will be sent again" in err
    pending = _rows(capsys, "--state", "pending")
    assert [(r["event_id"], r["attempts"]) for r in pending] == [
        (r["event_id"], 0) for r in lost]  # fmt: skip
    code, out, err = om(capsys, "events", "ORD-1", "--format", "json")
    replayed = [r for r in json.loads(out) if r["kind"] == "notify.replayed"]
    assert [(r["by"], r["reason"]) for r in replayed] == [("sre", "CRM back")]

    listener.set_down(False)
    code, _, err = om(capsys, "resume")  # nothing else runs the store: they go now
    assert code == 1, err
    heard = [e["body"]["eventId"] for e in listener.wait_for(count=len(lost), timeout=20)]
    assert heard[: len(lost)] == [r["event_id"] for r in lost]
    assert _rows(capsys, "--state", "abandoned") == []
    code, _, err = om(capsys, "notifications", "list", "--state", "lost")
    assert code == 2 and "pending, delivered, abandoned" in err


def test_om_run_reads_listener_urls_from_om_notify_keeping_secrets_out_of_ps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    listener: Any,
) -> None:  # fmt: skip
    """A URL's token on the command line shows in ``ps``: ``OM_NOTIFY`` (URLs separated by
    spaces) and ``OM_NOTIFY_ATTEMPTS``, as ``om serve`` reads them, work for ``om run`` too."""
    lab_folder(tmp_path, monkeypatch)
    listener.set_down(True)
    monkeypatch.setenv("OM_NOTIFY", f"{listener.url}/crm?token=abc {listener.url}/billing")
    monkeypatch.setenv("OM_NOTIFY_ATTEMPTS", "1")
    code, _, err = om(capsys, "run", "lab.om", "order.json")
    assert code == 1, err  # held: no handlers
    lost = _rows(capsys, "--state", "abandoned")
    assert {(r["listener"], r["attempts"]) for r in lost} == {
        (f"{listener.url}/crm?...", 1), (f"{listener.url}/billing", 1)}  # fmt: skip
    monkeypatch.setenv("OM_NOTIFY_ATTEMPTS", "0")
    code, _, err = om(capsys, "resume")
    assert code == 2 and "OM_NOTIFY_ATTEMPTS" in err
