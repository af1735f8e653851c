"""docs/service.md's error examples are what the real service answers, byte for byte as JSON,
so that they cannot drift from the service again; its `om backup` example is what it prints."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from service_support import REPO, Running, acme, order_json
from typer.testing import CliRunner

from om_dsl import cli
from om_dsl.cli import main
from om_dsl.runtime import Runtime, SqliteStore
from om_dsl.service import errors, request_issues
from om_dsl.service.logs import JsonFormatter

DOC = (REPO / "docs" / "service.md").read_text(encoding="utf-8")
ERRORS = DOC[DOC.index("## Errors\n") : DOC.index("## Embedding the app")]


def _examples() -> list[dict[str, Any]]:
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)```", ERRORS, re.S)]


def _curl() -> tuple[str, bytes]:
    """The documented ``curl -d '<body>' URL<path>``: the path and the body."""
    found = re.search(r"`curl -d '(.*?)'\s+URL(/\S+)`", ERRORS, re.S)
    assert found, "the curl example is gone from the Errors section"
    return found[2], found[1].encode()


def test_the_documented_errors_are_what_the_service_answers(
    service: Callable[..., Running],
) -> None:
    order_error, request_error = _examples()
    api = service().client()
    order = order_json("tmf622-product-order")
    order["productOrderItem"][0]["id"] = 1
    del order["productOrderItem"][0]["action"]
    answer = api.post("/productOrder", json=order)
    assert answer.status_code == 400
    assert answer.json() == order_error
    path, body = _curl()  # curl -d sends a form content type: the body is JSON all the same
    headers = {"content-type": "application/x-www-form-urlencoded"}
    answer = api.post(path, content=body, headers=headers)
    assert answer.status_code == 400
    assert answer.json() == request_error


def test_the_documented_issue_codes_are_the_ones_in_use() -> None:
    documented = set(re.findall(r"^\| (S\d{3})", ERRORS, re.M))
    documented |= set(re.findall(r"^\| S\d{3}, (S\d{3})", ERRORS, re.M))
    in_module = set(re.findall(r"^(S\d{3}) ", request_issues.__doc__ or "", re.M))
    assert len(in_module) == 7 and in_module <= documented
    assert {"S001", "S002", "S003", "S004"} <= documented


def _status_table() -> set[tuple[int, str]]:
    """(status, code) of each row of the Errors section's status table."""
    rows = re.findall(r"^\| (\d{3}) \| (.+?) \|", ERRORS, re.M)
    return {(int(status), code) for status, codes in rows for code in re.findall(r"`(\w+)`", codes)}


def test_the_status_table_lists_every_code_the_service_answers() -> None:
    """The codes of the exception table, of Starlette's HTTP errors and of every ApiError the
    service raises; 405 ``methodNotAllowed`` was missing."""
    table = _status_table()
    answered = {(status, code) for _, status, code in errors._MAPPING}
    answered |= {(status, code) for status, code in errors._HTTP_CODES.items()}
    source = "".join(p.read_text("utf-8") for p in (REPO / "om_dsl" / "service").rglob("*.py"))
    raised = r'(?:ApiError|error_response)\(\s*(\d{3}), "(\w+)"'
    answered |= {(int(status), code) for status, code in re.findall(raised, source)}
    assert len(answered) > 10
    assert answered - table == set(), "add rows to the status table of docs/service.md"


def test_a_wrong_method_is_the_documented_405(service: Callable[..., Running]) -> None:
    assert (405, "methodNotAllowed") in _status_table()
    api = service().client()
    tmf = "/tmf-api/productOrderingManagement/v4"
    cases = (("PUT", "/productOrder/X", "GET, PATCH"), ("DELETE", "/productOrder", "GET, POST"),
             ("GET", "/productOrder/X/complete", "POST"),
             ("PUT", f"{tmf}/productOrder/X", "GET, PATCH"))  # fmt: skip
    for method, path, allow in cases:
        answer = api.request(method, path)
        assert answer.status_code == 405, (method, path, answer.text)
        assert answer.json()["code"] == "methodNotAllowed"
        # RFC 9110: every method the path takes (Starlette named the first route's only).
        assert answer.headers["allow"] == allow, (method, path)


BACKUPS = DOC[DOC.index("## Backups and restores\n") : DOC.index("## The TMF622 API")]


