"""Golden HTML, as coverage.py does it: render known bundles, scrub what is volatile, compare.

Scrubbed: the promptster version, the generation time, the inline script and style (their
own files are the source; their hashes are checked in test_report_render.py), the CSP
hashes, and the compressed data blocks (their decoded content is checked there too; their
raw sizes stay in the gold). On a mismatch the actual page is saved to tests/actual/report/.
Update with PROMPTSTER_UPDATE_GOLD=1 (see tests/gold/report/README.md).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from promptster import __version__

GOLD = Path(__file__).parent.parent / "gold" / "report"
ACTUAL = Path(__file__).parent.parent / "actual" / "report"
SCRUBS = [
    (re.compile(r"<style>.*?</style>", re.S), "<style>[report.css]</style>"),
    (re.compile(r"<script>.*?</script>", re.S), "<script>[report scripts]</script>"),
    (re.compile(r"sha256-[A-Za-z0-9+/]+=*(?=&#39;)"), "sha256-HASH"),
    (re.compile(r'(data-bytes="\d+">)"[A-Za-z0-9+/=]*"'), r'\1"BASE64"'),
    (re.compile(re.escape(f"promptster {__version__}")), "promptster VERSION"),
    (re.compile(r"recorded with promptster [0-9][^ <]*"), "recorded with promptster VERSION"),
]


def scrub(html: str) -> str:
    for pattern, replacement in SCRUBS:
        html = pattern.sub(replacement, html)
    return html


@pytest.mark.parametrize("name", ["ordinary", "synth"])
def test_report_matches_gold(reports: dict[str, Path], name: str) -> None:
    actual = scrub(reports[name].read_text("utf-8"))
    gold = GOLD / f"{name}.html"
    if os.environ.get("PROMPTSTER_UPDATE_GOLD") == "1":
        gold.parent.mkdir(parents=True, exist_ok=True)
        gold.write_text(actual, "utf-8")
        return
    if not gold.exists() or gold.read_text("utf-8") != actual:
        ACTUAL.mkdir(parents=True, exist_ok=True)
        (ACTUAL / f"{name}.html").write_text(actual, "utf-8")
        pytest.fail(
            f"{name}.html differs from tests/gold/report/{name}.html; the actual page is in "
            f"tests/actual/report/{name}.html (diff them; to update, see "
            "tests/gold/report/README.md)"
        )
