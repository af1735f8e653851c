"""`om fmt`: files changed in place (and only those), --check, --diff, stdin, and bad input."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from om_dsl import cli
from om_dsl.cli import fmt_cmds

REPO = Path(__file__).resolve().parents[2]

UGLY = "offer O{family F}\nqueue  q\n"
PRETTY = "offer O { family F }\nqueue q\n"
BROKEN = "offer O {\n attribute a int\n}\n"


@pytest.fixture(scope="module", autouse=True)
def registered() -> None:
    cli._register()


def om(*args: str | Path, stdin: bytes | None = None) -> Result:
    return CliRunner().invoke(cli.app, ["fmt", *(str(a) for a in args)], input=stdin)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path


def test_formats_in_place_and_lists_what_it_changed(tmp_path: Path) -> None:
    ugly = write(tmp_path / "ugly.om", UGLY)
    pretty = write(tmp_path / "pretty.om", PRETTY)
    untouched = pretty.stat().st_mtime_ns
    result = om(ugly, pretty)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{ugly.as_posix()}\n"
    assert "1 file(s) reformatted, 1 already formatted" in result.stderr
    assert ugly.read_text() == PRETTY
    assert pretty.stat().st_mtime_ns == untouched  # an unchanged file is not rewritten
    again = om(ugly)
    assert again.exit_code == 0
    assert again.stdout == ""
    assert "0 file(s) reformatted, 1 already formatted" in again.stderr


def test_check_changes_nothing_and_exits_1(tmp_path: Path) -> None:
    ugly = write(tmp_path / "ugly.om", UGLY)
    result = om("--check", ugly)
    assert result.exit_code == 1
    assert result.stdout == f"{ugly.as_posix()}\n"
    assert "1 file(s) would be reformatted" in result.stderr
    assert ugly.read_text() == UGLY
    assert om("--check", write(tmp_path / "pretty.om", PRETTY)).exit_code == 0


def test_diff_shows_the_changes_and_exits_1(tmp_path: Path) -> None:
    ugly = write(tmp_path / "ugly.om", UGLY)
    result = om("--diff", ugly)
    assert result.exit_code == 1
    name = ugly.as_posix()
    assert result.stdout == (
        f"--- {name} (before)\n+++ {name} (formatted)\n@@ -1,2 +1,2 @@\n"
        "-offer O{family F}\n-queue  q\n+offer O { family F }\n+queue q\n"
    )
    assert ugly.read_text() == UGLY


def test_diff_marks_a_missing_last_newline(tmp_path: Path) -> None:
    result = om("--diff", write(tmp_path / "a.om", "queue  q"))
    assert result.stdout.endswith("-queue  q\n\\ No newline at end of file\n+queue q\n")


def test_a_file_with_syntax_errors_is_left_alone(tmp_path: Path) -> None:
    broken = write(tmp_path / "broken.om", BROKEN)
    ugly = write(tmp_path / "ugly.om", UGLY)
    result = om(broken, ugly)
    assert result.exit_code == 1
    assert f"{broken.as_posix()}:2:14: error[E001]: unexpected name 'int'; expected ':'" in (
        result.stderr
    )
    assert "for more about E001, run: om explain E001" in result.stderr
    assert "1 file(s) reformatted, 0 already formatted, 1 with errors" in result.stderr
    assert broken.read_text() == BROKEN
    assert ugly.read_text() == PRETTY  # the other files are still formatted


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.om", "cannot find"),
        (lambda d: _bytes(d / "bin.om", b"queue caf\xe9\n"), "is not UTF-8 text"),
    ],
)
def test_unreadable_files_are_errors(
    tmp_path: Path, make: Callable[[Path], Path], message: str
) -> None:
    path = make(tmp_path)
    result = om(path)
    assert result.exit_code == 1
    assert f"{path.as_posix()}:1:1: error[E010]" in result.stderr
    assert message in result.stderr


def _bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_a_folder_means_every_om_file_below_it(tmp_path: Path) -> None:
    a = write(tmp_path / "cat" / "a.om", UGLY)
    b = write(tmp_path / "cat" / "sub" / "b.om", UGLY)
    hidden = write(tmp_path / "cat" / ".git" / "c.om", UGLY)
    (tmp_path / "cat" / ".#a.om").symlink_to("ann@host.1234")  # an Emacs lock: dangling
    other = write(tmp_path / "cat" / "notes.txt", UGLY)
    result = om("--check", tmp_path / "cat")
    assert result.stdout.splitlines() == [a.as_posix(), b.as_posix()]
    om(tmp_path / "cat")
    assert a.read_text() == b.read_text() == PRETTY
    assert hidden.read_text() == other.read_text() == UGLY


def test_a_folder_without_om_files_is_an_error(tmp_path: Path) -> None:
    result = om(tmp_path)
    assert result.exit_code == 1
    assert f"no .om files in {tmp_path}" in result.stderr


def test_no_path_or_an_empty_one_is_a_usage_error() -> None:
    assert om().exit_code == 2
    empty = om("")  # `om fmt "$FILE"` with FILE unset: not the current folder
    assert empty.exit_code == 2
    assert "a path is empty" in empty.stderr


def test_a_named_pipe_is_an_error_not_a_hang(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.om")
    result = om(tmp_path)
    assert result.exit_code == 1
    assert "it is a named pipe (FIFO), not a regular file" in result.stderr


def test_stdin_to_stdout() -> None:
    result = om("-", stdin=UGLY.encode())
    assert result.exit_code == 0
    assert result.stdout == PRETTY
    assert result.stderr == ""


def test_stdin_keeps_crlf_and_reports_errors() -> None:
    crlf = om("-", stdin=UGLY.replace("\n", "\r\n").encode())
    assert crlf.stdout_bytes == PRETTY.replace("\n", "\r\n").encode()  # .stdout turns CRLF to LF
    broken = om("-", stdin=BROKEN.encode())
    assert broken.exit_code == 1
    assert broken.stdout == ""
    assert "<stdin>:2:14: error[E001]" in broken.stderr
    not_utf8 = om("-", stdin=b"queue caf\xe9\n")
    assert not_utf8.exit_code == 1
    assert "standard input is not UTF-8 text" in not_utf8.stderr


def test_stdin_goes_alone() -> None:
    result = om("-", "x.om", stdin=UGLY.encode())
    assert result.exit_code == 2
    assert "- (standard input) cannot be given with other paths" in result.stderr


def test_output_is_utf8_whatever_the_locale(tmp_path: Path) -> None:
    """An ASCII locale made `om fmt -` an internal error, a Latin-1 one re-encoded the text."""
    text = "enum T{A}  // caf\u00e9\n"
    env = {**os.environ, "PYTHONIOENCODING": "ascii", "PYTHONPATH": str(REPO)}
    code = "import sys; from om_dsl.cli import main; main(sys.argv[1:])"
    run = subprocess.run(
        [sys.executable, "-c", code, "fmt", "-"], input=text.encode(), capture_output=True,
        env=env, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stdout == "enum T { A }  // caf\u00e9\n".encode()


def test_diff_splits_lines_at_newlines_only(tmp_path: Path) -> None:
    path = write(tmp_path / "a.om", "enum T{A}  // a\u2028b\nqueue  q\n")
    result = om("--diff", path)
    assert "-enum T{A}  // a\u2028b\n" in result.stdout
    assert "No newline" not in result.stdout


def test_a_file_that_cannot_be_written_is_an_error_and_the_others_are_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read-only file (0444: refused even for root, who may write anything) is refused, as
    gofmt does; a failed write is reported; the run goes on."""
    locked = write(tmp_path / "a.om", UGLY)
    locked.chmod(0o444)
    failing = write(tmp_path / "b.om", UGLY)
    other = write(tmp_path / "c.om", UGLY)
    real_replace = fmt_cmds.replace_file

    def replace(data: bytes, target: Path) -> None:
        if target == failing.resolve():
            raise PermissionError(13, "Permission denied")
        real_replace(data, target)

    monkeypatch.setattr(fmt_cmds, "replace_file", replace)
    result = om(tmp_path)
    assert result.exit_code == 1
    assert f"cannot write {locked.as_posix()}: it is read-only; left as it is" in result.stderr
    assert f"cannot write {failing.as_posix()}: Permission denied; left as it is" in result.stderr
    assert result.stdout == f"{other.as_posix()}\n"  # only what was written is listed
    assert "1 file(s) reformatted, 0 already formatted, 2 with errors" in result.stderr
    assert locked.read_text() == failing.read_text() == UGLY and other.read_text() == PRETTY


