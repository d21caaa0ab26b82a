"""Fixtures for the report tests: crafted bundles, their reports, and a headless Chromium."""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from report_kit import Watched, hostile, ordinary

from promptster.record.synth import generate_bundle
from promptster.report.review import ReviewResult, review_bundle
from support import require, require_executable

GENERATED_AT = "2026-02-02 12:00:00 UTC"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session", autouse=True)
def reviewer_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An empty PROMPTSTER_HOME, so no real reviewer workspace colours the reports."""
    home = tmp_path_factory.mktemp("promptster-home")
    before = os.environ.get("PROMPTSTER_HOME")
    os.environ["PROMPTSTER_HOME"] = str(home)
    yield home
    if before is None:
        os.environ.pop("PROMPTSTER_HOME", None)
    else:
        os.environ["PROMPTSTER_HOME"] = before


@pytest.fixture(scope="session")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("report-bundles")
    made = {
        "ordinary": ordinary().build(folder / "ordinary.pst"),
        "hostile": hostile().build(folder / "hostile.pst"),
    }
    generate_bundle(folder / "synth.pst", events=400, seed=11)
    generate_bundle(folder / "large.pst", events=3000, seed=5)
    made["synth"] = folder / "synth.pst"
    made["large"] = folder / "large.pst"
    return made


@pytest.fixture(scope="session")
def reports(bundles: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One report per crafted bundle, rendered once for the whole session."""
    folder = tmp_path_factory.mktemp("reports")
    out = {}
    for name, bundle in bundles.items():
        result: ReviewResult = review_bundle(
            bundle, folder / f"{name}.html", extra_checks=[], generated_at=GENERATED_AT
        )
        out[name] = result.output
    return out


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    require(importlib.util.find_spec("playwright") is not None, "playwright is not installed")
    chromium = require_executable("chromium", "apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=shutil.which("chromium") or chromium, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def open_report(browser: Any) -> Iterator[Any]:
    contexts = []

    def opener(path: Path, *, javascript: bool = True, width: int = 1440) -> Watched:
        context = browser.new_context(
            viewport={"width": width, "height": 900}, java_script_enabled=javascript
        )
        contexts.append(context)
        watched = Watched(context.new_page(), Path(path).resolve().as_uri())
        if not javascript:
            watched.page.goto(watched.url)
            return watched
        return watched.open()

    yield opener
    for context in contexts:
        context.close()
