"""`promptster review` and `promptster cohort --html` as a user runs them."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from promptster.cli import main


def test_review_writes_the_report_beside_the_bundle(
    bundles: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = tmp_path / "ordinary.pst"
    shutil.copy(bundles["ordinary"], bundle)
    assert main(["review", str(bundle)]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == str(tmp_path / "ordinary.html")
    assert "verified" in err and "wrote" in err
    html = (tmp_path / "ordinary.html").read_text("utf-8")
    assert "✓ Verified" in html and "Ada Lovelace" in html


def test_a_tampered_bundle_gets_a_red_banner_and_exit_1(
    bundles: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tampered = tmp_path / "tampered.pst"
    with (
        zipfile.ZipFile(bundles["ordinary"]) as source,
        zipfile.ZipFile(tampered, "w") as target,
    ):
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "timeline.jsonl":
                data = data.replace(b"keep the signature", b"keep the SIGNATURE")
            target.writestr(info, data)
    out_file = tmp_path / "report.html"
    assert main(["review", str(tampered), "-o", str(out_file)]) == 1
    assert "failed verification" in capsys.readouterr().err
    html = out_file.read_text("utf-8")
    assert 'role="alert"' in html and "This bundle did not verify" in html
    assert "<strong>hashes</strong>" in html
    # nothing from a bundle that failed: no key moments, follow-ups or rubric
    assert 'id="moments"' not in html and 'id="followups"' not in html


def test_unreadable_input_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "junk.pst"
    junk.write_bytes(b"not a zip")
    assert main(["review", str(junk), "-o", str(tmp_path / "r.html")]) == 2
    assert "error:" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()
    assert main(["review", str(tmp_path / "missing.pst")]) == 2
    assert main(["review", str(junk), "--cohort", str(tmp_path), "--assessment", "a"]) == 2
    assert "not both" in capsys.readouterr().err


def test_review_with_a_cohort_shows_percentiles(bundles: dict[str, Path], tmp_path: Path) -> None:
    cohort = tmp_path / "cohort"
    cohort.mkdir()
    from report_kit import ordinary

    for index in range(3):
        script = ordinary(f"peer-{index}")
        script.add(200 + index * 50, "prompt", {"text": "Another prompt " * (index + 1)})
        script.build(cohort / f"peer-{index}.pst")
    out_file = tmp_path / "with-cohort.html"
    assert (
        main(["review", str(bundles["ordinary"]), "-o", str(out_file), "--cohort", str(cohort)])
        == 0
    )
    html = out_file.read_text("utf-8")
    assert "Cohort percentile" in html
    assert "this session with 3 others" in html


def test_cohort_html_links_every_report(
    bundles: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "bundles"
    folder.mkdir()
    from report_kit import ordinary

    for name in ("ada", "javascript:alert(1)", "<b>bob"):
        ordinary(name).build(folder / f"{name}.pst")
    page = tmp_path / "out" / "cohort.html"
    assert main(["cohort", str(folder), "--html", str(page)]) == 0
    assert "3 report(s)" in capsys.readouterr().err
    html = page.read_text("utf-8")
    reports = sorted(p.name for p in (tmp_path / "out" / "cohort-reports").iterdir())
    assert reports == ["ada.html", "b_bob.html", "javascript_alert_1.html"]
    for name in reports:
        assert f'href="./cohort-reports/{name}"' in html
        # key moments, follow-ups and the rubric one click away, with how many there are
        assert f'href="./cohort-reports/{name}#moments">4 key moments</a>' in html
        assert f'href="./cohort-reports/{name}#followups">5 follow-ups</a>' in html
        assert f'href="./cohort-reports/{name}#rubric">rubric</a>' in html
        report = (tmp_path / "out" / "cohort-reports" / name).read_text("utf-8")
        assert 'id="moments"' in report and 'id="followups"' in report
    assert "javascript:" not in html.replace("javascript:alert(1).pst", "")
    assert 'aria-sort="ascending"' in html


def test_review_against_imported_sessions(
    bundles: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from report_kit import ordinary

    monkeypatch.setenv("PROMPTSTER_HOME", str(tmp_path / "home"))
    out_file = tmp_path / "r.html"
    assert (
        main(
            ["review", str(bundles["ordinary"]), "-o", str(out_file), "--assessment", "asmt-report"]
        )
        == 2
    )
    assert "reviewer workspace" in capsys.readouterr().err
    peers = tmp_path / "peers"
    peers.mkdir()
    for index in range(2):
        script = ordinary(f"imported-{index}")
        script.add(300, "prompt", {"text": "and one more prompt " * (index + 2)})
        script.build(peers / f"imported-{index}.pst")
    assert main(["import", str(peers)]) == 0
    assert (
        main(
            ["review", str(bundles["ordinary"]), "-o", str(out_file), "--assessment", "asmt-other"]
        )
        == 2
    )
    assert "no assessment matches 'asmt-other'" in capsys.readouterr().err
    assert (
        main(
            ["review", str(bundles["ordinary"]), "-o", str(out_file), "--assessment", "asmt-report"]
        )
        == 0
    )
    assert "this session with 2 others" in out_file.read_text("utf-8")
    # An id prefix works as anywhere else; an unknown id says so.
    capsys.readouterr()
    code = main(["review", str(bundles["ordinary"]), "-o", str(out_file), "--assessment", "asmt-r"])
    assert code == 0
    assert "this session with 2 others" in out_file.read_text("utf-8")
    code = main(["review", str(bundles["ordinary"]), "-o", str(out_file), "--assessment", "zzzz"])
    assert code == 2
    err = capsys.readouterr().err
    assert "no assessment matches 'zzzz'" in err and "the bundle is for" not in err
