"""A packaged install works: a wheel built from the checkout, installed into a clean virtualenv.

What an editable install hides (package data left out of the wheel: SQL, templates, rubrics,
static files; an entry point that imports something only the checkout has) shows here. The
README's first commands run from the installed console script, outside the checkout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from support import require, require_executable

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow]


def run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)


def test_a_wheel_installs_into_a_clean_virtualenv_and_runs_the_demo(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PROMPTSTER_HOME"] = str(tmp_path / "home")
    built = run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w",
         str(tmp_path / "dist"), str(ROOT)],
        tmp_path, env,
    )  # fmt: skip
    require(built.returncode == 0, f"cannot build a wheel (needs hatchling): {built.stderr}")
    wheels = list((tmp_path / "dist").glob("promptster-*.whl"))
    assert len(wheels) == 1
    venv = tmp_path / "venv"
    assert run([sys.executable, "-m", "venv", str(venv)], tmp_path, env).returncode == 0
    installed = run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheels[0])],
        tmp_path, env,
    )  # fmt: skip
    require(installed.returncode == 0, f"cannot install the wheel's dependencies: {installed}")
    promptster = str(venv / "bin" / "promptster")
    away = tmp_path / "elsewhere"  # not the checkout: nothing may come from src/
    away.mkdir()
    helped = run([promptster, "--help"], away, env)
    assert helped.returncode == 0 and "Usage: promptster" in helped.stdout, helped.stderr
    version = run([promptster, "version", "--json"], away, env)
    assert json.loads(version.stdout)["version"]
    demo = run([promptster, "demo", "--json"], away, env)
    assert demo.returncode == 0, demo.stderr
    outcome = json.loads(demo.stdout)
    assert outcome["verified"] is True
    assert Path(outcome["report"]).is_file()
    assert (away / "promptster-demo").is_dir()  # where the README says it goes
    assert "Traceback" not in demo.stderr


def test_pipx_install_from_the_checkout_as_the_readme_says(tmp_path: Path) -> None:
    """`pipx install .`, the README's and the invite's install line, in a throwaway pipx home."""
    pipx = require_executable("pipx", "python3 -m pip install pipx")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env |= {
        "PIPX_HOME": str(tmp_path / "pipx"),
        "PIPX_BIN_DIR": str(tmp_path / "bin"),
        "PIPX_MAN_DIR": str(tmp_path / "man"),
        "PROMPTSTER_HOME": str(tmp_path / "home"),
    }
    done = run([pipx, "install", "--python", sys.executable, "."], ROOT, env)
    require(done.returncode == 0, f"pipx install . failed: {done.stderr}")
    promptster = str(tmp_path / "bin" / "promptster")
    shown = run([promptster, "help", "start"], tmp_path, env)
    assert shown.returncode == 0 and "Usage: promptster start" in shown.stdout, shown.stderr
