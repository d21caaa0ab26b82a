"""Unit tests of the report's data step: text safety, git log parsing, casts, charts, meta."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from promptster.report.casts import parse_cast
from promptster.report.charts import all_charts
from promptster.report.cohort_page import report_name, safe_href
from promptster.report.meta import duration, format_value
from promptster.report.snapshots import parse_log, unquote_path
from promptster.report.text import bounded, clip, one_line, visible
from promptster.report.timeline_data import digest_timeline

CONTROL = {chr(c) for c in range(0x20) if c not in (9, 10)} | {chr(0x7F)}
CONTROL |= {chr(c) for c in range(0x80, 0xA0)} | {"\u202e", "\u2066", "\u200f"}


@given(st.text())
def test_visible_text_has_no_control_or_bidi_characters(text: str) -> None:
    shown = visible(text)
    assert not (set(shown) & CONTROL)


def test_visible_names_what_it_replaced() -> None:
    assert visible("a\x1b[31mb") == "a␛[31mb"
    assert visible("x\u202ey") == "x⟨U+202E⟩y"
    assert visible("a\r\nb\tc") == "a\nb\tc"
    assert visible("\x9b") == "⟨9B⟩"
    assert visible("plain") == "plain"


def test_bounds_and_first_lines() -> None:
    assert bounded("abcdef", 3) == ("abc", True)
    assert clip("abcdef", 3) == "abc…"
    assert one_line("first\nsecond") == "first"
    assert one_line(None) == ""
    assert one_line("x" * 300, 10) == "x" * 10 + "…"


def test_unquote_path_reads_gits_c_quoting() -> None:
    assert unquote_path("plain/path.py") == "plain/path.py"
    assert unquote_path('"tab\\there"') == "tab\there"
    assert unquote_path('"new\\nline \\"q\\" back\\\\slash"') == 'new\nline "q" back\\slash'
    assert unquote_path('"\\303\\251t\\303\\251.py"') == "été.py"


def test_parse_log_pairs_each_patch_with_its_path() -> None:
    log = "\n".join(
        [
            "\x01aaaa",
            "",
            ":100644 100644 1111111 2222222 M\tsrc/a.py",
            ':000000 100644 0000000 3333333 A\t"we\\"ird\\n.py"',
            "",
            "diff --git a/src/a.py b/src/a.py",
            "index 1111111..2222222 100644",
            "--- a/src/a.py",
            "+++ b/src/a.py",
            "@@ -1 +1 @@",
            "-old",
            "+new",
            'diff --git "a/we\\"ird\\n.py" "b/we\\"ird\\n.py"',
            "new file mode 100644",
            "--- /dev/null",
            '+++ "b/we\\"ird\\n.py"',
            "@@ -0,0 +1 @@",
            "+\x01not a commit marker? no: content lines start with +",
            "\x01bbbb",
            "",
            ":100644 000000 2222222 0000000 D\tsrc/a.py",
            "",
            "diff --git a/src/a.py b/src/a.py",
            "deleted file mode 100644",
            "--- a/src/a.py",
            "+++ /dev/null",
            "@@ -1 +0,0 @@",
            "-new",
        ]
    )
    diffs = parse_log(log)
    assert diffs[("aaaa", "src/a.py")] == ("@@ -1 +1 @@\n-old\n+new", 0)
    assert diffs[("aaaa", 'we"ird\n.py')][0].startswith("@@ -0,0 +1 @@\n+\x01not")
    assert diffs[("bbbb", "src/a.py")] == ("@@ -1 +0,0 @@\n-new", 0)


def test_parse_log_bounds_long_patches() -> None:
    body = [f"+line {i}" for i in range(1000)]
    log = "\n".join(
        [
            "\x01cc",
            ":000000 100644 0 1 A\tbig.txt",
            "diff --git a/big b/big",
            "@@ -0,0 +1,1000 @@",
            *body,
        ]
    )
    text, more = parse_log(log)[("cc", "big.txt")]
    assert more > 0 and len(text.split("\n")) + more == 1001


def test_casts_keep_output_resize_and_markers_only() -> None:
    lines = [
        json.dumps({"version": 2, "width": 100, "height": 30}),
        json.dumps([0.5, "o", "hello"]),
        json.dumps([0.7, "i", "typed"]),
        json.dumps([0.8, "r", "90x20"]),
        "not json",
        json.dumps([1.0, "o", 5]),
        json.dumps([1.5, "m", "marker"]),
    ]
    cast = parse_cast("terminal/0.cast", "\n".join(lines).encode(), 10_000)
    assert (cast.width, cast.height) == (100, 30)
    assert [f[1] for f in cast.frames] == ["o", "r", "m"]
    assert cast.duration == 1.5 and not cast.truncated


def test_casts_v3_intervals_and_bounds() -> None:
    lines = [json.dumps({"version": 3, "term": {"cols": 50, "rows": 10}})]
    lines += [json.dumps([0.25, "o", "x" * 10]) for _ in range(10)]
    cast = parse_cast("terminal/1.cast", "\n".join(lines).encode(), 35)
    assert cast.width == 50 and cast.truncated
    assert [f[0] for f in cast.frames] == [0.25, 0.5, 0.75]


def test_broken_casts_say_why() -> None:
    assert parse_cast("t", b"garbage", 100).problem
    assert parse_cast("t", b"", 100).problem


def test_meta_formats_values_for_people() -> None:
    assert format_value("commandFailRate", 0.25) == "25%"
    assert format_value("aiAttributionPct", 84.6) == "85%"
    assert format_value("firstChangeLatencyMs", 90_500) == "1 min 30 s"
    assert format_value("testResults", {"passed": 3, "failed": 1, "skipped": 0}) == (
        "3 passed, 1 failed"
    )
    zero = {"passed": 0, "failed": 0, "skipped": 0, "errors": 0, "total": 0, "outcome": "no_tests"}
    assert format_value("testResults", zero) == "no tests: 0 passed"
    unread = dict.fromkeys(("passed", "failed", "skipped", "errors", "total"))
    assert format_value("testResults", {**unread, "outcome": "unknown"}) == (
        "result unknown: counts not read"
    )
    assert format_value("toolUsage", {"Edit": 2, "Read": 5}) == "Read 5 · Edit 2"
    assert format_value("promptCount", None) == "–"
    assert duration(3 * 86_400_000 + 7_200_000) == "3 d 2 h"


def test_cohort_links_cannot_change_scheme() -> None:
    assert safe_href("r/javascript:alert(1).html") == "./r/javascript%3Aalert%281%29.html"
    taken: set[str] = set()
    assert report_name("/x/<img onerror=1>.pst", "abc", taken) == "img_onerror_1.html"
    assert report_name("/y/<img onerror=1>.pst", "abc", taken) == "img_onerror_1-2.html"
    assert report_name("/z/....pst", "abcdef12", taken) == "abcdef12.html"


def test_charts_escape_and_survive_odd_timelines() -> None:
    lines = [
        {"seq": 0, "ts": "2026-01-01T00:00:00.000Z", "kind": "<k>", "data": {}},
        {"seq": 1, "ts": "not a time", "kind": "test_run", "data": {"passed": "x"}},
        {"seq": 2, "ts": "2025-12-31T00:00:00.000Z", "kind": "file_diff", "data": {"path": 1}},
    ]
    timeline = b"".join(json.dumps(line).encode() + b"\n" for line in lines) + b"{broken\n"
    digest = digest_timeline(timeline, "2026-01-01T00:00:00.000Z")
    assert digest.unreadable_lines == 1
    charts = all_charts(digest)
    svg = "".join(str(c.svg) for c in charts)
    assert "<k>" not in svg
    assert svg.count("<svg") == 4


def test_a_failing_run_never_hides_behind_a_later_pass_in_the_same_interval() -> None:
    from promptster.report.charts import test_results
    from promptster.report.timeline_data import Digest, TestPoint

    # 300 runs over 1,000 s share 120 intervals; run 9 fails, run 10 (same interval) passes
    runs = [TestPoint(seq=i, t=i * 1000 // 300, passed=5, failed=0, skipped=0, errors=0)
            for i in range(300)]  # fmt: skip
    runs[9] = TestPoint(seq=9, t=runs[9].t, passed=3, failed=2, skipped=0, errors=0)
    assert runs[10].t * 120 // 1000 == runs[9].t * 120 // 1000 != runs[11].t * 120 // 1000
    svg = str(test_results(Digest(end_t=1000), runs).svg)
    assert svg.count("hidden-failure") == 1
    assert "3 runs in this interval, 1 with failures" in svg  # runs 8, 9, 10
    assert "an earlier run in that interval failed" in svg
    clean = [TestPoint(seq=i, t=i, passed=1, failed=0, skipped=0, errors=0) for i in range(300)]
    assert "hidden-failure" not in str(test_results(Digest(end_t=1000), clean).svg)
