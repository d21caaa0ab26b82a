"""Test and build runs: turn a finished command into a `test_run` or `build_run` event.

Both capture paths use this: the recorded shell for the candidate's own commands and the AI-tool
adapters for commands the AI ran. Given the command line, its output, exit code and duration:

    classify_command("cd api && uv run pytest -x | tee log")  ->  RunClass("test", "pytest", "test")
    parse_test_summary("pytest", output)  ->  TestSummary(suite="pytest", passed=3, failed=1, ...)
    run_event(command, output, exit_code=1, duration_ms=812)  ->  RunEvent("test_run", {...})

Nothing here raises on odd input: capture must fail open, so an unrecognised command is None
and an unparseable output gives a `test_run` whose counts are null.
"""

from __future__ import annotations

import re

from promptster.runs import parsers as run_parsers
from promptster.runs import parsers_native as run_parsers_native
from promptster.runs.commands import classify_command
from promptster.runs.text import Counts, LazyPattern, Parser, Value, clean_output, lazy_re
from promptster.runs.tools import Category, Kind, RunClass

TYPE_CHECKING = False  # no typing or dataclasses at run time: the hook path imports this
if TYPE_CHECKING:
    from typing import Literal

__all__ = [
    "OUTCOMES",
    "PARSERS",
    "Category",
    "EventData",
    "Kind",
    "RunClass",
    "RunEvent",
    "TestSummary",
    "classify_command",
    "classify_outcome",
    "count_build_errors",
    "parse_test_summary",
    "run_event",
    "to_build_run_data",
    "to_test_run_data",
]

EventData = dict[str, str | int | None]


class TestSummary(Value):
    """Counts of one test run as its runner reported them. `suite` is the runner whose summary
    was found, which for wrappers (`tox`, `npm test`, `make test`) names the inner runner."""

    __test__ = False  # a library class, not a pytest test class despite its name

    __slots__ = ("duration_ms", "errors", "failed", "passed", "skipped", "suite")
    suite: str
    passed: int
    failed: int
    skipped: int
    errors: int
    duration_ms: int | None

    def __init__(
        self,
        suite: str,
        passed: int,
        failed: int,
        skipped: int,
        errors: int,
        duration_ms: int | None,
    ) -> None:
        self._set(
            suite=suite,
            passed=passed,
            failed=failed,
            skipped=skipped,
            errors=errors,
            duration_ms=duration_ms,
        )


PARSERS: dict[str, Parser] = {
    "pytest": run_parsers.parse_pytest,
    "unittest": run_parsers.parse_unittest,
    "node-test": run_parsers.parse_node_test,
    "jest": run_parsers.parse_jest,
    "vitest": run_parsers.parse_vitest,
    "mocha": run_parsers.parse_mocha,
    "rspec": run_parsers.parse_rspec,
    "minitest": run_parsers.parse_minitest,
    "phpunit": run_parsers.parse_phpunit,
    "cargo": run_parsers_native.parse_cargo,
    "nextest": run_parsers_native.parse_nextest,
    "go": run_parsers_native.parse_go,
    "gotestsum": run_parsers_native.parse_gotestsum,
    "maven": run_parsers_native.parse_maven,
    "gradle": run_parsers_native.parse_gradle,
    "dotnet": run_parsers_native.parse_dotnet,
    "ctest": run_parsers_native.parse_ctest,
    "plain": run_parsers.parse_plain,
}
"""Every summary parser by runner name; the name becomes the `suite` of a parsed summary."""

# The parser for each test tool that `classify_command` names. Tools not listed here wrap an
# unknown runner (tox, nox, npm/pnpm/yarn test, make test, ...): every parser is tried and the
# summary printed last wins.
_TOOL_PARSERS: dict[str, tuple[str, ...]] = {
    "pytest": ("pytest",),
    "unittest": ("unittest",),
    "django-test": ("unittest",),
    "node-test": ("node-test",),
    "jest": ("jest",),
    "vitest": ("vitest",),
    "mocha": ("mocha",),
    "rspec": ("rspec",),
    "rails-test": ("minitest",),
    "phpunit": ("phpunit",),
    "cargo-test": ("cargo",),
    "cargo-nextest": ("nextest",),
    "go-test": ("go",),
    "gotestsum": ("gotestsum", "go"),
    "mvn-test": ("maven",),
    "gradle-test": ("gradle",),
    "dotnet-test": ("dotnet",),
    "ctest": ("ctest",),
}


def parse_test_summary(tool: str, output: str) -> TestSummary | None:
    """The counts of the last test run in `output`, read the way `tool` prints them (a tool
    from `classify_command`, or a runner name from `PARSERS`). None when there is no summary."""
    try:
        found = _find_summary(tool, clean_output(output))
    except Exception:  # capture fails open; the parser tests run the parsers unguarded
        return None
    if found is None:
        return None
    name, counts = found
    return TestSummary(
        name, counts.passed, counts.failed, counts.skipped, counts.errors, counts.duration_ms
    )


