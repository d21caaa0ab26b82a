"""Record three demo sessions of one assessment and photograph the reviewer's pages for
docs/reviewer-guide.md (needs Playwright and Debian's chromium).

    python docs/screenshots/make.py [--keep DIR]

One reviewer issues three keys for the demo assessment ("Cart discount bug"); three
candidates take it through the real commands (`promptster start`, a recorded shell driven
like a person typing, Claude Code hook calls from a scripted AI, hand edits, `promptster
explain`, `submit`), each differently:

- Ada Lovelace: runs the tests first, asks the AI, adds a check and a test by hand, decides;
- Ben Bitdiddle: hands the fix to the AI and tries a command that keeps failing;
- Cy D. Fect: no AI, fixes it by hand and runs the tests.

Then, as the reviewer: `verify`, `followups`, `import`, a scorecard per candidate with
`rate`, `cohort --html` (one report per session), `analytics -o`, and screenshots of the
report's sections, the cohort page and the analytics page in headless Chromium into
docs/images/guide-*.png (about 1000 px wide, to keep them small).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from promptster.demo import scenario as sc
from promptster.demo.runner import CLI, Demo, prepare_folder
from promptster.demo.shell_driver import RecordedShell

IMAGES = Path(__file__).resolve().parent.parent / "images"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--no-first-run"]
# Two reviewers' scorecards per candidate: (reviewer, decision, scores in the order of DIMENSIONS)
DIMENSIONS = (
    "problem_decomposition", "ai_orchestration", "code_quality", "debugging_process",
    "communication",
)  # fmt: skip
SCORECARDS = {
    "ada": (("Rita", "advance", (4, 4, 4, 5, 4)), ("Sam", "advance", (5, 4, 3, 4, 4))),
    "ben": (("Rita", "hold", (2, 3, 3, 2, 3)), ("Sam", "reject", (2, 2, 3, 2, 2))),
    "cy": (("Rita", "advance", (4, 2, 4, 4, 3)), ("Sam", "hold", (3, 2, 4, 3, 3))),
}
CANDIDATES = (
    ("ada", "Ada Lovelace", "ada@example.com"),
    ("ben", "Ben Bitdiddle", "ben@example.com"),
    ("cy", "Cy D. Fect", "cy@example.com"),
)


def issue(demo: Demo) -> dict[str, str]:
    """The reviewer's identity, the assessment, a key per candidate and the signed pack."""
    demo.tools()
    demo.reviewer.mkdir(parents=True, exist_ok=True)
    demo.cli(demo.reviewer, "identity", "init", "--org", sc.ORG)
    brief = demo.reviewer / "brief.md"
    brief.write_text(sc.BRIEF)
    created = json.loads(
        demo.cli(demo.reviewer, "assessment", "create", "--title", sc.TITLE, "--role", sc.ROLE,
                 "--brief", str(brief), "--time-limit", str(sc.TIME_LIMIT_MINUTES), "--json")
    )  # fmt: skip
    assessment = str(created["assessment"]["id"])
    keys = {}
    for short, name, email in CANDIDATES:
        made = json.loads(
            demo.cli(demo.reviewer, "keys", "create", assessment, "--email", email, "--name",
                     name, "--outbox", str(demo.reviewer / "outbox"), "--json")
        )  # fmt: skip
        keys[short] = str(made["keys"][0]["key"])
    pack = demo.folder / "assessment-pack.json"
    demo.cli(demo.reviewer, "assessment", "export", assessment, "-o", str(pack))
    return keys


