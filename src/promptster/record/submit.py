"""Writing a finished session's bundle: summary, signing, verification, idempotence.

`write_submission` only runs on an ended session (its journal is closed, the recorder has
stopped). It writes the bundle atomically, verifies it with the same code reviewers run, and
only then records it in session.json. Run again, it returns the same, still-valid bundle, or
writes it again when the file is gone (bundles are deterministic: same bytes, same SHA-256).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from promptster.bundle.verify import verify_bundle
from promptster.bundle.writer import SessionMaterial, create_git_bundle, write_bundle
from promptster.errors import CheckFailed, EnvironmentProblem, StateError
from promptster.formats.crypto import SigningKey
from promptster.formats.events import FILE_KINDS, Event, parse_ts
from promptster.record.journal import read_journal
from promptster.record.session import (
    ABORTED,
    ACTIVE,
    ENDED,
    SUBMITTED,
    SessionPaths,
    SessionState,
    read_state,
    update_state,
)
from promptster.record.shell.cast import collect_casts

log = logging.getLogger("promptster.submit")


@dataclass(frozen=True)
class SubmissionSummary:
    session_id: str
    event_count: int
    counts: dict[str, int]
    files: list[str]
    redactions: int
    warnings: dict[str, int]
    size_bytes: int
    started_at: str
    last_ts: str | None
    problems: list[str] = field(default_factory=list)

    def to_json_obj(self) -> dict[str, Any]:
        return {
            "sessionId": self.session_id,
            "eventCount": self.event_count,
            "counts": self.counts,
            "files": self.files,
            "redactions": self.redactions,
            "warnings": self.warnings,
            "sizeBytes": self.size_bytes,
            "startedAt": self.started_at,
            "lastEventAt": self.last_ts,
            "problems": self.problems,
        }


@dataclass(frozen=True)
class SubmitResult:
    path: Path
    sha256: str
    size: int
    event_count: int
    already: bool


def summarize(paths: SessionPaths) -> SubmissionSummary:
    """What a bundle of this session would contain (read from the journal as it is now)."""
    state = read_state(paths)
    contents = read_journal(paths.journal, state.session_id)
    counts: Counter[str] = Counter()
    warnings: Counter[str] = Counter()
    files: set[str] = set()
    redactions = 0
    for event in contents.events:
        counts[event.kind] += 1
        if event.kind in FILE_KINDS and isinstance(event.data.get("path"), str):
            files.add(event.data["path"])
        if event.kind == "warning":
            code = str(event.data.get("code", ""))
            warnings[code] += 1
            if code == "redaction":
                count = event.data.get("count", 1)
                redactions += count if isinstance(count, int) else 1
    problems = []
    if contents.problem:
        problems.append(contents.problem)
    size = _folder_size(paths.shadow_git) + _size(paths.journal) + _size(paths.assessment)
    return SubmissionSummary(
        session_id=state.session_id,
        event_count=len(contents.events),
        counts=dict(sorted(counts.items())),
        files=sorted(files),
        redactions=redactions,
        warnings=dict(sorted(warnings.items())),
        size_bytes=size,
        started_at=state.started_at,
        last_ts=contents.events[-1].ts if contents.events else None,
        problems=problems,
    )


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _folder_size(folder: Path) -> int:
    return sum(_size(p) for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0


SubmitMode = Literal["submit", "auto"]  # the `session_end` reason: by the candidate, at the limit


def submit_session(
    paths: SessionPaths,
    mode: SubmitMode = "submit",
    *,
    confirm: Callable[[SubmissionSummary], bool] | None = None,
    output: Path | None = None,
    end: Callable[[str], object] | None = None,
    note: Callable[[str], None] | None = None,
) -> SubmitResult | None:
    """The whole submit flow: `promptster submit` and the recorder's submit at the time limit.

    An active session is ended first (reason `mode`). With `confirm`, it gets a fresh snapshot
    and its summary is passed to `confirm`, which may refuse: then nothing changes and None is
    returned. `end` ends the session (default: ask its recorder; the recorder passes its own).
    A Claude Code set-up still in place is undone (`note` hears what could not be restored),
    then the bundle is written and verified. Harmless to run again on a submitted session.
    """
    from promptster.record.control import ask, end_session, restore_tool_config

    state = read_state(paths)
    if state.status == ABORTED:
        raise StateError(
            "this session was aborted and cannot be submitted",
            "`promptster reset` sets it aside; then `promptster start` with your key starts "
            "a new session",
        )
    if state.active:
        if confirm is not None:
            ask(paths, {"op": "snapshot", "reason": "submit"}, timeout=120.0)
            if not confirm(summarize(paths)):
                return None
        if end is None:
            end_session(paths, mode)
        else:
            end(mode)
    for text in restore_tool_config(state.workspace_path):  # if the session ended elsewhere
        if note is not None:
            note(text)
    return write_submission(paths, output)


def default_output(state: SessionState) -> Path:
    return state.workspace_path / f"submission-{state.session_id[:8]}.pst"


def write_submission(paths: SessionPaths, output: Path | None = None) -> SubmitResult:
    """Write, sign and verify the bundle of an ended session; harmless to run twice."""
    state = read_state(paths)
    if state.status in (ACTIVE, ABORTED):
        raise StateError(
            f"the session is {state.status}; only an ended session can be bundled",
            "run `promptster submit`"
            if state.status == ACTIVE
            else "an aborted session cannot be submitted; start a new one",
        )
    target = (output or default_output(state)).expanduser().absolute()
    if state.status == SUBMITTED and state.bundle:
        previous = Path(str(state.bundle.get("path")))
        if (output is None or previous == target) and _still_valid(previous, state.bundle):
            return SubmitResult(
                previous,
                str(state.bundle["sha256"]),
                int(state.bundle["size"]),
                int(state.bundle.get("eventCount", 0)),
                already=True,
            )
    if state.status not in (ENDED, SUBMITTED):
        raise StateError(f"the session is {state.status}")
    timeline = paths.journal.read_bytes()
    contents = read_journal(paths.journal, state.session_id)
    if not contents.intact or not contents.events:
        raise CheckFailed(
            f"the session's journal is damaged: {contents.problem or 'it ends in a partial line'}",
            f"keep {paths.root} as it is and contact the reviewer",
        )
    pack = paths.assessment.read_bytes() if paths.assessment.exists() else None
    # `git bundle create` runs while line authorship is computed (mostly Python: the GIL is
    # free for the thread that waits on git); a failure of it is raised where writing is
    with ThreadPoolExecutor(1) as worker:
        snapshots = worker.submit(create_git_bundle, paths.shadow_git)
        authorship = _authorship(paths, contents.events, state.workspace)
    material = SessionMaterial(
        session_id=state.session_id,
        started_at=state.started_at,
        ended_at=contents.events[-1].ts,
        timeline=timeline,
        shadow_git_dir=paths.shadow_git,
        assessment_id=state.assessment_id,
        candidate_key=state.candidate_key,
        assessment_pack=pack,
        casts=collect_casts(paths.root, parse_ts(contents.events[-1].ts).timestamp()),
        authorship=authorship,
    )
    key = SigningKey.load(paths.key)
    try:
        material.snapshots = snapshots.result()
        written = write_bundle(material, key, target)
    except OSError as exc:
        raise EnvironmentProblem(
            f"cannot write the bundle to {target}: {exc.strerror}",
            "free some disk space or pass -o with another folder, then run submit again",
        ) from exc
    report = verify_bundle(written.path)
    if not report.ok:
        bad = written.path.with_name(written.path.name + ".invalid")
        written.path.replace(bad)
        first = report.failures[0]
        raise CheckFailed(
            f"the bundle did not verify ({first.check}: {first.message}); it was kept as {bad}",
            "this is a bug in promptster: report it with that file and the session folder",
        )
    bundle = {
        "path": str(written.path),
        "sha256": written.sha256,
        "size": written.size,
        "eventCount": written.manifest.event_count,
    }

    def mark(current: SessionState) -> None:
        current.status = SUBMITTED
        current.bundle = bundle

    update_state(paths, mark)
    _mark_key_used(state)
    return SubmitResult(
        written.path, written.sha256, written.size, written.manifest.event_count, already=False
    )


def _authorship(paths: SessionPaths, journal: list[Event], workspace: str) -> bytes | None:
    """authorship.json for the final snapshot; None (no member: blame says it is unavailable)
    when it cannot be computed, which never stops a submit."""
    from promptster.bundle.format import SNAPSHOT_REF
    from promptster.gitutil import run_git
    from promptster.record.attribution import checkpoint
    from promptster.record.attribution.authorship import authorship_member, replay_events

    try:
        head = run_git(
            ["rev-parse", "--verify", SNAPSHOT_REF], git_dir=paths.shadow_git, check=False
        )
        if head.returncode != 0:
            return None
        # The replay kept during the session, when there is one that fits (same result).
        resume = checkpoint.load(paths.root / checkpoint.FILE_NAME, paths.key.read_bytes())
        events = replay_events(journal)
        return authorship_member(events, paths.shadow_git, head.text.strip(), workspace, resume)
    except Exception:  # advisory: the bundle is written without it
        log.exception("line authorship could not be computed")
        return None


def _still_valid(path: Path, bundle: dict[str, Any]) -> bool:
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return False
    return "sha256:" + digest == bundle.get("sha256") and verify_bundle(path).ok


def _mark_key_used(state: SessionState) -> None:
    """Tell the candidate's key store that this key's session is complete (best effort)."""
    if not state.candidate_key:
        return
    from promptster.issue import redeem

    with contextlib.suppress(Exception):
        redemption = redeem.find_redemption(state.candidate_key)
        if redemption is not None:
            redeem.mark_completed(redemption, state.session_id)
