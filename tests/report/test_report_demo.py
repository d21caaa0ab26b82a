"""`promptster demo`: the README's first command, end to end, in a sandbox.

It runs the real recorder, the recorded shell (bash, driven with pexpect), Claude Code hook
calls and the reviewer's commands, so it needs bash and git; it is the slowest test here.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from report_kit import report_block

from support import require, require_executable

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _demo(sandbox: Path, *args: str) -> subprocess.CompletedProcess[str]:
    home, tmp = sandbox / "home", sandbox / "tmp"
    home.mkdir(exist_ok=True)
    tmp.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PROMPTSTER_", "XDG_"))}
    env.update(HOME=str(home), TMPDIR=str(tmp))
    return subprocess.run(
        [sys.executable, "-c", "from promptster.cli import run; run()", "demo", *args],
        cwd=sandbox,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_demo_records_submits_and_reviews_a_session(tmp_path: Path) -> None:
    require_executable("bash")
    require_executable("git")
    require(
        importlib.util.find_spec("promptster.record.shell.session") is not None,
        "the recorded shell (promptster shell) is not in this checkout",
    )
    done = _demo(tmp_path, "-o", "out")
    assert done.returncode == 0, done.stderr
    report = tmp_path / "out" / "report.html"
    assert done.stdout.strip() == str(report)
    assert "✓ verified" in done.stderr
    html = report.read_text("utf-8")
    assert "✓ Verified" in html and "Demo Candidate" in html and "Cart discount bug" in html
    events = report_block(html, "ps-events")
    kinds = [events["kinds"][row[2]] for row in events["rows"]]
    tests = [row[6] for row in events["rows"] if events["kinds"][row[2]] == "test_run"]
    assert tests[0]["failed"] == 1 and tests[-1]["failed"] == 0 and tests[-1]["passed"] == 4
    assert {"prompt", "ai_response", "tool_use", "decision_event", "command"} <= set(kinds)
    verdicts = {
        events["attrs"][row[5]]
        for row in events["rows"]
        if events["kinds"][row[2]] in ("file_diff", "file_create")
    }
    assert {"likely_ai", "likely_human"} <= verdicts
    assert 'id="ps-cast-0"' in html
    # Nothing outside the output folder: the sandbox's home and temp stay empty.
    assert list((tmp_path / "home").iterdir()) == []
    assert list((tmp_path / "tmp").iterdir()) == []
    # Again into the same folder: an earlier demo's folder is replaced.
    again = _demo(tmp_path, "-o", "out")
    assert again.returncode == 0, again.stderr


def test_demo_refuses_a_folder_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    done = _demo(tmp_path, "-o", "mine")
    assert done.returncode == 2
    assert "is not empty" in done.stderr
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
