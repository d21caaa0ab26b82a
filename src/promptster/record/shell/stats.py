"""What a recorded shell's worker reports when it ends: the recording's and the delivery's
counts. The pty loop's side reads them from the worker's summary line, so they live apart
from the worker's modules (the loop does not import those: its start stays small)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class RecordingStats:
    commands: int = 0
    test_runs: int = 0
    build_runs: int = 0
    redactions: int = 0
    gap_bytes: int = 0
    cast_bytes: int = 0
    cast_dropped: int = 0
    session_ended: bool = False
    error: str | None = None  # recording failed; the shell went on unrecorded


@dataclass
class SenderStats:
    sent: int = 0  # acknowledged by the recorder
    spooled: int = 0  # in the spool, for the recorder to ingest
    dropped: int = 0  # refused (session ended) or lost (no recorder, no spool)
    restarts: int = 0
