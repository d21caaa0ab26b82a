"""Benchmark: `promptster review` of a big bundle, split by step, and the page in Chromium.

    python benchmarks/bench_report.py                    # 100,000 events (docs/performance.md)
    python benchmarks/bench_report.py --events 20000     # quicker

1. `review` of one synthetic bundle (default 100,000 events): total time and the share spent
   verifying, computing signals and rendering (waiting for the snapshot thread, the data step,
   the templates, writing). Budget (docs/performance.md): rendering ≤ verify + signals.
2. The report's size, and the raw and compressed size of each data block. Budget: ≤ 10 MB
   for 100,000 events.
3. In headless Chromium (when Playwright and /usr/bin/chromium are there): first paint, first
   contentful paint, DOMContentLoaded, and interactive (the timeline's first rows are on the
   page and every control works), plus one search over every event.

Bundles come from `promptster synth` (fixed seed), cached in --cache. Plain script: prints
results, asserts nothing.
"""

from __future__ import annotations

import argparse
import re
import shutil
import tempfile
import time
from pathlib import Path

from promptster.record.synth import generate_bundle
from promptster.report.review import ReviewResult, review_bundle

SIZE_BUDGET = 10 * 1024 * 1024
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def review_once(bundle: Path, out: Path) -> tuple[float, ReviewResult]:
    start = time.perf_counter()
    result = review_bundle(bundle, out)
    return time.perf_counter() - start, result


def bench_review(bundle: Path, out: Path, runs: int) -> None:
    best: tuple[float, ReviewResult] | None = None
    for _ in range(runs):
        took = review_once(bundle, out)
        if best is None or took[0] < best[0]:
            best = took
    assert best is not None
    total, result = best
    t = result.timings
    render = t["snapshots_wait"] + t["data"] + t["render"] + t["write"]
    print(f"review of {bundle.name} ({bundle.stat().st_size:,} B), best of {runs}")
    print(f"  total                                     {total:8.2f} s")
    for label, seconds in (
        ("verify", t["verify"]),
        ("signals (DuckDB, no second verify)", t["signals"]),
        ("render (snapshot wait + data + templates)", render),
    ):
        print(f"  {label:<42}{seconds:8.2f} s  {seconds / total * 100:5.1f} %")
    print(
        f"    of which: waiting for the snapshot thread {t['snapshots_wait']:.2f} s, data step "
        f"{t['data']:.2f} s, templates {t['render']:.2f} s, write {t['write']:.2f} s"
    )
    budget = t["verify"] + t["signals"]
    print(f"  render / (verify + signals) = {render / budget:4.2f}   (budget ≤ 1)")
    html = out.read_text("utf-8")
    print(f"report {out.stat().st_size:,} B   (budget {SIZE_BUDGET:,} B)")
    for name, raw, packed in re.findall(
        r'id="(ps-[a-z0-9-]+)" data-bytes="(\d+)">"([A-Za-z0-9+/=]*)"', html
    ):
        print(f"  {name:<12} JSON {int(raw):>12,} B  → gzip+base64 {len(packed):>11,} B")


def bench_browser(report: Path, runs: int) -> None:
    chromium = shutil.which("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("browser: skipped (pip install playwright)")
        return
    if chromium is None:
        print("browser: skipped (apt-get install chromium)")
        return
    rows = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        for _ in range(runs):
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(report.resolve().as_uri())
            page.wait_for_selector("html[data-ready]", timeout=600_000)
            timing = page.evaluate(
                """() => {
                const paint = Object.fromEntries(performance.getEntriesByType('paint')
                    .map(e => [e.name, e.startTime]));
                const nav = performance.getEntriesByType('navigation')[0];
                return {fp: paint['first-paint'], fcp: paint['first-contentful-paint'],
                        dcl: nav.domContentLoadedEventEnd,
                        ready: Number(document.documentElement.dataset.ready)};
            }"""
            )
            before = page.inner_text("#tl-status")
            start = time.perf_counter()
            page.fill("#tl-search", "keyerror")
            while page.inner_text("#tl-status") == before and time.perf_counter() - start < 60:
                page.wait_for_timeout(5)
            timing["search"] = (time.perf_counter() - start) * 1000
            rows.append(timing)
            page.close()
        browser.close()
    best = {key: min(row[key] for row in rows) for key in rows[0]}
    print(f"browser (headless Chromium, best of {runs})")
    print(f"  first paint              {best['fp']:8.0f} ms")
    print(f"  first contentful paint   {best['fcp']:8.0f} ms")
    print(f"  DOMContentLoaded         {best['dcl']:8.0f} ms")
    print(f"  interactive              {best['ready']:8.0f} ms   (timeline shown, controls wired)")
    print(f"  one search, all events   {best['search']:8.0f} ms   (includes the 150 ms debounce)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "promptster-bench-report"
    )
    parser.add_argument("--skip-browser", action="store_true")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    bundle = args.cache / f"big-{args.events}.pst"
    if not bundle.exists():
        generate_bundle(bundle, events=args.events, seed=4242)
    out = args.cache / f"big-{args.events}.html"
    bench_review(bundle, out, args.runs)
    if not args.skip_browser:
        bench_browser(out, args.runs)


if __name__ == "__main__":
    main()
