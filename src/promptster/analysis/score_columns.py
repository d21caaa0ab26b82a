"""The flat row of one scored bundle: its columns, their DuckDB types, and how a bundle's
signals fill them (`flat_row`). The column order is a format: scripts read CSV by position.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from promptster.analysis.catalog import CATALOG
from promptster.analysis.signals import SessionSignals
from promptster.formats.jsonio import JsonValue

# The catalog says what each signal becomes: one column (integer or number), the test-count
# columns, one joined column (a list), or nothing (an object). Scalar columns come first, in
# catalog order, then the test counts, then the joined lists.
_SCALAR = tuple(s.name for s in CATALOG if s.score in ("integer", "number"))
_JOINED = tuple(s.name for s in CATALOG if s.score == "joined")
_TESTS = tuple(s.name for s in CATALOG if s.score == "tests")  # testResults
TEST_COLUMNS = ("testsPassed", "testsFailed", "testsSkipped", "testsErrors", "testsTotal")
# Filled by the reviewer's hidden tests (promptster.reviewer.hidden_tests), empty without them.
HIDDEN_COLUMNS = ("hiddenTestsPassed", "hiddenTestsTotal", "hiddenTestPassRate")
# From promptCount's detail.byTool: "codex=2;claude-code=3", and token totals over all tools.
AI_TOOL_COLUMNS = ("promptsByTool", "aiInputTokens", "aiOutputTokens", "tokensByTool")
# Filled from the reviewer workspace (promptster.reviewer.scoring): the candidate's e-mail and
# the assessment's title from the keys the reviewer issued, and the human scorecards
# (reviewer/ratings.py). Empty (reviewerCount 0) without a workspace. Appended after the
# older columns so that scripts reading CSV columns by position keep working.
REVIEWER_COLUMNS = (
    "candidateEmail",
    "assessmentTitle",
    "reviewerCount",
    "ratingMean",
    "ratingProblemDecomposition",
    "ratingAiOrchestration",
    "ratingCodeQuality",
    "ratingDebuggingProcess",
    "ratingCommunication",
    "decisions",
)
# A row's private fields (never written): what the reviewer step joins on.
PRIVATE_PREFIX = "_"
COLUMNS: tuple[str, ...] = (
    "path",
    "sessionId",
    "assessmentId",
    "candidateName",
    "verified",
    "error",
    "eventCount",
    *_SCALAR,
    *((*TEST_COLUMNS, "testOutcome") if _TESTS else ()),
    *HIDDEN_COLUMNS,
    *_JOINED,
    *AI_TOOL_COLUMNS,
    *REVIEWER_COLUMNS,
)
# DuckDB types of the columns, for the parquet writer.
COLUMN_TYPES = {
    "path": "VARCHAR",
    "sessionId": "VARCHAR",
    "assessmentId": "VARCHAR",
    "candidateName": "VARCHAR",
    "verified": "BOOLEAN",
    "error": "VARCHAR",
    "eventCount": "BIGINT",
    **dict.fromkeys(_JOINED, "VARCHAR"),
    **{
        s.name: "BIGINT" if s.score == "integer" else "DOUBLE" for s in CATALOG if s.name in _SCALAR
    },
    **dict.fromkeys(TEST_COLUMNS, "BIGINT"),
    "testOutcome": "VARCHAR",
    "hiddenTestsPassed": "BIGINT",
    "hiddenTestsTotal": "BIGINT",
    "hiddenTestPassRate": "DOUBLE",
    **dict.fromkeys(("promptsByTool", "tokensByTool"), "VARCHAR"),
    **dict.fromkeys(("aiInputTokens", "aiOutputTokens"), "BIGINT"),
    **dict.fromkeys(REVIEWER_COLUMNS, "VARCHAR"),
    "reviewerCount": "BIGINT",
    **dict.fromkeys(REVIEWER_COLUMNS[3:9], "DOUBLE"),
}


def _round(value: JsonValue) -> JsonValue:
    return round(value, 6) if isinstance(value, float) else value


def flat_row(path: Path, signals: SessionSignals | None, error: str | None) -> dict[str, Any]:
    """The row of one bundle: session fields, one column per scalar signal, joined lists."""
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row["path"] = str(path)
    row["error"] = error
    row["verified"] = False
    if signals is None:
        return row
    info = signals.session
    row["_candidateKey"] = info.candidate_key
    row.update(
        sessionId=info.session_id,
        assessmentId=info.assessment_id,
        candidateName=info.candidate_name,
        verified=info.verified,
        eventCount=info.event_count,
    )
    if not info.verified and error is None:
        row["error"] = info.problems[0] if info.problems else "failed verification"
    for name in _SCALAR:
        row[name] = _round(signals.value(name))
    for name in _TESTS:
        tests = signals.value(name)
        if isinstance(tests, dict):
            for column, key in zip(
                TEST_COLUMNS, ("passed", "failed", "skipped", "errors", "total"), strict=True
            ):
                row[column] = tests.get(key)
            row["testOutcome"] = tests.get("outcome")
    for name in _JOINED:
        value = signals.value(name)
        row[name] = ";".join(str(v) for v in value) if isinstance(value, list) else None
    prompts = signals.signals.get("promptCount")
    row.update(_by_tool(prompts.detail if prompts is not None else None))
    row["confidence"] = {name: s.confidence for name, s in signals.signals.items()}
    return row


def _by_tool(detail: Any) -> dict[str, Any]:
    """The AI tool columns from promptCount's `detail.byTool` (None when no tool was heard)."""
    tools = detail.get("byTool") if isinstance(detail, dict) else None
    if not isinstance(tools, dict) or not tools:
        return {}

    def count(entry: Any, key: str) -> int | None:
        value = entry.get(key) if isinstance(entry, dict) else None
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    names = sorted(tools)
    inputs = [count(tools[n], "inputTokens") for n in names]
    outputs = [count(tools[n], "outputTokens") for n in names]
    has_tokens = any(v is not None for v in inputs + outputs)
    return {
        "promptsByTool": ";".join(f"{n}={count(tools[n], 'prompts') or 0}" for n in names),
        "aiInputTokens": sum(v or 0 for v in inputs) if has_tokens else None,
        "aiOutputTokens": sum(v or 0 for v in outputs) if has_tokens else None,
        "tokensByTool": ";".join(
            f"{n}={i or 0}/{o or 0}"
            for n, i, o in zip(names, inputs, outputs, strict=True)
            if i is not None or o is not None
        )
        or None,
    }
