"""`promptster score` as the reviewer runs it, in one call: the analysis batch
(`analysis.score_run`) with the reviewer's checks of pack and key, the hidden-test
columns of the assessments that have hidden tests (run in a sandbox, kept in the workspace),
and what the workspace knows of each session: the candidate's name and e-mail from the key the
reviewer issued, the assessment's title, and the human scorecards."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from promptster.analysis import score_run
from promptster.reviewer.people import WorkspaceView

if TYPE_CHECKING:
    from promptster.analysis.prices import Prices
    from promptster.analysis.score import Format, ScoreSummary
    from promptster.reviewer.hidden_tests.over_time import At


def score_bundles(
    paths: Sequence[Path],
    out: IO[bytes],
    fmt: Format,
    *,
    jobs: int | None,
    allow_invalid: bool,
    judge_model: str | None,
    rerun_tests: bool,
    unsafe_no_sandbox: bool,
    progress: score_run.Progress | None = None,
    tables: Path | None = None,
    reviewer_keys: Sequence[str] = (),
    require_issuer: bool = False,
    hidden_at: At = "final",
    prices: Prices | None = None,
) -> ScoreSummary:
    """Score `paths` into `out`; with `hidden_at` checkpoints the hidden tests also run over
    each session, and JSON rows carry `hiddenTestsOverTime`."""
    from promptster.reviewer.checks import default_checks
    from promptster.reviewer.hidden_tests.batch import with_hidden_tests
    from promptster.reviewer.hidden_tests.service import HiddenTests

    hidden = HiddenTests.load(None, rerun=rerun_tests, unsafe=unsafe_no_sandbox)

    known = WorkspaceView.load()

    def extend(rows: Iterator[dict[str, Any]], workers: int) -> Iterator[dict[str, Any]]:
        return known.fill(
            with_hidden_tests(
                rows,
                hidden,
                workers,
                at=hidden_at,
                series=fmt == "json" and hidden_at == "checkpoints",
            )
        )

    summary = score_run.score_bundles(
        paths,
        out,
        fmt,
        jobs=jobs,
        allow_invalid=allow_invalid,
        judge_model=judge_model,
        checks=default_checks(reviewer_keys=reviewer_keys, require_issuer=require_issuer),
        progress=progress,
        extend=extend,
        tables=tables,
        prices=prices,
    )
    hidden.save()
    return summary
