"""The attribution scenario table (mirrored in docs/attribution.md) and its invariants."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promptster.record.attribution.engine import (
    Attributor,
    CommandWindow,
    EditClaim,
    FileChange,
    ai_attribution_pct,
    attribute_changes,
)

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
DOCS = Path(__file__).resolve().parents[2] / "docs" / "attribution.md"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def change(
    t: float, added: list[str], removed: list[str] | None = None, path: str = "app.py"
) -> FileChange:
    return FileChange(path, f"c{t}", tuple(added), tuple(removed or ()), at(t))


def claim(
    t: float, new: str, old: str = "", path: str = "app.py", modified: bool = False
) -> EditClaim:
    return EditClaim(path, at(t), f"toolu_{t}", new, old, user_modified=modified)


@dataclass
class Scenario:
    changes: list[FileChange]
    claims: list[EditClaim]
    windows: list[CommandWindow]
    expected: list[tuple[str, int, int]]  # (attribution, aiLines, humanLines) per change


FUNC = ["def mean(values):", "    return sum(values) / len(values)"]

SCENARIOS: dict[str, Scenario] = {
    "ai-write-new-file": Scenario(
        [change(10.5, [*FUNC, ""])],
        [claim(10, "\n".join(FUNC) + "\n\n")],
        [],
        [("likely_ai", 3, 0)],
    ),
    "ai-edit-existing-file": Scenario(
        [change(10.5, ["    total = 0", "    return total"], ["    return None"])],
        [claim(10, "    total = 0\n    return total", "    return None")],
        [],
        [("likely_ai", 2, 0)],
    ),
    "ai-edit-inside-a-line": Scenario(
        [change(10.5, ["    return a + b  # fixed"], ["    return a - b"])],
        [claim(10, "a + b  # fixed", "a - b")],
        [],
        [("likely_ai", 1, 0)],
    ),
    "ai-edit-spanning-partial-lines": Scenario(
        [change(10.5, ["total = compute(values,", "    strict=True)"], ["total = old(values)"])],
        [claim(10, "compute(values,\n    strict=True)", "old(values)")],
        [],
        [("likely_ai", 2, 0)],
    ),
    "hand-edit-no-ai": Scenario(
        [change(10, ["print('by hand')"])], [], [], [("likely_human", 0, 1)]
    ),
    "hand-edit-between-ai-edits": Scenario(
        [
            change(10.5, ["alpha = 1"]),
            change(30, ["beta = 2  # typed by hand"]),
            change(50.5, ["gamma = 3"]),
        ],
        [claim(10, "alpha = 1"), claim(50, "gamma = 3")],
        [],
        [("likely_ai", 1, 0), ("likely_human", 0, 1), ("likely_ai", 1, 0)],
    ),
    "ai-edit-then-reworked-by-hand": Scenario(
        [
            change(10.5, ["result = compute(items, retries=3)"]),
            change(
                60, ["result = compute(items, retries=5)"], ["result = compute(items, retries=3)"]
            ),
        ],
        [claim(10, "result = compute(items, retries=3)")],
        [],
        [("likely_ai", 1, 0), ("ai_revised_by_human", 0, 1)],
    ),
    "human-deletes-ai-lines": Scenario(
        [change(10.5, ["debug_log(state)", "run(state)"]), change(40, [], ["debug_log(state)"])],
        [claim(10, "debug_log(state)\nrun(state)")],
        [],
        [("likely_ai", 2, 0), ("ai_revised_by_human", 0, 0)],
    ),
    "ai-shell-command-writes-file": Scenario(
        [change(21.5, ["generated = True", "version = '1.0'"], path="gen.py")],
        [],
        [CommandWindow(at(20), at(21), "toolu_sh")],
        [("likely_ai", 2, 0)],
    ),
    "shell-window-names-other-files": Scenario(
        [change(21.5, ["mine = True"], path="notes.py")],
        [],
        [CommandWindow(at(20), at(21), "toolu_sh", frozenset({"gen.py"}))],
        [("likely_human", 0, 1)],
    ),
    "hand-edit-after-shell-command-settled": Scenario(
        [change(40, ["after = True"])],
        [],
        [CommandWindow(at(20), at(22), "toolu_sh")],
        [("likely_human", 0, 1)],
    ),
    "hand-edit-after-the-ai-moved-on": Scenario(
        [change(21, ["typed = True"]), change(20.4, ["late_write = True"], path="gen.py")],
        [],
        [CommandWindow(at(19), at(20), "toolu_sh", settled_at=at(20.5))],
        [("likely_human", 0, 1), ("likely_ai", 1, 0)],
    ),
    "hand-edit-during-running-shell-command": Scenario(
        [change(40, ["during = True"])],
        [],
        [CommandWindow(at(20), None, "toolu_sh")],
        [("likely_ai", 1, 0)],
    ),
    "ai-and-hand-in-one-snapshot": Scenario(
        [change(10.5, ["alpha = 1", "beta = 2", "my_own_idea()", "another_thought()"])],
        [claim(10, "alpha = 1\nbeta = 2")],
        [],
        [("mixed", 2, 2)],
    ),
    "proposal-modified-before-accepting": Scenario(
        [change(10.5, ["limit = 500"])],
        [claim(10, "limit = 100", modified=True)],
        [],
        [("ai_revised_by_human", 0, 1)],
    ),
    "ai-line-tweaked-before-snapshot": Scenario(
        [change(10.5, ["    return sum(values) / max(len(values), 1)"])],
        [claim(10, "    return sum(values) / len(values)")],
        [],
        [("ai_revised_by_human", 0, 1)],
    ),
    "blank-lines-follow-their-block": Scenario(
        [change(10.5, [*FUNC, "", "# my note", "print(mean([1]))", ""])],
        [claim(10, "\n".join(FUNC) + "\n\n")],
        [],
        [("mixed", 3, 3)],
    ),
    "ai-edit-removes-lines": Scenario(
        [change(10.5, [], ["    legacy()", "    more_legacy()"])],
        [claim(10, "def f():", "def f():\n    legacy()\n    more_legacy()")],
        [],
        [("likely_ai", 0, 0)],
    ),
    "claim-reaches-recorder-after-snapshot": Scenario(
        [change(10, ["late = 1"])], [claim(12, "late = 1")], [], [("likely_ai", 1, 0)]
    ),
    "same-text-typed-long-before-ai": Scenario(
        [change(10, ["late = 1"]), change(100.5, ["late = 1"])],
        [claim(100, "late = 1")],
        [],
        [("likely_human", 0, 1), ("likely_ai", 1, 0)],
    ),
    "ai-shell-deletes-file": Scenario(
        [change(21, [], ["old = 1", "older = 2"], path="old.py")],
        [],
        [CommandWindow(at(20), at(21), "toolu_rm")],
        [("likely_ai", 0, 0)],
    ),
    "nothing-added-or-removed": Scenario([change(10, [])], [], [], [("unknown", 0, 0)]),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario(name: str) -> None:
    scenario = SCENARIOS[name]
    verdicts = attribute_changes(scenario.changes, scenario.claims, scenario.windows)
    got = [(v.attribution, v.ai_lines, v.human_lines) for v in verdicts]
    assert got == scenario.expected


def test_every_scenario_is_documented() -> None:
    table = DOCS.read_text().split("## Scenarios")[1].split("## Limits")[0]
    documented = set(re.findall(r"^\| `([a-z0-9-]+)` \|", table, re.MULTILINE))
    assert documented == set(SCENARIOS)


def test_confidence_reflects_the_evidence() -> None:
    claimed, shell, quiet, busy = attribute_changes(
        [
            change(10.5, ["alpha = 1"]),
            change(21, ["gen = 1"], path="gen.py"),
            change(100, ["mine = 1"], path="other.py"),
            change(11, ["mine = 2"]),
        ],
        [claim(10, "alpha = 1")],
        [CommandWindow(at(20), at(21), "toolu_sh", frozenset({"gen.py"}))],
    )
    assert claimed.confidence > shell.confidence
    assert quiet.confidence > busy.confidence  # the AI was editing app.py a second earlier
    assert claimed.tool_use_ids == ("toolu_10",)
    assert shell.tool_use_ids == ("toolu_sh",)


def test_incremental_matches_batch() -> None:
    scenario = SCENARIOS["hand-edit-between-ai-edits"]
    attributor = Attributor()
    attributor.add_claim(scenario.claims[0])
    first = attributor.attribute(scenario.changes[0])
    second = attributor.attribute(scenario.changes[1])
    attributor.add_claim(scenario.claims[1])
    third = attributor.attribute(scenario.changes[2])
    assert [first, second, third] == attribute_changes(scenario.changes, scenario.claims)


def test_ai_attribution_pct() -> None:
    verdicts = attribute_changes(
        SCENARIOS["ai-and-hand-in-one-snapshot"].changes,
        SCENARIOS["ai-and-hand-in-one-snapshot"].claims,
    )
    assert ai_attribution_pct(verdicts) == 50.0
    assert ai_attribution_pct([]) is None


LINES = st.sampled_from(["", "}", "x = 1", "y = 2", "return x", "    pass", "z = x + y"])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, 100), st.lists(LINES, max_size=6), st.lists(LINES, max_size=4)),
        max_size=8,
    ),
    st.lists(st.tuples(st.floats(0, 100), st.lists(LINES, max_size=5), st.booleans()), max_size=5),
    st.lists(st.tuples(st.floats(0, 100), st.floats(0, 10)), max_size=2),
)
def test_lines_always_add_up(
    raw_changes: list[tuple[float, list[str], list[str]]],
    raw_claims: list[tuple[float, list[str], bool]],
    raw_windows: list[tuple[float, float]],
) -> None:
    changes = [change(t, added, removed) for t, added, removed in raw_changes]
    claims = [claim(t, "\n".join(lines), modified=m) for t, lines, m in raw_claims]
    windows = [CommandWindow(at(s), at(s + d), f"w{s}") for s, d in raw_windows]
    verdicts = attribute_changes(changes, claims, windows)
    assert len(verdicts) == len(changes)
    for item, verdict in zip(changes, verdicts, strict=True):
        assert verdict.ai_lines + verdict.human_lines == len(item.added)
        assert 0.0 <= verdict.confidence <= 1.0
