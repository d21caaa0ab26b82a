"""The reviewer's assessment and key commands as one core call each.

`promptster assessment …` and `promptster keys …` parse their options, open the workspace and
call one function here; the function looks records up, checks states, changes the workspace
(re-signing packs through promptster.reviewer.assessments) and sends invites.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from promptster import paths
from promptster.errors import StateError
from promptster.issue.identity import Signer
from promptster.reviewer.assessments import (
    AssessmentSpec,
    KeyBatch,
    create_assessment,
    create_keys,
    delete_assessment,
    resolve_key,
)
from promptster.reviewer.invites import InviteResult, SmtpSettings, deliver
from promptster.reviewer.store import KEY_STATUSES, AssessmentRecord, KeyRecord, Workspace


@dataclass(frozen=True)
class AssessmentView:
    """An assessment with how many of its keys are in each status, and its hidden tests."""

    record: AssessmentRecord
    key_counts: dict[str, int]
    hidden_tests: dict[str, Any] | None = None

    def to_json_obj(self, *, brief: bool = True) -> dict[str, Any]:
        body = self.record.to_json_obj()
        body["keyCounts"] = dict(self.key_counts)
        if self.hidden_tests is not None:
            body["hiddenTests"] = self.hidden_tests
        if not brief:
            del body["taskBrief"]
        return body


@dataclass(frozen=True)
class HiddenTestsChange:
    """Hidden tests to attach (or, for an update, to change): the folder, command, limit."""

    folder: Path | None
    command: str | None = None
    timeout_seconds: int | None = None


def _view(
    workspace: Workspace, record: AssessmentRecord, *, with_hidden: bool = False
) -> AssessmentView:
    now = datetime.now(UTC)
    counts = Counter(key.status(now) for key in workspace.keys_for(record.id))
    hidden = None
    if with_hidden:
        from promptster.reviewer.hidden_tests.suite import load_suite

        suite = load_suite(workspace, record.id)
        hidden = None if suite is None else suite.to_json_obj()
    by_status: dict[str, int] = {status: counts.get(status, 0) for status in KEY_STATUSES}
    return AssessmentView(record, by_status, hidden)


def _attach(workspace: Workspace, assessment_id: str, change: HiddenTestsChange) -> dict[str, Any]:
    from promptster.reviewer.hidden_tests.suite import attach_suite

    suite = attach_suite(
        workspace,
        assessment_id,
        change.folder,
        command=change.command,
        timeout_seconds=change.timeout_seconds,
    )
    return dict(suite.to_json_obj())


def new_assessment(
    workspace: Workspace,
    signer: Signer,
    spec: AssessmentSpec,
    hidden: HiddenTestsChange | None = None,
) -> AssessmentView:
    """Create and sign the assessment; attach its hidden tests (kept here, never in the pack)."""
    record = create_assessment(workspace, signer, spec)
    tests = _attach(workspace, record.id, hidden) if hidden is not None else None
    view = _view(workspace, record)
    return AssessmentView(view.record, view.key_counts, tests)


def set_hidden_tests(
    workspace: Workspace, ref: str, change: HiddenTestsChange | None
) -> tuple[AssessmentRecord, dict[str, Any] | None]:
    """Attach or change an assessment's hidden tests; None removes them."""
    record = workspace.get_assessment(ref)
    if change is None:
        from promptster.reviewer.hidden_tests.suite import remove_suite

        remove_suite(workspace, record.id)
        return record, None
    return record, _attach(workspace, record.id, change)


def list_assessments(workspace: Workspace, *, include_deleted: bool) -> list[AssessmentView]:
    records = workspace.list_assessments(include_deleted=include_deleted)
    return [_view(workspace, record) for record in records]


def show_assessment(workspace: Workspace, ref: str) -> AssessmentView:
    return _view(workspace, workspace.get_assessment(ref), with_hidden=True)


def remove_assessment(
    workspace: Workspace,
    signer: Signer,
    ref: str,
    confirm: Callable[[AssessmentRecord], bool],
) -> AssessmentRecord | None:
    """Soft-delete `ref` once `confirm` agrees; None when it does not."""
    record = workspace.get_assessment(ref)
    if not confirm(record):
        return None
    return delete_assessment(workspace, signer, record.id)


@dataclass(frozen=True)
class Delivery:
    """How invites go out: over SMTP when `smtp` is set, else as .eml files into `outbox`
    (default: the reviewer home's outbox, one folder per assessment)."""

    smtp: SmtpSettings | None
    outbox: Path | None
    sender: str


def _send(
    workspace: Workspace,
    assessment: AssessmentRecord,
    keys: Sequence[KeyRecord],
    pack: bytes,
    delivery: Delivery,
) -> list[InviteResult]:
    outbox = delivery.outbox or paths.outbox_dir() / assessment.id
    results = deliver(
        assessment, keys, pack, smtp=delivery.smtp, outbox=outbox, sender=delivery.sender
    )
    now = datetime.now(UTC)
    with workspace.transaction():
        for result in results:
            workspace.set_invite(result.key_id, result.status, result.detail, now)
    return results


@dataclass(frozen=True)
class IssuedKeys:
    batch: KeyBatch
    invites: list[InviteResult]


def issue_keys(
    workspace: Workspace,
    signer: Signer,
    ref: str,
    *,
    count: int | None,
    emails: Sequence[str],
    names: Sequence[str],
    delivery: Delivery,
) -> IssuedKeys:
    """Create keys (re-signing the pack) and invite the candidates that have an email."""
    batch = create_keys(workspace, signer, ref, count=count, emails=emails, names=names)
    invites: list[InviteResult] = []
    if emails:
        invites = _send(workspace, batch.assessment, batch.keys, batch.pack, delivery)
    return IssuedKeys(batch, invites)


def list_keys(
    workspace: Workspace, ref: str, *, status: str | None
) -> tuple[AssessmentRecord, list[KeyRecord]]:
    """An assessment's keys, oldest first; only those in `status` when given."""
    record = workspace.get_assessment(ref)
    now = datetime.now(UTC)
    found = [k for k in workspace.keys_for(record.id) if status is None or k.status(now) == status]
    return record, found


def resend_invites(
    workspace: Workspace, refs: Sequence[str], delivery: Delivery
) -> list[InviteResult]:
    """Send again the invite of each key (by id or key text); every key must be invitable."""
    now = datetime.now(UTC)
    records = [resolve_key(workspace, ref) for ref in refs]
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
    results: list[InviteResult] = []
    for assessment_id, group in by_assessment.items():
        assessment = workspace.get_assessment(assessment_id)
        if assessment.pack is None or assessment.deleted_at is not None:
            raise StateError(f"assessment {assessment_id} was deleted")
        results += _send(workspace, assessment, group, assessment.pack, delivery)
    return results
