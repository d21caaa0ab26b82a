"""The report's view of the decision aids: bounded lists, escaped text, links to events."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "analysis"))

from analysis_scenarios import Scenario
from moments_kit import timeline_bytes

from promptster.analysis.aids import session_aids
from promptster.report.aids_view import SHOWN_PER_KIND, aids_view


def test_a_long_session_lists_the_first_moments_of_each_kind_and_counts_the_rest() -> None:
    s = Scenario("many", "M").prompt(1, "go")
    for i in range(SHOWN_PER_KIND + 5):
        s.add(10 + i, "decision_event", {"title": f"decision {i}", "chosenOption": "a",
                                         "rationale": "r", "capturedVia": "cli"})  # fmt: skip
    view = aids_view(session_aids(timeline_bytes(s)))
    assert view.moment_count == SHOWN_PER_KIND + 6
    assert sum(m.kind == "decision" for m in view.moments) == SHOWN_PER_KIND
    assert view.left_out == [("decision", 5)]
    assert view.strip.count('class="km-mark') == SHOWN_PER_KIND + 1


def test_candidate_text_is_escaped_in_the_strip() -> None:
    s = Scenario("xss", "X").prompt(1, '<script>alert("x")</script> & </title><svg onload=1>')
    strip = str(aids_view(session_aids(timeline_bytes(s))).strip)
    assert "<script>" not in strip and "<svg onload" not in strip
    assert "&lt;script&gt;" in strip and 'href="#ev-1"' in strip
