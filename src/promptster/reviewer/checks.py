"""The reviewer's checks on a bundle's assessment pack and candidate key.

`reviewer_checks(workspace)` gives the extra checks for `verify_bundle`:
- the bundle carries its assessment pack (`assessment.json`): no pack, no verification;
- the pack has a valid signature, is for the bundle's assessment, and was issued by this
  reviewer (`issuer`): signed by the key the workspace recorded for the assessment, or by one of
  the reviewer's own keys (identity, `--reviewer-key`). A pack signed by another key fails;
  with no key to compare, the issuer is "not checked" (a warning, or a failure with
  `require_issuer`);
- the bundle's candidate key hashes to an entry of the pack;
- the session started before that key expired;
- the key was not revoked (in the pack, or in the workspace before the session started).
A workspace that exists but cannot be read (in use by another process, damaged) fails the
check: revocations recorded there would otherwise go unnoticed.

`default_checks()` is what every reviewer command that verifies a bundle runs (verify, review,
score, import, cohort), so that they cannot drift apart.

`find_duplicate_keys(reports)` finds keys used by more than one bundle of a cohort;
`find_copies(reports)` finds bundles that share a session, a chain head or snapshots.
This module imports duckdb only when a workspace is consulted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promptster import paths
from promptster.bundle.format import Manifest
from promptster.bundle.verify import ExtraCheck, Finding, VerifyContext, VerifyReport
from promptster.errors import CheckFailed, FormatError, InputError, PromptsterError
from promptster.formats.events import format_ts, parse_ts
from promptster.issue.assessment import AssessmentPack, SignedPack, open_pack
from promptster.issue.keys import parse_key
from promptster.reviewer.issuer import ISSUER_CHECK, UNCHECKED_PREFIX, own_reviewer_keys
from promptster.reviewer.limitscheck import AssessmentLimitsCheck
from promptster.reviewer.timecheck import TimeLimitCheck

if TYPE_CHECKING:
    from promptster.reviewer.store import Workspace

PACK_CHECK = "assessment"
KEY_CHECK = "candidate-key"
COHORT_CHECK = "cohort"


@dataclass(frozen=True)
class _Known:
    """What the reviewer workspace says about an assessment and a key."""

    reviewer_public_key: str
    key_id: str | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class _Unreadable:
    """The workspace exists but could not be read: why, and what to do."""

    message: str


def default_workspace() -> Path | None:
    """The reviewer workspace of this user, when there is one."""
    path = paths.workspace_db_path()
    return path if path.exists() else None


@dataclass
class AssessmentPackCheck:
    """An ExtraCheck (a plain picklable object, so verify can run it in worker processes)."""

    workspace: Path | None = None
    # Fingerprints of the reviewer's own keys (reviewer/issuer.py), and whether an issuer that
    # cannot be compared with any of them fails.
    reviewer_keys: tuple[str, ...] = ()
    require_issuer: bool = False
    # The workspace when this process has it open already (`import`); never pickled.
    opened: Workspace | None = field(default=None, repr=False, compare=False)
    _cache: dict[tuple[str, str | None], _Known | _Unreadable | None] = field(
        default_factory=dict, repr=False
    )

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "opened": None}

    def __call__(self, context: VerifyContext, findings: list[Finding]) -> None:
        manifest = context.manifest
        if manifest is None:
            return
        if context.assessment_pack is None:
            if any(f.check == "hashes" and f.status == "failed" for f in findings):
                return  # the pack is there but changed: the hash check said so
            findings.append(
                Finding(
                    PACK_CHECK,
                    "failed",
                    "the bundle carries no assessment pack (assessment.json): who issued the "
                    "assessment and the candidate key cannot be checked",
                )
            )
            return
        try:
            signed = open_pack(context.assessment_pack, what="assessment.json")
        except (FormatError, CheckFailed) as exc:
            findings.append(Finding(PACK_CHECK, "failed", exc.message))
            return
        pack = signed.pack
        if manifest.assessment_id != pack.assessment_id:
            findings.append(
                Finding(
                    PACK_CHECK,
                    "failed",
                    f"the bundle is for assessment {manifest.assessment_id}, but its pack is for "
                    f"{pack.assessment_id}",
                )
            )
            return
        known = self._known(pack.assessment_id, manifest.candidate_key)
        if isinstance(known, _Unreadable):
            findings.append(
                Finding(
                    PACK_CHECK,
                    "failed",
                    "cannot check the pack and the candidate key against your reviewer "
                    f"workspace (revocations are recorded there): {known.message}",
                )
            )
            return
        if not self._check_signer(signed, known, findings):
            return
        self._check_key(signed, manifest, known, findings)

    def _known(self, assessment_id: str, key_text: str | None) -> _Known | _Unreadable | None:
        if self.workspace is None and self.opened is None:
            return None
        cache_key = (assessment_id, key_text)
        if cache_key not in self._cache:
            self._cache[cache_key] = _lookup(self.opened or self.workspace, assessment_id, key_text)
        return self._cache[cache_key]

    def _check_signer(
        self, signed: SignedPack, known: _Known | None, findings: list[Finding]
    ) -> bool:
        pack = signed.pack
        fingerprint = signed.reviewer_fingerprint
        if known is not None:
            if known.reviewer_public_key != pack.reviewer_public_key.text:
                findings.append(
                    Finding(
                        ISSUER_CHECK,
                        "failed",
                        f"the assessment pack is signed by reviewer key {fingerprint}, not by the "
                        "key that created this assessment in your workspace (signed by someone "
                        "else)",
                    )
                )
                return False
            findings.append(
                Finding(
                    ISSUER_CHECK, "ok", f"assessment pack signed by your reviewer key {fingerprint}"
                )
            )
            return True
        if self.reviewer_keys:
            if fingerprint in self.reviewer_keys:
                findings.append(
                    Finding(
                        ISSUER_CHECK,
                        "ok",
                        f"assessment pack signed by your reviewer key {fingerprint}",
                    )
                )
                return True
            findings.append(
                Finding(
                    ISSUER_CHECK,
                    "failed",
                    f"assessment {pack.assessment_id} was issued by reviewer key {fingerprint}, "
                    "which is not yours (a self-made or someone else's assessment)",
                )
            )
            return False
        findings.append(
            Finding(
                ISSUER_CHECK,
                "failed" if self.require_issuer else "warning",
                f"{UNCHECKED_PREFIX}: assessment {pack.assessment_id} has a pack validly signed "
                f"by reviewer key {fingerprint}, but there is no reviewer key here to compare it "
                "with (no reviewer identity; pass --reviewer-key FILE|FINGERPRINT)",
            )
        )
        return True

    def _check_key(
        self,
        signed: SignedPack,
        manifest: Manifest,
        known: _Known | None,
        findings: list[Finding],
    ) -> None:
        pack = signed.pack
        if not manifest.candidate_key:
            findings.append(
                Finding(KEY_CHECK, "failed", "the bundle carries a pack but no candidate key")
            )
            return
        try:
            key = parse_key(manifest.candidate_key)
        except InputError as exc:
            findings.append(Finding(KEY_CHECK, "failed", f"the bundle's key: {exc.message}"))
            return
        hint = manifest.extra.get("candidateKeyId")
        hint_id = (
            known.key_id if known and known.key_id else hint if isinstance(hint, str) else None
        )
        entry, untried = pack.find_key_bounded(key, hint_id)
        if entry is None and untried:
            findings.append(_untried_keys(pack, untried))
            return
        if entry is None:
            findings.append(
                Finding(
                    KEY_CHECK,
                    "failed",
                    f"the bundle's key {key.text} does not match any key of its assessment pack",
                )
            )
            return
        try:
            started = parse_ts(manifest.started_at)
        except FormatError as exc:
            findings.append(Finding(KEY_CHECK, "failed", exc.message))
            return
        problems = 0
        if started >= entry.expires_at:
            problems += 1
            findings.append(
                Finding(
                    KEY_CHECK,
                    "failed",
                    f"the session started at {manifest.started_at}, after key {entry.id} expired "
                    f"at {format_ts(entry.expires_at)}",
                )
            )
        if entry.revoked:
            problems += 1
            findings.append(
                Finding(KEY_CHECK, "failed", f"key {entry.id} is marked revoked in the pack")
            )
        elif known is not None and known.revoked_at is not None:
            before = known.revoked_at <= started
            problems += before
            findings.append(
                Finding(
                    KEY_CHECK,
                    "failed" if before else "warning",
                    f"you revoked key {entry.id} at {format_ts(known.revoked_at)}, "
                    f"{'before' if before else 'after'} the session started "
                    f"({manifest.started_at})",
                )
            )
        if not problems:
            findings.append(
                Finding(
                    KEY_CHECK,
                    "ok",
                    f"key {key.masked} is {entry.id} of the pack, used before it expired, not "
                    "revoked",
                )
            )


def _untried_keys(pack: AssessmentPack, untried: int) -> Finding:
    """The bundle's key matched none of the entries tried within the scrypt budget."""
    tried = len(pack.keys) - untried
    return Finding(
        KEY_CHECK,
        "warning",
        f"the bundle's key matches none of the {tried} keys of its pack compared (of "
        f"{len(pack.keys):,}; each costs a slow scrypt derivation, so the rest were not "
        "compared): import the assessment into your reviewer workspace, which names the key",
    )