def _find_summary(tool: str, text: str) -> tuple[str, Counts] | None:
    own = _TOOL_PARSERS.get(tool) or ((tool,) if tool in PARSERS else ())
    for name in own:  # a known runner: its parsers in order of preference
        counts = PARSERS[name](text)
        if counts is not None:
            return name, counts
    if own:
        return None
    latest: tuple[str, Counts] | None = None
    for name, parser in PARSERS.items():  # a wrapper: the summary printed last is the run's
        counts = parser(text)
        if counts is not None and (latest is None or counts.end > latest[1].end):
            latest = (name, counts)
    return latest


# --- build, lint and type-check results -------------------------------------------------------

_DIAGNOSTIC_LINE = {
    # one line per problem: `path:line:col: message`
    "go": lazy_re(r"^\S+\.go:\d+:\d+: ", re.MULTILINE),
    "flake8": lazy_re(r"^\S+:\d+:\d+: [A-Z]+\d+ ", re.MULTILINE),
    "pylint": lazy_re(r"^\S+:\d+:\d+: [CRWEFI]\d{4}: ", re.MULTILINE),
    "tsc": lazy_re(r"\berror TS\d+: ", re.MULTILINE),
    # rustc/clippy diagnostics; cargo's own "could not compile" closing line is not one
    "cargo": lazy_re(r"^error(?:\[\w+\])?: (?!could not compile|aborting due to)", re.MULTILINE),
}
_TOTAL = {
    "ruff": lazy_re(r"^Found (\d{1,9}) errors?\b", re.MULTILINE),
    "ruff-format": lazy_re(r"^(\d{1,9}) files? would be reformatted", re.MULTILINE),
    "mypy": lazy_re(r"^Found (\d{1,9}) errors? in \d+ files?", re.MULTILINE),
    "pyright": lazy_re(r"^(\d{1,9}) errors?, \d+ warnings?, \d+ informations?", re.MULTILINE),
    "tsc": lazy_re(r"^Found (\d{1,9}) errors?\b", re.MULTILINE),
    "eslint": lazy_re(r"^✖ \d+ problems? \((\d{1,9}) errors?, \d+ warnings?\)", re.MULTILINE),
    "biome": lazy_re(r"^Found (\d{1,9}) errors?\b", re.MULTILINE),
    "rubocop": lazy_re(r"(\d{1,9}) offenses? detected", re.MULTILINE),
    "golangci-lint": lazy_re(r"^(\d{1,9}) issues?:", re.MULTILINE),
    "prettier": lazy_re(r"Code style issues found in (\d{1,9}) files?", re.MULTILINE),
    "dotnet": lazy_re(r"^[ \t]*(\d{1,9}) Error\(s\)", re.MULTILINE),
    "javac": lazy_re(r"^(\d{1,9}) errors?$", re.MULTILINE),
}
# What a tool prints when it found nothing, for callers that do not know the exit code.
_CLEAN = {
    "ruff": lazy_re(r"^All checks passed!", re.MULTILINE),
    "mypy": lazy_re(r"^Success: no issues found", re.MULTILINE),
    "rubocop": lazy_re(r"no offenses detected", re.MULTILINE),
    "prettier": lazy_re(r"All matched files use Prettier code style", re.MULTILINE),
}
# Tools that print their findings in another tool's format.
_SAME_FORMAT = {
    "vue-tsc": "tsc",
    "go-build": "go",
    "go-vet": "go",
    "staticcheck": "go",
    "golangci-lint": "go",
    "pycodestyle": "flake8",
    "pyflakes": "flake8",
    "cargo-build": "cargo",
    "cargo-check": "cargo",
    "cargo-clippy": "cargo",
    "dotnet-build": "dotnet",
    "next-lint": "eslint",
    "gradle-build": "javac",
    "mvn-build": "javac",
}


def count_build_errors(tool: str, output: str, exit_code: int | None) -> int | None:
    """How many errors a lint/type-check/build run reported: the tool's own total where it
    prints one (ruff/tsc "Found N errors", mypy "Found N errors in M files", eslint, pyright),
    else its diagnostic lines; 0 for a run that exited 0 with nothing to count; else None."""
    text = clean_output(output)
    for name in (tool, _SAME_FORMAT.get(tool, tool)):
        total = _TOTAL.get(name)
        found = _last_number(total, text) if total else None
        if found is not None:
            return found
        lines = _DIAGNOSTIC_LINE.get(name)
        if lines is not None and (count := len(lines.findall(text))):
            return count
        clean = _CLEAN.get(name)
        if clean is not None and clean.search(text):
            return 0
    return 0 if exit_code == 0 else None


def _last_number(pattern: re.Pattern[str] | LazyPattern, text: str) -> int | None:
    found = pattern.findall(text)
    return int(found[-1]) if found else None


# --- the outcome of a test run ----------------------------------------------------------------

if TYPE_CHECKING:
    Outcome = Literal["passed", "failed", "error", "no_tests", "interrupted", "unknown"]
