"""The time limit binds (issue 16, finding 2): verify compares the session with the signed
pack's limit, not with anything the candidate's machine wrote about it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from promptster.bundle import format as fmt
from promptster.bundle.verify import Finding, VerifyContext
from promptster.cli import main
from promptster.formats.events import format_ts
from promptster.issue.assessment import AssessmentPack, KdfParams, PackKey, hash_key, sign_pack
from promptster.issue.keys import CandidateKey, check_symbol
from promptster.record.synth import SYNTH_REVIEWER, generate_bundle
from promptster.reviewer.timecheck import TimeLimitCheck
from support import require_executable

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
KEY = CandidateKey("TTTTTTT" + check_symbol("TTTTTTT"))
KDF = KdfParams(n=2**10)


def pack(limit_minutes: int | None, assessment_id: str = "asm-time") -> bytes:
    salt = b"t" * 16
    body = AssessmentPack(
        assessment_id=assessment_id, org="Example", role="Backend", brief="x",
        time_limit_minutes=limit_minutes, repo=None, reviewer_public_key=SYNTH_REVIEWER.public,
        keys=(PackKey("k", salt, hash_key(KEY, salt, KDF), datetime(2030, 1, 1, tzinfo=UTC),
                      False),),
        issued_at=START - timedelta(days=1), kdf=KDF,
    )  # fmt: skip
    return sign_pack(body, SYNTH_REVIEWER)


def context(
    minutes: float,
    *,
    limit: int | None = 60,
    last_after: float | None = None,
    deadline: datetime | None = None,
    warnings: dict[str, int] | None = None,
) -> VerifyContext:
    ended = START + timedelta(minutes=minutes)
    manifest = fmt.Manifest(
        format_version=2, tool_version="0", session_id="s", assessment_id="asm-time",
        candidate_key=KEY.text, started_at=format_ts(START), ended_at=format_ts(ended),
        event_count=0, public_key="", chain_head="", snapshot_head="", members={}, extra={},
    )  # fmt: skip
    data = {"deadline": format_ts(deadline)} if deadline else {}
    last = START + timedelta(minutes=last_after) if last_after is not None else ended
    return VerifyContext(
        Path("b.pst"),
        manifest=manifest,
        assessment_pack=pack(limit),
        first_event={"kind": "session_start", "data": data},
        last_ts=format_ts(last),
        warning_codes=dict(warnings or {}),
    )


def run(ctx: VerifyContext) -> list[Finding]:
    findings: list[Finding] = []
    TimeLimitCheck()(ctx, findings)
    return findings


def test_a_session_inside_the_limit_is_ok() -> None:
    (finding,) = run(context(45, deadline=START + timedelta(minutes=60)))
    assert finding.status == "ok" and finding.message == "45.0 min of the pack's 60-minute limit"


def test_an_overrun_is_flagged_by_duration_and_by_its_last_event() -> None:
    findings = run(context(80))
    assert [f.status for f in findings] == ["warning", "warning"]
    assert "lasted 80.0 min" in findings[0].message and "limit is 60 min" in findings[0].message
    assert "last event is 20.0 min after the time limit" in findings[1].message


def test_an_edited_deadline_in_the_session_file_is_flagged() -> None:
    # The candidate gave themselves 30 more minutes: the session started with that deadline.
    findings = run(context(50, deadline=START + timedelta(minutes=90)))
    (finding,) = findings
    assert finding.status == "warning"
    assert "is not the signed start plus the pack's limit" in finding.message


def test_clock_anomalies_the_recorder_noticed_are_flagged() -> None:
    warnings = {"clock_jump": 2, "time_warning": 3}  # as the timeline check counted them
    (finding,) = run(context(30, warnings=warnings))
    assert finding.status == "warning" and "2 clock jump(s)" in finding.message
    (no_limit,) = run(context(30, limit=None, warnings=warnings))
    assert "clock jump" in no_limit.message


def test_no_limit_and_no_anomaly_says_nothing() -> None:
    assert run(context(500, limit=None)) == []


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PROMPTSTER_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_verify_reports_an_overrun_of_a_real_bundle(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    require_executable("git")
    bundle = generate_bundle(
        tmp_path / "late.pst", events=200, seed=4, candidate_key=KEY.text,
        issued=("asm-time", pack(5)),
    )  # fmt: skip
    capsys.readouterr()
    assert main(["verify", "--json", str(bundle.path)]) == 0  # an overrun is the reviewer's call
    findings = json.loads(capsys.readouterr().out)["bundles"][0]["findings"]
    timing = [f for f in findings if f["check"] == "time-limit"]
    assert timing and all(f["status"] == "warning" for f in timing)
    assert "the pack's limit is 5 min" in timing[0]["message"]
