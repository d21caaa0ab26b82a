"""Human scorecards (`promptster rate`), names in `sessions list`, the orientation setting and
`analytics`, over a real workspace with real (hand-written, signed) bundles issued by it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from analysis_scenarios import ada, ben, build

from promptster.cli import main
from promptster.issue.identity import Signer, init_identity, unlock_identity
from promptster.reviewer.assessments import AssessmentSpec, create_assessment, create_keys
from promptster.reviewer.store import Workspace

DIMS = ["--dimension", "problem_decomposition=4", "--dimension", "code_quality=3"]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PROMPTSTER_HOME", str(tmp_path / "home"))
    for name in ("PROMPTSTER_PASSPHRASE", "PROMPTSTER_REVIEWER"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "home"


@pytest.fixture
def signer(home: Path) -> Signer:
    init_identity("Acme Hiring", None)
    return unlock_identity()


@pytest.fixture
def imported(home: Path, signer: Signer, tmp_path: Path) -> dict[str, str]:
    """Two sessions of an assessment this workspace issued named keys for, imported."""
    with Workspace.open() as ws:
        made = create_assessment(
            ws, signer, AssessmentSpec(title="Cache fix", role="Backend", brief="# Fix it\n")
        )
        batch = create_keys(
            ws, signer, made.id, count=None, emails=["ada@example.com", "ben@example.com"],
            names=["Ada Lovelace", "Ben Bitdiddle"],
        )  # fmt: skip
    ids = {}
    for scenario, key in zip((ada(), ben()), batch.keys, strict=True):
        scenario.assessment, scenario.candidate_key = made.id, key.key_text
        scenario.candidate = "name the bundle carries"
        bundle = build(scenario, tmp_path / f"{scenario.name}.pst", pack=batch.pack)
        assert main(["import", str(bundle)]) == 0
        with Workspace.open(read_only=True) as ws:
            (sid,) = ws.connection.execute(
                "SELECT session_id FROM main.sessions WHERE manifest->>'candidateKey' = ?",
                [key.key_text],
            ).fetchone() or ("",)
        ids[scenario.name] = str(sid)
    ids["assessment"] = made.id
    return ids


def _stored() -> list[tuple[object, ...]]:
    with Workspace.open(read_only=True) as ws:
        return ws.connection.execute(
            "SELECT session_id, reviewer, dimension, score FROM main.rubric_scores "
            "UNION ALL SELECT session_id, reviewer, decision, NULL FROM main.reviewer_decisions "
            "ORDER BY ALL"
        ).fetchall()


def _json(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, object]:
    code = main(args)
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nosuchsession", *DIMS], "no imported session 'nosuchsession'"),
        (["{ada}", "--dimension", "charisma=4"], "unknown rubric dimension 'charisma'"),
        (["{ada}", "--dimension", "code_quality=6"], "outside 1–5"),
        (["{ada}", "--dimension", "code_quality=0"], "outside 1–5"),
        (["{ada}", "--dimension", "code_quality=three"], "not a whole number"),
        (["{ada}", "--dimension", "code_quality"], "is not dimension=score"),
        (["{ada}", *DIMS, "--dimension", "code_quality=2"], "code_quality is given twice"),
        (["{ada}", *DIMS, "--decision", "maybe"], "unknown decision 'maybe'"),
        (["{ada}"], "nothing to record"),
        ([], "name the SESSION to rate"),
    ],
)
def test_bad_ratings_exit_2_and_write_nothing(
    imported: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    # one valid dimension beside the bad one: nothing of it may be written either
    args = [a.format(ada=imported["ada"][:8]) for a in args]
    capsys.readouterr()
    assert main(["rate", *args, "--reviewer", "rita"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert _stored() == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "is not JSON"),
        (b'{"scores": {}}', "is not a promptster rating file"),
        (b'{"format": "promptster.rating", "version": 99, "sessionId": "x"}', "version 99"),
        (b'{"format": "promptster.rating", "version": 1, "scores": {}}', "names no sessionId"),
        (
            b'{"format": "promptster.rating", "version": 1, "sessionId": "{ada}", '
            b'"scores": {"code_quality": 9}}',
            "outside 1–5",
        ),
        (
            b'{"format": "promptster.rating", "version": 1, "sessionId": "{ada}", "scores": [4]}',
            "`scores` must be an object",
        ),
        (b"\xff\xfe", "is not JSON"),
    ],
)
def test_a_malformed_rating_file_exits_2_and_writes_nothing(
    imported: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes,
    message: str,
) -> None:
    file = tmp_path / "rating.json"
    file.write_bytes(content.replace(b"{ada}", imported["ada"].encode()))
    capsys.readouterr()
    assert main(["rate", "--from", str(file)]) == 2
    assert message in capsys.readouterr().err
    assert _stored() == []
    assert main(["rate", "--from", str(tmp_path / "missing.json")]) == 2


def test_several_reviewers_rate_and_a_second_rating_updates_ones_own(
    imported: dict[str, str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ada_id = imported["ada"]
    assert main(["rate", ada_id[:8], *DIMS, "--decision", "hold", "--reviewer", "rita"]) == 0
    assert "rated Ada Lovelace" in capsys.readouterr().out  # the name from the issued key
    assert main(["rate", ada_id, "--dimension", "code_quality=5", "--reviewer", "sam"]) == 0
    # rita changes her mind on one dimension and her decision; her other score stays
    rating = {
        "format": "promptster.rating", "version": 1, "sessionId": ada_id, "reviewer": "rita",
        "scores": {"code_quality": 4}, "decision": "advance", "note": "clear plan",
    }  # fmt: skip
    file = tmp_path / "r.json"
    file.write_text(json.dumps(rating))
    capsys.readouterr()
    code, body = _json(["rate", "--from", str(file), "--json"], capsys)
    assert code == 0
    ratings = body["ratings"]  # type: ignore[index]
    assert ratings["reviewerCount"] == 2
    assert ratings["dimensions"]["code_quality"] == {
        "mean": 4.5, "min": 4, "max": 5, "spread": 1, "count": 2,
    }  # fmt: skip
    assert ratings["dimensions"]["problem_decomposition"]["mean"] == 4
    assert ratings["decisions"] == {"advance": 1}
    rita = next(c for c in ratings["scorecards"] if c["reviewer"] == "rita")
    assert rita["scores"] == {"code_quality": 4, "problem_decomposition": 4}
    assert rita["note"] == "clear plan" and rita["updatedAt"].endswith("Z")
    # the same in `sessions list`, by name, with the e-mail and the assessment's title
    code, listed = _json(["sessions", "list", "--json"], capsys)
    row = next(s for s in listed["sessions"] if s["id"] == ada_id)  # type: ignore[index]
    assert row["candidateName"] == "Ada Lovelace" and row["candidateEmail"] == "ada@example.com"
    assert row["assessmentTitle"] == "Cache fix"
    assert row["ratings"]["mean"] == pytest.approx((4 + 4 + 5) / 3)
    assert main(["sessions", "list"]) == 0
    text = capsys.readouterr().out
    assert "Ada Lovelace" in text and "ada@example.com" in text and "Cache fix" in text
    assert ada_id[:8] in text and "advance=1" in text
    code, shown = _json(["sessions", "show", ada_id[:8], "--json"], capsys)
    assert shown["session"]["candidateName"] == "Ada Lovelace"  # type: ignore[index]
    assert shown["session"]["ratings"]["reviewerCount"] == 2  # type: ignore[index]
    assert main(["sessions", "show", ada_id[:8]]) == 0
    assert "rated by rita: code_quality 4, problem_decomposition 4; advance" in (
        capsys.readouterr().out
    )


def test_the_rating_file_wins_only_where_given(
    imported: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "r.json"
    file.write_text(
        json.dumps({"format": "promptster.rating", "version": 1, "sessionId": imported["ben"],
                    "reviewer": None, "scores": {"communication": 2}})
    )  # fmt: skip
    assert main(["rate", imported["ada"], "--from", str(file)]) == 2  # another session
    assert "is for session" in capsys.readouterr().err
    assert main(["rate", "--from", str(file), *DIMS]) == 2  # both ways at once
    assert main(["rate", "--from", str(file), "--reviewer", "una"]) == 0
    assert _stored() == [(imported["ben"], "una", "communication", 2)]


_HOLDER = """
import sys
from promptster.reviewer.store import Workspace
with Workspace.open():
    print("holding", flush=True)
    sys.stdin.readline()
