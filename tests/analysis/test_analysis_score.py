"""`promptster score`: formats, parallel workers, bad bundles, exit codes."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import duckdb
import pytest
from analysis_tamper import newer_format, tampered

from promptster.analysis.score import COLUMNS, iter_scores
from promptster.cli import main


def _score(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["score", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_csv_has_the_hand_computed_numbers(
    demo_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _score([str(demo_dir), "--format", "csv", "--jobs", "1"], capsys)
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == list(COLUMNS)
    by_name = {Path(r["path"]).stem: r for r in rows}
    assert [Path(r["path"]).stem for r in rows] == ["ada", "ben", "cy", "dee"]
    ada, ben, cy, dee = (by_name[n] for n in ("ada", "ben", "cy", "dee"))
    assert ada["verified"] == "true" and ada["error"] == ""
    assert (ada["promptCount"], ada["verifyIntensity"], ada["commandFailRate"]) == (
        "2",
        "2.0",
        "0.25",
    )
    assert (ada["manualEditRatio"], ada["firstChangeLatencyMs"], ada["aiAttributionPct"]) == (
        "0.5", "60000", "40.0",
    )  # fmt: skip
    assert (ada["testsPassed"], ada["testsTotal"], ada["processDescriptors"]) == (
        "5",
        "5",
        "test-driven",
    )
    assert ben["commandFailRate"] == "0.666667" and ben["decisionVisibility"] == ""
    assert ben["errorRecoveryPattern"] == "0.4" and ben["testsTotal"] == ""
    assert cy["avgPromptLength"] == "" and cy["explorationBeforeActionRatio"] == "1.0"
    assert dee["aiAttributionPct"] == "54.545455" and dee["decisionVisibility"] == "0.0"
    assert "4 bundle(s) scored, 0 failed verification" in err


def test_json_jsonl_and_parallel_agree(demo_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _score([str(demo_dir), "--format", "json", "--jobs", "1"], capsys)
    assert code == 0 and "NaN" not in out
    rows = json.loads(out)
    assert rows[0]["confidence"]["promptCount"] == "high"
    assert rows[1]["confidence"]["decisionVisibility"] == "insufficient_data"
    code, out, _ = _score([str(demo_dir), "--format", "jsonl", "--jobs", "2"], capsys)
    assert code == 0
    assert [json.loads(line) for line in out.splitlines()] == rows


def test_table_and_parquet(
    demo_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _score([str(demo_dir), "--jobs", "1"], capsys)
    assert code == 0 and "ada.pst" in out and "verifyIntensity" in out
    target = tmp_path / "out" / "scores.parquet"
    code, out, _ = _score([str(demo_dir), "--format", "parquet", "-o", str(target)], capsys)
    assert code == 0 and out == ""
    rows = duckdb.sql(
        f"SELECT candidateName, promptCount, commandFailRate, verified FROM '{target}' "
        "ORDER BY path"
    ).fetchall()
    assert rows[0] == ("Ada Lovelace", 2, 0.25, True)
    assert len(rows) == 4
    assert sorted(p.name for p in target.parent.iterdir()) == ["scores.parquet"]  # no temp left


def test_a_bad_bundle_gets_a_row_and_exit_1(
    demo_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "batch"
    shutil.copytree(demo_dir, folder)
    tampered(demo_dir / "ada.pst", folder / "ada.pst")
    newer_format(demo_dir / "ben.pst", folder / "future.pst")
    (folder / "junk.pst").write_bytes(b"not a bundle")
    code, out, err = _score([str(folder), "--format", "jsonl", "--jobs", "2"], capsys)
    assert code == 1
    rows = {Path(r["path"]).name: r for r in map(json.loads, out.splitlines())}
    assert len(rows) == 6
    assert rows["ada.pst"]["verified"] is False
    assert "changed after signing" in rows["ada.pst"]["error"]
    assert rows["ada.pst"]["promptCount"] is None
    assert "upgrade promptster" in rows["future.pst"]["error"]
    assert rows["junk.pst"]["error"] and rows["junk.pst"]["sessionId"] is None
    assert rows["cy.pst"]["verified"] is True and rows["cy.pst"]["promptCount"] == 0
    assert "3 failed verification" in err
    code, _, _ = _score([str(folder), "--format", "csv", "--fail-on", "never"], capsys)
    assert code == 0


def test_allow_invalid_scores_but_still_fails(
    demo_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tampered(demo_dir / "ada.pst", tmp_path / "ada.pst")
    code, out, _ = _score([str(bad), "--format", "jsonl", "--allow-invalid"], capsys)
    assert code == 1
    row = json.loads(out)
    assert row["verified"] is False and row["promptCount"] == 2 and row["error"]


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _score([str(tmp_path)], capsys)[0] == 2  # no bundles
    assert _score([str(tmp_path / "missing.pst")], capsys)[0] == 2
    assert _score([str(tmp_path), "--format", "xml"], capsys)[0] == 2
    assert _score([str(tmp_path), "--jobs", "0"], capsys)[0] == 2
    assert _score([], capsys)[0] == 2


def test_rows_keep_input_order(demo_dir: Path) -> None:
    paths = sorted(demo_dir.glob("*.pst"), reverse=True)
    rows = list(iter_scores(paths, jobs=2))
    assert [r["path"] for r in rows] == [str(p) for p in paths]


def test_output_to_a_device_is_written_in_place(
    demo_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    null = Path("/dev/null")
    if not null.is_char_device():
        pytest.skip("no /dev/null here")
    code, out, _ = _score([str(demo_dir / "ada.pst"), "--format", "csv", "-o", str(null)], capsys)
    assert code == 0 and out == ""
    assert null.is_char_device()  # not replaced by a regular file


def test_chunks_score_like_single_bundles(
    demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from promptster.analysis import score

    folder = tmp_path / "copies"
    shutil.copytree(demo_dir, folder)
    shutil.copyfile(demo_dir / "ada.pst", folder / "ada-copy.pst")  # same session, same bytes
    tampered(demo_dir / "cy.pst", folder / "cy-edited.pst")  # same session, other bytes
    paths = sorted(folder.glob("*.pst"))
    assert len(list(score.chunks(paths))) == 1
    together = list(iter_scores(paths, jobs=1, allow_invalid=True))
    alone = [score.score_bundle(p, allow_invalid=True) for p in paths]
    assert together == alone
    by_name = {Path(r["path"]).name: r for r in together}
    assert by_name["ada-copy.pst"]["promptCount"] == by_name["ada.pst"]["promptCount"] == 2
    assert by_name["cy-edited.pst"]["verified"] is False
    assert by_name["cy.pst"]["verified"] is True
    monkeypatch.setattr(score, "CHUNK_BUNDLES", 2)
    assert [len(c) for c in score.chunks(paths)] == [2, 2, 2]


def test_a_session_with_two_ai_tools_has_per_tool_prompts_and_tokens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from analysis_scenarios import Scenario, build

    s = Scenario("two-tools", "Tia Twotools")
    for at, tool, text in ((10, "claude-code", "plan it"), (30, "codex", "write it"),
                           (50, "codex", "test it")):  # fmt: skip
        s.add(at, "prompt", {"text": text, "length": len(text), "lane": tool},
              integration=tool)  # fmt: skip
        reply = {"text": "ok", "lane": tool, "inputTokens": 1000, "outputTokens": 50}
        s.add(at + 5, "ai_response", reply, actor="ai", integration=tool)
    build(s, tmp_path / "two-tools.pst")
    code, out, err = _score([str(tmp_path), "--format", "json", "--jobs", "1"], capsys)
    assert code == 0, err
    (row,) = json.loads(out)
    assert row["promptCount"] == 3
    assert row["promptsByTool"] == "claude-code=1;codex=2"
    assert row["tokensByTool"] == "claude-code=1000/50;codex=2000/100"
    assert (row["aiInputTokens"], row["aiOutputTokens"]) == (3000, 150)
