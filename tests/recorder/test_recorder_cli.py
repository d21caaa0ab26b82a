"""The candidate commands, run as a candidate would, with a real key and assessment pack."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from promptster.bundle.verify import verify_bundle
from promptster.record.control import recorder_running
from promptster.record.session import SessionPaths
from recorder_helpers import (
    events_of,
    git,
    make_assessment,
    make_starter_repo,
    recorder_pid,
    run_promptster,
    stop_recorder,
    wait_for,
)


@pytest.fixture
def assessment(recorder_env: Path, tmp_path: Path) -> tuple[Path, list[str], str]:
    """A starter repository (pinned to its first commit), a pack in the candidate's folder."""
    repo = make_starter_repo(tmp_path / "upstream" / "calc-kata")
    first = git(repo, "rev-list", "--max-parents=0", "HEAD").strip()
    pack, keys = make_assessment(tmp_path / "reviewer-side", repo=repo, rev=first, keys=3)
    candidate = tmp_path / "candidate home"
    candidate.mkdir()
    (candidate / "invite.json").write_bytes(pack.read_bytes())
    return candidate, keys, first


def ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def test_from_key_to_verified_bundle(assessment: tuple[Path, list[str], str]) -> None:
    folder, keys, pinned = assessment
    started = json.loads(
        ok(run_promptster("start", keys[0], "--accept", "--no-shell", "--json", cwd=folder)).stdout
    )
    workspace = Path(started["workspace"])
    paths = SessionPaths(workspace / ".promptster")
    try:
        assert workspace == folder / "calc-kata" and not started["resumed"]
        assert git(workspace, "rev-parse", "HEAD").strip() == pinned
        assert "subtracts" in (workspace / "TASK.md").read_text()
        again = json.loads(
            ok(run_promptster("start", keys[0], "--no-shell", "--json", cwd=folder)).stdout
        )
        assert again["resumed"] and again["sessionId"] == started["sessionId"]

        (workspace / "calc.py").write_text("def add(a, b):\n    return a + b\n")
        ok(run_promptster("note", "the sign was wrong", cwd=workspace))
        ok(run_promptster("explain", "plus, not minus", "--title", "Fix add", "--impact", "2",
                          cwd=workspace / "."))  # fmt: skip
        ok(run_promptster("checkpoint", "fixed", cwd=workspace))
        blank = run_promptster("checkpoint", "  ", cwd=workspace)
        assert blank.returncode == 2 and "label is empty" in blank.stderr
        git(workspace, "commit", "-qam", "fix add")
        status = json.loads(ok(run_promptster("status", "--json", cwd=workspace)).stdout)
        assert status["sessionId"] == started["sessionId"] and status["status"] == "active"
        assert status["counts"]["note"] == 1 and status["sources"]["watcher"]["alive"]
        brief = json.loads(ok(run_promptster("brief", "--json", cwd=workspace)).stdout)
        assert "subtracts" in brief["brief"] and brief["remainingSeconds"] is None
        doctor = json.loads(ok(run_promptster("doctor", "--json", cwd=workspace)).stdout)
        assert doctor["ok"], doctor

        submitted = json.loads(
            ok(run_promptster("submit", "--yes", "--json", cwd=workspace)).stdout
        )
        report = verify_bundle(Path(submitted["path"]))
        assert report.ok, report.failures
        assert report.context.assessment_pack == (folder / "invite.json").read_bytes()
        twice = json.loads(ok(run_promptster("done", "--yes", "--json", cwd=workspace)).stdout)
        assert twice["alreadySubmitted"] and twice["sha256"] == submitted["sha256"]
        ended = json.loads(ok(run_promptster("status", "--json", cwd=workspace)).stdout)
        assert ended["status"] == "submitted" and ended["remainingSeconds"] is None
        assert ended["endedAt"] and ended["elapsedSeconds"] >= 0
        shown = ok(run_promptster("status", cwd=workspace)).stdout  # the result: stdout
        assert "ended" in shown and "duration" in shown and "remaining" not in shown
        after = json.loads(ok(run_promptster("brief", "--json", cwd=workspace)).stdout)
        assert after["remainingSeconds"] is None and "subtracts" in after["brief"]
        assert "has ended" in ok(run_promptster("brief", cwd=workspace)).stdout
        kinds = [e["kind"] for e in json.loads(json.dumps(events_of(paths, "decision_event")))]
        assert kinds == ["decision_event"]
        refused = run_promptster("start", keys[0], "--no-shell", cwd=folder)
        assert refused.returncode != 0 and "already" in refused.stderr
    finally:
        stop_recorder(paths)


