"""The report in headless Chromium: views, filters, search, diffs, player, keyboard, layout.

Each view is screenshotted into tests/actual/report/screens/ and its accessibility tree is
compared with tests/gold/report/views/<view>.yml: structure, not pixels (see the gold README).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from report_kit import Watched

GOLD_VIEWS = Path(__file__).parent.parent / "gold" / "report" / "views"
ACTUAL = Path(__file__).parent.parent / "actual" / "report"
UPDATE = os.environ.get("PROMPTSTER_UPDATE_GOLD") == "1"

VIEWS = (
    "summary",
    "moments",
    "followups",
    "rubric",
    "signals",
    "charts",
    "decisions",
    "timeline",
    "delivered",
    "files",
    "terminal",
    "checks",
)


def _structure(page: Any, section: str) -> str:
    snapshot: str = page.locator(f"#{section}").aria_snapshot()
    # Volatile parts: none in these crafted bundles, but keep sizes of big numbers stable.
    return re.sub(r"sha256:[0-9a-f]{64}", "sha256:…", snapshot) + "\n"


def test_every_view_matches_its_structure(reports: dict[str, Path], open_report: Any) -> None:
    watched: Watched = open_report(reports["ordinary"])
    page = watched.page
    page.click("#ev-3 .diff-toggle")  # the AI's change to app.py
    page.click(".file-open")
    page.click(".cast-open")
    page.click("#pl-play")
    watched.until("document.querySelector('#pl-time').textContent.startsWith('0:01 / 0:01')")
    screens = ACTUAL / "screens"
    screens.mkdir(parents=True, exist_ok=True)
    mismatched = []
    for view in VIEWS:
        page.locator(f"#{view}").scroll_into_view_if_needed()
        shot = page.locator(f"#{view}").screenshot(path=str(screens / f"{view}.png"))
        assert len(shot) > 2000, f"the {view} view rendered nothing"
        actual = _structure(page, view)
        gold = GOLD_VIEWS / f"{view}.yml"
        if UPDATE:
            gold.parent.mkdir(parents=True, exist_ok=True)
            gold.write_text(actual)
            continue
        (screens / f"{view}.yml").write_text(actual)
        if not gold.exists() or gold.read_text() != actual:
            mismatched.append(view)
    assert mismatched == [], (
        f"views {mismatched} differ from tests/gold/report/views; compare with "
        f"{screens} and see tests/gold/report/README.md"
    )
    watched.assert_clean()


def test_kind_actor_and_source_filters(reports: dict[str, Path], open_report: Any) -> None:
    watched = open_report(reports["synth"])
    page = watched.page
    total = page.locator("#tl-list .ev").count()
    assert 0 < total <= 150
    page.click('.chip[data-group="kind"][data-value="prompt"]')
    assert page.locator("#tl-list .ev.k-prompt").count() == 0
    assert page.locator("#tl-list .ev").count() > 0
    page.click('.chip-all[data-group="kind"]')  # some were on: all off
    assert page.locator("#tl-list .ev").count() == 0
    assert "0 matching events" in page.inner_text("#tl-status")
    page.click('.chip-all[data-group="kind"]')  # all on again
    page.click('.chip[data-group="actor"][data-value="ai"]')
    assert page.locator("#tl-list .ev.a-ai").count() == 0
    page.click('.chip[data-group="source"][data-value="claude-code"]')
    assert page.locator("#tl-list .ev .src", has_text="claude-code").count() == 0
    page.click("#tl-reset")
    assert page.locator("#tl-list .ev").count() == total
    watched.assert_clean()


def test_search_finds_only_matching_events(reports: dict[str, Path], open_report: Any) -> None:
    watched = open_report(reports["synth"])
    page = watched.page
    page.fill("#tl-search", "KeyError")
    watched.until("document.querySelector('#tl-status').textContent.includes('of')")
    watched.until(
        "[...document.querySelectorAll('#tl-list .ev')].every("
        "e => e.textContent.toLowerCase().includes('keyerror'))"
    )
    count = page.locator("#tl-list .ev").count()
    assert count > 0
    status = page.inner_text("#tl-status")
    assert f"{count} matching" in status.replace(",", "") or "of" in status
    page.keyboard.press("Escape")
    page.fill("#tl-search", "no-such-text-anywhere")
    watched.until("document.querySelectorAll('#tl-list .ev').length === 0")
    watched.assert_clean()


def test_diffs_toggle_between_unified_and_side_by_side(
    reports: dict[str, Path], open_report: Any
) -> None:
    watched = open_report(reports["ordinary"])
    page = watched.page
    page.click("#ev-3 .diff-toggle")
    diff = page.locator("#ev-3 .diff")
    diff.locator("table").wait_for()
    assert "by-likely_ai" in (diff.get_attribute("class") or "")
    assert diff.locator("tr.add").count() == 1 and diff.locator("tr.del").count() == 1
    assert diff.locator("tr.add").inner_text().strip().endswith("return a + b")
    page.click("#diff-mode")
    diff.locator("col").nth(3).wait_for(state="attached")
    assert diff.locator("col").count() == 4
    assert diff.locator("td.add").inner_text() == "    return a + b"
    assert diff.locator("td.del").inner_text() == "    return a - b"
    page.click("#ev-3 .diff-toggle")
    assert page.locator("#ev-3 .diff").count() == 0
    watched.assert_clean()


def test_the_cast_player_plays_and_seeks(reports: dict[str, Path], open_report: Any) -> None:
    watched = open_report(reports["ordinary"])
    page = watched.page
    page.click(".cast-open")
    page.locator("#player").wait_for(state="visible")
    page.click("#pl-play")
    watched.until("document.querySelector('#pl-screen').textContent.includes('1 passed')")
    assert page.locator("#pl-screen span.f2", has_text="1 passed").count() == 1
    page.locator("#pl-seek").fill("0")
    watched.until("!document.querySelector('#pl-screen').textContent.includes('pytest')")
    watched.assert_clean()


def test_signal_links_show_their_evidence(reports: dict[str, Path], open_report: Any) -> None:
    watched = open_report(reports["ordinary"])
    page = watched.page
    page.click("#sig-commandFailRate .evidence-link")
    assert page.is_visible("#tl-evidence")
    assert "Command fail rate" in page.inner_text("#tl-evidence")
    rows = page.locator("#tl-list .ev")
    assert rows.count() == 1
    assert "pytest -q" in rows.first.inner_text() and "exit 1" in rows.first.inner_text()
    page.click("#tl-evidence-clear")
    assert page.locator("#tl-list .ev").count() > 1
    page.click(".answer-tests .evidence-link")
    kinds = set(page.locator("#tl-list .ev .kind").all_inner_texts())
    assert kinds == {"test_run"}
    watched.assert_clean()


def test_large_sessions_render_progressively(reports: dict[str, Path], open_report: Any) -> None:
    watched = open_report(reports["large"])
    page = watched.page
    assert page.locator("#tl-list .ev").count() == 150
    page.locator("#tl-list .more-after").scroll_into_view_if_needed()
    watched.until("document.querySelectorAll('#tl-list .ev').length >= 300")
    # An event far down the list: the window moves there, with a way back up.
    page.evaluate("location.hash = '#ev-2500'")
    watched.until("document.activeElement && document.activeElement.id === 'ev-2500'")
    assert page.locator("#tl-list .more-before").count() == 1
    page.click("#tl-list .more-before")
    assert page.locator("#ev-2400").count() == 1
    watched.assert_clean()


def test_keyboard_navigation(reports: dict[str, Path], open_report: Any) -> None:
    watched = open_report(reports["ordinary"])
    page = watched.page
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "tl-search"
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    first = page.evaluate("document.activeElement.id")
    assert first.startswith("ev-")
    page.keyboard.press("j")
    second = page.evaluate("document.activeElement.id")
    assert second != first and second.startswith("ev-")
    page.keyboard.press("k")
    assert page.evaluate("document.activeElement.id") == first
    page.keyboard.press("?")
    assert page.is_visible("#help")
    page.keyboard.press("Escape")
    assert not page.is_visible("#help")
    page.keyboard.press("g")
    page.keyboard.press("f")
    watched.until("document.getElementById('files').getBoundingClientRect().top < 200")
    watched.assert_clean()


@pytest.mark.parametrize("width", [1280, 1024])
def test_laptop_widths_do_not_scroll_sideways(
    reports: dict[str, Path], open_report: Any, width: int
) -> None:
    watched = open_report(reports["synth"], width=width)
    page = watched.page
    page.click("#tl-expand")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    watched.assert_clean()


def test_readable_with_scripts_off(reports: dict[str, Path], open_report: Any) -> None:
    watched = open_report(reports["ordinary"], javascript=False)
    page = watched.page
    assert page.is_visible("#summary h1")
    assert "Did they test?" in page.inner_text("#summary")
    assert page.locator("#signals > table.signals > tbody > tr").count() == 6
    assert page.is_visible("#charts svg.chart")
    assert "Keep add() pure" in page.inner_text("#decisions")
    assert "need JavaScript" in page.inner_text("#timeline")
    assert not page.is_visible("#tl-toolbar")


def test_print_stylesheet_hides_the_controls(reports: dict[str, Path], open_report: Any) -> None:
    watched = open_report(reports["ordinary"])
    page = watched.page
    page.emulate_media(media="print")
    assert not page.is_visible(".topbar")
    assert not page.is_visible("#tl-toolbar")
    assert page.is_visible("#summary h1")
    watched.assert_clean()


def test_key_moment_strip_links_to_its_events(reports: dict[str, Path], open_report: Any) -> None:
    watched = open_report(reports["ordinary"])
    page = watched.page
    marks = page.locator("#moment-strip a.km-mark")
    assert marks.count() == page.locator("#moments ol.moments li").count() == 4
    fix = page.locator("#moment-strip a.km-fix")
    target = fix.get_attribute("href")
    assert target is not None and target.startswith("#ev-")
    fix.dispatch_event("click")  # an SVG link: a real navigation to the event's anchor
    watched.until(f"document.activeElement && document.activeElement.id === '{target[1:]}'")
    assert "test_run" in page.locator(target).inner_text()
    page.locator("#followups li").first.locator(".ev-links a").first.click()
    first = page.locator("#followups li").first.locator(".ev-links a").first.get_attribute("href")
    watched.until(f"document.activeElement.id === '{str(first)[1:]}'")
    watched.assert_clean()