"""


def _promptster(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", "from promptster.cli import run; run()", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )


def test_two_reviewers_rating_at_the_same_time_take_turns(imported: dict[str, str]) -> None:
    """Two processes: one holds the workspace (as a second reviewer's `rate` would, or any
    command); `rate` waits for it with --wait, and fails clearly with --wait 0."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    assert holder.stdin is not None and holder.stdout is not None
    try:
        assert holder.stdout.readline().strip() == "holding"
        busy = _promptster("rate", imported["ada"], *DIMS, "--reviewer", "rita", "--wait", "0")
        _, err = busy.communicate()
        assert busy.returncode == 3, err
        assert "in use by another promptster process" in err and "Traceback" not in err
        waiting = _promptster("rate", imported["ada"], *DIMS, "--reviewer", "sam", "--wait", "600")
        time.sleep(1.0)  # let it reach the lock; it must still be waiting, not failed
        assert waiting.poll() is None
    finally:
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait()
    _, err = waiting.communicate()
    assert waiting.returncode == 0, err
    sam = _promptster(
        "rate", imported["ada"], "--dimension", "communication=2", "--reviewer", "rita"
    )
    rita = _promptster("rate", imported["ada"], "--decision", "reject", "--reviewer", "sam")
    assert sam.wait() == 0 and rita.wait() == 0  # truly at once: both land, none half
    assert {(r[1], r[2]) for r in _stored()} == {
        ("sam", "problem_decomposition"), ("sam", "code_quality"), ("sam", "reject"),
        ("rita", "communication"),
    }  # fmt: skip


