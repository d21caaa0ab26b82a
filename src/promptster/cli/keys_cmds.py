"""`promptster keys create|list|revoke|invite`: candidate keys and their invites."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.markup import escape

from promptster.cli.output import err_console, out_console, print_json
from promptster.cli.reviewer_format import plain_table
from promptster.errors import EnvironmentProblem
from promptster.issue.identity import unlock_identity
from promptster.reviewer.assessments import check_email, revoke_keys
from promptster.reviewer.invites import (
    DEFAULT_PASSWORD_ENV,
    DEFAULT_SENDER,
    DEFAULT_USER_ENV,
    InviteResult,
    smtp_settings,
)
from promptster.reviewer.operations import Delivery, issue_keys, list_keys, resend_invites
from promptster.reviewer.store import KEY_STATUSES, Workspace

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


def _delivery(
    host: str | None,
    port: int | None,
    starttls: bool,
    user_env: str,
    password_env: str,
    sender: str | None,
    outbox: Path | None,
) -> Delivery:
    smtp = None
    if host is not None:
        smtp = smtp_settings(
            host, port, starttls=starttls, user_env=user_env, password_env=password_env
        )
    from_addr = check_email(sender or os.environ.get("PROMPTSTER_SMTP_FROM") or DEFAULT_SENDER)
    return Delivery(smtp, outbox, from_addr)


def _report_invites(results: Sequence[InviteResult]) -> None:
    console = out_console()
    for result in results:
        if result.status == "sent":
            console.print(f"  [green]invite sent[/] to {escape(result.email)}")
        elif result.status == "outbox":
            console.print(f"  invite for {escape(result.email)} written to {escape(result.detail)}")
        else:  # a problem to act on: with the diagnostics on stderr
            err_console().print(
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
    delivery = _delivery(
        smtp_host, smtp_port, smtp_starttls, smtp_user_env, smtp_password_env,
        sender if emails else DEFAULT_SENDER, outbox,
    )  # fmt: skip
    signer = unlock_identity(passphrase_env)
    now = datetime.now(UTC)
    with Workspace.open() as workspace:
        issued = issue_keys(
            workspace, signer, assessment_ref,
            count=count, emails=emails, names=names, delivery=delivery,
        )  # fmt: skip
    batch, results = issued.batch, issued.invites
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
        console = out_console()
        console.print(f"[green]✓[/] {len(batch.keys)} key(s) for {batch.assessment.id[:8]}:")
        for key in batch.keys:
            who = f"  {escape(key.candidate_email)}" if key.candidate_email else ""
            console.print(f"  {key.key_text}  {key.id}{who}")
        _report_invites(results)
        err_console().print(
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
        record, found = list_keys(workspace, assessment_ref, status=status)
    rows = [k.to_json_obj(now) for k in found]
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
    out_console().print(escape(table))


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
        out_console().print(f"[green]✓[/] revoked {key.id} ({key.key_text})")
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
    delivery = _delivery(
        smtp_host, smtp_port, smtp_starttls, smtp_user_env, smtp_password_env, sender, outbox
    )
    with Workspace.open() as workspace:
        results = resend_invites(workspace, key_refs, delivery)
    if as_json:
        print_json({"invites": [r.to_json_obj() for r in results]})
    else:
        _report_invites(results)
    _raise_if_failed(results)
