"""The candidate key is masked wherever the report shows it: the header as the checks table."""

from __future__ import annotations

from pathlib import Path

from promptster.record.synth import generate_bundle
from promptster.report.data import masked_key
from promptster.report.review import review_bundle


def test_the_header_masks_the_candidate_key(tmp_path: Path) -> None:
    bundle = tmp_path / "k.pst"
    generate_bundle(
        bundle, events=40, seed=2, candidate_key="PST-ABCD-EFGC"
    )  # a valid key: it is issued
    html_path = tmp_path / "k.html"
    review_bundle(bundle, html_path, cohort_bundles=[], cohort_assessment=None)
    html = html_path.read_text(encoding="utf-8")
    assert "PST-ABCD-****" in html
    assert "PST-ABCD-EFGC" not in html


def test_masked_key_shapes() -> None:
    assert masked_key("PST-abcd-efgh") == "PST-ABCD-****"
    assert masked_key("") == ""
    assert masked_key("not-a-key-at-all") == "not-a-ke…"
