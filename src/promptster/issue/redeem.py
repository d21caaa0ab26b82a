"""Redeeming a candidate key against an assessment pack, offline.

`redeem_key` is the one implementation behind `promptster redeem` and `promptster start`:
the key's format and check character, the pack's signature, that the pack lists the key, that
the key is not revoked or expired and was not used on this machine; then the consent screen;
then the redemption is stored in the candidate's state.

This module imports nothing heavy (no duckdb, rich or click): `start` is on the candidate path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from promptster.errors import CheckFailed, InputError, StateError
from promptster.formats.events import format_ts
from promptster.issue import candidate_state
from promptster.issue.assessment import (
    MAX_PACK_BYTES,
    PackKey,
    RepoRef,
    SignedPack,
    looks_like_pack,
    open_pack,
)
from promptster.issue.candidate_state import Redemption
from promptster.issue.keys import CandidateKey, parse_key

CAPTURED: tuple[str, ...] = (
    "commands you run in the recorded shell (opened by `promptster start` and "
    "`promptster shell`), with exit codes, timing and their terminal output",
    "changes to files inside this workspace folder, as snapshots in a separate git history "
    "(your own .git is not touched)",
    "your prompts to AI coding tools and their responses, tool calls and edits, through the "
    "tools' hooks and transcripts",
    "test, lint and build runs, and decisions and notes you record (`promptster explain`)",
    "when each of these happened, and the time limit",
)
NOT_CAPTURED: tuple[str, ...] = (
    "anything outside this workspace folder",
    "other terminals, windows and applications; your screen, camera, microphone and clipboard",
    "your browser",
    "keystroke timing, and anything typed outside the recorded shell",
    "environment variables; secrets (API keys, tokens, private keys, passwords) are redacted "
    "before anything is written",
    "ignored files: .gitignore'd paths, node_modules, virtual environments, caches, build "
    "output and .env files",
)
UPLOAD_NOTE = (
    "Nothing is uploaded. The recording stays on this machine until you run "
    "`promptster submit`, which shows what goes into the bundle before signing it; "
    "you send that file yourself."
)


class ConsentDeclined(StateError):
    """The candidate did not accept the consent text; nothing was stored."""


@dataclass(frozen=True)
class ConsentInfo:
    """What the candidate is shown before they accept. The title is deliberately absent."""

    org: str
    role: str
    time_limit_minutes: int | None
    repo: RepoRef | None
    expires_at: datetime
    reviewer_fingerprint: str
    pack_path: Path
    token_budget_usd: float | None = None
    allowed_tools: tuple[str, ...] | None = None
    captured: tuple[str, ...] = CAPTURED
    not_captured: tuple[str, ...] = NOT_CAPTURED
    upload_note: str = UPLOAD_NOTE

    @property
    def time_limit_text(self) -> str:
        minutes = self.time_limit_minutes
        return f"{minutes} minutes" if minutes else "no time limit"

    def text(self) -> str:
        """The consent screen as plain text."""
        lines = [
            f"Organisation:  {self.org}",
            f"Role:          {self.role}",
            f"Time limit:    {self.time_limit_text}",
            *self._limit_lines(),
            f"Key expires:   {format_ts(self.expires_at)}",
            f"Issued by:     reviewer key {self.reviewer_fingerprint}",
            "",
            "While you work, Promptster records:",
            *(f"  - {item}" for item in self.captured),
            "",
            "It does not record:",
            *(f"  - {item}" for item in self.not_captured),
            "",
            self.upload_note,
        ]
        return "\n".join(lines)

    def _limit_lines(self) -> list[str]:
        """The budget and allowed tools, only when the pack sets them."""
        lines = []
        if self.token_budget_usd is not None:
            lines.append(f"Token budget:  ${self.token_budget_usd:g} of model tokens")
        if self.allowed_tools is not None:
            lines.append(
                f"AI tools:      only {', '.join(self.allowed_tools)} (others are reported)"
            )
        return lines


ConsentCallback = Callable[[ConsentInfo], bool]


@dataclass(frozen=True)
class CheckedKey:
    """A key that passed every check against its pack (consent not yet given)."""

    key: CandidateKey
    signed: SignedPack
    entry: PackKey
    pack_path: Path

    def consent_info(self) -> ConsentInfo:
        pack = self.signed.pack
        return ConsentInfo(
            org=pack.org,
            role=pack.role,
            time_limit_minutes=pack.time_limit_minutes,
            repo=pack.repo,
            expires_at=self.entry.expires_at,
            reviewer_fingerprint=self.signed.reviewer_fingerprint,
            pack_path=self.pack_path,
            token_budget_usd=pack.token_budget_usd,
            allowed_tools=pack.allowed_tools,
        )


def _to_ms(moment: datetime) -> datetime:
    """UTC, truncated to the milliseconds that timestamps are written with."""
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


_MEANT_AS_PACK = re.compile(r"assessment|pack(?!age)", re.IGNORECASE)


def _skipped(path: Path, data: bytes) -> str | None:
    """Why `path` (not a pack) was skipped, when it looks like it was meant to be one."""
    try:
        body = json.loads(data)
    except ValueError as exc:
        return f"{path.name} is not valid JSON ({exc})"
    promptster_like = isinstance(body, dict) and ("payloadType" in body or "format" in body)
    if promptster_like or _MEANT_AS_PACK.search(path.stem):
        return f"{path.name} is valid JSON but not a signed Promptster assessment pack"
    return None


def find_pack(folder: Path) -> Path:
    """The one assessment pack in `folder`, recognized by its format field, not its name.

    When there is none, the hint names the JSON files that look like they were meant to be
    one (they do not parse, or their name or fields say so) and why they were skipped."""
    try:
        candidates = sorted(p for p in folder.glob("*.json") if p.is_file())
    except OSError as exc:
        raise InputError(f"cannot list {folder}: {exc.strerror}") from exc
    found: list[Path] = []
    skipped: list[str] = []
    for path in candidates:
        try:
            if path.stat().st_size > MAX_PACK_BYTES:
                skipped.append(f"{path.name} is larger than an assessment pack can be (16 MiB)")
                continue
            data = path.read_bytes()
        except OSError as exc:
            skipped.append(f"{path.name} cannot be read ({exc.strerror})")
            continue
        if looks_like_pack(data):
            found.append(path)
        elif (why := _skipped(path, data)) is not None:
            skipped.append(why)
    if not found:
        hint = "save the .json file from your invite in this folder, or pass --assessment FILE"
        if skipped:
            hint = f"skipped: {'; '.join(skipped)}. {hint[0].upper()}{hint[1:]}"
        raise InputError(f"no assessment pack in {folder}", hint)
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise InputError(
            f"{len(found)} assessment packs in {folder} ({names})",
            "pass the one that came with your key: --assessment FILE",
        )
    return found[0]


def _read_pack(path: Path) -> SignedPack:
    try:
        size = path.stat().st_size
        if size > MAX_PACK_BYTES:
            raise InputError(f"{path} is {size:,} bytes; an assessment pack is at most 16 MiB")
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise InputError(f"the assessment pack {path} does not exist") from exc
    except OSError as exc:
        raise InputError(f"cannot read the assessment pack {path}: {exc.strerror}") from exc
    return open_pack(data, what=f"the assessment pack {path.name}")


def check_key(
    key_text: str,
    pack_path: Path | None = None,
    *,
    folder: Path | None = None,
    now: datetime | None = None,
) -> CheckedKey:
    """Every check except consent and local one-time use. Raises InputError or CheckFailed."""
    key = parse_key(key_text)
    path = pack_path if pack_path is not None else find_pack(folder or Path.cwd())
    signed = _read_pack(path)
    pack = signed.pack
    entry = pack.find_key(key)
    if entry is None:
        raise CheckFailed(
            f"{key.text} is not one of the keys of this assessment pack ({pack.org}, {pack.role})",
            "use the pack that came in the same invite as the key",
        )
    if entry.revoked:
        raise CheckFailed(
            f"{key.text} was revoked by the reviewer", "ask the reviewer for a new key"
        )
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    if moment >= entry.expires_at:
        raise CheckFailed(
            f"{key.text} expired on {format_ts(entry.expires_at)}",
            "ask the reviewer for a new key",
        )
    return CheckedKey(key, signed, entry, path)


def redeem_key(
    key_text: str,
    pack_path: Path | None,
    accept_consent: ConsentCallback,
    *,
    folder: Path | None = None,
    now: datetime | None = None,
    resume: bool = False,
    state_dir: Path | None = None,
) -> Redemption:
    """Check the key, ask for consent, and store the redemption on this machine.

    With `resume=True` (used by `start`), a key that was redeemed here but has no session yet,
    or whose session was aborted and then set aside by `reset` (never submitted), is returned
    again without asking for consent twice, after re-checking revocation and expiry. A key
    whose session started (or was submitted), or (without `resume`) any key redeemed here, is
    refused.
    """
    key = parse_key(key_text)
    with candidate_state.open_state(state_dir) as state:
        earlier = state.find_key(key.text)
    if earlier is not None and (not resume or not _may_start(earlier)):
        used = f" for session {earlier.session_id}" if earlier.session_id else ""
        if not earlier.session_id:
            hint = "a key is good for one session; run `promptster start` with it to begin"
        elif earlier.completed_at is not None:
            hint = (
                "a key is good for one session, and that one was submitted; "
                "ask the reviewer for a new key"
            )
        else:
            hint = (
                "a key is good for one session: run `promptster start` with it in that "
                "session's workspace to resume it; if it was aborted, run `promptster reset` "
                "there first, then start again"
            )
        raise CheckFailed(
            f"{key.text} was already redeemed on this machine on "
            f"{format_ts(earlier.redeemed_at)}{used}",
            hint,
        )
    if earlier is not None:
        if pack_path is None:
            # The pack in the folder when there is one (it may be a newer revision), else the
            # copy saved when the key was redeemed.
            try:
                pack_path = find_pack(folder or Path.cwd())
            except InputError:
                pack_path = earlier.pack_path
        check_key(key.text, pack_path, now=now)
        return earlier
    checked = check_key(key.text, pack_path, folder=folder, now=now)
    if not accept_consent(checked.consent_info()):
        raise ConsentDeclined("consent was not given; nothing was recorded")
    moment = _to_ms(now or datetime.now(UTC))
    pack = checked.signed.pack
    with candidate_state.open_state(state_dir) as state:
        if state.find(pack.assessment_id, checked.entry.id) is not None:
            raise CheckFailed(f"{key.text} was just redeemed on this machine by another command")
        redemption = Redemption(
            key=key.text,
            key_id=checked.entry.id,
            assessment_id=pack.assessment_id,
            org=pack.org,
            role=pack.role,
            time_limit_minutes=pack.time_limit_minutes,
            repo=pack.repo,
            reviewer_fingerprint=checked.signed.reviewer_fingerprint,
            expires_at=checked.entry.expires_at,
            redeemed_at=moment,
            pack_path=state.save_pack(checked.signed.raw),
            pack_sha256=checked.signed.sha256,
        )
        state.put(redemption)
    return redemption


def _may_start(redemption: Redemption) -> bool:
    """Whether `start` may begin a session with this redemption (none yet, or one released)."""
    if redemption.completed_at is not None:
        return False
    return redemption.session_id is None or redemption.released_at is not None


def find_redemption(key_text: str, state_dir: Path | None = None) -> Redemption | None:
    key = parse_key(key_text)
    with candidate_state.open_state(state_dir) as state:
        return state.find_key(key.text)


def attach_session(
    redemption: Redemption, session_id: str, state_dir: Path | None = None
) -> Redemption:
    """Record that the recorder started session `session_id` with this key."""
    return candidate_state.update(redemption, state_dir, session_id=session_id, released_at=None)


def release_session(
    key_text: str,
    session_id: str,
    released_at: datetime | None = None,
    state_dir: Path | None = None,
) -> bool:
    """After `reset` of the aborted session `session_id`: let its key start a new session.

    Only when the stored redemption still names that session and it was never submitted, so a
    submitted key stays one-time. Returns whether the key was released.
    """
    key = parse_key(key_text)
    with candidate_state.open_state(state_dir) as state:
        current = state.find_key(key.text)
        if current is None or current.session_id != session_id or current.completed_at:
            return False
        moment = _to_ms(released_at or datetime.now(UTC))
        state.put(replace(current, released_at=moment))
        return True


def mark_completed(
    redemption: Redemption,
    session_id: str,
    completed_at: datetime | None = None,
    state_dir: Path | None = None,
) -> Redemption:
    """Record that `submit` finished the session: the key is used up on this machine."""
    return candidate_state.update(
        redemption,
        state_dir,
        session_id=session_id,
        completed_at=_to_ms(completed_at or datetime.now(UTC)),
    )