def _lookup(
    workspace: Path | Workspace | None, assessment_id: str, key_text: str | None
) -> _Known | _Unreadable | None:
    """The workspace's record of the assessment and key; why, when it cannot be read."""
    from promptster.reviewer.store import Workspace

    if workspace is None or (isinstance(workspace, Path) and not workspace.exists()):
        return None
    try:
        canonical = parse_key(key_text).text if key_text else None
    except InputError:
        canonical = None
    try:
        if isinstance(workspace, Workspace):
            assessment = workspace.find_assessment(assessment_id)
            key = workspace.find_key_by_text(canonical) if canonical and assessment else None
        else:
            with Workspace.open(workspace, read_only=True) as ws:
                assessment = ws.find_assessment(assessment_id)
                key = ws.find_key_by_text(canonical) if canonical and assessment else None
    except PromptsterError as exc:
        return _Unreadable(exc.message + (f"; {exc.hint}" if exc.hint else ""))
    if assessment is None:
        return None
    return _Known(
        reviewer_public_key=assessment.reviewer_public_key,
        key_id=key.id if key and key.assessment_id == assessment_id else None,
        revoked_at=key.revoked_at if key and key.assessment_id == assessment_id else None,
    )


def reviewer_checks(
    workspace: Path | None = None,
    *,
    opened: Workspace | None = None,
    reviewer_keys: Sequence[str] = (),
    require_issuer: bool = False,
) -> list[ExtraCheck]:
    """Extra checks for `verify_bundle`; `workspace` is the reviewer's DuckDB file, or None;
    `opened` is that workspace when this process holds it open already; `reviewer_keys` are
    the fingerprints of the reviewer's own keys."""
    return [
        AssessmentPackCheck(
            workspace,
            reviewer_keys=tuple(reviewer_keys),
            require_issuer=require_issuer,
            opened=opened,
        ),
        TimeLimitCheck(),
        AssessmentLimitsCheck(),
    ]


