"""`promptster verify` and `promptster synth`: the bundle commands."""

from __future__ import annotations

import os
from pathlib import Path

import click
from rich.markup import escape

from promptster.bundle.verify import ExtraCheck, VerifyReport, verify_bundle
from promptster.cli.output import err_console, out_console, print_json
from promptster.cli.reviewer_format import reviewer_key_options
from promptster.errors import EnvironmentProblem, ExitCode, InputError


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON on stdout.")
@click.option("-v", "--verbose", is_flag=True, help="Show every check, not only problems.")
@click.option(
    "--cohort",
    "cohort_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Also fail a bundle whose candidate key, session, chain head or snapshots appear in "
    "another bundle of this folder.",
)
@reviewer_key_options
def verify(
    paths: tuple[Path, ...],
    as_json: bool,
    verbose: bool,
    cohort_dir: Path | None,
    reviewer_keys: tuple[str, ...],
    require_issuer: bool,
) -> None:
    """Verify bundles offline: signature, hashes, hash chain, snapshots, the binding
    of the session to its key and pack, and the assessment pack and candidate key
    they were issued with. Folders are searched for *.pst.

    The pack must be signed by one of your reviewer keys: your identity on this
    machine, the key your reviewer workspace recorded for the assessment, or a
    --reviewer-key. With none of them the issuer is not checked, and the result
    says so first (--require-issuer makes that a failure). Revocations recorded
    in your workspace count.

    Exit status: 0 when every bundle passes, 1 when any check failed, 2 when a
    bundle cannot be read at all.
    """
    from promptster.reviewer.checks import default_checks, issuer_unchecked

    bundles = _bundles(paths)
    checks = default_checks(reviewer_keys=reviewer_keys, require_issuer=require_issuer)
    reports = [verify_bundle(path, extra_checks=checks) for path in bundles]
    if cohort_dir is not None:
        _check_cohort_keys(reports, cohort_dir, checks)
    if as_json:
        print_json(
            {
                "bundles": [
                    {**r.to_json_obj(), "issuerChecked": not issuer_unchecked(r)} for r in reports
                ]
            }
        )
    else:
        for report in reports:
            _print_report(report, verbose, issuer_unchecked(report))
    codes = {r.exit_code for r in reports}
    if ExitCode.USAGE in codes:
        raise click.exceptions.Exit(ExitCode.USAGE)
    if ExitCode.CHECK_FAILED in codes:
        raise click.exceptions.Exit(ExitCode.CHECK_FAILED)


def _bundles(paths: tuple[Path, ...]) -> list[Path]:
    """The named files (read as bundles even when missing: verify reports them), and every
    *.pst under the named folders, sorted; a folder without any is a usage error."""
    from promptster.analysis.verified import find_bundles

    found: list[Path] = []
    for path in (Path(os.path.normpath(p)) for p in paths):  # printed as `a/b`, not `a/x/../b`
        if not path.is_dir():
            found.append(path)
            continue
        inside = find_bundles([path])
        if not inside:
            raise InputError(
                f"no bundles (*.pst) in the folder {path}",
                "name .pst files or folders that contain them",
            )
        found.extend(inside)
    return found


def _check_cohort_keys(
    reports: list[VerifyReport], cohort_dir: Path, checks: list[ExtraCheck]
) -> None:
    """Add a failed `cohort` finding to each report whose key another bundle also used, and
    one per other bundle that shares its session id, chain head or snapshots."""
    from promptster.reviewer.checks import find_duplicate_keys
    from promptster.reviewer.copies import find_copies

    given = {report.path.resolve() for report in reports}
    others = [
        verify_bundle(path, extra_checks=checks)
        for path in sorted(cohort_dir.rglob("*.pst"))
        if path.resolve() not in given
    ]
    for duplicate in find_duplicate_keys([*reports, *others]):
        involved = {path.resolve() for path in duplicate.paths}
        for report in reports:
            if report.path.resolve() in involved:
                report.findings.append(duplicate.finding())
    by_path = {report.path.resolve(): report for report in reports}
    for pair in find_copies([*reports, *others]):
        for path in (pair.first, pair.second):
            own = by_path.get(path.resolve())
            if own is not None:
                own.findings.append(pair.finding_for(path))