def test_abort_reset_and_a_killed_recorder(assessment: tuple[Path, list[str], str]) -> None:
    folder, keys, _ = assessment
    workspace = folder / "second try"
    ok(run_promptster("start", keys[1], "--accept", "--no-shell", "--workspace", str(workspace),
                      cwd=folder))  # fmt: skip
    paths = SessionPaths(workspace / ".promptster")
    try:
        pid = recorder_pid(paths)
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not recorder_running(paths), what="the recorder to die")
        noticed = ok(run_promptster("status", cwd=workspace))
        assert "restarted" in noticed.stderr
        assert [e["data"]["code"] for e in events_of(paths, "warning")] == ["recorder_restart"]

        ok(run_promptster("cleanup", "--yes", "--reason", "wrong folder", cwd=workspace))
        ends = events_of(paths, "session_end")
        assert [e["data"].get("detail") for e in ends] == ["wrong folder"]
        assert ends[0]["data"]["reason"] == "abort"
        assert (
            json.loads(ok(run_promptster("status", "--json", cwd=workspace)).stdout)["status"]
            == "aborted"
        )
        refused = run_promptster("submit", "--yes", cwd=workspace)
        assert refused.returncode == 2 and "aborted" in refused.stderr
        assert paths.journal.exists()  # abort deletes nothing

        ok(run_promptster("reset", "--yes", cwd=workspace))
        assert not paths.root.exists() and list(workspace.glob(".promptster.reset-*"))
        nothing = run_promptster("status", cwd=workspace)
        assert nothing.returncode == 2 and "no Promptster session" in nothing.stderr
    finally:
        stop_recorder(paths)
    # The reset released the key: it starts a fresh session (here in a new folder, as the
    # first one holds the starter clone), and that session is the key's only one again.
    fresh = folder / "third try"
    again = json.loads(
        ok(
            run_promptster(
                "start", keys[1], "--no-shell", "--json", "--workspace", str(fresh), cwd=folder
            )
        ).stdout
    )
    fresh_paths = SessionPaths(fresh / ".promptster")
    try:
        assert not again["resumed"]
        first_id = json.loads(next(workspace.glob(".promptster.reset-*/session.json")).read_text())[
            "sessionId"
        ]
        assert again["sessionId"] != first_id
        # The restart is visible to the reviewer: session_start names the aborted attempt.
        (start_event,) = events_of(fresh_paths, "session_start")
        assert start_event["data"]["restartedFrom"] == first_id
        assert start_event["data"]["keyRedeemedAt"]
        other = run_promptster("start", keys[1], "--no-shell", "--workspace",
                               str(folder / "fourth"), cwd=folder)  # fmt: skip
        assert other.returncode != 0 and "already redeemed" in other.stderr
        ok(run_promptster("submit", "--yes", cwd=fresh))
        ok(run_promptster("reset", "--yes", cwd=fresh))
        used = run_promptster("start", keys[1], "--no-shell", "--workspace", str(fresh),
                              cwd=folder)  # fmt: skip
        assert used.returncode != 0 and "submitted" in used.stderr
    finally:
        stop_recorder(fresh_paths)


def test_reset_purge_deletes_the_session(assessment: tuple[Path, list[str], str]) -> None:
    folder, keys, _ = assessment
    workspace = folder / "third"
    ok(run_promptster("start", keys[2], "--accept", "--no-shell", "--workspace", str(workspace),
                      cwd=folder))  # fmt: skip
    paths = SessionPaths(workspace / ".promptster")
    try:
        assert (workspace / "calc.py").exists()  # cloned into the folder given
        ok(run_promptster("reset", "--purge", "--yes", cwd=workspace))
        assert not paths.root.exists()
        assert not recorder_running(paths)
    finally:
        stop_recorder(paths)


def test_two_starts_at_once_make_one_session_and_the_other_resumes(
    assessment: tuple[Path, list[str], str],
) -> None:
    # Issue 16 (6): one of two simultaneous `start`s exited 1 instead of resuming.
    folder, keys, _ = assessment
    command = [sys.executable, "-c", "from promptster.cli import run; run()", "start", keys[0]]
    argv = [*command, "--accept", "--no-shell", "--json"]
    both = [
        subprocess.Popen(
            argv, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outs = [proc.communicate(timeout=300) for proc in both]
    paths = SessionPaths(folder / "calc-kata" / ".promptster")
    try:
        codes = [proc.returncode for proc in both]
        assert codes == [0, 0], outs
        started = [json.loads(out) for out, _ in outs]
        assert started[0]["sessionId"] == started[1]["sessionId"]
        assert sorted(s["resumed"] for s in started) == [False, True]
    finally:
        stop_recorder(paths)