def default_checks(
    opened: Workspace | None = None,
    *,
    reviewer_keys: Sequence[str] = (),
    require_issuer: bool = False,
) -> list[ExtraCheck]:
    """The checks every reviewer command runs on a bundle besides the core ones: the pack and
    candidate key, against this user's reviewer workspace when there is one (or `opened`),
    and the issuer against this reviewer's keys (`reviewer_keys` plus the local identity)."""
    keys = own_reviewer_keys(reviewer_keys)
    workspace = opened.path if opened is not None else default_workspace()
    return reviewer_checks(
        workspace, opened=opened, reviewer_keys=keys, require_issuer=require_issuer
    )


def issuer_unchecked(report: VerifyReport) -> bool:
    """True when the report could not compare the pack's signer with any of the reviewer's
    keys: the result must say so first."""
    return any(
        f.check == ISSUER_CHECK and f.message.startswith(UNCHECKED_PREFIX) for f in report.findings
    )


@dataclass(frozen=True)
class DuplicateKey:
    """One candidate key found in several bundles of a cohort."""

    key: str
    assessment_id: str | None
    paths: tuple[Path, ...]
    session_ids: tuple[str, ...]

    @property
    def message(self) -> str:
        others = ", ".join(p.name for p in self.paths)
        same = " (the same session, submitted twice)" if len(set(self.session_ids)) == 1 else ""
        return f"key {self.key} was used by {len(self.paths)} bundles{same}: {others}"

    def finding(self) -> Finding:
        return Finding(COHORT_CHECK, "failed", self.message)


def find_duplicate_keys(reports: Iterable[VerifyReport]) -> list[DuplicateKey]:
    """Keys that appear in more than one bundle (per assessment), in a stable order."""
    groups: dict[tuple[str | None, str], list[tuple[Path, str]]] = {}
    for report in reports:
        manifest = report.context.manifest
        if manifest is None or not manifest.candidate_key:
            continue
        try:
            key = parse_key(manifest.candidate_key).text
        except InputError:
            key = manifest.candidate_key.strip().upper()
        groups.setdefault((manifest.assessment_id, key), []).append(
            (report.path, manifest.session_id)
        )
    duplicates = [
        DuplicateKey(
            key=key,
            assessment_id=assessment_id,
            paths=tuple(path for path, _ in members),
            session_ids=tuple(session for _, session in members),
        )
        for (assessment_id, key), members in groups.items()
        if len(members) > 1
    ]
    return sorted(duplicates, key=lambda d: (d.assessment_id or "", d.key))
