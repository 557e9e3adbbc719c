"""Output paths (`--json`, `--report`, `audit export --out`, `data fetch --out`): every bad
path stops the command before its work with exit 2 and one line naming the path and the
reason; nothing is created, nothing half-written, no temp file left behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desk import cli
from desk.commands.output_paths import OutputPathError, check_output_path, write_atomically
from store.paths import default_audit_key_path, default_db_path
from tests.store.helpers_audit import build_log

ROOT = os.geteuid() == 0


def _unwritable_folder(tmp_path: Path) -> Path:
    """A folder this process cannot create files in: /sys for root (a read-only pseudo file
    system that os.access still calls writable), a 0555 folder for anyone else."""
    if ROOT:
        return Path("/sys")
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    return folder


def _bad_paths(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    (tmp_path / "a-folder").mkdir()
    (tmp_path / "a-file").write_text("x")
    return {
        "missing folder": (tmp_path / "no" / "such" / "out.json",
                           f"the folder {tmp_path / 'no' / 'such'} does not exist"),
        "a folder": (tmp_path / "a-folder", "is a folder, not a file"),
        "parent is a file": (tmp_path / "a-file" / "out.json",
                             f"{tmp_path / 'a-file'} is a file, not a folder"),
        "not writable": (_unwritable_folder(tmp_path) / "out.json",
                         "not writable (permission denied)"),
    }


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


CASES = ["missing folder", "a folder", "parent is a file", "not writable"]


@pytest.mark.parametrize("case", CASES)
def test_check_names_the_option_the_path_and_the_reason(tmp_path, case):
    path, reason = _bad_paths(tmp_path)[case]
    before = _listing(path.parent)

    with pytest.raises(OutputPathError) as caught:
        check_output_path(path, "--report")

    assert str(caught.value) == f"--report {path}: {reason}"
    assert caught.value.exit_code == 2
    assert _listing(path.parent) == before  # the probe file is gone too


@pytest.mark.skipif(ROOT, reason="root writes through file permissions")
def test_an_existing_read_only_file_is_not_writable(tmp_path):
    target = tmp_path / "old.json"
    target.write_text("{}")
    target.chmod(0o444)
    with pytest.raises(OutputPathError, match="not writable"):
        check_output_path(target, "--json")


def test_a_good_path_is_returned_and_nothing_is_created(tmp_path):
    assert check_output_path(tmp_path / "new.json", "--json") == tmp_path / "new.json"
    assert check_output_path("relative.html") == Path("relative.html")
    assert _listing(tmp_path) == []


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp_file(tmp_path):
    target = tmp_path / "report.html"
    target.write_text("old")

    def half_then_fail(handle):
        handle.write("half of a new report")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        write_atomically(target, half_then_fail)

    assert target.read_text() == "old"
    assert _listing(tmp_path) == ["report.html"]


def test_a_write_onto_a_folder_is_an_output_path_error_without_a_stray_file(tmp_path):
    (tmp_path / "bad").mkdir()
    with pytest.raises(OutputPathError, match="is a folder"):
        write_atomically(tmp_path / "bad", "text", option="--report")
    assert _listing(tmp_path) == ["bad"]


@settings(max_examples=40, deadline=None)
@given(content=st.one_of(st.text(), st.binary()))
def test_what_is_written_is_read_back_exactly(tmp_path_factory, content):
    folder = tmp_path_factory.mktemp("w")
    target = folder / "out"
    write_atomically(target, content)
    # Text read without newline translation: read_text would turn a "\r" into "\n".
    assert (target.read_bytes() if isinstance(content, bytes)
            else target.read_bytes().decode("utf-8")) == content
    assert _listing(folder) == ["out"]


def test_the_written_file_has_the_umask_permissions_not_the_temp_files(tmp_path):
    target = write_atomically(tmp_path / "out.json", "{}")
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


# -- the commands --------------------------------------------------------------------------


def _bars_csv(folder: Path) -> Path:
    rows = [f"2024-01-{1 + i // 24:02d} {i % 24:02d}:00,{100 + i % 5},{106 + i % 5},"
            f"{99 + i % 5},{101 + i % 5},10\n" for i in range(40)]
    path = folder / "bars.csv"
    path.write_text("date,open,high,low,close,volume\n" + "".join(rows))
    return path


def _one_line_exit_2(capsys, code: int, path: Path, reason: str) -> None:
    out, err = capsys.readouterr()
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("desk: ") and str(path) in err
    assert reason in err and "Traceback" not in err and "None" not in err


@pytest.mark.parametrize("option", ["--json", "--report"])
@pytest.mark.parametrize("case", CASES)
def test_backtest_outputs_fail_before_the_run_and_store_nothing(
        tmp_path, capsys, monkeypatch, option, case):
    path, reason = _bad_paths(tmp_path)[case]
    data = _bars_csv(tmp_path)
    before = _listing(tmp_path)

    def refuse(*args, **kwargs):
        raise AssertionError("the backtest ran")

    monkeypatch.setattr("engine.backtest.job.run_job", refuse)
    code = cli.main(["--backtest", "--data", str(data), "--db", "run.db", option, str(path)])

    _one_line_exit_2(capsys, code, path, reason)
    assert _listing(tmp_path) == before  # no database, no temp file


def test_backtest_writes_json_and_report_when_the_paths_are_good(tmp_path, capsys):
    data = _bars_csv(tmp_path)
    code = cli.main(["--backtest", "--data", str(data), "--db", "run.db",
                     "--json", "r.json", "--report", "r.html"])
    assert code == 0
    assert (tmp_path / "r.json").read_text().startswith("{")
    assert (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")
    assert not [name for name in _listing(tmp_path) if name.endswith(".part")]


@pytest.mark.parametrize("case", CASES)
def test_audit_export_fails_before_reading_the_log(tmp_path, capsys, case):
    build_log(default_db_path(), default_audit_key_path(), 12, 5)
    path, reason = _bad_paths(tmp_path)[case]
    before = _listing(path.parent)

    code = cli.main(["audit", "export", "--out", str(path)])

    _one_line_exit_2(capsys, code, path, reason)
    assert _listing(path.parent) == before


def test_audit_export_of_an_empty_range_names_the_range_without_none(tmp_path, capsys):
    build_log(default_db_path(), default_audit_key_path(), 12, 5)

    code = cli.main(["audit", "export", "--out", str(tmp_path / "x.jsonl"), "--from", "1000"])

    out, err = capsys.readouterr()
    assert code == 1
    assert "no audit entries in seq 1000 onwards (the log holds seq 1..12)" in err
    assert "None" not in err and not (tmp_path / "x.jsonl").exists()


@pytest.mark.parametrize("case", CASES)
def test_data_fetch_out_fails_before_any_request(tmp_path, capsys, monkeypatch, case):
    path, reason = _bad_paths(tmp_path)[case]

    def refuse(*args, **kwargs):
        raise AssertionError("the fetch started")

    monkeypatch.setattr("engine.venues.ccxt.fetch.fetch_candles", refuse)
    code = cli.main(["data", "fetch", "binance", "BTC/USDT", "1h", "--out", str(path)])

    _one_line_exit_2(capsys, code, path, reason)


def test_a_real_process_prints_one_line_and_no_traceback(tmp_path):
    """The whole command as a user runs it: stderr is exactly one line."""
    data = _bars_csv(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "desk.cli", "--backtest", "--data", str(data), "--db",
         "run.db", "--report", str(tmp_path / "missing" / "r.html")],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
        env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2])),
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (f"desk: --report {tmp_path / 'missing' / 'r.html'}: "
                           f"the folder {tmp_path / 'missing'} does not exist\n")
    assert _listing(tmp_path) == ["bars.csv"]
