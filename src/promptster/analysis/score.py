"""Batch scoring for CI: verify and score many bundles in parallel, one flat row per bundle.

Bundles are scored in worker processes, in batches of consecutive small bundles (at most 64,
or 48 MB of bundle files; a large bundle goes alone). A worker verifies each bundle of its
batch, then loads them all into one in-memory DuckDB set-based and runs each signal family
once over all their sessions (batch.py); the database is thrown away after the batch: memory
grows with the batch and the largest bundle, not with the number of bundles. Rows come back
in input order and are written as they arrive. A bundle that cannot be read or fails
verification gets a row with its error; it never stops the batch.
"""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

from promptster.analysis.catalog import CATALOG
from promptster.analysis.signals import SessionSignals
from promptster.bundle.verify import ExtraCheck
from promptster.errors import PromptsterError
from promptster.formats.jsonio import JsonValue

if TYPE_CHECKING:
    import duckdb

    from promptster.analysis.batch import Staged
    from promptster.analysis.prices import Prices
    from promptster.analysis.signals import SignalJudge

Format = Literal["table", "json", "jsonl", "csv", "parquet"]
FORMATS: tuple[Format, ...] = ("table", "json", "jsonl", "csv", "parquet")

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
_TYPES = {
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
# The columns `--format table` shows after the bundle's name.
_TABLE = ("verified", *(s.name for s in CATALOG if s.score_table))


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


def score_bundle(
    path: Path,
    allow_invalid: bool = False,
    judge_model: str | None = None,
    checks: Sequence[ExtraCheck] = (),
    prices: Prices | None = None,
) -> dict[str, Any]:
    """Verify and score one bundle; never raises for a bad bundle (the row carries the error).

    `checks` are the extra checks of the verification (the caller passes the reviewer's).
    """
    from promptster.analysis.signals import bundle_signals

    judge = None
    try:
        if judge_model is not None:
            from promptster.analysis.judge import LlmJudge

            judge = LlmJudge(judge_model)
        signals = bundle_signals(
            Path(path), allow_invalid=allow_invalid, judge=judge, checks=checks, prices=prices
        )
    except PromptsterError as exc:
        return flat_row(Path(path), None, _error_text(Path(path), exc))
    return flat_row(Path(path), signals, None)


def _error_text(path: Path, exc: PromptsterError) -> str:
    from promptster.analysis.verified import without_path

    return without_path(path, exc)


def score_chunk(
    paths: Sequence[str],
    allow_invalid: bool = False,
    judge_model: str | None = None,
    checks: Sequence[ExtraCheck] = (),
    tables: str | None = None,
    prices: Prices | None = None,
) -> list[dict[str, Any]]:
    """Score a batch of bundles set-based: verify each (the timeline goes to a file, not kept
    in memory), load them all into one fresh database with one statement per table
    (batch.py), and run each signal family once over all the sessions. Rows come back in the
    order of `paths`, the same as `score_bundle` gives for each path.
    `checks` are the extra checks of the verification: one set for the batch, so that its
    workspace look-ups are cached. With `tables` (a folder) the batch's analysis tables are
    appended there as Parquet (export.py)."""
    import duckdb

    from promptster.analysis.batch import stage, statuses
    from promptster.analysis.judge import LlmJudge
    from promptster.analysis.load import LoadStatus
    from promptster.analysis.verified import verify_for_loading

    rows: list[dict[str, Any] | None] = [None] * len(paths)
    try:
        judge = LlmJudge(judge_model) if judge_model is not None else None
    except PromptsterError as exc:
        return [flat_row(Path(p), None, _error_text(Path(p), exc)) for p in paths]
    with tempfile.TemporaryDirectory(prefix="promptster-batch-") as tmp:
        staged: list[Staged] = []
        for index, path in enumerate(paths):
            try:
                report, timeline = verify_for_loading(
                    Path(path), allow_invalid=allow_invalid, checks=checks
                )
            except PromptsterError as exc:
                rows[index] = flat_row(Path(path), None, _error_text(Path(path), exc))
                continue
            staged.append(stage(Path(tmp), index, Path(path), report, timeline))
            del report, timeline
        scored: dict[int, str] = {}
        for item, status in zip(staged, statuses(staged), strict=True):
            if status is LoadStatus.DUPLICATE:  # another bundle claims this session
                rows[item.index] = score_bundle(
                    Path(item.loaded.path), allow_invalid, judge_model, checks, prices
                )
            else:
                scored[item.index] = item.loaded.session_id
        try:
            signals = _batch_signals(staged, scored, judge, tables, prices)
        except duckdb.Error:
            # A timeline DuckDB cannot read even with ignore_errors: load bundle by bundle,
            # so that only that one gets an error row (what loading it alone says).
            signals = _one_by_one_signals(
                paths, scored, rows, allow_invalid, checks, judge, tables, prices
            )
    for index, session_id in scored.items():
        rows[index] = flat_row(Path(paths[index]), signals[session_id], None)
    return [row for row in rows if row is not None]


def _batch_signals(
    staged: Sequence[Staged],
    scored: dict[int, str],
    judge: SignalJudge | None,
    tables: str | None,
    prices: Prices | None = None,
) -> dict[str, SessionSignals]:
    from promptster.analysis.batch import load_batch
    from promptster.analysis.database import connect

    con = connect()
    try:
        load_batch(con, staged)
        return _signals_of(con, scored, judge, tables, prices)
    finally:
        con.close()


def _one_by_one_signals(
    paths: Sequence[str],
    scored: dict[int, str],
    rows: list[dict[str, Any] | None],
    allow_invalid: bool,
    checks: Sequence[ExtraCheck],
    judge: SignalJudge | None,
    tables: str | None,
    prices: Prices | None = None,
) -> dict[str, SessionSignals]:
    """Load the bundles of `scored` one by one; one that fails gets its error row in `rows`
    and leaves `scored`."""
    from promptster.analysis.database import connect
    from promptster.analysis.load import load_bundle

    con = connect()
    try:
        for index in list(scored):
            path = Path(paths[index])
            try:
                load_bundle(con, path, allow_invalid=allow_invalid, checks=checks)
            except PromptsterError as exc:
                rows[index] = flat_row(path, None, _error_text(path, exc))
                del scored[index]
        return _signals_of(con, scored, judge, tables, prices)
    finally:
        con.close()


def _signals_of(
    con: duckdb.DuckDBPyConnection,
    scored: dict[int, str],
    judge: SignalJudge | None,
    tables: str | None,
    prices: Prices | None,
) -> dict[str, SessionSignals]:
    """The signals of the loaded sessions, and their tables exported when asked."""
    from promptster.analysis.signals import compute_signals

    signals = compute_signals(con, sorted(set(scored.values())), judge=judge, prices=prices)
    if tables is not None:
        from promptster.analysis.export import export_tables

        export_tables(con, Path(tables))
    return signals


def _score_chunk_args(
    args: tuple[list[str], bool, str | None, Sequence[ExtraCheck], str | None, Prices | None],
) -> list[dict[str, Any]]:
    return score_chunk(*args)


# A batch holds at most this many bundles, or this many bytes of bundle files: memory grows
# with the batch (its database), not with the number of bundles.
CHUNK_BUNDLES = 64
CHUNK_BYTES = 48 * 1024 * 1024


def chunks(paths: Sequence[Path], most: int | None = None) -> Iterator[list[str]]:
    """Consecutive groups of small bundles (at most `most`, default CHUNK_BUNDLES); a large
    bundle goes alone."""
    limit = CHUNK_BUNDLES if most is None else most
    current: list[str] = []
    size = 0
    for path in paths:
        try:
            length = Path(path).stat().st_size
        except OSError:
            length = 0
        if current and (len(current) >= limit or size + length > CHUNK_BYTES):
            yield current
            current, size = [], 0
        current.append(str(path))
        size += length
    if current:
        yield current


def iter_scores(
    paths: Sequence[Path],
    *,
    jobs: int = 1,
    allow_invalid: bool = False,
    judge_model: str | None = None,
    checks: Sequence[ExtraCheck] = (),
    tables: Path | None = None,
    prices: Prices | None = None,
) -> Iterator[dict[str, Any]]:
    """Rows in the order of `paths`, computed by `jobs` worker processes; with `tables`, the
    analysis tables of every batch are appended to that folder as Parquet (export.py).

    `checks` (picklable) are the extra checks of the verification: the caller passes the
    reviewer's (`reviewer.checks.default_checks()`), the same as `promptster verify` runs."""
    groups = list(chunks(paths))
    if jobs > 1 and len(groups) < jobs * 2:  # too few batches to keep every worker busy
        groups = list(chunks(paths, most=max(1, -(-len(paths) // (jobs * 2)))))
    folder = None if tables is None else str(tables)
    work = [(group, allow_invalid, judge_model, checks, folder, prices) for group in groups]
    if jobs <= 1 or len(work) <= 1:
        for item in work:
            yield from _score_chunk_args(item)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        for rows in pool.map(_score_chunk_args, work, chunksize=1):
            yield from rows


def default_jobs() -> int:
    return max(
        1,
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1),
    )


@dataclass
class ScoreSummary:
    total: int = 0
    failed: int = 0


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def write_rows(
    rows: Iterator[dict[str, Any]],
    fmt: Format,
    out: IO[bytes],
    *,
    on_row: Callable[[dict[str, Any]], None] | None = None,
) -> ScoreSummary:
    """Stream rows to `out` in format `fmt` (table and parquet are built at the end)."""
    summary = ScoreSummary()

    def counted() -> Iterator[dict[str, Any]]:
        for row in rows:
            summary.total += 1
            summary.failed += 0 if row["verified"] else 1
            if on_row is not None:
                on_row(row)
            yield row

    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    try:
        if fmt == "jsonl":
            for row in counted():
                text.write(json.dumps(_public(row), ensure_ascii=False, allow_nan=False) + "\n")
        elif fmt == "json":
            text.write("[")
            for index, row in enumerate(counted()):
                text.write(
                    ("," if index else "")
                    + "\n  "
                    + json.dumps(_public(row), ensure_ascii=False, allow_nan=False)
                )
            text.write("\n]\n")
        elif fmt == "csv":
            writer = csv.writer(text, lineterminator="\n")
            writer.writerow(COLUMNS)
            for row in counted():
                writer.writerow([_csv_value(row[c]) for c in COLUMNS])
        elif fmt == "table":
            _write_table(list(counted()), text)
        else:
            _write_parquet(counted(), out)
    finally:
        text.detach()
    return summary


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if not k.startswith(PRIVATE_PREFIX)}


def _write_table(rows: list[dict[str, Any]], text: IO[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(show_edge=False, header_style="bold")
    table.add_column("bundle")
    table.add_column("candidate")
    for column in _TABLE:
        table.add_column(column, justify="right")
    for row in rows:
        cells = [Path(row["path"]).name, row.get("candidateName") or "–"]
        for column in _TABLE:
            value = row[column]
            if column == "verified":
                cells.append("yes" if value else f"NO: {row['error']}")
            elif isinstance(value, float):
                cells.append(f"{value:.3f}")
            else:
                cells.append("–" if value is None else str(value))
        table.add_row(*cells)
    Console(file=text, width=200, highlight=False, color_system=None).print(table)


def _write_parquet(rows: Iterator[dict[str, Any]], out: IO[bytes]) -> None:
    import duckdb

    with tempfile.TemporaryDirectory(prefix="promptster-score-") as tmp:
        staged, result = Path(tmp) / "rows.jsonl", Path(tmp) / "rows.parquet"
        with staged.open("w", encoding="utf-8") as handle:
            for row in rows:
                body = {c: row[c] for c in COLUMNS}
                handle.write(json.dumps(body, ensure_ascii=False, allow_nan=False) + "\n")
        spec = ", ".join(f"{c!r}: '{_TYPES[c]}'" for c in COLUMNS)
        con = duckdb.connect()
        try:
            source, target = (str(p).replace("'", "''") for p in (staged, result))
            con.execute(
                f"COPY (SELECT * FROM read_json('{source}', format = 'newline_delimited', "
                f"columns = {{{spec}}})) TO '{target}' (FORMAT parquet)"
            )
        finally:
            con.close()
        with result.open("rb") as handle:
            while block := handle.read(1 << 20):
                out.write(block)
