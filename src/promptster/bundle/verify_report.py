"""The results of `verify`: typed findings, and what the checks learned on the way.

`verify_bundle` (verify.py) fills a `VerifyContext` as it goes, for its later checks and for
its callers (analysis, report), and returns a `VerifyReport` holding every `Finding`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from promptster.bundle import format as fmt
from promptster.bundle.spool import SpooledTimeline
from promptster.errors import ExitCode

Status = Literal["ok", "warning", "failed"]


@dataclass(frozen=True)
class Finding:
    check: str
    status: Status
    message: str
    seq: int | None = None

    def to_json_obj(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "status": self.status,
            "message": self.message,
            "seq": self.seq,
        }


@dataclass(frozen=True, slots=True)  # one per file event of the timeline: keep them small
class FileEventRef:
    seq: int
    kind: str
    path: str
    commit: str
    added: int
    removed: int
    binary: bool


@dataclass
class VerifyContext:
    """What the checks learned, shared with later checks and with callers (analysis, report)."""

    path: Path
    manifest: fmt.Manifest | None = None
    # Only with keep_timeline, and only if its checks passed: the caller closes it.
    timeline: SpooledTimeline | None = None
    keep_timeline: bool = False
    assessment_pack: bytes | None = None
    file_events: list[FileEventRef] = field(default_factory=list)
    snapshot_refs: list[tuple[int, str]] = field(default_factory=list)
    first_ts: str | None = None
    last_ts: str | None = None
    first_event: dict[str, Any] | None = None  # session_start, for the binding check
    # How many `warning` events carry each code (clock anomalies, capture gaps: later checks).
    warning_codes: dict[str, int] = field(default_factory=dict)
    authorship: bytes | None = None  # authorship.json, when present and its hash matched


@dataclass
class VerifyReport:
    path: Path
    findings: list[Finding]
    context: VerifyContext
    unreadable: bool = False

    @property
    def ok(self) -> bool:
        return not any(f.status == "failed" for f in self.findings)

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if f.status == "failed"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.status == "warning"]

    @property
    def exit_code(self) -> ExitCode:
        if self.unreadable:
            return ExitCode.USAGE
        return ExitCode.OK if self.ok else ExitCode.CHECK_FAILED

    def to_json_obj(self) -> dict[str, Any]:
        manifest = self.context.manifest
        return {
            "path": str(self.path),
            "ok": self.ok,
            "sessionId": manifest.session_id if manifest else None,
            "eventCount": manifest.event_count if manifest else None,
            "findings": [f.to_json_obj() for f in self.findings],
        }


ExtraCheck = Callable[[VerifyContext, list[Finding]], None]
