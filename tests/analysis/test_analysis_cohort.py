"""Cohort percentiles, averages and the composite ranking."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promptster.analysis.catalog import ORIENTATION
from promptster.analysis.cohort import (
    DEFAULT_WEIGHTS,  # the catalog's, and hiddenTestPassRate
    build_cohort,
    build_cohorts,
    parse_weights,
    percentile,
)
from promptster.analysis.signals import SessionInfo, SessionSignals, Signal
from promptster.cli import main
from promptster.errors import InputError


def fake_session(
    session_id: str, assessment: str | None = "a1", **values: object
) -> SessionSignals:
    info = SessionInfo(
        session_id, assessment, None, session_id, None, None, True, (), None, None, 0, ()
    )
    signals = {name: Signal(name, "test", value, "high", (), 0) for name, value in values.items()}
    return SessionSignals(info, signals)


@pytest.mark.parametrize(
    ("size", "published"),
    [
        # The hosted product's worked examples (promptster-docs.md §6): each session's value is
        # its rank, so the session ranked k beats k - 1 others.
        (8, {6: 0.714, 5: 0.571, 7: 0.857, 4: 0.429, 3: 0.286}),
        (12, {9: 0.727, 6: 0.455, 10: 0.818, 8: 0.636, 5: 0.364}),
        (5, {4: 0.75, 3: 0.5, 2: 0.25}),
    ],
)
def test_published_worked_examples(size: int, published: dict[int, float]) -> None:
    sessions = [fake_session(f"s{k:02d}", verifyIntensity=float(k)) for k in range(1, size + 1)]
    cohort = build_cohort("a1", sessions)
    assert cohort.session_count == size
    for k, expected in published.items():
        got = cohort.member(f"s{k:02d}").percentiles["verifyIntensity"]
        assert got is not None and round(got, 3) == expected
        assert percentile(float(k), [float(j) for j in range(1, size + 1) if j != k], "higher") == (
            pytest.approx(expected, abs=5e-4)
        )


def test_orientation_lower_is_better_and_ties_count_half() -> None:
    assert ORIENTATION["commandFailRate"] == "lower"
    assert ORIENTATION["sessionDurationMs"] == "lower"
    assert percentile(0.1, [0.2, 0.5, 0.1], "lower") == pytest.approx((2 + 0.5) / 3)
    assert percentile(0.1, [0.2, 0.5, 0.1], "higher") == pytest.approx(0.5 / 3)
    assert percentile(3.0, [3.0, 3.0], "higher") == 0.5
    assert percentile(1.0, [], "higher") is None


def test_cohort_of_one_has_no_percentiles() -> None:
    cohort = build_cohort("a1", [fake_session("only", promptCount=3, commandFailRate=0.5)])
    member = cohort.members[0]
    assert all(p is None for p in member.percentiles.values())
    assert member.composite is None and member.rank is None
    assert cohort.averages["avgPromptCount"] == 3
    assert cohort.averages["avgDurationMs"] is None
    body = json.dumps(cohort.to_json_obj(), allow_nan=False)
    assert '"percentilesAvailable": false' in body


def test_missing_values_are_left_out_and_weights_renormalised() -> None:
    sessions = [
        fake_session("a", commandFailRate=0.0, verifyIntensity=1.0),
        fake_session("b", commandFailRate=0.5, verifyIntensity=None),
        fake_session("c", commandFailRate=None, verifyIntensity=None),
    ]
    cohort = build_cohort("a1", sessions)
    b = cohort.member("b")
    assert b.percentiles["commandFailRate"] == 0.0  # n = 2 with a value: b loses to a
    assert b.percentiles["verifyIntensity"] is None
    assert cohort.member("a").percentiles["verifyIntensity"] is None  # alone with a value
    assert cohort.member("a").composite == 1.0  # only commandFailRate is available
    assert cohort.member("c").composite is None and cohort.member("c").rank is None


def test_groups_by_assessment() -> None:
    cohorts = build_cohorts(
        [fake_session("x", "a2"), fake_session("y", "a1"), fake_session("z", "a1")]
    )
    assert [(c.assessment_id, c.session_count) for c in cohorts] == [("a1", 2), ("a2", 1)]


def test_weights_from_file_and_options(tmp_path: Path) -> None:
    assert parse_weights(None, []) == DEFAULT_WEIGHTS
    file = tmp_path / "w.json"
    file.write_text('{"durationMs": 1, "promptCount": 3}')
    assert parse_weights(file, ["promptCount=0.5"]) == {
        "sessionDurationMs": 1.0,
        "promptCount": 0.5,
    }
    toml = tmp_path / "w.toml"
    toml.write_text("verifyIntensity = 2\n")
    assert parse_weights(toml, []) == {"verifyIntensity": 2.0}
    for bad in (["nope=1"], ["promptCount"], ["promptCount=-1"], ["promptCount=nan"]):
        with pytest.raises(InputError):
            parse_weights(None, bad)
    with pytest.raises(InputError):
        parse_weights(None, [f"{m}=0" for m in DEFAULT_WEIGHTS])


# The asmt-demo cohort (ada, ben, cy, dee), worked out by hand:
#   sessionDurationMs (lower better) 115k 100k 400k 95k -> 1/3, 2/3, 0, 1
#   promptCount (lower better, as the hosted guide) 2 4 0 2 -> 1.5/3, 0, 1, 1.5/3
#   commandFailRate (lower better) .25 .667 .125 .5 -> 2/3, 0, 1, 1/3
#   verifyIntensity 2 0 .75 .667 -> 1, 0, 2/3, 1/3
#   manualEditRatio .5 0 1 .333 -> 2/3, 0, 1, 1/3
#   firstChangeLatencyMs 60k 15k 300k 30k -> 2/3, 0, 1, 1/3
#   composite = .30 fail + .25 verify + .20 duration + .15 prompts + .10 latency
DEMO_COMPOSITE = {
    "Ada Lovelace": 0.3 * 2 / 3 + 0.25 * 1 + 0.2 / 3 + 0.15 * 0.5 + 0.1 * 2 / 3,
    "Cy D. Fect": 0.3 * 1 + 0.25 * 2 / 3 + 0 + 0.15 * 1 + 0.1 * 1,
    "Dee Bugger": 0.3 / 3 + 0.25 / 3 + 0.2 * 1 + 0.15 * 0.5 + 0.1 / 3,
    "Ben Bitdiddle": 0 + 0 + 0.2 * 2 / 3 + 0 + 0,
}


def test_demo_cohort_numbers(demo_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cohort", str(demo_dir), "--json"]) == 0
    (cohort,) = json.loads(capsys.readouterr().out)["cohorts"]
    assert cohort["assessmentId"] == "asmt-demo" and cohort["sessionCount"] == 4
    metrics = cohort["metrics"]
    assert metrics["avgDurationMs"] == 177_500
    assert metrics["avgPromptCount"] == 2
    assert metrics["avgCommandFailRate"] == pytest.approx((0.25 + 2 / 3 + 0.125 + 0.5) / 4)
    assert metrics["avgVerifyIntensity"] == pytest.approx((2 + 0 + 0.75 + 2 / 3) / 4)
    assert metrics["avgFirstChangeLatencyMs"] == 101_250
    assert metrics["testPassRate"] == 1.0  # ben has no test run; the other three pass
    order = [s["candidateName"] for s in cohort["sessions"]]
    assert order == ["Cy D. Fect", "Ada Lovelace", "Dee Bugger", "Ben Bitdiddle"]
    for session in cohort["sessions"]:
        assert session["composite"] == pytest.approx(DEMO_COMPOSITE[session["candidateName"]])
    ada = cohort["sessions"][1]
    assert ada["rank"] == 2
    assert ada["percentiles"] == pytest.approx(
        {"sessionDurationMs": 1 / 3, "promptCount": 0.5, "commandFailRate": 2 / 3,
         "verifyIntensity": 1.0, "manualEditRatio": 2 / 3, "firstChangeLatencyMs": 2 / 3}
    )  # fmt: skip


def test_cohort_weight_option_changes_the_ranking(
    demo_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["cohort", str(demo_dir), "--json", "--weight", "promptCount=100"]) == 0
    (cohort,) = json.loads(capsys.readouterr().out)["cohorts"]
    assert cohort["sessions"][0]["candidateName"] == "Cy D. Fect"  # fewest prompts


def test_cohort_human_output_and_usage_errors(
    demo_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["cohort", str(demo_dir / "ada.pst")]) == 0
    captured = capsys.readouterr()
    assert "Ada Lovelace" in captured.out  # the table is the result: stdout
    assert "percentiles need at least 2 sessions" in captured.err  # a warning: stderr
    assert main(["cohort"]) == 2
    assert main(["cohort", str(tmp_path / "missing")]) == 2
    assert main(["cohort", str(demo_dir), "--weight", "bogus=1"]) == 2
    assert main(["cohort", str(demo_dir), "--assessment", "other"]) == 2


def test_cohort_leaves_out_an_unreadable_bundle_and_exits_1(
    demo_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "bundles"
    folder.mkdir()
    for bundle in demo_dir.glob("*.pst"):
        (folder / bundle.name).write_bytes(bundle.read_bytes())
    junk = folder / "junk.pst"
    junk.write_text("not a bundle\n")
    capsys.readouterr()
    assert main(["cohort", str(folder), "--json"]) == 1  # like score: carries on, then 1
    captured = capsys.readouterr()
    (cohort,) = json.loads(captured.out)["cohorts"]
    assert cohort["sessionCount"] == 4
    assert f"✗ {junk} left out: the file is not a readable bundle" in captured.err
    assert captured.err.count(str(junk)) == 1
    assert "1 of 5 bundle(s) failed verification" in captured.err


def test_a_session_missing_a_metric_is_ranked_as_the_hosted_product_ranks_it() -> None:
    """The hosted cohort stats give each percentile as nullable: a session without a value
    has no percentile for that metric (null, not last, not first), the others are ranked
    among the sessions that have it (n counts only them), and its composite is the weighted
    mean over the metrics it has (docs/signals.md, "Cohorts")."""
    sessions = [
        fake_session("a", verifyIntensity=2.0, commandFailRate=0.5),
        fake_session("b", verifyIntensity=1.0, commandFailRate=0.25),
        fake_session("c", commandFailRate=0.0),  # no file change: no verifyIntensity
    ]
    cohort = build_cohort("a1", sessions)
    c = cohort.member("c")
    assert c.values["verifyIntensity"] is None and c.percentiles["verifyIntensity"] is None
    # a and b are ranked on verifyIntensity between themselves only (n = 2, not 3)
    assert cohort.member("a").percentiles["verifyIntensity"] == 1.0
    assert cohort.member("b").percentiles["verifyIntensity"] == 0.0
    # c's composite: commandFailRate alone (its only weighted metric with a value), renormalised
    assert c.percentiles["commandFailRate"] == 1.0 and c.composite == 1.0
    a = cohort.member("a")
    weights = cohort.weights
    expected = (weights["verifyIntensity"] * 1.0 + weights["commandFailRate"] * 0.0) / (
        weights["verifyIntensity"] + weights["commandFailRate"]
    )
    assert a.composite == pytest.approx(expected)
    # in JSON the missing percentile is null, as the hosted `percentiles` fields
    assert c.percentiles == c.to_json_obj()["percentiles"]


def test_orientation_overrides_per_assessment() -> None:
    sessions = [fake_session("few", promptCount=2.0), fake_session("many", promptCount=9.0)]
    default = build_cohort("a1", sessions)
    assert default.orientation["promptCount"] == "lower"  # the hosted guide: fewer ranks higher
    assert default.member("few").percentiles["promptCount"] == 1.0
    flipped = build_cohort("a1", sessions, None, {"promptCount": "higher"})
    assert flipped.member("many").percentiles["promptCount"] == 1.0
    assert flipped.overridden == ("promptCount",)
    dropped = build_cohort("a1", sessions, None, {"promptCount": "neutral"})
    assert "promptCount" not in dropped.metrics and "promptCount" not in dropped.weights
    assert dropped.to_json_obj()["orientationOverrides"] == ["promptCount"]
    added = build_cohort("a1", sessions, None, {"errorEpisodeCount": "lower"})
    assert added.metrics[-1] == "errorEpisodeCount" and "errorEpisodeCount" not in added.weights