def test_orientation_is_a_workspace_setting_per_assessment(
    imported: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assessment = imported["assessment"]
    capsys.readouterr()
    code, body = _json(["assessment", "orientation", assessment, "--json"], capsys)
    rows = {r["metric"]: r for r in body["orientation"]}  # type: ignore[index]
    assert rows["promptCount"]["orientation"] == "lower" and not rows["promptCount"]["overridden"]
    code, body = _json(
        ["assessment", "orientation", assessment[:8], "promptCount=higher",
         "manualEditRatio=neutral", "errorEpisodeCount=lower", "--json"],
        capsys,
    )  # fmt: skip
    assert code == 0
    rows = {r["metric"]: r for r in body["orientation"]}  # type: ignore[index]
    assert rows["promptCount"] == {
        "metric": "promptCount", "default": "lower", "orientation": "higher", "overridden": True,
    }  # fmt: skip
    assert rows["errorEpisodeCount"]["orientation"] == "lower"
    code, cohorts = _json(["cohort", "--assessment", assessment, "--json"], capsys)
    (cohort,) = cohorts["cohorts"]  # type: ignore[index]
    assert cohort["orientation"]["promptCount"] == "higher"
    assert "manualEditRatio" not in cohort["orientation"]  # neutral: not ranked
    assert cohort["orientation"]["errorEpisodeCount"] == "lower"
    assert cohort["assessmentTitle"] == "Cache fix"
    assert {s["candidateEmail"] for s in cohort["sessions"]} == {
        "ada@example.com", "ben@example.com",
    }  # fmt: skip
    for bad in (["nope=lower"], ["promptCount=sideways"], ["promptCount"], ["toolUsage=higher"]):
        assert main(["assessment", "orientation", assessment, *bad]) == 2
    assert main(["assessment", "orientation", assessment, "--reset"]) == 0
    assert "promptCount" in capsys.readouterr().out  # the table, for people
    code, body = _json(["assessment", "orientation", assessment, "--json"], capsys)
    assert not any(r["overridden"] for r in body["orientation"])  # type: ignore[index]


def test_analytics_of_an_empty_or_missing_workspace_is_empty_but_valid(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for _ in range(2):  # no workspace file; then a new, empty one
        code, body = _json(["analytics", "--json", "-o", str(tmp_path / "a.html")], capsys)
        assert code == 0
        assert body == {
            "version": 1, "assessments": [], "topCandidates": [],
            "strategyTierDistribution": {
                "strong": 0, "adequate": 0, "developing": 0, "insufficient": 0, "total": 0,
            },
        }  # fmt: skip
        assert "no assessment and no imported session" in (tmp_path / "a.html").read_text()
        Workspace.open().close()


def test_analytics_funnel_of_an_assessment(
    imported: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rate", imported["ada"], *DIMS, "--reviewer", "rita"]) == 0
    assert main(["rate", imported["ben"], "--decision", "reject", "--reviewer", "rita"]) == 0
    capsys.readouterr()
    _code, body = _json(["analytics", "--json"], capsys)
    (one,) = body["assessments"]  # type: ignore[index]
    assert one["assessmentTitle"] == "Cache fix"
    assert [(f["label"], f["count"]) for f in one["funnel"]] == [
        ("issued", 2), ("redeemed", 2), ("submitted", 2), ("reviewed", 1), ("decided", 1),
    ]  # fmt: skip
    assert one["completionRate"] == 1.0
    assert one["medianTimeToSubmitMs"] > 0
    assert one["strategyTierDistribution"]["total"] == 2
    top = body["topCandidates"]  # type: ignore[index]
    assert {c["candidateName"] for c in top} == {"Ada Lovelace", "Ben Bitdiddle"}
    assert top[0]["composite"] >= top[1]["composite"]
