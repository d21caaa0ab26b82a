"""Fixtures for the analysis tests: the hand-written scenario bundles, built once."""

from __future__ import annotations

from pathlib import Path

import pytest
from analysis_scenarios import DEMO, EDGE, build

from promptster.analysis.signals import SessionSignals, bundle_signals


@pytest.fixture(autouse=True)
def _private_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the user's own reviewer workspace or identity (its packs would be
    checked against them); tests that need a home set their own over this one."""
    monkeypatch.setenv("PROMPTSTER_HOME", str(tmp_path / "private-home"))


@pytest.fixture(scope="session")
def scenario_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("scenarios")
    for make in DEMO + EDGE:
        scenario = make()
        build(scenario, folder / f"{scenario.name}.pst")
    return folder


@pytest.fixture(scope="session")
def demo_dir(scenario_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with only the four asmt-demo bundles (like examples/bundles)."""
    folder = tmp_path_factory.mktemp("demo")
    for make in DEMO:
        name = make().name
        (folder / f"{name}.pst").write_bytes((scenario_dir / f"{name}.pst").read_bytes())
    return folder


@pytest.fixture(scope="session")
def signals_of(scenario_dir: Path) -> dict[str, SessionSignals]:
    names = [make().name for make in DEMO + EDGE]
    return {name: bundle_signals(scenario_dir / f"{name}.pst") for name in names}
