"""Every reader streams (issue 17): an honest bundle large enough that holding its timeline
whole would break the bound is verified and scored within it, measured by the child process's
own accounting (getrusage ru_maxrss), never by the wall clock.

200,000 synthetic events make a 100 MB timeline: `verify` must stay under that size plus the
interpreter's own (it never holds the timeline), and `score`, which loads it into DuckDB,
under the reviewer's 300 MB budget; so must `score --allow-invalid` of the same bundle with
one byte of its timeline changed (a failed timeline is copied to a spool in pieces, not read
whole), and `review`, whose page rows are streamed into the page and whose own work holds
little per event beyond `score`'s.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import zipfile
from pathlib import Path

import pytest
from hostilekit import MEMORY_BUDGET_MB, SEED
from test_hostile import Child, child

from promptster.bundle import format as fmt
from promptster.record.synth import generate_bundle

__all__ = ["child"]
pytestmark = [pytest.mark.slow]
EVENTS = 200_000
# What review may hold per event beyond score's peak (the same verify and signals steps);
# measured: ~40 (docs/performance.md).
REVIEW_BYTES_PER_EVENT = 150


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, float]:
    """The honest bundle, a copy with one timeline byte changed, and the timeline's MB."""
    folder = tmp_path_factory.mktemp("large")
    honest, changed = folder / "honest.pst", folder / "changed.pst"
    generate_bundle(honest, events=EVENTS, seed=SEED)
    with zipfile.ZipFile(honest) as source, zipfile.ZipFile(changed, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == fmt.TIMELINE:
                timeline_mb = len(data) / 2**20
                data = data.replace(b'"kind":"prompt"', b'"kind":"Prompt"', 1)
            target.writestr(info, data)
            del data
    assert timeline_mb * 2**20 > 0.3 * MEMORY_BUDGET_MB * 2**20  # big enough to matter
    return honest, changed, timeline_mb


def test_verify_never_holds_the_timeline(large: tuple[Path, Path, float], child: Child) -> None:
    honest, _, timeline_mb = large
    run = child.run("verify", "--json", str(honest))
    assert run.code == 0, run.stdout + run.stderr
    assert json.loads(run.stdout)["bundles"][0]["eventCount"] >= EVENTS
    # the interpreter and its libraries take ~50 MB: with the timeline held, verify would not
    # fit in that plus the timeline's size
    bound = min(timeline_mb + 50, MEMORY_BUDGET_MB / 2)
    assert run.peak_mb < bound, f"verify peaked at {run.peak_mb:.0f} MB"


def test_score_loads_a_large_session_within_the_budget(
    large: tuple[Path, Path, float], child: Child
) -> None:
    honest, _, _ = large
    run = child.run("score", str(honest), "--format", "json")
    assert run.code == 0, run.stderr
    (row,) = json.loads(run.stdout)
    assert row["verified"] is True
    assert run.peak_mb < MEMORY_BUDGET_MB, f"score peaked at {run.peak_mb:.0f} MB"


def test_allow_invalid_streams_a_failed_timeline_too(
    large: tuple[Path, Path, float], child: Child
) -> None:
    _, changed, _ = large
    run = child.run("score", str(changed), "--format", "json", "--allow-invalid")
    assert run.code == 1, run.stderr  # scored, flagged: the bundle failed verification
    (row,) = json.loads(run.stdout)
    assert row["verified"] is False
    assert run.peak_mb < MEMORY_BUDGET_MB, f"score --allow-invalid peaked at {run.peak_mb:.0f} MB"


def test_review_streams_a_large_session_into_its_page(
    large: tuple[Path, Path, float], child: Child
) -> None:
    """The report's rows are streamed to the page (never a list of all events), and every
    event is in it: 200,000 events took `review` to 365 MB before.

    Beyond the verify and signals steps it shares with `score`, `review`'s own work (the
    page's digest, the key moments, the snapshots' patches) holds under
    REVIEW_BYTES_PER_EVENT a event: it held ~330 (620 MB for a million events, `score` 290),
    so a million events now stay within the budget too (docs/performance.md)."""
    honest, _, _ = large
    scored = child.run("score", str(honest), "--format", "json")
    assert scored.code == 0, scored.stderr
    page = child.root / "out" / "report.html"  # not a watched folder
    run = child.run("review", str(honest), "-o", str(page))
    assert run.code == 0, run.stderr
    assert run.peak_mb < MEMORY_BUDGET_MB, f"review peaked at {run.peak_mb:.0f} MB"
    beyond = (run.peak_mb - scored.peak_mb) * 2**20 / EVENTS
    assert beyond < REVIEW_BYTES_PER_EVENT, (
        f"review peaked at {run.peak_mb:.0f} MB, score at {scored.peak_mb:.0f} MB: "
        f"{beyond:.0f} bytes an event more"
    )
    found = re.search(r'id="ps-events" data-bytes="\d+">"([A-Za-z0-9+/=]*)"', page.read_text())
    assert found is not None
    events = json.loads(gzip.decompress(base64.b64decode(found.group(1))))
    assert len(events["rows"]) >= EVENTS
    assert [row[0] for row in events["rows"][:3]] == [0, 1, 2]
