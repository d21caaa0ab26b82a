"""Invites: one email per candidate with the key, the brief's first lines, the install and
start instructions, and the signed assessment pack attached.

They go over SMTP (optionally STARTTLS; user and password from environment variables) or, with
no SMTP server configured, into an outbox folder as `.eml` files the reviewer can send by hand.
A failed send never undoes the key: each invite gets its own result, and `keys invite` re-sends.
"""

from __future__ import annotations

import contextlib
import os
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from pathlib import Path
from typing import Literal

from promptster.errors import InputError
from promptster.fsutil import atomic_write_bytes
from promptster.reviewer.store import AssessmentRecord, KeyRecord

DEFAULT_SENDER = "promptster@localhost"
DEFAULT_USER_ENV = "PROMPTSTER_SMTP_USER"
DEFAULT_PASSWORD_ENV = "PROMPTSTER_SMTP_PASSWORD"
BRIEF_PREVIEW_LINES = 12
# The README's install line: Promptster installs from a checkout of its repository.
INSTALL_COMMAND = "pipx install ."
SMTP_TIMEOUT_SECONDS = 60.0

InviteStatus = Literal["sent", "outbox", "failed"]


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    starttls: bool = False
    username: str | None = None
    password: str | None = None


def smtp_settings(
    host: str,
    port: int | None,
    *,
    starttls: bool,
    user_env: str = DEFAULT_USER_ENV,
    password_env: str = DEFAULT_PASSWORD_ENV,
) -> SmtpSettings:
    """Settings with credentials from the environment (never from the command line)."""
    username = os.environ.get(user_env) or None
    password = os.environ.get(password_env) or None
    if username and not password:
        raise InputError(f"{user_env} is set but {password_env} is not")
    if username and not starttls:
        raise InputError(
            "refusing to send the SMTP password over an unencrypted connection",
            "add --smtp-starttls, or unset the SMTP user variable",
        )
    return SmtpSettings(host, port or (587 if starttls else 25), starttls, username, password)


@dataclass(frozen=True)
class InviteResult:
    key_id: str
    email: str
    status: InviteStatus
    detail: str

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    def to_json_obj(self) -> dict[str, str]:
        return {
            "keyId": self.key_id,
            "email": self.email,
            "status": self.status,
            "detail": self.detail,
        }


def pack_filename(assessment_id: str) -> str:
    return f"promptster-assessment-{assessment_id[:8]}.json"


def brief_preview(brief: str, lines: int = BRIEF_PREVIEW_LINES) -> str:
    kept = brief.strip().splitlines()
    preview = "\n".join(kept[:lines])
    if len(kept) > lines:
        preview += "\n[…]"
    return preview


def build_invite(
    assessment: AssessmentRecord, key: KeyRecord, pack: bytes, sender: str
) -> EmailMessage:
    if not key.candidate_email:
        raise InputError(f"key {key.id} has no candidate email to send an invite to")
    limit = (
        f"{assessment.time_limit_minutes} minutes"
        if assessment.time_limit_minutes
        else "no time limit"
    )
    greeting = f"Hello {key.candidate_name}," if key.candidate_name else "Hello,"
    expires = key.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    filename = pack_filename(assessment.id)
    body = f"""{greeting}

{assessment.org} invites you to a take-home assessment for the role of {assessment.role}.
Time limit: {limit}. Your key expires on {expires}.

Your candidate key:

    {key.key_text}

The task starts like this:

{brief_preview(assessment.brief)}

How to start
1. Install Promptster (Python 3.11 or newer) from a checkout of its repository,
   in that checkout:
       {INSTALL_COMMAND}        (or, in a virtualenv: python3 -m pip install .)
2. Make an empty folder and save the attached file {filename} in it.
3. In that folder, run:
       promptster start {key.key_text}
   Promptster shows what it records and what it does not, and asks for your consent
   before anything is recorded. Work as you usually do, with or without AI tools.
4. When you are done, run `promptster submit` and send back the .pst file it writes.

Nothing leaves your machine until you send that file yourself.
"""
    message = EmailMessage()
    message["Subject"] = f"{assessment.org}: your assessment for {assessment.role}"
    message["From"] = sender
    message["To"] = formataddr((key.candidate_name or "", key.candidate_email))
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(body)
    message.add_attachment(pack, maintype="application", subtype="json", filename=filename)
    return message


