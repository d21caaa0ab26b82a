"""The cast in the bundle: submit typed in the recorded shell puts `terminal/0.cast` in the
signed bundle (cut at the session end), verify accepts it, and `promptster replay` plays it.
Also: `promptster start` on a live session opens the recorded shell."""

from __future__ import annotations

import json
import subprocess
import time
import zipfile
from pathlib import Path

import pytest
from shellkit import RecordedShell, Workspace, candidate_env, cast_events, wait_for

from promptster.record.shell.cast import CastEncoder, CastFile, CastHeader, read_cast
from support import require_executable

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def promptster(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[bytes]:
    exe = require_executable("promptster")
    return subprocess.run(
        [exe, *args],
        cwd=cwd,
        env=candidate_env(home, require_executable("bash")),
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=600,
        check=False,
    )


def test_submit_in_the_recorded_shell_then_verify_and_replay(workspace: Workspace) -> None:
    term = RecordedShell(workspace.folder, workspace.home, "zsh")
    term.run("echo marker-before-submit")
    term.child.send(b"promptster submit --yes\r")
    term.child.expect(rb"submitted and verified: ([^\r\n]+\.pst)")
    bundle = Path(term.child.match.group(1).decode().strip())
    term.prompt()
    term.run("echo typed-after-the-end")
    # the shell notices the end and closes its cast with a marker
    wait_for(
        lambda: any(
            e[1] == "m" and "recording stopped" in e[2] for e in cast_events(workspace.paths)
        ),
        "the cast's closing marker",
    )
    assert term.exit("exit 0") == 0
    assert "the session has ended" in term.output.decode(errors="replace")

    with zipfile.ZipFile(bundle) as archive:
        assert "terminal/0.cast" in archive.namelist()
        cast = archive.read("terminal/0.cast")
    recording = read_cast(cast)
    text = "".join(e[2] for e in recording.events if e[1] == "o")
    assert "marker-before-submit" in text
    assert "typed-after-the-end" not in text  # after the session ended: not in the bundle

    verified = promptster("verify", str(bundle), cwd=workspace.folder, home=workspace.home)
    assert verified.returncode == 0, verified.stderr
    played = promptster(
        "replay", str(bundle), "--idle-limit", "0.01", cwd=workspace.folder, home=workspace.home
    )
    assert played.returncode == 0, played.stderr
    assert b"marker-before-submit" in played.stdout
    assert b"terminal/0.cast" in played.stderr
    missing = promptster(
        "replay", str(bundle), "--cast", "3", cwd=workspace.folder, home=workspace.home
    )
    assert missing.returncode == 2 and b"choose one of: 0" in missing.stderr


def test_replay_keeps_the_timing_and_honours_speed_and_idle_limit(tmp_path: Path) -> None:
    path = tmp_path / "demo.cast"
    cast = CastFile(path, CastHeader(80, 24, time.time()))
    encoder = CastEncoder(redact=False, coalesce=0.0)
    cast.write(encoder.output(0.0, b"one\r\n") + encoder.output(1.0, b"two\r\n"))
    cast.write(encoder.output(1.5, b"three\r\n") + encoder.finish())
    cast.close(2.0)
    started = time.monotonic()
    done = promptster("replay", str(path), "--speed", "2", cwd=tmp_path, home=tmp_path)
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(b"one\r\ntwo\r\nthree\r\n")
    assert elapsed >= 0.75  # 1.5 s of recording at twice the speed; never an upper bound
    capped = promptster("replay", str(path), "--idle-limit", "0", cwd=tmp_path, home=tmp_path)
    assert capped.returncode == 0 and b"three" in capped.stdout
    bad = tmp_path / "bad.cast"
    bad.write_text('{"version": 1}\n')
    refused = promptster("replay", str(bad), cwd=tmp_path, home=tmp_path)
    assert refused.returncode == 2 and b"asciicast" in refused.stderr


def test_start_on_a_live_session_opens_the_recorded_shell(workspace: Workspace) -> None:
    term = RecordedShell(
        workspace.folder.parent,
        workspace.home,
        "bash",
        args=("start", "PST-0000-0000", "--workspace", str(workspace.folder)),
        wait=False,
    )
    term.child.expect_exact("recording this bash shell")
    term.prompt()
    term.run("pwd")
    assert term.exit("exit 0") == 0
    said = term.output.decode(errors="replace")
    assert str(workspace.folder) in said
    commands = [json.loads(x) for x in workspace.paths.journal.read_text().splitlines()]
    pwd = [e for e in commands if e["kind"] == "command" and e["data"]["command"] == "pwd"]
    assert pwd and pwd[0]["data"]["cwd"] == "."
