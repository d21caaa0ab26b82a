"""`promptster import` and `promptster sessions ...` over the reviewer workspace."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from analysis_scenarios import ada, build, prompts_only
from analysis_tamper import tampered

from promptster.cli import main


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PROMPTSTER_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _json(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, object]:
    code = main(args)
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else None


def test_import_is_idempotent_and_lists(
    home: Path, demo_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, body = _json(["import", str(demo_dir), "--json"], capsys)
    assert code == 0
    assert [i["status"] for i in body["imports"]] == ["imported"] * 4  # type: ignore[index]
    code, body = _json(["import", str(demo_dir / "ada.pst"), "--json"], capsys)
    assert code == 0 and body["imports"][0]["status"] == "unchanged"  # type: ignore[index]
    code, body = _json(["sessions", "list", "--json"], capsys)
    assert code == 0 and body["total"] == 4  # type: ignore[index]
    ada_row = next(s for s in body["sessions"] if s["candidateName"] == "Ada Lovelace")  # type: ignore[index]
    assert ada_row["eventCount"] == 16 and ada_row["decisionFlagCount"] == 1
    assert ada_row["aiAttributionPct"] == 40.0
    assert ada_row["sourceService"] == ["claude-code", "shell"]
    assert ada_row["startedAt"] == "2026-03-02T09:00:00.000Z"
    assert ada_row["endedAt"] == "2026-03-02T09:01:55.000Z"
    assert Path(ada_row["bundle"]).is_absolute()
    code, body = _json(["sessions", "list", "--assessment", "nope", "--json"], capsys)
    assert body["total"] == 0  # type: ignore[index]


def test_show_timeline_decisions(
    home: Path, demo_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(demo_dir)]) == 0
    capsys.readouterr()
    code, body = _json(["sessions", "list", "--json"], capsys)
    sid = next(s["id"] for s in body["sessions"] if s["candidateName"] == "Ada Lovelace")  # type: ignore[index]
    code, body = _json(["sessions", "show", sid[:8], "--json"], capsys)
    assert code == 0 and body["session"]["id"] == sid  # type: ignore[index]
    code, page = _json(["sessions", "timeline", sid, "--limit", "10", "--json"], capsys)
    assert code == 0 and page["hasMore"] is True and len(page["events"]) == 10  # type: ignore[index]
    last = page["events"][-1]["id"]  # type: ignore[index]
    code, rest = _json(["sessions", "timeline", sid, "--after", last, "--json"], capsys)
    assert rest["hasMore"] is False  # type: ignore[index]
    assert [e["seq"] for e in rest["events"]] == list(range(10, 16))  # type: ignore[index]
    code, only = _json(["sessions", "timeline", sid, "--kind", "prompt", "--json"], capsys)
    assert [e["kind"] for e in only["events"]] == ["prompt", "prompt"]  # type: ignore[index]
    code, body = _json(["sessions", "decisions", sid, "--json"], capsys)
    assert body["decisions"][0]["data"]["title"].startswith("Validate")  # type: ignore[index]
    assert main(["sessions", "timeline", sid, "--limit", "2001"]) == 2
    assert main(["sessions", "show", "zzzzzz"]) == 2


def test_cohort_from_the_workspace(
    home: Path, demo_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(demo_dir)]) == 0
    capsys.readouterr()
    code, body = _json(["cohort", "--assessment", "asmt-demo", "--json"], capsys)
    assert code == 0
    (cohort,) = body["cohorts"]  # type: ignore[index]
    assert [s["candidateName"] for s in cohort["sessions"]] == [
        "Cy D. Fect", "Ada Lovelace", "Dee Bugger", "Ben Bitdiddle",  # fewest prompts first
    ]  # fmt: skip
    assert cohort["sessions"][0]["composite"] == pytest.approx(0.716667, abs=1e-6)
    assert main(["cohort", "--assessment", "other"]) == 2


def test_duplicates_and_bad_bundles(
    home: Path, demo_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = ada(), prompts_only()
    first.candidate_key = second.candidate_key = "PST-AAAA-AAA7"  # a valid key, used twice
    a = build(first, tmp_path / "a.pst")
    b = build(second, tmp_path / "b.pst")
    assert main(["import", str(a)]) == 0
    capsys.readouterr()
    code, body = _json(["import", str(b), "--json"], capsys)
    assert code == 1
    (result,) = body["imports"]  # type: ignore[index]
    assert result["status"] == "duplicate" and "PST-AAAA-AAA7" in result["message"]
    bad = tampered(demo_dir / "ben.pst", tmp_path / "ben-bad.pst")
    code, body = _json(["import", str(bad), "--json"], capsys)
    assert code == 1 and body["imports"][0]["status"] == "failed"  # type: ignore[index]
    code, body = _json(["import", str(bad), "--allow-invalid", "--json"], capsys)
    assert code == 1 and body["imports"][0]["status"] == "imported"  # type: ignore[index]
    assert body["imports"][0]["verified"] is False  # type: ignore[index]
    code, body = _json(["sessions", "list", "--json"], capsys)
    flagged = [s for s in body["sessions"] if not s["verified"]]  # type: ignore[index]
    assert [s["candidateName"] for s in flagged] == ["Ben Bitdiddle"]
    other = tmp_path / "copy"
    shutil.copytree(demo_dir, other)
    code, body = _json(["import", str(other / "ben.pst"), "--json"], capsys)
    assert body["imports"][0]["status"] == "duplicate"  # type: ignore[index]


def test_sessions_before_any_import(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sessions", "list"]) == 2
    assert "workspace" in capsys.readouterr().err


def test_import_completes_the_key_the_workspace_issued(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from promptster.issue.identity import init_identity, unlock_identity
    from promptster.reviewer.assessments import AssessmentSpec, create_assessment, create_keys
    from promptster.reviewer.store import Workspace

    monkeypatch.delenv("PROMPTSTER_PASSPHRASE", raising=False)
    init_identity("Acme Hiring", None)
    signer = unlock_identity()
    with Workspace.open() as ws:
        assessment = create_assessment(
            ws, signer, AssessmentSpec(title="Cache", role="Backend", brief="# Fix the cache\n")
        )
        batch = create_keys(ws, signer, assessment.id, count=2)
    (key, other) = batch.keys
    scenario = ada()
    scenario.assessment, scenario.candidate_key = assessment.id, key.key_text
    bundle = build(scenario, tmp_path / "ada.pst", pack=batch.pack)

    code, body = _json(["import", str(bundle), "--json"], capsys)
    assert code == 0 and body["imports"][0]["status"] == "imported"  # type: ignore[index]
    session_id = body["imports"][0]["sessionId"]  # type: ignore[index]
    code, listed = _json(["keys", "list", assessment.id, "--json"], capsys)
    assert code == 0
    rows = {k["id"]: k for k in listed["keys"]}  # type: ignore[index]
    assert rows[key.id]["status"] == "completed"
    assert rows[key.id]["sessionId"] == session_id
    assert rows[key.id]["redeemedAt"] == "2026-03-02T09:00:00.000Z"
    assert rows[key.id]["completedAt"] == "2026-03-02T09:01:55.000Z"
    assert rows[other.id]["status"] == "pending" and rows[other.id]["sessionId"] is None


def test_the_analysis_schema_is_a_workspace_migration(home: Path) -> None:
    from promptster.reviewer.migrations import MIGRATIONS
    from promptster.reviewer.store import Workspace

    assert "analysis schema for imported sessions" in [m.name for m in MIGRATIONS]
    with Workspace.open() as ws:  # a new workspace: no import has run
        con = ws.connection
        tables = con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'analysis' "
            "ORDER BY table_name"
        ).fetchall()
        # the store's own names still resolve to its own tables after the migration
        search_path = con.execute("SELECT current_setting('search_path')").fetchone()
    expected = "authorship commands decisions events file_changes prompts sessions test_runs"
    assert [t for (t,) in tables] == expected.split()
    assert search_path == ("",)


def test_import_names_an_unreadable_bundle_once(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "text.pst"
    junk.write_text("not a bundle\n")
    capsys.readouterr()
    assert main(["import", str(junk)]) == 1
    out = capsys.readouterr().out  # each bundle's outcome is the result: stdout
    assert "failed: the file is not a readable bundle" in out
    assert out.count("text.pst") == 1


def test_review_names_an_unreadable_bundle_once(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "text.pst"
    junk.write_text("not a bundle\n")
    capsys.readouterr()
    assert main(["review", str(junk)]) == 2
    err = capsys.readouterr().err
    assert f"error: {junk} is not a readable bundle" in err and err.count("text.pst") == 1