def test_the_documented_backup_is_what_om_backup_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The example's command, on a store of three orders, prints the example's line (the
    size in bytes aside: it follows SQLite's pages)."""
    example = BACKUPS.split("```console\n$ om ", 1)[1].split("```", 1)[0]
    command, shown = example.split("\n", 1)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "backups").mkdir()
    with Runtime(acme(), store=SqliteStore("om.db")) as runtime:
        for name in ("fibre-modify", "home-duo-add", "copper-delete"):
            runtime.submit(order_json(name))
    with pytest.raises(SystemExit) as done:
        main(command.split())
    assert done.value.code == 0
    printed = capsys.readouterr().err
    size = re.compile(r"\d+ bytes")
    assert size.sub("N bytes", printed) == size.sub("N bytes", shown)
    assert [p.name for p in Path("backups").iterdir()] == ["om-2026-11-28.db"]


def test_the_documented_refusal_of_a_backup_is_what_om_resume_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The second example: `om resume` on a copy `om backup` made of a store of three orders
    that have not run (its source path and time aside: they are the test's)."""
    example = BACKUPS.split("```console\n$ om ")[2].split("```", 1)[0]
    command, shown = example.split("\n", 1)
    monkeypatch.chdir(tmp_path)
    Path("verify").mkdir()
    with Runtime(acme(), store=SqliteStore("om.db")) as runtime:
        for name in ("fibre-modify", "home-duo-add", "copper-delete"):
            runtime.submit(order_json(name))
    with pytest.raises(SystemExit) as done:
        main(["backup", "verify/om.db", "--db", "om.db"])
    assert done.value.code == 0
    capsys.readouterr()
    with pytest.raises(SystemExit) as done:
        main(command.split())
    assert done.value.code == 6
    printed = capsys.readouterr().err.replace(str((tmp_path / "om.db").resolve()), "/srv/om/om.db")
    when = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
    assert when.sub("T", printed) == when.sub("T", shown)


LOGGING = DOC[DOC.index("## Logging\n") : DOC.index("## Backups and restores")]
LOGGED = {
    "om_dsl.runtime": "om_dsl/runtime/scheduler.py",
    "om_dsl.service": "om_dsl/service/app.py",
    "om_dsl.notify": "om_dsl/runtime/notify/notifier.py",
    "uvicorn.access": None,
}


def _templates(source: str | None) -> list[re.Pattern[str]]:
    """The messages a module logs (its ``log.x("...", ...)`` formats), as patterns."""
    if source is None:  # uvicorn's access line
        return [re.compile(r'[\d.]+:\d+ - "[A-Z]+ \S+ HTTP/1\.1" \d{3}')]
    text = (REPO / source).read_text(encoding="utf-8")
    formats = re.findall(r'log\.\w+\(\s*"((?:[^"\\]|\\.)*)"', text)
    return [re.compile(re.escape(f).replace("%d", r"\d+").replace("%s", ".+")) for f in formats]


def test_the_documented_log_lines_are_what_the_service_logs() -> None:
    """Each line of the example has the text format's shape, and its message is one that the
    module behind its logger writes; the JSON example is the JSON format's shape."""
    block = LOGGING.split("```text\n", 1)[1].split("```", 1)[0]
    lines = block.splitlines()
    assert len(lines) >= 4
    for line in lines:
        found = re.fullmatch(r"\S+Z (INFO|WARNING) ([\w.]+): (.+)", line)
        assert found, line
        stamp = line.split(" ", 1)[0]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamp), line
        templates = _templates(LOGGED[found[2]])
        assert any(t.fullmatch(found[3]) for t in templates), line
    example = json.loads(re.search(r"`(\{\"time\".*?\})`", LOGGING, re.S)[1].replace("\n", " "))
    record = logging.makeLogRecord({"name": "om_dsl.runtime", "levelno": 20,
                                    "levelname": "INFO", "msg": example["message"]})  # fmt: skip
    made = json.loads(JsonFormatter().format(record))
    assert list(made) == list(example) and made["message"] == example["message"]


def test_om_retry_s_help_names_the_service_s_retry_route(service: Callable[..., Running]) -> None:
    """It said the retry happens "at the next `om resume`", which is refused while `om serve`
    runs the store; the route it names now is the service's, with the body it reads."""
    cli._register()
    shown = CliRunner().invoke(cli.app, ["retry", "--help"], env={"COLUMNS": "200"})
    text = " ".join(shown.output.split())
    refused = "While `om serve` runs the store this is refused: use POST /productOrder/{id}/retry"
    assert refused in text
    assert 'That request\'s body is {"itemId": ITEM}' in text
    schema = service().client().get("/openapi.json").json()
    retry = schema["paths"]["/productOrder/{id}/retry"]["post"]
    body = retry["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    assert schema["components"]["schemas"][body]["required"] == ["itemId"]
