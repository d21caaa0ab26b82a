"""Make the report screenshots in docs/images/ (needs Playwright and Debian's chromium).

    python docs/images/make_screenshots.py

Runs `promptster demo` into a temporary folder, writes a cohort page of examples/bundles, and
photographs each view in headless Chromium at a laptop size (1440×900).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
CLI = [sys.executable, "-c", "from promptster.cli import run; run()"]
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--no-first-run"]


def ready(page: Page, path: Path) -> None:
    page.goto(path.resolve().as_uri())
    page.wait_for_selector("html[data-ready]")


def until(page: Page, expression: str) -> None:
    for _ in range(600):
        if page.evaluate(expression):
            return
        page.wait_for_timeout(50)


def shoot_report(page: Page, report: Path) -> None:
    ready(page, report)
    page.screenshot(path=HERE / "report-summary.png")
    page.locator("#signals").scroll_into_view_if_needed()
    page.evaluate("document.getElementById('signals').scrollIntoView()")
    page.screenshot(path=HERE / "report-signals.png")
    page.evaluate("document.getElementById('charts').scrollIntoView()")
    page.screenshot(path=HERE / "report-charts.png")
    first_ai_change = page.locator("#tl-list .ev.a-ai .diff-toggle").first
    first_ai_change.click()
    page.click("#diff-mode")
    page.evaluate("document.getElementById('timeline').scrollIntoView()")
    page.mouse.wheel(0, 420)
    page.wait_for_timeout(200)
    page.screenshot(path=HERE / "report-timeline.png")
    page.click(".file-open")
    page.evaluate("document.getElementById('files').scrollIntoView()")
    page.screenshot(path=HERE / "report-files.png")
    page.click(".cast-open")
    page.click("#pl-play")
    until(page, "document.querySelector('#pl-play').textContent === '▶'")
    page.evaluate("document.getElementById('terminal').scrollIntoView()")
    page.screenshot(path=HERE / "report-terminal.png")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="promptster-shots-") as tmp:
        folder = Path(tmp)
        subprocess.run([*CLI, "demo", "-o", str(folder / "demo")], check=True)
        cohort = folder / "cohort" / "cohort.html"
        subprocess.run(
            [*CLI, "cohort", str(ROOT / "examples" / "bundles"), "--html", str(cohort)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            shoot_report(page, folder / "demo" / "report.html")
            ready(page, cohort)
            page.screenshot(path=HERE / "cohort.png")
            browser.close()


if __name__ == "__main__":
    main()
