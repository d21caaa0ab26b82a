"""`promptster assessment create|list|show|delete|export`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click
from rich.markup import escape

from promptster.cli.orientation_cmd import orientation
from promptster.cli.output import err_console, out_console, print_json
from promptster.cli.reviewer_format import plain_table
from promptster.errors import InputError
from promptster.fsutil import atomic_write_bytes
from promptster.issue.identity import unlock_identity
from promptster.reviewer.assessments import MAX_BRIEF_CHARS, current_pack, validate_spec
from promptster.reviewer.operations import (
    HiddenTestsChange,
    list_assessments,
    new_assessment,
    remove_assessment,
    set_hidden_tests,
    show_assessment,
)
from promptster.reviewer.store import AssessmentRecord, Workspace

PASSPHRASE_HELP = "Variable holding the identity passphrase (default PROMPTSTER_PASSPHRASE)."


def hidden_test_options(function: Callable[..., None]) -> Callable[..., None]:
    """--hidden-tests DIR, --hidden-test-command CMD, --hidden-test-timeout S."""
    function = click.option(
        "--hidden-test-timeout",
        "hidden_timeout",
        type=int,
        default=None,
        metavar="SECONDS",
        help="Wall-clock limit of one hidden-test run (default 300).",
    )(function)
    function = click.option(
        "--hidden-test-command",
        "hidden_command",
        default=None,
        metavar="CMD",
        help="Command that runs them (default by what the folder holds: pytest -q, npm test, "
        "go test -v ./..., cargo test).",
    )(function)
    return click.option(
        "--hidden-tests",
        "hidden_dir",
        type=click.Path(path_type=Path),
        default=None,
        metavar="DIR",
        help="Test folder kept in the reviewer workspace (never in the pack) and run against "
        "each submission in a sandbox.",
    )(function)


def _check_hidden(folder: Path | None, timeout: int | None) -> None:
    """Fail on a bad folder or limit before anything is created."""
    from promptster.reviewer.hidden_tests.suite import check_timeout, pack_folder

    if folder is not None:
        pack_folder(folder)
    if timeout is not None:
        check_timeout(timeout)


def _read_brief(source: str) -> str:
    try:
        if source == "-":
            data = sys.stdin.buffer.read(MAX_BRIEF_CHARS * 4 + 1)
        else:
            data = Path(source).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the brief {source}: {exc.strerror}") from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"the brief {source} is not UTF-8 text") from exc


def _usd(text: str) -> float:
    """The --token-budget-usd value; its range is checked with the other fields."""
    try:
        return float(text.strip().removeprefix("$"))
    except ValueError:
        raise InputError(
            f"--token-budget-usd {text!r} is not a number", "e.g. --token-budget-usd 5"
        ) from None


@click.group()
def assessment() -> None:
    """Assessments: the task, role and limits that candidate keys are issued for."""


@assessment.command("create")
@click.option("--title", required=True, help="1-255 characters; never shown to candidates.")
@click.option("--role", required=True, help="1-255 characters, e.g. 'Senior Backend Engineer'.")
@click.option("--brief", "brief_source", required=True, metavar="FILE|-", help="Markdown brief.")
@click.option(
    "--repo",
    "repo_url",
    default=None,
    metavar="URL",
    help="Starter repository: https://, ssh://, git@host:owner/repo.git or file:// URL.",
)
@click.option(
    "--rev",
    "repo_rev",
    default=None,
    metavar="SHA",
    help="Commit of the starter repo (needs --repo).",
)
@click.option(
    "--time-limit",
    type=int,
    default=None,
    metavar="MINUTES",
    help="Positive number of minutes (omit for no limit).",
)
@click.option(
    "--expires-in-days",
    type=int,
    default=7,
    show_default=True,
    help="Days each key stays valid after it is created (at most 365).",
)
@click.option(
    "--token-budget-usd",
    "token_budget",
    type=str,
    default=None,
    metavar="USD",
    help="Spend limit on model tokens, in US dollars (a positive number; omit for none).",
)
@click.option(
    "--allowed-tools",
    "allowed_tools",
    default=None,
    metavar="TOOLS",
    help="Comma-separated AI tools the candidate may use, e.g. claude,codex (omit for any).",
)
@hidden_test_options
@click.option("--passphrase-env", metavar="VAR", default=None, help=PASSPHRASE_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the assessment as JSON on stdout.")
def create(
    title: str,
    role: str,
    brief_source: str,
    repo_url: str | None,
    repo_rev: str | None,
    time_limit: int | None,
    expires_in_days: int,
    token_budget: str | None,
    allowed_tools: str | None,
    hidden_dir: Path | None,
    hidden_command: str | None,
    hidden_timeout: int | None,
    passphrase_env: str | None,
    as_json: bool,
) -> None:
    """Create an assessment in the reviewer workspace and sign its (empty) pack."""
    spec = validate_spec(
        title=title,
        role=role,
        brief=_read_brief(brief_source),
        repo_url=repo_url,
        repo_rev=repo_rev,
        time_limit_minutes=time_limit,
        expires_in_days=expires_in_days,
        token_budget_usd=None if token_budget is None else _usd(token_budget),
        allowed_tools=None if allowed_tools is None else allowed_tools.split(","),
    )
    if hidden_dir is None and (hidden_command is not None or hidden_timeout is not None):
        raise InputError("--hidden-test-command and --hidden-test-timeout need --hidden-tests DIR")
    _check_hidden(hidden_dir, hidden_timeout)
    hidden = None
    if hidden_dir is not None:
        hidden = HiddenTestsChange(hidden_dir, hidden_command, hidden_timeout)
    signer = unlock_identity(passphrase_env)
    with Workspace.open() as workspace:
        created = new_assessment(workspace, signer, spec, hidden)
    if as_json:
        print_json({"assessment": created.to_json_obj()})
        return
    record = created.record
    console = out_console()
    console.print(f"[green]✓[/] assessment {record.id} created: {escape(record.title)}")
    if created.hidden_tests is not None:
        tests = created.hidden_tests
        console.print(
            f"  hidden tests: {tests['fileCount']} file(s), run with "
            f"{escape(str(tests['command']))} (kept in the workspace, not in the pack)"
        )
    err_console().print(f"  next: promptster keys create {record.id[:8]} --count N [--email ...]")


@assessment.command("update")
@click.argument("assessment_ref", metavar="ASSESSMENT")
@hidden_test_options
@click.option("--no-hidden-tests", is_flag=True, help="Remove the hidden tests.")
@click.option("--json", "as_json", is_flag=True, help="Print the hidden tests as JSON on stdout.")
def update(
    assessment_ref: str,
    hidden_dir: Path | None,
    hidden_command: str | None,
    hidden_timeout: int | None,
    no_hidden_tests: bool,
    as_json: bool,
) -> None:
    """Change an assessment's hidden tests (the pack the candidates hold does not change)."""
    given = [v for v in (hidden_dir, hidden_command, hidden_timeout) if v is not None]
    if no_hidden_tests and given:
        raise InputError("--no-hidden-tests cannot be combined with the other options")
    if not no_hidden_tests and not given:
        raise InputError(
            "nothing to update",
            "give --hidden-tests DIR, --hidden-test-command CMD, --hidden-test-timeout S or "
            "--no-hidden-tests",
        )
    _check_hidden(hidden_dir, hidden_timeout)
    change = (
        None if no_hidden_tests else HiddenTestsChange(hidden_dir, hidden_command, hidden_timeout)
    )
    with Workspace.open() as workspace:
        record, hidden = set_hidden_tests(workspace, assessment_ref, change)
    if as_json:
        print_json({"id": record.id, "hiddenTests": hidden})
        return
    console = out_console()
    if hidden is None:
        console.print(f"[green]✓[/] assessment {record.id[:8]}: hidden tests removed")
        return
    console.print(
        f"[green]✓[/] assessment {record.id[:8]}: hidden tests {hidden['fileCount']} file(s), "
        f"run with {escape(str(hidden['command']))}, limit {hidden['timeoutSeconds']} s"
    )


