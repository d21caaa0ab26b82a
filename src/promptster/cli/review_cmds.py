"""`promptster review` and `promptster demo`: the reviewer's report, and the guided tour.

Thin click layer: options, progress on stderr, exit codes. The work is in
promptster.report.review and promptster.demo.
"""

from __future__ import annotations

import os
import webbrowser
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
    from promptster.analysis.prices import Prices


def _size(n: int) -> str:
    return f"{n / 1024:.0f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"


def open_in_browser(path: Path) -> None:
    if not webbrowser.open(path.resolve().as_uri()):
        err_console().print("[yellow]no browser could be opened; open the file yourself[/]")


@click.command()
@click.argument("bundle", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Report file to write (default: the bundle's name with .html).",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the report in a browser.")
@click.option(
    "--cohort",
    "cohort_dir",
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    help="Folder of bundles of the same assessment: show cohort percentiles.",
)
@click.option(
    "--assessment",
    "assessment_id",
    metavar="ID",
    help="Compare with this assessment's sessions imported into the reviewer workspace.",
)
@hidden_tests_options
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON on stdout.")
@reviewer_key_options
@prices_option
@click.option(
    "--judge",
    "judge_model",
    metavar="MODEL",
    help="Also rate the AI-fluency rubric and write the summary with this `llm` model, "
    "beside the heuristics (needs pip install 'promptster[judge]'; `llm models` lists them).",
)
def review(
    bundle: Path,
    output: Path | None,
    open_browser: bool,
    cohort_dir: Path | None,
    assessment_id: str | None,
    rerun_tests: bool,
    unsafe_no_sandbox: bool,
    as_json: bool,
    reviewer_keys: tuple[str, ...],
    require_issuer: bool,
    prices: Prices | None,
    hidden_at: str,
    judge_model: str | None,
) -> None:
    """Verify a bundle, compute its signals and write one self-contained HTML report.

    The report works offline, from a file or an e-mail attachment. A bundle that fails
    verification still gets a report, with a red banner naming every failed check.
    When the assessment has hidden tests, they run on the final snapshot in a sandbox
    (with --hidden-tests-at checkpoints also over the session, charted in the report).
    Exit status: 0 verified, 1 failed verification (report written), 2 unreadable,
    3 hidden tests cannot run here (no bubblewrap, runner not installed).
    """
    from promptster.report.review import check_output, review_bundle
    from promptster.reviewer.checks import default_checks, issuer_unchecked

    if cohort_dir is not None and assessment_id is not None:
        raise InputError("give --cohort or --assessment, not both")
    bundle = Path(os.path.normpath(bundle))
    output = None if output is None else Path(os.path.normpath(output))
    if not bundle.exists():
        raise InputError(f"{bundle}: no such file")
    if assessment_id is not None:
        assessment_id = _resolve_assessment(assessment_id)
    target = check_output(output if output is not None else bundle.with_suffix(".html"))
    if judge_model is not None:
        from promptster.analysis.judge import LlmJudge

        LlmJudge(judge_model)  # fail early on a missing library or an unknown model
    cohort: list[Path] = []
    if cohort_dir is not None:
        from promptster.analysis.verified import find_bundles

        cohort = find_bundles([cohort_dir])
    console = err_console()
    with console.status("verifying, scoring and rendering…"):
        result = review_bundle(
            bundle,
            target,
            cohort_bundles=cohort,
            cohort_assessment=assessment_id,
            rerun_tests=rerun_tests,
            unsafe_no_sandbox=unsafe_no_sandbox,
            extra_checks=default_checks(reviewer_keys=reviewer_keys, require_issuer=require_issuer),
            hidden_at="checkpoints" if hidden_at == "checkpoints" else "final",
            prices=prices,
            judge_model=judge_model,
        )
    if result.verified:
        caveat = (
            " [yellow](issuer not checked: no reviewer key)[/]"
            if issuer_unchecked(result.report)
            else ""
        )
        console.print(f"[green]✓[/] {escape(str(bundle))} verified{caveat}")
    else:
        checks = ", ".join(sorted({f.check for f in result.report.failures}))
        console.print(
            f"[red]✗ {escape(str(bundle))} failed verification ({escape(checks)})[/]; "
            "the report says so in a red banner"
        )
    total = sum(result.timings.values())
    console.print(f"wrote {escape(str(target))} ({_size(result.size)}) in {total:.1f} s")
    if as_json:
        failed = [] if result.verified else sorted({f.check for f in result.report.failures})
        outcome: dict[str, Any] = {
            "bundle": str(bundle), "report": str(target), "verified": result.verified,
            "failedChecks": failed, "sizeBytes": result.size,
        }  # fmt: skip
        if hidden_at == "checkpoints":
            series = result.hidden_series
            outcome["hiddenTestsOverTime"] = None if series is None else series.to_json_obj()
        print_json(outcome)
    else:
        click.echo(str(target))
    if open_browser:
        open_in_browser(target)
    if not result.verified:
        raise click.exceptions.Exit(ExitCode.CHECK_FAILED)


def _resolve_assessment(ref: str) -> str:
    """The full id of the assessment `ref` (an id or a unique prefix of 4+ characters), among
    the workspace's assessments and those of its imported sessions."""
    from promptster.reviewer.store import Workspace

    with Workspace.open(read_only=True) as workspace:
        return workspace.resolve_assessment_id(ref)


@click.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("promptster-demo"),
    show_default=True,
    help="Folder for everything the demo makes (an earlier demo's folder is replaced).",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the report in a browser.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON on stdout.")
def demo(output: Path, open_browser: bool, as_json: bool) -> None:
    """Record a short scripted session end to end and open its report. Nothing else needed.

    \b
    Reviewer:  a throwaway identity, an assessment and a key
    Candidate: promptster start, a recorded shell (failing, then passing tests), an AI
               (scripted Claude Code hook calls) editing code, a hand edit, a decision,
               promptster submit
    Reviewer:  promptster review
    Everything, the reviewer's and the candidate's homes included, stays in the folder.
    """
    from promptster.demo.runner import run_demo

    console = err_console()
    step = [0]

    def progress(label: str) -> None:
        step[0] += 1
        console.print(f"[dim]{step[0]:>2}.[/] {escape(label)}")

    result = run_demo(output, progress)
    mark = "[green]✓ verified[/]" if result.verified else "[red]✗ did not verify[/]"
    console.print(f"\ndone in {result.seconds:.0f} s; the bundle {mark}")
    console.print(f"  bundle  {escape(str(result.bundle))}")
    console.print(f"  report  [bold]{escape(str(result.report))}[/]")
    if not open_browser:
        console.print("  open the report in a browser, or run the demo again with --open")
    if as_json:
        print_json(
            {"bundle": str(result.bundle), "report": str(result.report),
             "verified": result.verified, "seconds": round(result.seconds, 1)}
        )  # fmt: skip
    else:
        click.echo(str(result.report))
    if open_browser:
        open_in_browser(result.report)