class _Connection:
    """One SMTP connection, opened on first use and reopened after the server drops it."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None

    def get(self) -> smtplib.SMTP:
        if self.smtp is None:
            smtp = smtplib.SMTP(
                self.settings.host, self.settings.port, timeout=SMTP_TIMEOUT_SECONDS
            )
            try:
                smtp.ehlo()
                if self.settings.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if self.settings.username and self.settings.password:
                    smtp.login(self.settings.username, self.settings.password)
            except BaseException:
                _quietly_close(smtp)
                raise
            self.smtp = smtp
        return self.smtp

    def drop(self) -> None:
        if self.smtp is not None:
            _quietly_close(self.smtp)
            self.smtp = None

    def close(self) -> None:
        if self.smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.smtp.quit()
            self.drop()


def _quietly_close(smtp: smtplib.SMTP) -> None:
    with contextlib.suppress(OSError):
        smtp.close()


def _describe(exc: BaseException, settings: SmtpSettings) -> tuple[str, bool]:
    """A message for a failed send, and whether later sends are pointless too."""
    where = f"{settings.host}:{settings.port}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = "; ".join(
            f"{code} {text.decode('utf-8', 'replace')}" for code, text in exc.recipients.values()
        )
        return f"the SMTP server refused the recipient ({codes})", False
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return f"the SMTP server refused the sender ({exc.smtp_code} {_text(exc.smtp_error)})", True
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"the SMTP server at {where} rejected the user name or password", True
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"the SMTP server at {where} does not support STARTTLS", True
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return f"the SMTP server at {where} closed the connection", False
    if isinstance(exc, smtplib.SMTPResponseException):
        return (
            f"the SMTP server refused the message ({exc.smtp_code} {_text(exc.smtp_error)})",
            False,
        )
    if isinstance(exc, ssl.SSLError):
        return f"TLS with the SMTP server at {where} failed: {exc.reason or exc}", True
    if isinstance(exc, OSError):
        return f"cannot reach the SMTP server at {where}: {exc.strerror or exc}", True
    return f"sending failed: {exc}", False


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def send_smtp(
    messages: Sequence[tuple[KeyRecord, EmailMessage]], settings: SmtpSettings, sender: str
) -> list[InviteResult]:
    """Send each (key id, message); return one result per message, in order."""
    connection = _Connection(settings)
    results: list[InviteResult] = []
    fatal: str | None = None
    try:
        for key, message in messages:
            key_id, recipient = key.id, key.candidate_email or ""
            if fatal is not None:
                results.append(InviteResult(key_id, recipient, "failed", fatal))
                continue
            try:
                connection.get().send_message(message, from_addr=sender)
            except (smtplib.SMTPException, OSError) as exc:
                detail, stop = _describe(exc, settings)
                connection.drop()  # the next invite starts on a clean connection
                if stop:
                    fatal = detail
                results.append(InviteResult(key_id, recipient, "failed", detail))
                continue
            results.append(InviteResult(key_id, recipient, "sent", f"sent via {settings.host}"))
    finally:
        connection.close()
    return results


def write_outbox(
    messages: Sequence[tuple[KeyRecord, EmailMessage]], outbox: Path
) -> list[InviteResult]:
    results: list[InviteResult] = []
    for key, message in messages:
        key_id, recipient = key.id, key.candidate_email or ""
        path = outbox / f"{key_id}.eml"
        try:
            atomic_write_bytes(path, message.as_bytes(), mode=0o600)
        except OSError as exc:
            results.append(
                InviteResult(key_id, recipient, "failed", f"cannot write {path}: {exc.strerror}")
            )
            continue
        results.append(InviteResult(key_id, recipient, "outbox", str(path)))
    return results


def deliver(
    assessment: AssessmentRecord,
    keys: Sequence[KeyRecord],
    pack: bytes,
    *,
    smtp: SmtpSettings | None,
    outbox: Path,
    sender: str = DEFAULT_SENDER,
) -> list[InviteResult]:
    """Invite every key that has an email: over SMTP when configured, else into `outbox`."""
    messages = [
        (key, build_invite(assessment, key, pack, sender)) for key in keys if key.candidate_email
    ]
    if smtp is None:
        return write_outbox(messages, outbox)
    return send_smtp(messages, smtp, sender)