@assessment.command("list")
@click.option("--all", "include_deleted", is_flag=True, help="Include deleted assessments.")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON on stdout.")
def list_(include_deleted: bool, as_json: bool) -> None:
    """List assessments, oldest first."""
    with Workspace.open() as workspace:
        views = list_assessments(workspace, include_deleted=include_deleted)
    rows = [view.to_json_obj(brief=False) for view in views]
    if as_json:
        print_json({"assessments": rows})
        return
    if not rows:
        err_console().print(
            "no assessments yet: promptster assessment create --title ... --role ..."
        )
        return
    lines = []
    for row in rows:
        counts = row["keyCounts"]
        limit = row["timeLimitMinutes"]
        lines.append(
            [
                row["id"][:8],
                row["createdAt"][:10],
                f"{limit} min" if limit else "none",
                ", ".join(f"{n} {status}" for status, n in counts.items() if n) or "no keys",
                f"{row['role']}: {row['title']}" + (" (deleted)" if row["deletedAt"] else ""),
            ]
        )
    out_console().print(
        escape(plain_table(("id", "created", "limit", "keys", "role: title"), lines))
    )


list_.name = "list"


@assessment.command("show")
@click.argument("assessment_ref", metavar="ASSESSMENT")
@click.option("--json", "as_json", is_flag=True, help="Print the assessment as JSON on stdout.")
def show(assessment_ref: str, as_json: bool) -> None:
    """Show one assessment (by id or a unique id prefix) and its key counts."""
    with Workspace.open() as workspace:
        view = show_assessment(workspace, assessment_ref)
    body = view.to_json_obj()
    if as_json:
        print_json({"assessment": body})
        return
    console = out_console()
    for label, name in (
        ("id", "id"),
        ("title", "title"),
        ("role", "role"),
        ("org", "org"),
        ("time limit", "timeLimitMinutes"),
        ("key lifetime", "expiresInDays"),
        ("repo", "repoUrl"),
        ("rev", "repoRev"),
        ("created", "createdAt"),
        ("deleted", "deletedAt"),
        ("pack revision", "packRevision"),
        ("token budget", "tokenBudgetUsd"),
        ("allowed tools", "allowedTools"),
    ):
        value = body[name]
        if value is not None:
            if name == "tokenBudgetUsd":
                value = f"${value:g}"
            elif name == "allowedTools":
                value = ", ".join(value)
            console.print(f"{label:<14}{escape(str(value))}")
    counts = ", ".join(f"{n} {status}" for status, n in body["keyCounts"].items() if n)
    console.print(f"{'keys':<14}{counts or 'none'}")
    if view.hidden_tests is not None:
        tests = view.hidden_tests
        console.print(
            f"{'hidden tests':<14}{tests['fileCount']} file(s), {escape(str(tests['command']))}, "
            f"limit {tests['timeoutSeconds']} s"
        )
    console.print("")
    console.print(escape(body["taskBrief"]))