def _print_report(report: VerifyReport, verbose: bool, unchecked_issuer: bool = False) -> None:
    console = out_console()
    manifest = report.context.manifest
    name = escape(str(report.path))
    if report.ok:
        detail = f"session {manifest.session_id}, {manifest.event_count} events" if manifest else ""
        caveat = " [yellow](issuer not checked: no reviewer key)[/]" if unchecked_issuer else ""
        console.print(f"[green]✓[/] {name}  [dim]{escape(detail)}[/]  verified{caveat}")
    elif report.unreadable and manifest is None:
        console.print(f"[red]✗ {name}  cannot be read[/]")
    else:
        console.print(f"[red]✗ {name}  failed verification[/]")
    for finding in report.findings:
        if finding.status == "ok" and not verbose:
            continue
        mark = {"ok": "[green]ok[/]", "warning": "[yellow]warning[/]", "failed": "[red]failed[/]"}
        where = f" (event {finding.seq})" if finding.seq is not None else ""
        message = _without_path(finding.message, report.path)
        console.print(f"    {mark[finding.status]} {finding.check}{where}: {escape(message)}")


def _without_path(message: str, path: Path) -> str:
    """A finding's message under the line that names the bundle: without the path again."""
    if message.startswith(f"{path}: "):
        return message[len(f"{path}: ") :]
    if message.startswith(f"{path} "):
        return "the file " + message[len(f"{path} ") :]
    return message


PROGRESS_FROM_EVENTS = 10_000


@click.command()
@click.option(
    "-o", "--output", required=True, type=click.Path(path_type=Path), help="Bundle to write."
)
@click.option("--events", default=500, show_default=True, help="Approximate number of events.")
@click.option(
    "--seed", default=0, show_default=True, help="Same seed, same bundle (byte for byte)."
)
@click.option("--candidate", default=None, help="Candidate name (default: picked by the seed).")
@click.option("--json", "as_json", is_flag=True, help="Print the bundle's details as JSON.")
def synth(output: Path, events: int, seed: int, candidate: str | None, as_json: bool) -> None:
    """Write a realistic synthetic bundle, for trying the reviewer side and for benchmarks.

    The session mixes prompts, AI edits, hand edits, commands, test runs, decisions and
    warnings, with real git snapshots, and is signed like a recorded one. Its assessment pack
    is issued by a built-in synthetic reviewer, not by you: once you have a reviewer identity
    (`identity init`), `verify` and `review` report that issuer as not yours unless given
    `--reviewer-key` with the fingerprint this command prints.
    """
    from promptster.record.synth import SYNTH_REVIEWER, generate_bundle

    if events < 2:
        raise InputError("--events must be at least 2 (a session start and end)")
    if events > 5_000_000:
        raise InputError("--events is limited to 5,000,000")
    if output.is_dir():
        raise InputError(f"{output} is a directory", "pass a file name, e.g. -o sample.pst")
    console = err_console()

    def progress(stage: str) -> None:
        if events >= PROGRESS_FROM_EVENTS:  # a small bundle is written before anyone waits
            console.print(f"[dim]{escape(stage)}…[/]")

    try:
        written = generate_bundle(
            output, events=events, seed=seed, candidate=candidate, progress=progress
        )
    except OSError as exc:
        raise EnvironmentProblem(
            f"cannot write {output}: {exc.strerror or exc}",
            "check that the folder exists and is writable, and that the disk has room",
        ) from exc
    console.print(
        f"wrote {escape(str(written.path))} ({written.size:,} bytes, "
        f"{written.manifest.event_count:,} events)"
    )
    console.print(
        f"  issued by the synthetic reviewer: trust it with "
        f"--reviewer-key {SYNTH_REVIEWER.public.fingerprint}"
    )
    if as_json:
        print_json(
            {"path": str(written.path), "sizeBytes": written.size, "sha256": written.sha256,
             "eventCount": written.manifest.event_count}
        )  # fmt: skip
    else:
        click.echo(written.sha256)
