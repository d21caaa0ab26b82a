"""`promptster keys create|list|revoke|invite`: candidate keys and their invites."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.markup import escape

from promptster import paths
from promptster.cli.output import err_console, print_json
from promptster.cli.reviewer_format import plain_table
from promptster.errors import EnvironmentProblem, StateError
from promptster.issue.identity import unlock_identity
from promptster.reviewer.assessments import check_email, create_keys, resolve_key, revoke_keys
from promptster.reviewer.invites import (
    DEFAULT_PASSWORD_ENV,
    DEFAULT_SENDER,
    DEFAULT_USER_ENV,
    InviteResult,
    SmtpSettings,
    deliver,
    smtp_settings,
)
from promptster.reviewer.store import KEY_STATUSES, AssessmentRecord, KeyRecord, Workspace

F = TypeVar("F", bound=Callable[..., Any])
PASSPHRASE_HELP = "Variable holding the identity passphrase (default PROMPTSTER_PASSPHRASE)."


def _delivery_options(func: F) -> F:
    options = [
        click.option("--smtp-host", default=None, help="Send invites through this SMTP server."),
        click.option(
            "--smtp-port", type=int, default=None, help="Default 587 with STARTTLS, else 25."
        ),
        click.option("--smtp-starttls", is_flag=True, help="Upgrade the connection with STARTTLS."),
        click.option(
            "--smtp-user-env",
            default=DEFAULT_USER_ENV,
            show_default=True,
            metavar="VAR",
            help="Variable holding the SMTP user name.",
        ),
        click.option(
            "--smtp-password-env",
            default=DEFAULT_PASSWORD_ENV,
            show_default=True,
            metavar="VAR",
            help="Variable holding the SMTP password.",
        ),
        click.option(
            "--from",
            "sender",
            default=None,
            metavar="ADDRESS",
            help=f"Sender address (default $PROMPTSTER_SMTP_FROM or {DEFAULT_SENDER}).",
        ),
        click.option(
            "--outbox",
            type=click.Path(file_okay=False, path_type=Path),
            default=None,
            help="Without --smtp-host, write .eml files here (default: PROMPTSTER_HOME/outbox).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _smtp(
    host: str | None, port: int | None, starttls: bool, user_env: str, password_env: str
) -> SmtpSettings | None:
    if host is None:
        return None
    return smtp_settings(
        host, port, starttls=starttls, user_env=user_env, password_env=password_env
    )


def _sender(sender: str | None) -> str:
    return check_email(sender or os.environ.get("PROMPTSTER_SMTP_FROM") or DEFAULT_SENDER)


def _send(
    workspace: Workspace,
    assessment: AssessmentRecord,
    keys: Sequence[KeyRecord],
    pack: bytes,
    *,
    smtp: SmtpSettings | None,
    outbox: Path | None,
    sender: str,
) -> list[InviteResult]:
    results = deliver(
        assessment,
        keys,
        pack,
        smtp=smtp,
        outbox=outbox or paths.outbox_dir() / assessment.id,
        sender=sender,
    )
    now = datetime.now(UTC)
    with workspace.transaction():
        for result in results:
            workspace.set_invite(result.key_id, result.status, result.detail, now)
    return results


def _report_invites(results: Sequence[InviteResult]) -> None:
    console = err_console()
    for result in results:
        if result.status == "sent":
            console.print(f"  [green]invite sent[/] to {escape(result.email)}")
        elif result.status == "outbox":
            console.print(f"  invite for {escape(result.email)} written to {escape(result.detail)}")
        else:
            console.print(
                f"  [red]invite NOT sent[/] to {escape(result.email)} ({result.key_id}): "
                f"{escape(result.detail)}"
            )


def _raise_if_failed(results: Sequence[InviteResult]) -> None:
    failed = [r for r in results if not r.ok]
    if failed:
        raise EnvironmentProblem(
            f"{len(failed)} of {len(results)} invites did not go out: "
            + ", ".join(f"{r.email} ({r.key_id})" for r in failed),
            "the keys exist; fix the mail settings and run `promptster keys invite "
            + " ".join(r.key_id for r in failed)
            + "`",
        )


@click.group()
def keys() -> None:
    """Candidate keys (PST-XXXX-XXXX): create, list, revoke, re-send invites."""


@keys.command("create")
@click.argument("assessment_ref", metavar="ASSESSMENT")
@click.option(
    "--count", type=int, default=None, help="How many keys (1-50); may be left out with --email."
)
@click.option("--email", "emails", multiple=True, help="Candidate email; repeat, one per key.")
@click.option("--name", "names", multiple=True, help="Candidate name, paired with --email.")
@click.option("--passphrase-env", metavar="VAR", default=None, help=PASSPHRASE_HELP)
@_delivery_options
@click.option("--json", "as_json", is_flag=True, help="Print keys and invites as JSON on stdout.")
def create(
    assessment_ref: str,
    count: int | None,
    emails: tuple[str, ...],
    names: tuple[str, ...],
    passphrase_env: str | None,
    smtp_host: str | None,
    smtp_port: int | None,
    smtp_starttls: bool,
    smtp_user_env: str,
    smtp_password_env: str,
    sender: str | None,
    outbox: Path | None,
    as_json: bool,
) -> None:
    """Create keys, re-sign the assessment pack, and invite candidates given by --email."""
    smtp = _smtp(smtp_host, smtp_port, smtp_starttls, smtp_user_env, smtp_password_env)
    from_addr = _sender(sender) if emails else DEFAULT_SENDER
    signer = unlock_identity(passphrase_env)
    now = datetime.now(UTC)
    with Workspace.open() as workspace:
        batch = create_keys(
            workspace, signer, assessment_ref, count=count, emails=emails, names=names
        )
        results: list[InviteResult] = []
        if emails:
            results = _send(
                workspace, batch.assessment, batch.keys, batch.pack,
                smtp=smtp, outbox=outbox, sender=from_addr,
            )  # fmt: skip
    if as_json:
        print_json(
            {
                "assessmentId": batch.assessment.id,
                "packRevision": batch.assessment.pack_revision,
                "keys": [k.to_json_obj(now) for k in batch.keys],
                "invites": [r.to_json_obj() for r in results],
            }
        )
    else:
        console = err_console()
        console.print(f"[green]✓[/] {len(batch.keys)} key(s) for {batch.assessment.id[:8]}:")
        for key in batch.keys:
            who = f"  {escape(key.candidate_email)}" if key.candidate_email else ""
            console.print(f"  {key.key_text}  {key.id}{who}")
        _report_invites(results)
        console.print(
            f"  pack: promptster assessment export {batch.assessment.id[:8]} -o pack.json"
        )
    _raise_if_failed(results)


@keys.command("list")
@click.argument("assessment_ref", metavar="ASSESSMENT")
@click.option("--status", type=click.Choice(KEY_STATUSES), default=None, help="Only this status.")
@click.option("--json", "as_json", is_flag=True, help="Print the keys as JSON on stdout.")
def list_(assessment_ref: str, status: str | None, as_json: bool) -> None:
    """List an assessment's keys with their status, oldest first."""
    now = datetime.now(UTC)
    with Workspace.open() as workspace:
        record = workspace.get_assessment(assessment_ref)
        rows = [k.to_json_obj(now) for k in workspace.keys_for(record.id)]
    rows = [row for row in rows if status is None or row["status"] == status]
    if as_json:
        print_json({"assessmentId": record.id, "keys": rows})
        return
    if not rows:
        err_console().print("no keys")
        return
    table = plain_table(
        ("id", "key", "status", "expires", "redeemed", "completed", "session", "candidate"),
        [
            [
                row["id"], row["key"], row["status"], _day(row["expiresAt"]),
                _day(row["redeemedAt"]), _day(row["completedAt"]), row["sessionId"] or "-",
                " ".join(filter(None, [row["candidateName"], row["candidateEmail"]])) or "-",
            ]
            for row in rows
        ],
    )  # fmt: skip
    err_console().print(escape(table))