else:  # mypy's alias; at run time a name other modules may import
    Outcome = str
OUTCOMES: tuple[Outcome, ...] = ("passed", "failed", "error", "no_tests", "interrupted", "unknown")

# Ctrl-C: Python's KeyboardInterrupt, pytest's "!!! Interrupted !!!" banner; but pytest also
# prints "Interrupted: 2 errors during collection", which is an error, not an interruption.
_INTERRUPTED = lazy_re(
    r"\bKeyboardInterrupt\b|^!+ Interrupted\b(?!: \d+ errors? during collection)", re.MULTILINE
)
_SIGINT_EXITS = (130, -2)  # a shell's 128 + SIGINT; Python's subprocess returns -signal
_PYTEST_EXITS: dict[int, Outcome] = {1: "failed", 5: "no_tests"}  # pytest's documented codes


def classify_outcome(
    tool: str, summary: TestSummary | None, exit_code: int | None, output: str = ""
) -> Outcome:
    """What a test run amounts to. Only a run that ran tests, none failing or erroring, and
    exited 0 (or with no known exit code) is `passed`: 0 tests collected (pytest's exit 5,
    unittest's "NO TESTS RAN"), a crashed runner, collection errors and Ctrl-C never are.

    interrupted  exit 130, or a non-zero exit with KeyboardInterrupt / "Interrupted" printed
    failed       a test failed (or, with no summary, pytest's exit 1)
    error        errors outside test bodies (collection, fixtures), a runner that exited
                 non-zero without a summary or with no failure to explain it
    no_tests     no test passed or failed: none collected, or every one skipped
    unknown      no summary could be read and the exit code does not tell (0 or missing)
    """
    nonzero = exit_code is not None and exit_code != 0
    if exit_code in _SIGINT_EXITS or (nonzero and _INTERRUPTED.search(clean_output(output))):
        return "interrupted"
    if summary is None:
        if not nonzero:
            return "unknown"
        if tool == "pytest" and exit_code in _PYTEST_EXITS:
            return _PYTEST_EXITS[exit_code]
        return "error"
    if summary.failed:
        return "failed"
    if summary.errors:
        return "error"
    if summary.passed == 0:
        return "no_tests"
    return "error" if nonzero else "passed"


# --- event payloads -------------------------------------------------------------------------


def to_test_run_data(
    *,
    command: str,
    run: RunClass,
    summary: TestSummary | None,
    exit_code: int | None,
    duration_ms: int | None = None,
    output: str = "",
) -> EventData:
    """The `data` of a `test_run` event. Counts are null when no summary was found; the
    duration is the runner's own figure when it printed one, else the command's wall time;
    `outcome` is `classify_outcome` of the run."""
    return {
        "suite": summary.suite if summary else run.tool,
        "passed": summary.passed if summary else None,
        "failed": summary.failed if summary else None,
        "skipped": summary.skipped if summary else None,
        "errors": summary.errors if summary else None,
        "durationMs": (
            summary.duration_ms if summary and summary.duration_ms is not None else duration_ms
        ),
        "tool": run.tool,
        "command": command,
        "exitCode": exit_code,
        "outcome": classify_outcome(run.tool, summary, exit_code, output),
    }


def to_build_run_data(
    *,
    command: str,
    run: RunClass,
    exit_code: int | None,
    duration_ms: int | None,
    error_count: int | None,
) -> EventData:
    """The `data` of a `build_run` event (lint, type-check and build commands)."""
    return {
        "tool": run.tool,
        "category": run.category,
        "command": command,
        "exitCode": exit_code,
        "durationMs": duration_ms,
        "errorCount": error_count,
    }


class RunEvent(Value):
    """An event to journal next to the `command` event: its kind and its `data`."""

    __slots__ = ("data", "kind")
    kind: Literal["test_run", "build_run"]
    data: EventData

    def __init__(self, kind: Literal["test_run", "build_run"], data: EventData) -> None:
        self._set(kind=kind, data=data)

    __hash__ = None  # type: ignore[assignment]  # `data` is a dict, as with the dataclass


def run_event(
    command: str, output: str, *, exit_code: int | None, duration_ms: int | None
) -> RunEvent | None:
    """The `test_run` or `build_run` that a finished command yields, or None when it ran no
    test runner, linter, type checker or build. `output` may be an excerpt; the end matters."""
    run = classify_command(command)
    if run is None:
        return None
    if run.kind == "test":
        summary = parse_test_summary(run.tool, output)
        data = to_test_run_data(
            command=command,
            run=run,
            summary=summary,
            exit_code=exit_code,
            duration_ms=duration_ms,
            output=output,
        )
        return RunEvent("test_run", data)
    errors = count_build_errors(run.tool, output, exit_code)
    data = to_build_run_data(
        command=command,
        run=run,
        exit_code=exit_code,
        duration_ms=duration_ms,
        error_count=errors,
    )
    return RunEvent("build_run", data)
