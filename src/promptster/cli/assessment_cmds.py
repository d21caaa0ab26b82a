"""`promptster assessment create|list|show|delete|export`."""

from __future__ import annotations

import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from promptster.cli.output import err_console, print_json
from promptster.cli.reviewer_format import plain_table
from promptster.errors import InputError
from promptster.fsutil import atomic_write_bytes
from promptster.issue.identity import unlock_identity
from promptster.reviewer.assessments import (
    MAX_BRIEF_CHARS,
    create_assessment,
    current_pack,
    delete_assessment,
    validate_spec,
)
from promptster.reviewer.store import KEY_STATUSES, AssessmentRecord, Workspace

PASSPHRASE_HELP = "Variable holding the identity passphrase (default PROMPTSTER_PASSPHRASE)."


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


def _key_counts(workspace: Workspace, record: AssessmentRecord) -> dict[str, int]:
    now = datetime.now(UTC)
    counts = Counter(key.status(now) for key in workspace.keys_for(record.id))
    return {status: counts.get(status, 0) for status in KEY_STATUSES}


def _with_counts(workspace: Workspace, record: AssessmentRecord) -> dict[str, Any]:
    body = record.to_json_obj()
    body["keyCounts"] = _key_counts(workspace, record)
    return body


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
    )
    signer = unlock_identity(passphrase_env)
    with Workspace.open() as workspace:
        record = create_assessment(workspace, signer, spec)
        if as_json:
            print_json({"assessment": _with_counts(workspace, record)})
            return
    console = err_console()
    console.print(f"[green]✓[/] assessment {record.id} created: {escape(record.title)}")
    console.print(f"  next: promptster keys create {record.id[:8]} --count N [--email ...]")


@assessment.command("list")
@click.option("--all", "include_deleted", is_flag=True, help="Include deleted assessments.")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON on stdout.")
def list_(include_deleted: bool, as_json: bool) -> None:
    """List assessments, oldest first."""
    with Workspace.open() as workspace:
        records = workspace.list_assessments(include_deleted=include_deleted)
        rows = [_with_counts(workspace, record) for record in records]
    if as_json:
        for row in rows:
            del row["taskBrief"]
        print_json({"assessments": rows})
        return
    console = err_console()
    if not rows:
        console.print("no assessments yet: promptster assessment create --title ... --role ...")
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
    console.print(escape(plain_table(("id", "created", "limit", "keys", "role: title"), lines)))


list_.name = "list"


@assessment.command("show")
@click.argument("assessment_ref", metavar="ASSESSMENT")
@click.option("--json", "as_json", is_flag=True, help="Print the assessment as JSON on stdout.")
def show(assessment_ref: str, as_json: bool) -> None:
    """Show one assessment (by id or a unique id prefix) and its key counts."""
    with Workspace.open() as workspace:
        body = _with_counts(workspace, workspace.get_assessment(assessment_ref))
    if as_json:
        print_json({"assessment": body})
        return
    console = err_console()
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
    ):
        if body[name] is not None:
            console.print(f"{label:<14}{escape(str(body[name]))}")
    counts = ", ".join(f"{n} {status}" for status, n in body["keyCounts"].items() if n)
    console.print(f"{'keys':<14}{counts or 'none'}")
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
    with Workspace.open() as workspace:
        record = workspace.get_assessment(assessment_ref)
        if not yes and not _confirm(
            f"Delete assessment {record.id} ({record.title}) and revoke its keys?"
        ):
            raise click.exceptions.Abort
        deleted = delete_assessment(workspace, signer, record.id)
    if as_json:
        print_json({"ok": True, "id": deleted.id})
        return
    err_console().print(f"[green]✓[/] assessment {deleted.id} deleted; its keys are revoked")


@assessment.command("export")
@click.argument("assessment_ref", metavar="ASSESSMENT")
@click.option("-o", "--output", required=True, metavar="FILE|-", help="Where to write the pack.")
def export(assessment_ref: str, output: str) -> None:
    """Write the assessment's current signed pack (what candidates need besides their key)."""
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
    err_console().print(
        f"[green]✓[/] wrote the pack of {record.id[:8]} (revision {record.pack_revision}) to "
        f"{escape(output)}"
    )
