"""A bundle with a payload in every candidate-controlled field renders as text, in a browser.

The payloads (tests/report/report_kit.py) set `window.__pwned` or open a dialog if they ever
run. The report is driven through every view (expanded events, every diff, every file, the
terminal player) and then checked: nothing ran, no request left the page, no CSP violation,
no console error, and the payloads are on the page as visible text. The same holds with the
Content-Security-Policy removed, so escaping alone is enough and the CSP is a second wall.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from report_kit import PAYLOADS

from promptster.report.text import visible


def _exercise(watched: Any) -> None:
    page = watched.page
    page.click("#tl-expand")
    for toggle in page.locator("#tl-list .diff-toggle").all():
        toggle.click()
    page.click("#diff-mode")
    for index, file in enumerate(page.locator(".file-open").all()):
        file.click()
        watched.until(
            "(document.querySelector('#file-view h3') || {}).textContent === "
            f"document.querySelectorAll('.file-open')[{index}].textContent"
        )
        for diff in page.locator("#file-view .history button").all():
            diff.click()
        watched.until(
            "[...document.querySelectorAll('#file-view .history .diff')]"
            ".every(d => !d.textContent.startsWith('loading'))"
        )
    page.click(".cast-open")
    page.click("#pl-play")
    watched.until("document.querySelector('#pl-screen').textContent.includes('pre')")
    page.fill("#tl-search", "script")
    watched.until("document.querySelector('#tl-status').textContent.includes('of')")
    for link in page.locator(".evidence-link").all()[:3]:
        link.click()


def _assert_inert(page: Any) -> None:
    dom = page.evaluate(
        """() => ({
        handlers: [...document.querySelectorAll('*')].flatMap(e => [...e.attributes]
            .filter(a => a.name.startsWith('on')).map(a => e.tagName + ' ' + a.name)),
        scripts: [...document.scripts].filter(s => !s.type || s.type === 'text/javascript')
            .length,
        links: [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))
            .filter(h => !h.startsWith('#')),
        images: document.images.length,
        iframes: document.querySelectorAll('iframe, object, embed, form, base').length,
        styles: document.querySelectorAll('style').length,
        svgsWithScripts: document.querySelectorAll('svg script, svg [onload]').length,
    })"""
    )
    assert dom["handlers"] == []
    assert dom["scripts"] == 1  # the report's own
    assert dom["links"] == []
    assert dom["images"] == 0
    assert dom["iframes"] == 0
    assert dom["styles"] == 1
    assert dom["svgsWithScripts"] == 0
    assert page.evaluate("window.__pwned") is None


def test_payloads_render_as_text(reports: dict[str, Path], open_report: Any) -> None:
    watched = open_report(reports["hostile"])
    page = watched.page
    _exercise(watched)
    watched.assert_clean()
    _assert_inert(page)
    text = page.inner_text("body")
    for payload in PAYLOADS[:5]:
        assert visible(payload) in text, payload
    # Terminal escapes show as symbols (␛), never as links, titles or colours from the bundle.
    assert "␛]8;;javascript:" in text
    assert "⟨U+202E⟩evil" in text
    # The recording's own escapes are interpreted by the player, and only the safe subset.
    screen = page.inner_text("#pl-screen")
    assert "<script>window.__pwned='pre'</script>" in screen
    assert page.locator("#pl-screen a").count() == 0
    assert page.title().startswith("<script>")  # the candidate name, as text


def test_escaping_holds_without_the_csp(
    reports: dict[str, Path], open_report: Any, tmp_path: Path
) -> None:
    html = reports["hostile"].read_text("utf-8")
    stripped, count = re.subn(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
    assert count == 1
    page_file = tmp_path / "no-csp.html"
    page_file.write_text(stripped, "utf-8")
    watched = open_report(page_file)
    _exercise(watched)
    watched.assert_clean()
    _assert_inert(watched.page)


def test_the_csp_blocks_what_escaping_might_miss(
    reports: dict[str, Path], open_report: Any, tmp_path: Path
) -> None:
    """Plant a script and a handler as if the template had failed: the CSP must stop both."""
    html = reports["ordinary"].read_text("utf-8")
    planted = html.replace(
        "</main>",
        "<script>window.__pwned='inline'</script>"
        "<img src=x onerror=\"window.__pwned='handler'\"></main>",
        1,
    )
    page_file = tmp_path / "planted.html"
    page_file.write_text(planted, "utf-8")
    watched = open_report(page_file)
    assert watched.page.evaluate("window.__pwned") is None
    violations = watched.csp_violations()
    assert any(v.startswith("script-src") for v in violations)
    assert any(v.startswith("img-src") for v in violations)  # no image may load
    assert all(u.startswith("file:") for u in watched.requests)
