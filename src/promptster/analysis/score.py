"""Batch scoring for CI: verify and score many bundles in parallel, one flat row per bundle.

Bundles are scored in worker processes, in batches of consecutive small bundles (at most 64,
or 48 MB of bundle files; a large bundle goes alone). A worker verifies each bundle of its
batch, then loads them all into one in-memory DuckDB set-based and runs each signal family
once over all their sessions (batch.py); the database is thrown away after the batch: memory
grows with the batch and the largest bundle, not with the number of bundles. Rows come back
in input order and are written as they arrive. A bundle that cannot be read or fails
verification gets a row with its error; it never stops the batch. The rows' columns are
score_columns.py's; score_write.py writes them out.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promptster.analysis.score_columns import (
    AI_TOOL_COLUMNS,
    COLUMNS,
    HIDDEN_COLUMNS,
    PRIVATE_PREFIX,
    REVIEWER_COLUMNS,
    TEST_COLUMNS,
    flat_row,
)
from promptster.analysis.score_write import FORMATS, Format, ScoreSummary, write_rows
from promptster.analysis.signals import SessionSignals
from promptster.bundle.verify import ExtraCheck
from promptster.errors import PromptsterError

if TYPE_CHECKING:
    import duckdb

    from promptster.analysis.batch import Staged
    from promptster.analysis.prices import Prices
    from promptster.analysis.signals import SignalJudge

# The rows' columns are score_columns.py's, their writers score_write.py's: callers import
# them from here.
__all__ = [
    "AI_TOOL_COLUMNS",
    "CHUNK_BUNDLES",
    "CHUNK_BYTES",
    "COLUMNS",
    "FORMATS",
    "HIDDEN_COLUMNS",
    "PRIVATE_PREFIX",
    "REVIEWER_COLUMNS",
    "TEST_COLUMNS",
    "Format",
    "ScoreSummary",
    "chunks",
    "default_jobs",
    "flat_row",
    "iter_scores",
    "score_bundle",
    "score_chunk",
    "write_rows",
]


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
