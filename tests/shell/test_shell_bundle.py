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

from promptster.record.shell.cast import CastEncoder, CastFile, CastHeader
from promptster.record.shell.cast_reader import read_cast
from support import practice_bundle_verified, require_executable

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

    verified = promptster(
        "verify", "--json", str(bundle), cwd=workspace.folder, home=workspace.home
    )
    assert practice_bundle_verified(verified.stdout), verified.stdout  # started without a key
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


HOSTILE_FRAMES = [
    "\x1b[1;32mvisible-green\x1b[0m\r\n",
    "\x1b]52;c;cm0gLXJmIH4K\x07",  # OSC 52: write the clipboard
    "\x1b]8;;javascript:alert(1)\x1b\\click\x1b]8;;\x1b\\\r\n",  # OSC 8 link
    "\x1b]0;owned-title\x07\x1b]2;owned-title\x07",  # window titles
    "\x1b]1337;File=name=eC5zaA==;inline=1:ZWNobyBoaQ==\x07",  # iTerm2 file transfer
    "\x1bP$qm\x1b\\\x1b_Gf=100;AAAA\x1b\\\x1b^pm\x1b\\\x1bXsos\x1b\\",  # DCS APC PM SOS
    "\x1b[6n\x1b[c\x1b[>c\x1b[18t\x1b[?2004h\x1b[?1000h",  # requests, paste, mouse
    "\x1b]5",  # an OSC split across two events
    "2;c;c3BsaXQ=\x07\x1b[?1049h\x1b[5;10rafter-split\r\n",
]


def _hostile_cast(path: Path) -> bytes:
    header = {"version": 2, "width": 80, "height": 24, "title": "\x1b]0;header-title\x07"}
    lines = [json.dumps(header)] + [
        json.dumps([0.001 * i, "o", text]) for i, text in enumerate(HOSTILE_FRAMES)
    ]
    lines.append("[" * 100_000 + "]" * 100_000)  # a deeply nested line: skipped
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(data)
    return data


def test_replay_passes_only_what_draws_the_session(tmp_path: Path) -> None:
    """A cast carrying every hostile class, played by `promptster replay` in a real pty, from
    a .cast file and from a bundle: what reaches the terminal holds the text, its colours and
    the screen switches, and none of the titles, links, clipboard writes, file transfers,
    DCS/APC/PM/SOS strings or requests the terminal would answer."""
    import pexpect

    cast = tmp_path / "hostile.cast"
    data = _hostile_cast(cast)
    bundle = tmp_path / "hostile.pst"
    with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("terminal/0.cast", data)
    exe = require_executable("promptster")
    for target in (cast, bundle):
        child = pexpect.spawn(
            exe,
            ["replay", str(target), "--idle-limit", "0"],
            cwd=str(tmp_path),
            env=candidate_env(tmp_path, require_executable("bash")),
            dimensions=(24, 80),
            timeout=120,
        )
        child.expect(pexpect.EOF)
        child.close()
        out = child.before
        assert child.exitstatus == 0, out
        assert b"visible-green" in out and b"\x1b[1;32m" in out and b"after-split" in out
        assert b"\x1b[?1049h" in out and b"\x1b[5;10r" in out
        assert b"end of the recording" in out
        for forbidden in (
            b"\x1b]", b"\x1bP", b"\x1b_", b"\x1b^", b"\x1bX", b"\x9d", b"\x07",
            b"\x1b[6n", b"\x1b[c", b"\x1b[>c", b"\x1b[18t", b"\x1b[?2004h", b"\x1b[?1000h",
            b"owned-title", b"header-title", b"javascript", b"cm0gLXJmIH4K", b"ZWNobyBoaQ==",
        ):  # fmt: skip
            assert forbidden not in out, (target.name, forbidden)
        # the terminal is put back: main screen, whole-screen scrolling, visible cursor
        tail = out[out.rindex(b"after-split") :]
        assert b"\x1b[?1049l" in tail and b"\x1b[r" in tail and b"\x1b[?25h" in tail


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