def _confirm(question: str) -> bool:
    """Ask `question`; with no answer to read and no terminal, refuse rather than abort."""
    try:
        return click.confirm(question, err=True)
    except click.exceptions.Abort:
        if sys.stdin is None or not sys.stdin.isatty():
            raise InputError(
                "refusing to delete without confirmation; pass --yes",
                "there is no terminal to ask on, and no answer was given on stdin",
            ) from None
        raise


@assessment.command("delete")
@click.argument("assessment_ref", metavar="ASSESSMENT")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--passphrase-env", metavar="VAR", default=None, help=PASSPHRASE_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
def delete(assessment_ref: str, yes: bool, passphrase_env: str | None, as_json: bool) -> None:
    """Soft-delete an assessment: its keys are revoked, sessions are kept."""
    signer = unlock_identity(passphrase_env)

    def agreed(record: AssessmentRecord) -> bool:
        question = f"Delete assessment {record.id} ({record.title}) and revoke its keys?"
        return yes or _confirm(question)

    with Workspace.open() as workspace:
        deleted = remove_assessment(workspace, signer, assessment_ref, agreed)
    if deleted is None:
        raise click.exceptions.Abort
    if as_json:
        print_json({"ok": True, "id": deleted.id})
        return
    out_console().print(f"[green]✓[/] assessment {deleted.id} deleted; its keys are revoked")


@assessment.command("export")
@click.argument("assessment_ref", metavar="ASSESSMENT")
@click.option("-o", "--output", required=True, metavar="FILE|-", help="Where to write the pack.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print where the pack went as JSON on stdout."
)
def export(assessment_ref: str, output: str, as_json: bool) -> None:
    """Write the assessment's current signed pack (what candidates need besides their key).

    With `-o -` the pack itself is the result, on stdout (it is JSON already).
    """
    if output == "-" and as_json:
        raise InputError("-o - writes the pack itself to stdout; --json needs -o FILE")
    with Workspace.open() as workspace:
        record, pack = current_pack(workspace, assessment_ref)
    if output == "-":
        sys.stdout.buffer.write(pack)
        sys.stdout.flush()
        return
    try:
        atomic_write_bytes(Path(output), pack)
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror}") from exc
    if as_json:
        print_json(
            {
                "assessmentId": record.id,
                "packRevision": record.pack_revision,
                "path": str(Path(output)),
                "bytes": len(pack),
            }
        )
        return
    out_console().print(
        f"[green]✓[/] wrote the pack of {record.id[:8]} (revision {record.pack_revision}) to "
        f"{escape(output)}"
    )


assessment.add_command(orientation)
