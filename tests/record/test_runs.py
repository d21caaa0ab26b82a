"""Test-run and build-run detection: command classification, summary parsing, event data.

Parsers are checked against real output captured from the real runners (tests/fixtures/runs,
see its README) and against hand-written samples of documented formats for runners that cannot
be installed here (marked DOCUMENTED below). Live runs and property tests: test_runs_live.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from promptster.runs import events as runs

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "runs"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def counts(summary: runs.TestSummary | None) -> tuple[str, int, int, int, int] | None:
    """(suite, passed, failed, skipped, errors): the duration is checked separately."""
    if summary is None:
        return None
    return (summary.suite, summary.passed, summary.failed, summary.skipped, summary.errors)


# --- parsing real output ------------------------------------------------------------------

# (fixture, tool as classify_command names it, expected (suite, passed, failed, skipped, errors),
#  expected duration in ms as the runner printed it)
REAL_OUTPUT = [
    # pytest: xfailed counts as skipped, xpassed as passed, the fixture error as an error
    ("pytest/mixed.txt", "pytest", ("pytest", 3, 1, 2, 1), 610),
    ("pytest/quiet_mixed.txt", "pytest", ("pytest", 3, 1, 2, 1), 640),
    ("pytest/color_mixed.txt", "pytest", ("pytest", 3, 1, 2, 1), 570),
    ("pytest/xdist.txt", "pytest", ("pytest", 5, 1, 2, 1), 1490),
    ("pytest/pass.txt", "pytest", ("pytest", 2, 0, 0, 0), 480),
    ("pytest/xpass_warn.txt", "pytest", ("pytest", 4, 0, 0, 0), 400),
    ("pytest/deselected.txt", "pytest", ("pytest", 3, 0, 0, 0), 420),
    ("pytest/collection_error.txt", "pytest", ("pytest", 0, 0, 0, 1), 530),
    ("pytest/no_tests.txt", "pytest", ("pytest", 0, 0, 0, 0), 420),
    # unittest: expected failure → skipped, unexpected success → failed
    ("unittest/mixed.txt", "unittest", ("unittest", 2, 2, 2, 1), 0),
    ("unittest/mixed_verbose.txt", "unittest", ("unittest", 2, 2, 2, 1), 1),
    ("unittest/pass.txt", "unittest", ("unittest", 3, 0, 0, 0), 0),
    ("unittest/skip.txt", "unittest", ("unittest", 1, 0, 1, 0), 0),
    ("unittest/no_tests.txt", "unittest", ("unittest", 0, 0, 0, 0), 0),
    ("unittest/import_error.txt", "unittest", ("unittest", 0, 0, 0, 1), 0),
    # node --test: todo → skipped
    ("node-test/mixed_spec.txt", "node-test", ("node-test", 3, 3, 2, 0), 81),
    ("node-test/mixed_spec_color.txt", "node-test", ("node-test", 3, 3, 2, 0), 84),
    ("node-test/mixed_tap.txt", "node-test", ("node-test", 3, 3, 2, 0), 78),
    ("node-test/pass_spec.txt", "node-test", ("node-test", 2, 0, 0, 0), 70),
    ("node-test/pass_tap.txt", "node-test", ("node-test", 2, 0, 0, 0), 69),
    # jest: the suite that failed to run is an error; todo → skipped
    ("jest/mixed.txt", "jest", ("jest", 4, 2, 2, 1), 437),
    ("jest/color_single.txt", "jest", ("jest", 2, 2, 2, 0), 138),
    ("jest/pass.txt", "jest", ("jest", 2, 0, 0, 0), 114),
    ("vitest/mixed.txt", "vitest", ("vitest", 4, 2, 2, 1), 579),
    ("vitest/color_single.txt", "vitest", ("vitest", 2, 2, 2, 0), 200),
    ("vitest/pass.txt", "vitest", ("vitest", 2, 0, 0, 0), 206),
    # mocha: the failed `before all` hook is an error, not a failed test
    ("mocha/mixed.txt", "mocha", ("mocha", 2, 2, 2, 1), 4),
    ("mocha/pass.txt", "mocha", ("mocha", 2, 0, 0, 0), 1),
    # cargo: lib + integration + doc-test binaries are summed; ignored → skipped
    ("cargo/test_mixed.txt", "cargo-test", ("cargo", 2, 2, 1, 0), 70),
    ("cargo/test_mixed_no_fail_fast.txt", "cargo-test", ("cargo", 3, 2, 1, 0), 50),
    ("cargo/test_filtered_pass.txt", "cargo-test", ("cargo", 2, 0, 0, 0), 0),
    ("cargo/test_compile_error.txt", "cargo-test", ("cargo", 0, 0, 0, 2), None),
    # go: top-level tests only (a table test counts once); a package that did not build is an
    # error; durations are the packages' own times added up
    ("go/test_mixed_verbose.txt", "go-test", ("go", 3, 3, 1, 0), 8),
    ("go/test_mixed_json.txt", "go-test", ("go", 3, 3, 1, 0), 8),
    ("go/test_pass_verbose.txt", "go-test", ("go", 2, 0, 0, 0), 2),
    ("go/test_build_failed_verbose.txt", "go-test", ("go", 3, 3, 1, 1), 6),
    ("go/test_build_failed_json.txt", "go-test", ("go", 3, 3, 1, 1), 8),
    ("maven/mixed.txt", "mvn-test", ("maven", 4, 1, 1, 1), 1918),
    ("maven/pass.txt", "mvn-test", ("maven", 2, 0, 0, 0), 1247),
    # ctest: SKIP_RETURN_CODE and DISABLED → skipped; the missing executable is an error
    ("ctest/mixed.txt", "ctest", ("ctest", 2, 1, 2, 1), 10),
    ("ctest/pass.txt", "ctest", ("ctest", 2, 0, 0, 0), 0),
    ("rspec/mixed.txt", "rspec", ("rspec", 2, 2, 2, 0), 12),
    ("rspec/pass.txt", "rspec", ("rspec", 2, 0, 0, 0), 2),
    ("rspec/load_error.txt", "rspec", ("rspec", 0, 0, 0, 1), 0),
    # phpunit: incomplete → skipped
    ("phpunit/mixed.txt", "phpunit", ("phpunit", 2, 1, 2, 1), 2),
    ("phpunit/pass.txt", "phpunit", ("phpunit", 2, 0, 0, 0), 1),
    ("phpunit/pass_with_skip.txt", "phpunit", ("phpunit", 2, 0, 1, 0), 2),
    # wrappers: the inner runner is found by its summary and named as the suite
    ("nox/pytest_mixed.txt", "nox", ("pytest", 3, 1, 2, 1), 440),
    ("tox/pytest_pass.txt", "tox", ("pytest", 2, 0, 0, 0), 0),
    ("npm/test_jest.txt", "npm-test", ("jest", 4, 2, 2, 1), 255),
    ("npm/test_vitest.txt", "npm-test", ("vitest", 2, 0, 0, 0), 171),
]


@pytest.mark.parametrize(("name", "tool", "expected", "duration"), REAL_OUTPUT)
def test_parses_real_runner_output(
    name: str, tool: str, expected: tuple[str, int, int, int, int], duration: int | None
) -> None:
    summary = runs.parse_test_summary(tool, fixture(name))
    assert counts(summary) == expected
    assert summary is not None
    assert summary.duration_ms == duration


@pytest.mark.parametrize(
    "name",
    [
        "pytest/qq_mixed.txt",  # -qq prints no counts at all
        "go/test_mixed.txt",  # without -v go names only the failures
        "go/test_pass.txt",
        "go/test_pass_cached.txt",
    ],
)
def test_output_without_counts_has_no_summary(name: str) -> None:
    tool = "go-test" if name.startswith("go/") else "pytest"
    assert runs.parse_test_summary(tool, fixture(name)) is None


def test_every_fixture_is_covered() -> None:
    covered = {name for name, *_ in REAL_OUTPUT} | {name for name, *_ in REAL_BUILD_OUTPUT}
    covered |= {"pytest/qq_mixed.txt", "go/test_mixed.txt", "go/test_pass.txt"}
    covered |= {"go/test_pass_cached.txt"}
    on_disk = {str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("*.txt")}
    assert on_disk == covered


def test_the_last_summary_wins() -> None:
    first, second = fixture("pytest/mixed.txt"), fixture("pytest/pass.txt")
    assert counts(runs.parse_test_summary("pytest", first + second)) == ("pytest", 2, 0, 0, 0)
    mixed = fixture("jest/pass.txt") + fixture("vitest/mixed.txt")
    assert counts(runs.parse_test_summary("npm-test", mixed)) == ("vitest", 4, 2, 2, 1)


# (fixture, tool, exit code the run had, expected errorCount)
REAL_BUILD_OUTPUT = [
    ("ruff/errors.txt", "ruff", 1, 2),
    ("ruff/clean.txt", "ruff", None, 0),  # "All checks passed!" needs no exit code
    ("mypy/errors.txt", "mypy", 1, 2),
    ("mypy/clean.txt", "mypy", None, 0),
    ("flake8/errors.txt", "flake8", 1, 2),
    ("pyright/errors.txt", "pyright", 1, 2),
    ("pyright/clean.txt", "pyright", None, 0),
    ("tsc/errors_multi.txt", "tsc", 2, 4),
    ("tsc/errors_one_file.txt", "tsc", 2, 3),
    ("tsc/error_single.txt", "tsc", 2, 1),
    ("tsc/errors_pretty.txt", "tsc", 2, 4),
    ("tsc/clean.txt", "tsc", 0, 0),
    ("eslint/errors.txt", "eslint", 1, 5),  # the warning is not an error
    ("eslint/clean.txt", "eslint", 0, 0),
    ("cargo/build_errors.txt", "cargo-build", 101, 2),
    ("cargo/build_clean.txt", "cargo-build", 0, 0),
    ("cargo/clippy_errors.txt", "cargo-clippy", 101, 1),
    ("cargo/clippy_clean.txt", "cargo-clippy", 0, 0),
    ("go/build_errors.txt", "go-build", 1, 2),
    ("go/build_clean.txt", "go-build", 0, 0),
    ("go/vet_errors.txt", "go-vet", 1, 2),
    ("go/vet_clean.txt", "go-vet", 0, 0),
]


@pytest.mark.parametrize(("name", "tool", "exit_code", "expected"), REAL_BUILD_OUTPUT)
def test_counts_errors_in_real_build_output(
    name: str, tool: str, exit_code: int | None, expected: int
) -> None:
    assert runs.count_build_errors(tool, fixture(name), exit_code) == expected


def test_unknown_build_output_of_a_failed_run_has_no_error_count() -> None:
    assert runs.count_build_errors("make", "make: *** [all] Error 2\n", 2) is None


# --- DOCUMENTED: hand-written samples of runners that cannot be installed here ---------------
# Written from each runner's documented/printed summary format (source snapshots and published
# logs), not captured from a run on this machine.

DOCUMENTED_SAMPLES = [
    # Gradle prints counts only when a test failed; one line per test task, summed
    (
        "gradle-test",
        "> Task :test FAILED\n\nAppTest > adds() FAILED\n    AssertionFailedError\n\n"
        "5 tests completed, 2 failed, 1 skipped\n\n> Task :lib:test FAILED\n"
        "3 tests completed, 1 failed\n\nBUILD FAILED in 1m 5s\n",
        ("gradle", 4, 3, 1, 0),
        65000,
    ),
    # dotnet test (VSTest): one line per assembly, summed
    (
        "dotnet-test",
        "Starting test execution, please wait...\n"
        "Failed!  - Failed:     1, Passed:     4, Skipped:     1, Total:     6, Duration: 30 ms"
        " - Api.Tests.dll (net8.0)\n"
        "Passed!  - Failed:     0, Passed:    12, Skipped:     0, Total:    12, Duration: 2 s"
        " - Core.Tests.dll (net8.0)\n",
        ("dotnet", 16, 1, 1, 0),
        2030,
    ),
    # dotnet test (Microsoft.Testing.Platform, .NET 10)
    (
        "dotnet-test",
        "Test run summary: Failed! - Tests.dll (net10.0|x64)\n  total: 6\n  failed: 1\n"
        "  succeeded: 4\n  skipped: 1\n  duration: 1s 234ms\n",
        ("dotnet", 4, 1, 1, 0),
        1234,
    ),
    # dotnet test (legacy .NET Core block)
    (
        "dotnet-test",
        "Test Run Failed.\nTotal tests: 6\n     Passed: 4\n     Failed: 1\n    Skipped: 1\n"
        " Total time: 1.5213 Seconds\n",
        ("dotnet", 4, 1, 1, 0),
        1521,
    ),
    # cargo nextest: "(1 slow, 1 flaky)" qualifies passed; timed out → failed, exec failed → error
    (
        "cargo-nextest",
        "    Starting 10 tests across 2 binaries\n        PASS [   0.012s] crate tests::adds\n"
        "------------\n     Summary [  15.750s] 8/10 tests run: 5 passed (1 slow, 1 flaky), "
        "2 failed, 1 exec failed, 1 timed out, 2 skipped\n",
        ("nextest", 5, 3, 2, 1),
        15750,
    ),
    (
        "cargo-nextest",
        "------------\n     Summary [   0.024s] 19 tests run: 19 passed, 0 skipped\n",
        ("nextest", 19, 0, 0, 0),
        24,
    ),
    # gotestsum
    (
        "gotestsum",
        "✓  pkg/a (12ms)\n✖  pkg/b (20ms)\n\nDONE 12 tests, 1 skipped, 2 failures, 1 error "
        "in 0.512s\n",
        ("gotestsum", 9, 2, 1, 1),
        512,
    ),
    # Minitest via `rails test`
    (
        "rails-test",
        "Run options: --seed 1234\n\n# Running:\n\n..F.S\n\nFinished in 0.012345s, 405.0 runs/s\n\n"
        "5 runs, 8 assertions, 1 failures, 0 errors, 1 skips\n",
        ("minitest", 3, 1, 1, 0),
        12,
    ),
    # Maven reactor: one Results total per module, summed; "01:05 min" is Maven's long format
    (
        "mvn-test",
        "[INFO] Scanning for projects...\n[INFO] Tests run: 3, Failures: 0, Errors: 0, Skipped: 0,"
        " Time elapsed: 0.1 s -- in a.ATest\n[INFO] Results:\n[INFO] Tests run: 3, Failures: 0, "
        "Errors: 0, Skipped: 0\n[INFO] Results:\n[ERROR] Tests run: 4, Failures: 1, Errors: 0, "
        "Skipped: 1\n[INFO] BUILD FAILURE\n[INFO] Total time:  01:05 min\n",
        ("maven", 5, 1, 1, 0),
        65000,
    ),
    # pytest over a minute adds the clock time in parentheses
    (
        "pytest",
        "===== 1 failed, 120 passed, 3 skipped in 65.43s (0:01:05) =====\n",
        ("pytest", 120, 1, 3, 0),
        65430,
    ),
    # the plain closing line any runner may print, behind a wrapper
    (
        "make-test",
        "building...\nresults: 7 passed, 1 failed, 2 skipped\n",
        ("plain", 7, 1, 2, 0),
        None,
    ),
]


@pytest.mark.parametrize(("tool", "output", "expected", "duration"), DOCUMENTED_SAMPLES)
def test_parses_documented_summary_formats(
    tool: str, output: str, expected: tuple[str, int, int, int, int], duration: int | None
) -> None:
    summary = runs.parse_test_summary(tool, output)
    assert counts(summary) == expected
    assert summary is not None
    assert summary.duration_ms == duration


def test_gradle_green_run_prints_no_counts() -> None:
    assert (
        runs.parse_test_summary("gradle-test", "> Task :test\n\nBUILD SUCCESSFUL in 3s\n") is None
    )


def test_unknown_tool_tries_every_parser() -> None:
    assert counts(runs.parse_test_summary("who-knows", fixture("rspec/mixed.txt"))) == (
        "rspec",
        2,
        2,
        2,
        0,
    )


# --- event data -----------------------------------------------------------------------------


def test_test_run_event_from_a_pytest_command() -> None:
    event = runs.run_event(
        "cd api && uv run pytest -x | tee log.txt",
        fixture("pytest/mixed.txt"),
        exit_code=1,
        duration_ms=900,
    )
    assert event == runs.RunEvent(
        "test_run",
        {
            "suite": "pytest",
            "passed": 3,
            "failed": 1,
            "skipped": 2,
            "errors": 1,
            "durationMs": 610,
            "tool": "pytest",
            "command": "cd api && uv run pytest -x | tee log.txt",
            "exitCode": 1,
            "outcome": "failed",
        },
    )


def test_test_run_without_a_summary_keeps_the_run_with_null_counts() -> None:
    event = runs.run_event(
        "go test ./...", fixture("go/test_mixed.txt"), exit_code=1, duration_ms=4
    )
    assert event is not None
    assert event.kind == "test_run"
    assert event.data["suite"] == "go-test"
    assert [event.data[k] for k in ("passed", "failed", "skipped", "errors")] == [None] * 4
    assert event.data["durationMs"] == 4  # the command's own wall time
    assert event.data["exitCode"] == 1
    assert event.data["outcome"] == "error"  # exited non-zero with nothing we could read


def test_build_run_event_from_a_type_check() -> None:
    event = runs.run_event(
        "npx tsc --noEmit", fixture("tsc/errors_multi.txt"), exit_code=2, duration_ms=1500
    )
    assert event == runs.RunEvent(
        "build_run",
        {
            "tool": "tsc",
            "category": "typecheck",
            "command": "npx tsc --noEmit",
            "exitCode": 2,
            "durationMs": 1500,
            "errorCount": 4,
        },
    )


def test_lint_and_build_events_carry_their_category() -> None:
    lint = runs.run_event("ruff check src", fixture("ruff/errors.txt"), exit_code=1, duration_ms=1)
    build = runs.run_event(
        "cargo build", fixture("cargo/build_errors.txt"), exit_code=101, duration_ms=1
    )
    assert lint is not None and build is not None
    assert (lint.kind, lint.data["category"], lint.data["errorCount"]) == ("build_run", "lint", 2)
    assert (build.kind, build.data["category"], build.data["errorCount"]) == (
        "build_run",
        "build",
        2,
    )


def test_other_commands_yield_no_event() -> None:
    assert runs.run_event("git status", "On branch main\n", exit_code=0, duration_ms=3) is None
