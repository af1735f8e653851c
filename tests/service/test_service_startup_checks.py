"""`om serve` refuses, at start and in one line, a public URL, a tokens file or a store it cannot
use, and says why.

The public URL becomes the base of every ``X-Callback-Url`` sent downstream and is printed in
the banner, so a URL that is not http(s), has no host, or carries credentials, a query or a
fragment is a usage error (exit 2) that never repeats the URL; a tokens file that is not UTF-8
names the file and never shows its content.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from service_support import OPS_TOKEN as OPS
from service_support import REPO, TOKEN
from typer.testing import CliRunner, Result

from om_dsl import cli
from om_dsl.runtime import SqliteStore
from om_dsl.service.config import ServiceConfig, read_clients, read_tokens

ACME = str(REPO / "examples" / "catalog" / "acme.om")
PASSWORD = "hunter2-very-secret"
BAD_URLS = [
    ("garbage", "must be an http(s) URL with a host"),
    ("ftp://om.example.com", "must be an http(s) URL with a host"),
    ("http://", "must be an http(s) URL with a host"),
    ("https://om.example.com:0", "must be an http(s) URL with a host"),
    ("http://om.example.com:99999", "is not a valid URL"),
    (f"http://u:{PASSWORD}@h/", "must not carry credentials"),
    (f"http://{PASSWORD}@h/", "must not carry credentials"),
    ("https://om.example.com/?x=1", "must not have a query or a fragment"),
    ("https://om.example.com/#top", "must not have a query or a fragment"),
    ("https://om.example.com/a b", "is not a valid URL"),
]


def _om(*args: str, **environ: str) -> Result:
    cli._register()
    env = {name: None for name in os.environ if name.startswith("OM_")}
    return CliRunner().invoke(cli.app, list(args), env={**env, "COLUMNS": "200", **environ})


@pytest.mark.parametrize(("url", "message"), BAD_URLS)
def test_a_bad_public_url_is_refused_by_the_config(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as caught:
        ServiceConfig(tokens={"crm": TOKEN}, public_url=url).check()
    assert PASSWORD not in str(caught.value) and "OM_PUBLIC_URL / --public-url" in str(caught.value)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080", "https://om.example.com/", "https://[::1]:8443/om/api"]
)
def test_a_good_public_url_is_the_base_url(url: str) -> None:
    config = ServiceConfig(tokens={"crm": TOKEN}, public_url=url)
    config.check()
    assert config.base_url() == url.rstrip("/")


@pytest.mark.parametrize("how", ["option", "env"])
def test_om_serve_refuses_a_public_url_with_credentials_in_one_line(
    how: str, tmp_path: Path
) -> None:
    url = f"http://u:{PASSWORD}@h/"
    args = ["serve", "--catalog", ACME, "--db", str(tmp_path / "om.db")]
    extra = {"OM_PUBLIC_URL": url} if how == "env" else {}
    done = _om(*args, *(["--public-url", url] if how == "option" else []),
               OM_TOKENS=f"crm:{TOKEN}", **extra)  # fmt: skip
    assert done.exit_code == 2, done.output
    lines = [line for line in done.output.splitlines() if line.strip()]
    assert lines == ["error: OM_PUBLIC_URL / --public-url must not carry credentials "
                     "(user:password@)"]  # fmt: skip
    assert PASSWORD not in done.output and not (tmp_path / "om.db").exists()


def test_om_serve_refuses_a_garbage_public_url(tmp_path: Path) -> None:
    done = _om("serve", "--catalog", ACME, "--db", str(tmp_path / "om.db"),
               "--public-url", "garbage", OM_TOKENS=f"crm:{TOKEN}")  # fmt: skip
    assert done.exit_code == 2, done.output
    assert "must be an http(s) URL with a host" in done.output
    assert "Traceback" not in done.output and not (tmp_path / "om.db").exists()


def test_a_tokens_file_that_is_not_utf8_is_named_and_not_shown(tmp_path: Path) -> None:
    file = tmp_path / "tokens"
    file.write_bytes(b"crm:\xff\xfe-secret-latin1-t\xf6ken-0123456789\n")
    with pytest.raises(ValueError) as caught:
        read_tokens(None, file)
    assert str(caught.value) == f"cannot read the tokens file {file}: not UTF-8 text"
    done = _om("serve", "--catalog", ACME, "--db", str(tmp_path / "om.db"),
               "--tokens-file", str(file))  # fmt: skip
    assert done.exit_code == 2, done.output
    assert "not UTF-8 text" in done.output and "secret" not in done.output
    assert "Traceback" not in done.output and not (tmp_path / "om.db").exists()


@pytest.mark.parametrize("how", ["option", "env"])
def test_om_serve_refuses_an_installed_base_the_catalog_does_not_fit(
    how: str, tmp_path: Path
) -> None:
    base = tmp_path / "installed.json"
    base.write_text('{"1513": {"CustomerAcount": {}}}', "utf-8")
    args = ["serve", "--catalog", ACME, "--db", str(tmp_path / "om.db")]
    if how == "option":
        done = _om(*args, "--installed-base", str(base), OM_TOKENS=f"crm:{TOKEN}")
    else:
        done = _om(*args, OM_TOKENS=f"crm:{TOKEN}", OM_INSTALLED_BASE=str(base))
    assert done.exit_code == 1, done.output
    assert "error[O080]: unknown product 'CustomerAcount'" in done.output
    assert "the installed base is invalid: 1 problem(s)" in done.output
    assert "Traceback" not in done.output and not (tmp_path / "om.db").exists()


def test_om_serve_on_a_busy_port_leaves_no_store_behind(tmp_path: Path) -> None:
    """The port is bound before the store is made: a busy one used to leave a new store file
    and its runner lock behind (and a second try then found a store it had not meant)."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = _om("serve", "--catalog", ACME, "--db", str(tmp_path / "om.db"),
                   "--port", str(port), OM_TOKENS=f"crm:{TOKEN}")  # fmt: skip
    assert done.exit_code == 1, done.output
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in done.output
    assert "Traceback" not in done.output and list(tmp_path.iterdir()) == []


