"""What was asked and what was delivered: the brief and starter from the bundle's assessment
pack, and one diff of the submitted tree against the starter, bounded, in real Chromium too."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from report_kit import HOSTILE, SessionScript

from promptster.formats.crypto import SigningKey
from promptster.issue.assessment import AssessmentPack, RepoRef, sign_pack
from promptster.report import final_diff
from promptster.report.delivered import delivered
from promptster.report.review import review_bundle
from promptster.report.snapshots import SnapshotData, load_snapshots, unquote_path

STARTER = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
BRIEF = "# Rate limiter\n\nBuild `allow(key)`.\n- 10 calls per second per key\n"


def _pack(brief: str = BRIEF, url: str = "https://git.example/acme/limiter.git") -> bytes:
    reviewer = SigningKey.from_seed(b"\x33" * 32)
    pack = AssessmentPack(
        assessment_id="asmt-report",
        org="Acme",
        role="Backend engineer",
        brief=brief,
        time_limit_minutes=60,
        repo=RepoRef(url, "v1.2"),
        reviewer_public_key=reviewer.public,
        keys=(),
        issued_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    return sign_pack(pack, reviewer)


def _session(name: str = "delivered", **kwargs: Any) -> SessionScript:
    s = SessionScript(
        name,
        baseline={"limiter.py": "def allow(key):\n    return True\n", "old.txt": "gone\n"},
        pack=kwargs.pop("pack", _pack()),
        start_extra={"starterCommit": STARTER},
    )
    s.write(10, {"limiter.py": "def allow(key):\n    return False\n"}, "likely_ai")
    s.write(20, {"limiter.py": "import time\n\n\ndef allow(key):\n    return False\n"})
    s.write(30, {"test_limiter.py": "def test_allow():\n    pass\n", "old.txt": None})
    return s


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _session().build(tmp_path_factory.mktemp("delivered") / "d.pst")


def test_the_data_step_reads_the_brief_starter_and_final_diff(bundle: Path) -> None:
    from promptster.bundle.reader import BundleReader

    with BundleReader(bundle) as reader:
        pack = reader.read("assessment.json")
    from promptster.report.data import _pack_fields

    snaps = load_snapshots(bundle)
    result = delivered(_pack_fields(pack), snaps, STARTER)
    assert result.brief == BRIEF and not result.brief_cut
    assert (result.repo_url, result.repo_rev) == ("https://git.example/acme/limiter.git", "v1.2")
    assert result.starter_commit == STARTER
    assert result.baseline_commit == snaps.baseline_commit and len(result.baseline_commit) == 40
    assert result.final_commit == snaps.final_commit != result.baseline_commit
    shown = {f.path: (f.status, f.added, f.removed) for f in result.files}
    # two changes to limiter.py are one modification against the starter
    assert shown == {
        "limiter.py": ("modified", 4, 1),
        "old.txt": ("deleted", 0, 1),
        "test_limiter.py": ("added", 2, 0),
    }
    assert (result.total_files, result.added, result.removed) == (3, 6, 2)
    limiter = next(f for f in result.files if f.path == "limiter.py")
    assert [(line.kind, line.text) for line in limiter.lines] == [
        ("hunk", "@@ -1,2 +1,5 @@"),
        ("add", "+import time"),
        ("add", "+"),
        ("add", "+"),
        ("ctx", " def allow(key):"),
        ("del", "-    return True"),
        ("add", "+    return False"),
    ]
    assert result.notes == []


def test_without_a_pack_or_snapshots_the_section_says_so(bundle: Path) -> None:
    empty = delivered({}, SnapshotData(problem="broken"))
    assert (empty.brief, empty.repo_url, empty.available, empty.files) == ("", "", False, [])
    no_pack = delivered({"brief": 3, "repo": "x"}, load_snapshots(bundle))
    assert no_pack.brief == "" and no_pack.repo_url == "" and no_pack.total_files == 3


def test_a_huge_diff_is_capped_with_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(final_diff, "FILES_SHOWN", 5)
    monkeypatch.setattr(final_diff, "PATCH_BUDGET", 2048)
    paths = [f"f{i:02d}.py" for i in range(8)]
    raw = "\n".join(f":000000 100644 {'0' * 7} {'1' * 7} A\t{p}" for p in paths)
    numstat = "\n".join(f"150\t0\t{p}" for p in [*paths[:-1], '"b\\303\\251.py"'])
    numstat += "\n-\t-\tlogo.png"  # a binary file: no counts, no patch
    raw += f"\n:000000 100644 {'0' * 7} {'1' * 7} A\tlogo.png"
    patches = dict.fromkeys(paths, ("@@ -0,0 +1,150 @@\n" + "+x = 1\n" * 150, 0))
    diff = final_diff.build_final_diff(raw, numstat, patches, unquote_path)
    assert diff.total_files == 10  # f00..f06, f07 (status only), bé.py (counts only), logo.png
    assert diff.added == 8 * 150 and len(diff.files) == 5
    assert [f.patch is not None for f in diff.files] == [False, True, False, False, False]
    assert diff.files[0].path == "bé.py" and diff.files[0].added == 150
    assert diff.patches_left_out == 3  # bé.py has no patch at all: not a budget cut
    result = delivered({}, SnapshotData(final_diff=diff))
    assert result.notes == [
        "10 files differ; the first 5 are listed",
        "3 files are listed without their diff: the section shows at most 2 KiB of diff",
    ]
    assert [f.note for f in result.files][2:] == [
        "diff left out: the section's size budget is used up"
    ] * 3


def test_binary_files_have_no_counts_and_say_so() -> None:
    raw = f":000000 100644 {'0' * 7} {'1' * 7} A\tlogo.png"
    diff = final_diff.build_final_diff(raw, "-\t-\tlogo.png", {}, unquote_path)
    (logo,) = delivered({}, SnapshotData(final_diff=diff)).files
    assert (logo.status, logo.added, logo.removed, logo.lines) == ("added", None, None, [])
    assert logo.note == "binary file: no line diff"


def test_the_report_shows_it_in_chromium(bundle: Path, tmp_path: Path, open_report: Any) -> None:
    out = tmp_path / "d.html"
    review_bundle(bundle, out, extra_checks=[], generated_at="2026-02-02 12:00:00 UTC")
    watched = open_report(out)
    page = watched.page
    section = page.locator("#delivered")
    section.scroll_into_view_if_needed()
    assert section.locator("h2").inner_text() == "Asked and delivered"
    assert "10 calls per second per key" in page.locator("#delivered-brief").inner_text()
    assert "https://git.example/acme/limiter.git" in section.inner_text()
    assert "cloned at commit 4b825dc642cb" in section.inner_text()
    assert section.locator("a").count() == 0  # the repository is text, not a link
    files = section.locator(".final-file")
    assert files.count() == 3
    first = files.nth(0)
    assert first.locator(".final-patch").is_visible() is False  # folded until opened
    first.locator("summary").click()
    patch = first.locator(".final-patch")
    assert patch.is_visible()
    assert patch.locator(".dl-add").count() == 4 and patch.locator(".dl-del").count() == 1
    assert "+import time" in patch.inner_text()
    shot = section.screenshot()
    assert len(shot) > 2000
    assert page.locator("nav a[href='#delivered']").count() == 1
    watched.assert_clean()


def test_it_works_without_javascript_and_stays_inert_with_a_hostile_pack(
    tmp_path: Path, open_report: Any
) -> None:
    hostile = _session("delivered-hostile", pack=_pack(HOSTILE, "javascript:alert(1)"))
    hostile.write(50, {"<img src=x onerror=window.__pwned=1>.py": HOSTILE + "\n"})
    out = tmp_path / "h.html"
    review_bundle(hostile.build(tmp_path / "h.pst"), out, extra_checks=[], generated_at="x")
    for javascript in (False, True):
        watched = open_report(out, javascript=javascript)
        page = watched.page
        section = page.locator("#delivered")
        section.locator(".final-file summary").last.click()
        assert "window.__pwned" in section.inner_text()  # shown as text
        assert section.locator("img, script, svg, a").count() == 0
        assert page.evaluate("window.__pwned") is None
        if javascript:
            watched.assert_clean()
