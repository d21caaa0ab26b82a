"""The sandbox, proved with real submissions: each final snapshot holds code that attacks the
reviewer's machine when the hidden tests import it, and each attack is contained, reported,
and leaves nothing behind (no process, no file, no cgroup, no temporary folder)."""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hidden_kit import make_bundle, require_bwrap, suite_of, write_folder

from promptster.reviewer.hidden_tests.results import HiddenResult
from promptster.reviewer.hidden_tests.run import run_hidden_tests
from promptster.reviewer.hidden_tests.sandbox import MAX_OUTPUT, PIDS_CGROUP_ROOTS

TEST = (
    "from calc import is_even\n\n\n"
    "def test_even():\n    assert is_even(4)\n\n\n"
    "def test_odd():\n    assert not is_even(3)\n"
)


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Temporary folders of this test only, so that leftovers can be counted."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder


def _run(tmp_path: Path, code: str, timeout: int = 60) -> HiddenResult:
    bwrap = require_bwrap()
    bundle = make_bundle(tmp_path / "s.pst", "Mallory", [{"calc.py": code}])
    suite = suite_of(write_folder(tmp_path / "hidden", {"test_calc.py": TEST}), timeout=timeout)
    return run_hidden_tests(suite, bundle, bwrap=bwrap)


def _processes_with(marker: str) -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                cmdline = Path(entry.path, "cmdline").read_bytes()
            except OSError:
                continue
            if marker.encode() in cmdline:
                found.append(int(entry.name))
    return found


def _no_leftovers(private_tmp: Path) -> None:
    assert list(private_tmp.iterdir()) == []
    for root in PIDS_CGROUP_ROOTS:
        if root.exists():
            # only this process's runs: another test worker may be running one right now
            ours = f"promptster-hidden-{os.getpid()}-"
            assert not [p for p in root.iterdir() if p.name.startswith(ours)]


def test_a_correct_submission_passes(tmp_path: Path, private_tmp: Path) -> None:
    result = _run(tmp_path, "def is_even(n):\n    return n % 2 == 0\n")
    assert result.outcome == "passed" and result.sandboxed
    assert (result.passed, result.total, result.pass_rate) == (2, 2, 1.0)
    assert result.parsed_from == "junit"
    assert all(c.duration_ms is not None for c in result.cases)
    _no_leftovers(private_tmp)


def test_no_network(tmp_path: Path, private_tmp: Path) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    accepted: list[object] = []

    def accept() -> None:
        listener.settimeout(20)
        with contextlib.suppress(OSError):
            accepted.append(listener.accept())

    waiter = threading.Thread(target=accept)
    waiter.start()
    code = (
        "import socket\n\n\ndef is_even(n):\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=5).sendall(b'leak')\n"
        "    return n % 2 == 0\n"
    )
    try:
        result = _run(tmp_path, code)
    finally:
        listener.close()
        waiter.join()
    assert accepted == []
    assert result.outcome == "failed" and result.passed == 0
    assert any("unreachable" in (c.message or "") or "refused" in (c.message or "")
               for c in result.cases)  # fmt: skip
    _no_leftovers(private_tmp)


def test_no_home_and_no_workspace(
    tmp_path: Path, private_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "reviewer-home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519").write_text("PRIVATE-KEY-MATERIAL\n")
    workspace = tmp_path / "promptster-home"
    workspace.mkdir()
    (workspace / "workspace.duckdb").write_text("reviewer data\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PROMPTSTER_HOME", str(workspace))
    code = (
        "import os\n\n\ndef is_even(n):\n"
        f"    print(open(os.path.expanduser('~/.ssh/id_ed25519')).read())\n"
        f"    print(open({str(home / '.ssh' / 'id_ed25519')!r}).read())\n"
        f"    print(open({str(workspace / 'workspace.duckdb')!r}).read())\n"
        "    return n % 2 == 0\n"
    )
    result = _run(tmp_path, code)
    assert result.outcome == "failed" and result.passed == 0
    assert "PRIVATE-KEY-MATERIAL" not in result.output
    assert "No such file" in result.output
    _no_leftovers(private_tmp)


def test_no_write_outside_the_tree(tmp_path: Path, private_tmp: Path) -> None:
    outside = tmp_path / "outside.txt"  # under /tmp: inside, the sandbox's private /tmp
    system = Path("/etc") / f"escaped-{os.getpid()}"
    code = (
        "import pathlib\n\n\ndef is_even(n):\n"
        "    pathlib.Path('inside.txt').write_text('fine')\n"
        f"    pathlib.Path({str(outside)!r}).write_text('escaped')\n"
        f"    pathlib.Path({str(system)!r}).write_text('escaped')\n"
        "    return n % 2 == 0\n"
    )
    result = _run(tmp_path, code)
    assert not outside.exists() and not system.exists()
    assert result.outcome == "failed"
    assert any("Read-only file system" in (c.message or "") for c in result.cases)
    _no_leftovers(private_tmp)


@pytest.mark.slow
def test_a_fork_bomb_is_contained(tmp_path: Path, private_tmp: Path) -> None:
    marker = f"forkbomb-{os.getpid()}-{id(tmp_path)}"
    code = (
        "import subprocess\n\n\ndef is_even(n):\n"
        f"    subprocess.run(['bash', '-c', 'b(){{ b|b& }}; b; sleep 30', '{marker}'])\n"
        "    return n % 2 == 0\n"
    )
    result = _run(tmp_path, code, timeout=8)
    assert result.outcome in ("timeout", "failed", "error")
    assert result.pass_rate == 0.0
    assert result.process_limit
    assert _processes_with(marker) == []
    _no_leftovers(private_tmp)


def test_code_that_runs_forever_is_stopped(tmp_path: Path, private_tmp: Path) -> None:
    marker = f"forever-{os.getpid()}-{id(tmp_path)}"
    code = (
        "import subprocess, time\n\n\ndef is_even(n):\n"
        f"    subprocess.Popen(['sleep', '1000', '{marker}'], start_new_session=True)\n"
        "    while True:\n        time.sleep(1)\n"
    )
    result = _run(tmp_path, code, timeout=3)
    assert result.outcome == "timeout" and result.exit_code is None
    assert result.pass_rate == 0.0
    assert "time limit (3 s)" in (result.detail or "")
    assert _processes_with(marker) == []
    _no_leftovers(private_tmp)


def test_megabytes_of_output_are_capped_and_kept_in_part(tmp_path: Path, private_tmp: Path) -> None:
    # pytest shows what a failing test printed: 10 MB of it here.
    code = "def is_even(n):\n    print('HEAD-MARK' + 'x' * (10 * 1024 * 1024))\n    return None\n"
    result = _run(tmp_path, code)
    assert result.outcome == "failed" and result.total == 2
    assert result.output_cut and len(result.output.encode()) <= MAX_OUTPUT
    assert "HEAD-MARK" in result.output  # the head is kept …
    assert "1 failed, 1 passed" in result.output[-2000:]  # … and the tail, with the summary
    _no_leftovers(private_tmp)