def test_om_serve_with_handlers_it_cannot_use_leaves_no_store_behind(tmp_path: Path) -> None:
    done = _om("serve", "--catalog", ACME, "--db", str(tmp_path / "om.db"), "--port", "0",
               "--handlers", "json:loads", OM_TOKENS=f"crm:{TOKEN}")  # fmt: skip
    assert done.exit_code == 2, done.output
    assert "json:loads is not a HandlerRegistry" in done.output
    assert list(tmp_path.iterdir()) == []


def test_om_serve_says_that_the_store_s_folder_does_not_exist(tmp_path: Path) -> None:
    """SQLite says "unable to open database file", whatever the cause: the error said only
    that, and the operator had to guess."""
    db = tmp_path / "nowhere" / "om.db"
    done = _om("serve", "--catalog", ACME, "--db", str(db), "--port", "0",
               OM_TOKENS=f"crm:{TOKEN}")  # fmt: skip
    assert done.exit_code == 1, done.output
    lines = [line for line in done.output.splitlines() if line.strip()]
    assert lines == [f"error: cannot use {db} as an om store: the folder {db.parent} does not "
                     "exist (unable to open database file)"]  # fmt: skip
    assert list(tmp_path.iterdir()) == []


SETPRIV = shutil.which("setpriv")
UNSHARE = shutil.which("unshare")
NOBODY = 65534


def _om_serve_refused(argv: list[str], db: Path) -> str:
    """``om serve`` on ``db`` under ``argv`` (another user, another mount namespace), which
    must refuse to start with exit 1; its error output."""
    command = [*argv, sys.executable, "-m", "om_dsl.cli", "serve", "--catalog", ACME,
               "--db", str(db), "--port", "0"]  # fmt: skip
    env = {**os.environ, "OM_TOKENS": f"crm:{TOKEN}"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60,
                          check=False)  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    return done.stderr