def test_a_hard_linked_file_stays_linked(tmp_path: Path) -> None:
    path = write(tmp_path / "a.om", UGLY)
    link = tmp_path / "link.om"
    os.link(path, link)
    assert om(path).exit_code == 0
    assert link.read_text() == PRETTY and path.stat().st_ino == link.stat().st_ino


def test_stdin_check_and_diff() -> None:
    check = om("--check", "-", stdin=UGLY.encode())
    assert (check.exit_code, check.stdout) == (1, "<stdin>\n")
    diff = om("--diff", "-", stdin=UGLY.encode())
    assert diff.exit_code == 1
    assert "+queue q\n" in diff.stdout


def test_permissions_and_symlinks_are_kept(tmp_path: Path) -> None:
    real = write(tmp_path / "real.om", UGLY)
    real.chmod(0o640)
    link = tmp_path / "link.om"
    link.symlink_to(real)
    result = om(link)
    assert result.exit_code == 0, result.output
    assert link.is_symlink()
    assert real.read_text() == PRETTY
    assert stat.S_IMODE(real.stat().st_mode) == 0o640


def test_a_new_file_written_by_om_gets_the_umask_mode(tmp_path: Path) -> None:
    """`om compile -o` (and every file `om` writes) is not left private to its owner."""
    catalog = write(tmp_path / "c.om", 'catalog "C" version "1"\n')
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    code = "import os, sys; os.umask(0o022); from om_dsl.cli import main; main(sys.argv[1:])"
    subprocess.run(
        [sys.executable, "-c", code, "compile", str(catalog), "-o", str(tmp_path / "c.json")],
        check=True,
        env=env,
        capture_output=True,
    )
    assert stat.S_IMODE((tmp_path / "c.json").stat().st_mode) == 0o644


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_root_formatting_another_users_file_keeps_its_owner(tmp_path: Path) -> None:
    path = write(tmp_path / "a.om", UGLY)
    os.chown(path, 65534, 65534)
    assert om(path).exit_code == 0
    assert path.read_text() == PRETTY
    assert (path.stat().st_uid, path.stat().st_gid) == (65534, 65534)
