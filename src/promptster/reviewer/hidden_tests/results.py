"""Hidden-test results: per-test outcomes read from JUnit XML, or from a runner's own output.

JUnit XML (pytest --junitxml, jest-junit, go-junit-report, Maven surefire, …) gives one
`testcase` per test with its time and a `failure`, `error` or `skipped` child. A runner that
wrote no XML is read from its output: `go test -v` and `cargo test` name each test; otherwise
the closing summary's counts become a single line, and with no summary at all the exit code
decides. The result is JSON with a version, stored in the workspace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal
from xml.etree import ElementTree

from promptster.formats.jsonio import JsonValue

RESULT_VERSION = 1
Outcome = Literal["passed", "failed", "error", "skipped"]
# What the run as a whole came to: every test passed, some did not, the suite could not run
# (import errors, runner crashed), no test was found, the time limit was hit, or there was no
# final snapshot to run against.
RunOutcome = Literal["passed", "failed", "error", "no_tests", "timeout", "no_snapshot"]
MAX_MESSAGE = 4_000
MAX_CASES = 5_000
MAX_XML = 16 * 1024 * 1024


@dataclass(frozen=True)
class TestCase:
    name: str
    outcome: Outcome
    duration_ms: int | None
    message: str | None

    def to_json_obj(self) -> dict[str, JsonValue]:
        return {
            "name": self.name,
            "outcome": self.outcome,
            "durationMs": self.duration_ms,
            "message": self.message,
        }


@dataclass(frozen=True)
class HiddenResult:
    outcome: RunOutcome
    cases: tuple[TestCase, ...]
    counts: dict[str, int]  # passed, failed, error, skipped, total
    duration_ms: int
    command: str
    exit_code: int | None
    output: str  # the runner's output, capped (head and tail kept)
    output_cut: bool
    overlapped: tuple[str, ...]  # hidden files that replaced a submitted file
    sandboxed: bool
    snapshot_commit: str | None
    suite_digest: str
    detail: str | None = None  # why the run came to `error`/`timeout`/`no_snapshot`
    parsed_from: str = "junit"
    process_limit: bool = True  # False: run as root with no pids cgroup to hold the limit
    cached: bool = field(default=False, compare=False)

    @property
    def passed(self) -> int:
        return self.counts.get("passed", 0)

    @property
    def total(self) -> int:
        return self.counts.get("total", 0)

    @property
    def pass_rate(self) -> float | None:
        """Passed ÷ all tests. A suite that could not run or timed out scores 0 (the
        submission did not pass the reviewer's tests); with no snapshot, there is no rate."""
        if self.outcome == "no_snapshot":
            return None
        if self.total == 0:
            return 0.0
        return self.passed / self.total

    def to_json_obj(self) -> dict[str, JsonValue]:
        return {
            "v": RESULT_VERSION,
            "outcome": self.outcome,
            "counts": dict(self.counts),
            "passRate": self.pass_rate,
            "durationMs": self.duration_ms,
            "command": self.command,
            "exitCode": self.exit_code,
            "output": self.output,
            "outputCut": self.output_cut,
            "overlapped": list(self.overlapped),
            "sandboxed": self.sandboxed,
            "snapshotCommit": self.snapshot_commit,
            "suiteDigest": self.suite_digest,
            "detail": self.detail,
            "parsedFrom": self.parsed_from,
            "processLimit": self.process_limit,
            "cases": [c.to_json_obj() for c in self.cases],
        }

    @classmethod
    def from_json_obj(cls, body: dict[str, Any]) -> HiddenResult:
        if body.get("v") != RESULT_VERSION:
            raise ValueError(f"hidden-test result version {body.get('v')!r}")
        return cls(
            outcome=body["outcome"],
            cases=tuple(
                TestCase(c["name"], c["outcome"], c["durationMs"], c["message"])
                for c in body["cases"]
            ),
            counts={k: int(v) for k, v in body["counts"].items()},
            duration_ms=int(body["durationMs"]),
            command=body["command"],
            exit_code=body["exitCode"],
            output=body["output"],
            output_cut=bool(body["outputCut"]),
            overlapped=tuple(body["overlapped"]),
            sandboxed=bool(body["sandboxed"]),
            snapshot_commit=body["snapshotCommit"],
            suite_digest=body["suiteDigest"],
            detail=body["detail"],
            parsed_from=body["parsedFrom"],
            process_limit=bool(body.get("processLimit", True)),
            cached=True,
        )


def count(cases: tuple[TestCase, ...] | list[TestCase]) -> dict[str, int]:
    counts = {"passed": 0, "failed": 0, "error": 0, "skipped": 0}
    for case in cases:
        counts[case.outcome] += 1
    counts["total"] = len(cases)
    return counts


def _short(text: str | None) -> str | None:
    if text is None:
        return None
    text = text.strip()
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def parse_junit(xml: bytes) -> list[TestCase] | None:
    """The test cases of a JUnit XML report; None when it is not one."""
    if len(xml) > MAX_XML or b"<!DOCTYPE" in xml or b"<!ENTITY" in xml:
        return None  # no entity expansion, no huge reports
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError:
        return None
    cases: list[TestCase] = []
    for element in root.iter("testcase"):
        if len(cases) >= MAX_CASES:
            break
        name = element.get("name") or "?"
        owner = element.get("classname")
        outcome: Outcome = "passed"
        message: str | None = None
        for child in element:
            if child.tag in ("failure", "error", "skipped"):
                outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}[child.tag]  # type: ignore[assignment]
                message = _short(child.get("message") or child.text or child.tag)
                if outcome != "skipped":
                    text = (child.text or "").strip()
                    if text and text not in (message or ""):
                        message = _short(f"{message}\n{text}" if message else text)
                break
        try:
            seconds = float(element.get("time") or "nan")
            duration = round(seconds * 1000) if seconds == seconds else None
        except ValueError:
            duration = None
        cases.append(TestCase(f"{owner}::{name}" if owner else name, outcome, duration, message))
    return cases