@pytest.mark.skipif(os.geteuid() != 0 or SETPRIV is None, reason="needs root and setpriv")
def test_om_serve_says_that_it_may_not_write_the_store_s_folder() -> None:
    assert SETPRIV is not None
    folder = Path(tempfile.mkdtemp(prefix="om-perm-"))
    try:
        folder.chmod(0o555)  # uid 65534 may read it, not write in it
        as_nobody = [SETPRIV, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
        err = _om_serve_refused(as_nobody, folder / "om.db")
    finally:
        shutil.rmtree(folder)
    assert (
        f"error: cannot use {folder / 'om.db'} as an om store: permission denied: this account "
        f"may not write in the folder {folder} (the store's -wal and -shm files go there) "
        "(unable to open database file)"
    ) in " ".join(err.split())


@pytest.mark.skipif(os.geteuid() != 0 or SETPRIV is None, reason="needs root and setpriv")
def test_om_serve_says_that_it_may_only_read_the_store_in_a_folder_it_may_write() -> None:
    """An SRE's store owned by root (0644) in the service account's folder: SQLite opened it
    read-only in silence, the service said ready, and every order got a 503."""
    assert SETPRIV is not None
    folder = Path(tempfile.mkdtemp(prefix="om-perm-"))
    try:
        folder.chmod(0o777)
        SqliteStore(folder / "om.db").close()
        (folder / "om.db").chmod(0o644)  # uid 65534 may read it, not write it
        as_nobody = [SETPRIV, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
        err = _om_serve_refused(as_nobody, folder / "om.db")
    finally:
        shutil.rmtree(folder)
    assert (
        f"error: cannot use {folder / 'om.db'} as an om store: permission denied: "
        f"{folder / 'om.db'} is read-only for this account"
    ) in " ".join(err.split())


@pytest.mark.skipif(os.geteuid() != 0 or UNSHARE is None, reason="needs root and unshare")
def test_om_serve_says_that_the_store_is_on_a_read_only_file_system(tmp_path: Path) -> None:
    """The store's folder mounted read-only, in a mount namespace of the test's own."""
    assert UNSHARE is not None
    folder = tmp_path / "ro"
    folder.mkdir()
    SqliteStore(folder / "om.db").close()  # an existing store, on a file system gone read-only
    remount = (f"mount --bind {folder} {folder} && mount -o remount,ro,bind {folder} && "
               'exec "$@"')  # fmt: skip
    probe = subprocess.run([UNSHARE, "--mount", "--propagation", "private", "sh", "-c",
                            remount, "sh", "true"], capture_output=True, check=False)  # fmt: skip
    if probe.returncode != 0:
        pytest.skip(f"no mount namespace here: {probe.stderr.decode().strip()}")
    argv = [UNSHARE, "--mount", "--propagation", "private", "sh", "-c", remount, "sh"]
    err = _om_serve_refused(argv, folder / "om.db")
    assert (
        f"error: cannot use {folder / 'om.db'} as an om store: {folder} is on a read-only file "
        "system (unable to open database file)"
    ) in " ".join(err.split())


def test_a_token_that_ends_with_a_role_is_kept_whole_and_warned_of() -> None:
    """``crm:<token>:client`` was meant as ``crm/client:<token>``: it is read as before (the
    token ``<token>:client``, the default role), with a warning that names the entry and the
    right syntax, never the token.  An entry that gives a role, or a token whose last part is
    no role, is not warned of."""
    clients = read_clients(
        f"crm:{TOKEN}:client,grafana/read:{PASSWORD}-0123:admin,ci:{PASSWORD}:42,ops:{OPS}:Admin"
    )
    assert clients.tokens["crm"] == f"{TOKEN}:client" and "crm" not in clients.roles
    assert clients.warnings == [
        "OM_TOKENS entry 1 (client crm): the token ends with ':client', which is read as part "
        "of the token, and crm gets the default role (operator); to give crm the role client, "
        "write crm/client:<token>",
        "OM_TOKENS entry 4 (client ops): the token ends with ':Admin', which is read as part of "
        "the token, and ops gets the default role (operator); to give ops the role admin, write "
        "ops/admin:<token>",
    ]


def test_om_serve_warns_at_start_of_a_token_that_ends_with_a_role(tmp_path: Path) -> None:
    file = tmp_path / "tokens"
    file.write_text(f"# clients\nops:{OPS}:operator\n", "utf-8")
    with socket.socket() as busy:  # stops `om serve` once the tokens are read and said
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        args = ["--db", str(tmp_path / "om.db"), "--port", str(port), "--tokens-file", str(file)]
        done = _om("serve", "--catalog", ACME, *args, OM_TOKENS=f"crm:{TOKEN}:client")
    assert done.exit_code == 1, done.output
    assert f"warning: {file} line 2 (client ops): the token ends with ':operator'" in done.output
    assert "warning: OM_TOKENS entry 1 (client crm): the token ends with ':client'" in done.output
    assert "write crm/client:<token>" in done.output
    assert TOKEN not in done.output and OPS not in done.output