def record(demo: Demo, short: str, key: str, bundles: Path) -> Path:
    """One candidate's session, from `start` to `submit`."""
    demo.candidate = demo.folder / "candidates" / short
    demo.workspace = demo.candidate / "cart"
    demo.candidate.mkdir(parents=True, exist_ok=True)
    shutil.copy(demo.folder / "assessment-pack.json", demo.pack)
    demo.progress(f"{short}: promptster start {key}")
    demo.start(key)
    cart = demo.workspace / "cart.py"
    with RecordedShell(demo.workspace, demo.env(demo.candidate), CLI) as shell:
        if short == "ada":
            shell.run("ls", "cat cart.py", demo.tests)
            time.sleep(1.5)
            demo.scripted_ai()
            demo.hand_edits()
            shell.run(demo.tests, shell.explain())
        elif short == "ben":
            demo.scripted_ai()
            for _ in range(3):
                shell.run("python -m cart_cli --total 40 60")  # no such module: exit 1
        else:
            shell.run("cat cart.py", demo.tests)
            time.sleep(1.5)  # reading the failure; lets the recorder journal the run first
            cart.write_text(cart.read_text().replace(sc.AI_OLD, sc.AI_NEW))
            demo.snapshot("editor-save")
            demo.hand_edits()
            shell.run(demo.tests)
    bundle = bundles / f"{short}.pst"
    demo.cli(demo.candidate, "submit", "--yes", "-o", str(bundle), cwd=demo.workspace)
    return bundle


def ready(page: Page, path: Path, anchor: str = "") -> None:
    page.goto(path.resolve().as_uri() + anchor)
    page.wait_for_selector("html[data-ready]")


def shoot(page: Page, selector: str, name: str, most: int = 640) -> None:
    """The element, at most `most` pixels of it from its top (to keep the PNGs small)."""
    target = page.locator(selector)
    target.scroll_into_view_if_needed()
    box = target.bounding_box()
    if box is None or box["height"] <= most:
        target.screenshot(path=IMAGES / name)
        return
    page.evaluate(f"window.scrollTo(0, window.scrollY + {box['y'] - 20})")
    box = target.bounding_box()
    assert box is not None
    page.screenshot(
        path=IMAGES / name,
        clip={"x": box["x"], "y": box["y"], "width": box["width"], "height": most},
    )


def rate_all(demo: Demo, bundles: Path) -> None:
    """Import the bundles and enter two reviewers' scorecards for each candidate."""
    demo.cli(demo.reviewer, "import", str(bundles))
    for short, *_ in CANDIDATES:
        session = json.loads(
            demo.cli(demo.reviewer, "followups", str(bundles / f"{short}.pst"), "--json")
        )["sessionId"]
        for reviewer, decision, scores in SCORECARDS[short]:
            args = [f"--dimension={d}={n}" for d, n in zip(DIMENSIONS, scores, strict=True)]
            print(demo.cli(demo.reviewer, "rate", str(session), *args, "--decision", decision,
                           "--reviewer", reviewer), end="")  # fmt: skip


def photograph(report: Path, cohort: Path, analytics: Path) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1000, "height": 760})
        ready(page, report)
        page.screenshot(path=IMAGES / "guide-report.png")
        # the sticky bar would cover the top of each section's picture
        page.evaluate("document.querySelector('.topbar').style.position = 'static'")
        shoot(page, "#moments", "guide-moments.png")
        shoot(page, "#moment-strip", "guide-strip.png")
        shoot(page, "#followups", "guide-followups.png")
        shoot(page, "#rubric", "guide-rubric.png")
        shoot(page, "#rate", "guide-rate.png")
        ready(page, cohort)
        page.screenshot(path=IMAGES / "guide-cohort.png", full_page=True)
        ready(page, analytics)
        page.screenshot(path=IMAGES / "guide-analytics.png", full_page=True)
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="record into this folder and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="promptster-guide-") as tmp:
        folder = prepare_folder(args.keep or Path(tmp) / "guide")
        demo = Demo(folder, lambda label: print(label, file=sys.stderr))
        try:
            keys = issue(demo)
            bundles = folder / "bundles"
            bundles.mkdir()
            for short, *_ in CANDIDATES:
                record(demo, short, keys[short], bundles)
        finally:
            demo.close()
        for short, *_ in CANDIDATES:
            print(demo.cli(demo.reviewer, "verify", str(bundles / f"{short}.pst")))
        print(demo.cli(demo.reviewer, "followups", str(bundles / "ada.pst")))
        rate_all(demo, bundles)
        cohort = folder / "cohort" / "cohort.html"
        demo.cli(demo.reviewer, "cohort", str(bundles), "--html", str(cohort))
        analytics = folder / "analytics.html"
        demo.cli(demo.reviewer, "analytics", "-o", str(analytics))
        photograph(cohort.parent / "cohort-reports" / "ada.html", cohort, analytics)


if __name__ == "__main__":
    main()