_GO = re.compile(r"^\s*--- (PASS|FAIL|SKIP): (\S+) \((\d+(?:\.\d+)?)s\)", re.MULTILINE)
_CARGO = re.compile(r"^test (\S+) \.\.\. (ok|FAILED|ignored)\s*$", re.MULTILINE)
_SUMMARY_ITEM = re.compile(
    r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|pending|failing|passing)\b"
)
_GO_WORD: dict[str, Outcome] = {"PASS": "passed", "FAIL": "failed", "SKIP": "skipped"}
_CARGO_WORD: dict[str, Outcome] = {"ok": "passed", "FAILED": "failed", "ignored": "skipped"}
_SUMMARY_WORD: dict[str, Outcome] = {
    "passed": "passed", "passing": "passed", "xpassed": "passed", "failed": "failed",
    "failing": "failed", "error": "error", "errors": "error", "skipped": "skipped",
    "xfailed": "skipped", "pending": "skipped",
}  # fmt: skip


def parse_output(output: str) -> tuple[list[TestCase], str] | None:
    """Test cases named in a runner's output (go test -v, cargo test), else one case per
    counted outcome of its last summary line ("3 passed, 1 failed"). None when neither."""
    found = [
        TestCase(m.group(2), _GO_WORD[m.group(1)], round(float(m.group(3)) * 1000), None)
        for m in _GO.finditer(output)
    ]
    if found:
        return found, "go"
    found = [
        TestCase(m.group(1), _CARGO_WORD[m.group(2)], None, None) for m in _CARGO.finditer(output)
    ]
    if found:
        return found, "cargo"
    for line in reversed(output.splitlines()[-50:]):
        items = _SUMMARY_ITEM.findall(line)
        if items:
            cases: list[TestCase] = []
            for number, word in items:
                outcome = _SUMMARY_WORD[word]
                cases += [
                    TestCase(f"({word} #{i + 1})", outcome, None, None)
                    for i in range(min(int(number), MAX_CASES - len(cases)))
                ]
            return cases, "summary"
    return None


def overall(cases: list[TestCase], exit_code: int | None) -> RunOutcome:
    counts = count(cases)
    if counts["total"] == 0:
        return "no_tests" if exit_code in (0, 5) else "error"
    if counts["error"]:
        return "error" if counts["passed"] + counts["failed"] == 0 else "failed"
    if counts["failed"]:
        return "failed"
    return "passed" if exit_code == 0 else "failed"