list_.name = "list"


def _day(ts: str | None) -> str:
    return ts[:10] if ts else "-"


@keys.command("revoke")
@click.argument("key_refs", nargs=-1, required=True, metavar="KEYID|KEY...")
@click.option("--passphrase-env", metavar="VAR", default=None, help=PASSPHRASE_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
def revoke(key_refs: tuple[str, ...], passphrase_env: str | None, as_json: bool) -> None:
    """Revoke keys (by id or by the key itself) and re-sign their assessment's pack."""
    signer = unlock_identity(passphrase_env)
    now = datetime.now(UTC)
    with Workspace.open() as workspace:
        revoked = revoke_keys(workspace, signer, key_refs)
    if as_json:
        print_json({"ok": True, "keys": [k.to_json_obj(now) for k in revoked]})
        return
    for key in revoked:
        err_console().print(f"[green]✓[/] revoked {key.id} ({key.key_text})")
    err_console().print(
        "  candidates who already hold the old pack are caught by `promptster verify`"
    )


@keys.command("invite")
@click.argument("key_refs", nargs=-1, required=True, metavar="KEYID|KEY...")
@_delivery_options
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON on stdout.")
def invite(
    key_refs: tuple[str, ...],
    smtp_host: str | None,
    smtp_port: int | None,
    smtp_starttls: bool,
    smtp_user_env: str,
    smtp_password_env: str,
    sender: str | None,
    outbox: Path | None,
    as_json: bool,
) -> None:
    """Send (again) the invite of keys that have a candidate email."""
    smtp = _smtp(smtp_host, smtp_port, smtp_starttls, smtp_user_env, smtp_password_env)
    from_addr = _sender(sender)
    now = datetime.now(UTC)
    results: list[InviteResult] = []
    with Workspace.open() as workspace:
        records = [resolve_key(workspace, ref) for ref in key_refs]
        for record in records:
            status = record.status(now)
            if status in ("revoked", "expired", "completed"):
                raise StateError(f"key {record.id} is {status}; its invite cannot be sent")
            if not record.candidate_email:
                raise StateError(
                    f"key {record.id} has no candidate email",
                    "give the key to the candidate yourself, with the exported pack",
                )
        by_assessment: dict[str, list[KeyRecord]] = {}
        for record in records:
            by_assessment.setdefault(record.assessment_id, []).append(record)
        for assessment_id, group in by_assessment.items():
            assessment = workspace.get_assessment(assessment_id)
            if assessment.pack is None or assessment.deleted_at is not None:
                raise StateError(f"assessment {assessment_id} was deleted")
            results += _send(
                workspace, assessment, group, assessment.pack,
                smtp=smtp, outbox=outbox, sender=from_addr,
            )  # fmt: skip
    if as_json:
        print_json({"invites": [r.to_json_obj() for r in results]})
    else:
        _report_invites(results)
    _raise_if_failed(results)
