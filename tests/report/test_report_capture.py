"""Capture gaps are prominent (issue 16, "every loss leaves a trace"): each warning that says
the record may be incomplete or its clock unreliable is listed in a banner near the top of the
report, with what was lost and a link to its event in the timeline."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from report_kit import ordinary

from promptster.cli import main

WARNINGS: list[tuple[int, str, str, dict[str, Any]]] = [
    (
        40,
        "capture_gap",
        "3 event(s) could not be recorded: disk full",
        {"count": 3, "kinds": {"prompt": 2, "command": 1}, "source": "recorder"},
    ),
    (45, "capture_gap", "terminal output lost", {"gapBytes": 4096, "source": "terminal"}),
    (
        50,
        "recorder_restart",
        "the recorder stopped unexpectedly and was restarted",
        {"gapMs": 1500, "tornBytes": 0},
    ),
    (55, "clock_jump", "the system clock was set back by 3600 s", {"jumpMs": -3_600_000}),
    (
        56,
        "deadline_mismatch",
        "session.json's deadline differs from the signed time limit",
        {"claimed": "2026-01-01T03:00:00.000Z", "deadline": "2026-01-01T01:00:00.000Z"},
    ),
]


def test_the_report_lists_every_capture_warning_near_the_top(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = ordinary("capture-gaps")
    for at, code, message, extra in WARNINGS:
        script.add(at, "warning", {"code": code, "message": message, **extra}, actor="system")
    script.add(57, "warning", {"code": "redaction", "message": "a token was removed"})
    bundle = script.build(tmp_path / "gaps.pst")
    out = tmp_path / "report.html"
    assert main(["review", str(bundle), "-o", str(out)]) == 0
    html = out.read_text("utf-8")
    banner = re.search(r'<section class="banner capture".*?</section>', html, re.S)
    assert banner is not None
    text = banner.group(0)
    # near the top: right after the verification banner, before the summary
    assert html.index('id="verification-banner"') < banner.start() < html.index('id="summary"')
    assert "5 warnings" in text
    items = re.findall(r"<li class=\"capture-(\w+)\">(.*?)</li>", text, re.S)
    assert [code for code, _ in items] == [code for _, code, _, _ in WARNINGS]
    lost = dict(items)
    assert "3 event(s) lost (command 1, prompt 2)" in items[0][1]
    assert "4,096 bytes of terminal output lost" in items[1][1]
    assert "no recorder for up to 1.5 s" in lost["recorder_restart"]
    assert "set back by 1 h" in lost["clock_jump"]
    assert "session.json claimed 2026-01-01T03:00:00.000Z" in lost["deadline_mismatch"]
    # each links to its event, and the timeline has that event
    seqs = [int(s) for s in re.findall(r'href="#ev-(\d+)"', text)]
    assert len(seqs) == len(WARNINGS) and seqs == sorted(seqs)
    assert "redaction" not in text  # not a loss


def test_a_session_without_losses_has_no_capture_banner(
    bundles: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    assert main(["review", str(bundles["ordinary"]), "-o", str(out)]) == 0
    assert 'id="capture-banner"' not in out.read_text("utf-8")
