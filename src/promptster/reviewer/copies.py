"""Bundles of a cohort that are copies of one session, whatever key they carry now.

Each bundle is fingerprinted by what a relabelled copy keeps: its session id, its timeline's
chain head, its snapshot history's head and its baseline snapshot (the root of that history).
Two bundles that share the session id, the chain head or the snapshot head are one session
submitted twice, or one candidate's work relabelled as another's: both fail. Sharing only the
baseline snapshot is a warning: two sessions from the same starter repository that started in
the same second can share it honestly, but a copy does too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from promptster.bundle.verify import Finding, Status, VerifyReport

COPY_CHECK = "cohort"

# (what is compared, its label in messages, status when shared)
_FAILING = ("session id", "chain head", "snapshot head")


@dataclass(frozen=True)
class SharedSession:
    """Two bundles that share one or more of a session's fingerprints."""

    first: Path
    second: Path
    shared: tuple[str, ...]  # labels from _FAILING, or "baseline snapshot"

    @property
    def status(self) -> Status:
        return "failed" if any(label in _FAILING for label in self.shared) else "warning"

    def finding_for(self, path: Path) -> Finding:
        other = self.second if path == self.first else self.first
        what = ", ".join(self.shared)
        tail = (
            "one session submitted twice, or relabelled as another candidate's"
            if self.status == "failed"
            else "the same starter snapshot at the same second, or a copy"
        )
        return Finding(
            COPY_CHECK,
            self.status,
            f"{path.name} and {other.name} share the {what} ({tail})",
        )


def _fingerprints(report: VerifyReport) -> dict[str, str]:
    manifest = report.context.manifest
    if manifest is None:
        return {}
    prints = {
        "session id": manifest.session_id,
        "chain head": manifest.chain_head,
        "snapshot head": manifest.snapshot_head,
    }
    baseline = next((c for seq, c in report.context.snapshot_refs if seq == 0), None)
    if baseline:
        prints["baseline snapshot"] = baseline
    return {label: value for label, value in prints.items() if value}


def find_copies(reports: Iterable[VerifyReport]) -> list[SharedSession]:
    """Every pair of bundles sharing a session fingerprint, in a stable order."""
    seen: dict[tuple[str, str], list[Path]] = {}
    for report in reports:
        for label, value in _fingerprints(report).items():
            seen.setdefault((label, value), []).append(report.path)
    pairs: dict[tuple[Path, Path], list[str]] = {}
    for (label, _), holders in seen.items():
        unique = sorted(set(holders))
        for i, first in enumerate(unique):
            for second in unique[i + 1 :]:
                pairs.setdefault((first, second), []).append(label)
    order = (*_FAILING, "baseline snapshot")
    return [
        SharedSession(first, second, tuple(sorted(labels, key=order.index)))
        for (first, second), labels in sorted(pairs.items())
    ]
