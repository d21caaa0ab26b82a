"""`promptster score` and `promptster cohort`: the reviewer's batch commands.

Thin click layer over promptster.analysis: it parses options, shows progress on stderr, and
picks exit codes (0 ok, 1 a bundle failed verification, 2 usage or input error).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, cast

import click
from rich.markup import escape

from promptster.cli.output import err_console, print_json
from promptster.cli.reviewer_format import (
    hidden_tests_options,
    prices_option,
    reviewer_key_options,
)
from promptster.errors import ExitCode, InputError

if TYPE_CHECKING:
    from promptster.analysis.cohort import Cohort
    from promptster.analysis.prices import Prices
    from promptster.analysis.signals import SessionSignals
    from promptster.reviewer.hidden_tests.over_time import At


@contextlib.contextmanager
def _output(path: Path | None) -> Iterator[IO[bytes]]:
    """The file to write machine output to: stdout, or `path` written atomically.

    A path that exists and is not a regular file (/dev/null, a pipe) is written in place:
    renaming over it would replace the device.
    """
    if path is None or str(path) == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    if path.exists() and not path.is_file():
        with path.open("wb") as handle:
            yield handle
        return
    from promptster.fsutil import atomic_writer

    with atomic_writer(path) as handle:
        yield handle


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "jsonl", "csv", "parquet"]),
    default="table",
    show_default=True,
    help="Output format.",
)
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), help="Write here (atomically) not stdout."
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes (default: one per core).",
)
@click.option(
    "--fail-on",
    type=click.Choice(["invalid", "never"]),
    default="invalid",
    show_default=True,
    help="Exit 1 when any bundle fails verification, or never.",
)
@click.option(
    "--allow-invalid",
    is_flag=True,
    help="Score bundles that fail verification too (flagged verified=false).",
)
@click.option(
    "--judge",
    "judge_model",
    metavar="MODEL",
    help=(
        "Rate prompts and changes with an LLM (needs pip install 'promptster[judge]'; "
        "with a hosted model, prompts and diffs are sent to its provider)."
    ),
)
@hidden_tests_options
@click.option(
    "--tables",
    "tables_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help=(
        "Also write the analysis tables here as Parquet, partitioned by assessment "
        "(added to what is there; see docs/performance.md)."
    ),
)
@reviewer_key_options
@prices_option
def score(
    paths: tuple[Path, ...],
    fmt: str,
    as_json: bool,
    output: Path | None,
    jobs: int | None,
    fail_on: str,
    allow_invalid: bool,
    judge_model: str | None,
    rerun_tests: bool,
    unsafe_no_sandbox: bool,
    tables_dir: Path | None,
    reviewer_keys: tuple[str, ...],
    require_issuer: bool,
    prices: Prices | None,
    hidden_at: str,
) -> None:
    """Verify and score every bundle (folders are searched for *.pst), for CI.

    One row per bundle with the signals of docs/signals.md, and the hidden-test results
    when the reviewer attached hidden tests to the bundle's assessment (run in a sandbox,
    kept in the workspace). A bundle that fails verification gets a row with its error.
    Exit status: 0 all verified, 1 any bundle failed verification (unless --fail-on
    never), 2 usage error, 3 environment problem (hidden tests need bubblewrap).
    """
    from promptster.analysis.score import Format
    from promptster.reviewer.scoring import score_bundles

    if as_json:
        if fmt not in ("table", "json"):
            raise InputError(f"--json and --format {fmt} ask for two formats: give one")
        fmt = "json"
    if fmt == "parquet" and output is None and sys.stdout.isatty():
        raise InputError("parquet is binary; write it to a file with -o FILE")
    console = err_console()
    with contextlib.ExitStack() as stack:
        progress = None
        if console.is_terminal:
            from rich.progress import Progress

            bar = stack.enter_context(Progress(console=console, transient=True))
            task = bar.add_task("scoring", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

        out = stack.enter_context(_output(output))
        summary = score_bundles(
            paths,
            out,
            cast(Format, fmt),
            jobs=jobs,
            allow_invalid=allow_invalid,
            judge_model=judge_model,
            rerun_tests=rerun_tests,
            unsafe_no_sandbox=unsafe_no_sandbox,
            progress=progress,
            tables=tables_dir,
            reviewer_keys=reviewer_keys,
            require_issuer=require_issuer,
            hidden_at=cast("At", hidden_at),
            prices=prices,
        )
    colour = "red" if summary.failed else "green"
    console.print(
        f"[{colour}]{summary.total} bundle(s) scored, {summary.failed} failed verification[/]"
    )
    if summary.failed and fail_on == "invalid":
        raise click.exceptions.Exit(ExitCode.CHECK_FAILED)


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--assessment", "assessment_id", help="Only the sessions of this assessment.")
@click.option(
    "--weights",
    "weights_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="JSON or TOML file of metric = weight for the composite ranking.",
)
@click.option("--weight", "weight_items", multiple=True, metavar="METRIC=W", help="Set one weight.")
@click.option("--allow-invalid", is_flag=True, help="Include bundles that fail verification.")
@click.option("--json", "as_json", is_flag=True, help="Print the cohorts as JSON on stdout.")
@click.option(
    "--html",
    "html_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write a cohort page here, with one report per session beside it.",
)
@hidden_tests_options
def cohort(
    paths: tuple[Path, ...],
    assessment_id: str | None,
    weights_file: Path | None,
    weight_items: tuple[str, ...],
    allow_invalid: bool,
    as_json: bool,
    html_path: Path | None,
    rerun_tests: bool,
    unsafe_no_sandbox: bool,
    hidden_at: str,
) -> None:
    """Compare the sessions of each assessment: averages, percentiles, composite rank.

    PATHS are bundles or folders of bundles. Percentiles need at least 2 sessions; a
    session's percentile is the share of the other sessions it beats (ties count half).
    A bundle that cannot be read or fails verification is left out (with --allow-invalid
    one that fails verification is included, flagged) and named on stderr. Exit status:
    0 every bundle verified, 1 any bundle was left out or failed verification, 2 usage error.
    """
    from promptster.analysis.cohort import build_cohorts, cohort_from_bundles, parse_weights
    from promptster.reviewer.checks import default_checks
    from promptster.reviewer.orientation import load_overrides

    weights = parse_weights(weights_file, weight_items)
    if not paths:
        if assessment_id is None:
            raise InputError(
                "name the bundles (or folders) of the cohort, or --assessment ID",
                "--assessment alone compares the sessions imported with `promptster import`",
            )
        known = _workspace_signals(assessment_id)
        _hidden(known, rerun_tests, unsafe_no_sandbox, hidden_at)
        cohorts = build_cohorts(known.values(), weights, load_overrides())
        if not cohorts:
            raise InputError(f"no imported session of assessment {assessment_id!r}")
        _show_cohorts(cohorts, as_json)
        return
    result = cohort_from_bundles(
        paths,
        assessment_id=assessment_id,
        weights=weights,
        allow_invalid=allow_invalid,
        checks=default_checks(),
        augment=lambda signals: _hidden(signals, rerun_tests, unsafe_no_sandbox, hidden_at),
        overrides=load_overrides(),
    )
    console = err_console()
    for note in result.notes:
        where = escape(str(note.path))
        if note.what == "left_out":
            console.print(f"[red]✗ {where}[/] left out: {escape(note.detail)}")
        elif note.what == "duplicate":
            console.print(
                f"[yellow]warning:[/] {where} is a different bundle for session "
                f"{note.session_id}, already loaded from another file; skipped"
            )
        else:
            console.print(f"[red]✗ {where} failed verification[/] (included)")
    if html_path is not None:
        from promptster.report.cohort_page import write_cohort_html
        from promptster.reviewer.people import WorkspaceView

        with console.status("writing the cohort page and one report per session…"):
            page = write_cohort_html(
                html_path,
                result.cohorts,
                result.signals,
                hidden_at=cast("At", hidden_at),
                known=WorkspaceView.load(),
            )
        for problem in page.problems:
            console.print(f"[yellow]warning:[/] no report for {escape(problem)}")
        console.print(f"wrote {escape(str(html_path))} and {page.reports} report(s)")
    _show_cohorts(result.cohorts, as_json)
    if result.failed:
        console.print(
            f"[red]{result.failed} of {result.bundle_count} bundle(s) failed verification[/]"
        )
        raise click.exceptions.Exit(ExitCode.CHECK_FAILED)


def _hidden(signals: dict[str, SessionSignals], rerun: bool, unsafe: bool, at: str) -> None:
    """Add each session's hidden-test pass rate (run now, or stored) to its signals; with
    `at` checkpoints run them over the session too (stored for the reports)."""
    from promptster.reviewer.hidden_tests.batch import add_hidden_signals
    from promptster.reviewer.hidden_tests.service import HiddenTests

    hidden = HiddenTests.load(
        [s.session.assessment_id for s in signals.values()], rerun=rerun, unsafe=unsafe
    )
    if not hidden.suites:
        return
    with err_console().status("running the hidden tests…"):
        add_hidden_signals(signals, hidden, "checkpoints" if at == "checkpoints" else "final")
    hidden.save()


def _workspace_signals(assessment_id: str) -> dict[str, SessionSignals]:
    from promptster.analysis.queries import list_sessions
    from promptster.analysis.signals import compute_signals
    from promptster.reviewer.imports import attach
    from promptster.reviewer.store import Workspace

    with Workspace.open(read_only=True) as workspace:
        con = attach(workspace, writable=False)
        ids = [row.session_id for row in list_sessions(con, assessment_id)]
        return compute_signals(con, ids) if ids else {}


def _show_cohorts(cohorts: list[Cohort], as_json: bool) -> None:
    """The cohorts on stdout, each session named by its candidate (reviewer workspace)."""
    from promptster.reviewer.people import load_directory

    directory = load_directory()
    if as_json:
        body = [c.to_json_obj() for c in cohorts]
        for cohort, obj in zip(cohorts, body, strict=True):
            obj["assessmentTitle"] = directory.titles.get(cohort.assessment_id or "")
            rows = cast("list[dict[str, object]]", obj["sessions"])
            for member, row in zip(cohort.members, rows, strict=True):
                info = member.session
                person = directory.person(
                    info.assessment_id, info.candidate_key, info.candidate_name
                )
                row.update(person.to_json_obj())
        print_json({"cohorts": body})
        return
    from promptster.cli.analysis_view import print_cohort

    for group in cohorts:
        print_cohort(group, directory)
