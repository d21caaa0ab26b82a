"""The outcome of a test run (`passed`, `failed`, `error`, `no_tests`, `interrupted`,
`unknown`): real pytest and unittest runs in a temporary directory, Ctrl-C included, then the
rules on their own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from promptster.runs import events as runs
from promptster.runs.events import TestSummary, classify_outcome

PASSING = "def test_one():\n    assert 1 + 1 == 2\n"
FAILING = "def test_one():\n    assert 1 + 1 == 3\n"
BROKEN_IMPORT = "import no_such_module_here\n\n\ndef test_one():\n    pass\n"
SKIPPED = "import pytest\n\n\n@pytest.mark.skip(reason='later')\ndef test_one():\n    pass\n"
SLOW = (
    "import pathlib\nimport time\n\n\ndef test_slow():\n"
    "    pathlib.Path('started').touch()\n    time.sleep(60)\n"
)
UT_PASSING = (
    "import unittest\n\n\nclass T(unittest.TestCase):\n    def test_a(self):\n        pass\n"
)


def _env() -> dict[str, str]:
    # The outer pytest's own settings (xdist worker ids, addopts) must not leak into the run.
    return {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}


def _run(tmp_path: Path, argv: list[str], files: dict[str, str]) -> tuple[str, int]:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    done = subprocess.run(
        [sys.executable, *argv], cwd=tmp_path, env=_env(), capture_output=True, text=True
    )
    return done.stdout + done.stderr, done.returncode


def _outcome(command: str, output: str, exit_code: int) -> str | int | None:
    event = runs.run_event(command, output, exit_code=exit_code, duration_ms=5)
    assert event is not None and event.kind == "test_run"
    return event.data["outcome"]


PYTEST = ["-m", "pytest", "-p", "no:cacheprovider"]


@pytest.mark.parametrize(
    ("files", "code", "outcome"),
    [
        ({"test_a.py": PASSING}, 0, "passed"),
        ({"test_a.py": FAILING}, 1, "failed"),
        ({}, 5, "no_tests"),  # "no tests ran"
        ({"test_a.py": SKIPPED}, 0, "no_tests"),  # everything skipped
        ({"test_a.py": BROKEN_IMPORT}, 2, "error"),  # "Interrupted: 1 error during collection"
    ],
    ids=["passing", "failing", "empty", "all-skipped", "collection-error"],
)
def test_real_pytest_runs(tmp_path: Path, files: dict[str, str], code: int, outcome: str) -> None:
    output, exit_code = _run(tmp_path, PYTEST, files)
    assert exit_code == code, output
    assert _outcome("python -m pytest", output, exit_code) == outcome


@pytest.mark.parametrize(
    ("files", "outcome"),
    [
        ({"test_a.py": UT_PASSING}, "passed"),
        ({}, "no_tests"),  # "Ran 0 tests ... OK" (3.11) or "NO TESTS RAN" with exit 5 (3.12+)
        ({"test_a.py": BROKEN_IMPORT}, "error"),  # the loader reports the import as an error
    ],
    ids=["passing", "empty", "import-error"],
)
def test_real_unittest_runs(tmp_path: Path, files: dict[str, str], outcome: str) -> None:
    output, exit_code = _run(tmp_path, ["-m", "unittest"], files)
    assert "Ran " in output, output
    assert _outcome("python -m unittest", output, exit_code) == outcome


def test_real_pytest_interrupted_by_ctrl_c(tmp_path: Path) -> None:
    (tmp_path / "test_slow.py").write_text(SLOW)
    process = subprocess.Popen(
        [sys.executable, *PYTEST, "-s", "test_slow.py"],
        cwd=tmp_path,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # Interrupt once the test body runs (it leaves a file), as a person pressing Ctrl-C would.
    while not (tmp_path / "started").exists():
        assert process.poll() is None, process.communicate()[0]
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate()
    assert process.returncode == 2, output  # pytest's "interrupted" exit code
    assert "KeyboardInterrupt" in output
    assert _outcome("python -m pytest test_slow.py", output, process.returncode) == "interrupted"


def summary(passed: int, failed: int = 0, skipped: int = 0, errors: int = 0) -> TestSummary:
    return TestSummary("pytest", passed, failed, skipped, errors, None)


@pytest.mark.parametrize(
    ("tool", "counts", "exit_code", "output", "outcome"),
    [
        ("pytest", summary(3), 0, "", "passed"),
        ("pytest", summary(3), None, "", "passed"),  # an AI tool that gave no exit code
        ("pytest", summary(2, failed=1), 1, "", "failed"),
        ("pytest", summary(2, failed=1, errors=1), 1, "", "failed"),
        ("pytest", summary(2, errors=1), 1, "", "error"),
        ("pytest", summary(0), 5, "", "no_tests"),
        ("pytest", summary(0, skipped=4), 0, "", "no_tests"),
        ("pytest", summary(3), 1, "", "error"),  # e.g. a coverage threshold: not a clean pass
        ("pytest", summary(1), 2, "!!!!! KeyboardInterrupt !!!!!", "interrupted"),
        ("pytest", summary(1), 130, "", "interrupted"),
        ("pytest", None, -2, "", "interrupted"),
        ("pytest", None, 5, "", "no_tests"),
        ("pytest", None, 1, "", "failed"),
        ("pytest", None, 4, "ERROR: usage", "error"),
        ("jest", None, 1, "Segmentation fault", "error"),  # a crashed runner
        ("jest", None, 0, "", "unknown"),
        ("jest", None, None, "", "unknown"),
        # a test that prints the word, in a run that passed, is not an interruption
        ("pytest", summary(1), 0, "KeyboardInterrupt", "passed"),
        (
            "pytest",
            summary(0, errors=2),
            2,
            "!! Interrupted: 2 errors during collection !!",
            "error",
        ),
    ],
)
def test_outcome_rules(
    tool: str, counts: TestSummary | None, exit_code: int | None, output: str, outcome: str
) -> None:
    assert classify_outcome(tool, counts, exit_code, output) == outcome
    assert outcome in runs.OUTCOMES
