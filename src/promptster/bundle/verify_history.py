"""`verify`'s snapshot checks: unpack the git snapshots, replay every file event onto them,
and check authorship.json against the final snapshot (verify_authorship.py).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from promptster.bundle import format as fmt
from promptster.bundle import members as streamed
from promptster.bundle.reader import BundleReader
from promptster.bundle.verify_authorship import CHECK as AUTHORSHIP_CHECK
from promptster.bundle.verify_authorship import check_authorship, final_counts
from promptster.bundle.verify_report import Finding, VerifyContext
from promptster.errors import EnvironmentProblem, FormatError
from promptster.gitutil import BIG_FILE_THRESHOLD, FileStat, commit_log, run_git


@dataclass(frozen=True)
class History:
    """The snapshot branch as unpacked from snapshots.bundle."""

    order: list[str]  # commits oldest first; order[0] is the baseline
    stats: dict[str, dict[str, FileStat]]  # commit -> path -> lines added/removed
    # path -> (lines, binary) of the final snapshot; read only when authorship.json is there
    final: dict[str, tuple[int, bool]] | None = None


def load_snapshots(reader: BundleReader, manifest: fmt.Manifest) -> History | Finding:
    """Unpack the git bundle in a temporary repository (always removed) and read its history.

    Returns the history, or the failed finding that says why it cannot be used.
    """
    with tempfile.TemporaryDirectory(prefix="promptster-verify-") as tmp:
        repo, bundle_file = Path(tmp) / "repo.git", Path(tmp) / "snapshots.bundle"
        try:
            streamed.copy_member(reader, fmt.SNAPSHOTS, bundle_file)
        except FormatError as exc:
            return Finding("snapshots", "failed", exc.message)
        run_git(["init", "--quiet", "--bare", "--template=", str(repo)])
        checked = run_git(["bundle", "verify", str(bundle_file)], git_dir=repo, check=False)
        if checked.returncode != 0:
            return Finding(
                "snapshots",
                "failed",
                f"snapshots.bundle is not a valid git bundle: {_git_reason(checked.error_text)}",
            )
        # What `git fetch` from the bundle does with transfer.fsckObjects, in one process:
        # index the pack, checking every object and that every object it links to is there.
        # The pack goes to git as a file: fed through a pipe, Python's writes would contend
        # for the GIL with the timeline check running beside this.
        pack_file = repo / "objects" / "pack" / "snapshots.pack"
        tip, problem = streamed.split_git_bundle(bundle_file, pack_file)
        if tip is None:
            return Finding("snapshots", "failed", problem or "snapshots.bundle is unreadable")
        indexed = run_git(
            [*BIG_FILE_THRESHOLD, "index-pack", "--strict", str(pack_file)],
            git_dir=repo,
            check=False,
        )
        if indexed.returncode != 0:
            return Finding(
                "snapshots",
                "failed",
                f"snapshots.bundle holds broken objects: {_git_reason(indexed.error_text)}",
            )
        try:
            log = commit_log(repo, tip)
            final = final_counts(repo, tip) if fmt.AUTHORSHIP in manifest.members else None
        except EnvironmentProblem as exc:
            return Finding("snapshots", "failed", f"cannot read the snapshot history: {exc}")
    head = log[0].commit if log else ""
    if head != manifest.snapshot_head:
        return Finding(
            "snapshots",
            "failed",
            f"the snapshot branch head {head[:12]} is not snapshotHead "
            f"{manifest.snapshot_head[:12]}",
        )
    merges = [logged.commit for logged in log if len(logged.parents) > 1]
    if merges:
        return Finding(
            "snapshots",
            "failed",
            f"snapshot {merges[0][:12]} is a merge commit; the snapshot history must be a "
            "single line of commits",
        )
    order = [logged.commit for logged in reversed(log)]
    stats = {logged.commit: logged.stats for logged in log}
    return History(order, stats, final)


def check_authorship_member(
    history: History, manifest: fmt.Manifest, context: VerifyContext, findings: list[Finding]
) -> None:
    # A bundle without the member (older, or it could not be computed) adds no finding.
    if context.authorship is None or history.final is None:
        return  # its hash failed: already a finding
    status, message = check_authorship(context.authorship, manifest.snapshot_head, history.final)
    findings.append(Finding(AUTHORSHIP_CHECK, status, message))


def _git_reason(error_text: str) -> str:
    """git's complaint in one line, without its `error:` / `fatal:` prefixes."""
    parts = [
        line.split(": ", 1)[-1] if line.startswith(("error:", "fatal:")) else line
        for line in error_text.splitlines()
        if line.strip()
    ]
    return " ".join(parts)[:300] or "git gave no reason"


def replay(history: History, context: VerifyContext, findings: list[Finding]) -> None:
    """Every file event must match its commit's diff, in history order; every commit after the
    baseline must be explained by file events; every named snapshot must exist."""
    stats, order = history.stats, history.order
    position = {commit: index for index, commit in enumerate(order)}
    explained: dict[str, set[str]] = {}
    last_position = 0
    for ref in context.file_events:
        if ref.commit not in position:
            findings.append(
                Finding(
                    "replay",
                    "failed",
                    f"{ref.kind} {ref.path!r} names snapshot {ref.commit[:12]}, which is not in "
                    "snapshots.bundle",
                    ref.seq,
                )
            )
            return
        stat = stats.get(ref.commit, {}).get(ref.path)
        if stat is None:
            findings.append(
                Finding(
                    "replay",
                    "failed",
                    f"{ref.kind} {ref.path!r}: snapshot {ref.commit[:12]} does not change it",
                    ref.seq,
                )
            )
            return
        if (stat.added, stat.removed) != (ref.added, ref.removed) and not stat.binary:
            findings.append(
                Finding(
                    "replay",
                    "failed",
                    f"{ref.kind} {ref.path!r} claims +{ref.added}/-{ref.removed} lines; the "
                    f"snapshot diff is +{stat.added}/-{stat.removed}",
                    ref.seq,
                )
            )
            return
        if position[ref.commit] < last_position:
            findings.append(
                Finding(
                    "replay",
                    "failed",
                    f"{ref.kind} {ref.path!r} names snapshot {ref.commit[:12]}, which is older "
                    "than the snapshot of an earlier file event (file events are out of order)",
                    ref.seq,
                )
            )
            return
        last_position = position[ref.commit]
        explained.setdefault(ref.commit, set()).add(ref.path)
    for seq, commit in context.snapshot_refs:
        if commit not in position:
            findings.append(
                Finding(
                    "replay",
                    "failed",
                    f"event names snapshot {commit[:12]}, which is not in snapshots.bundle",
                    seq,
                )
            )
            return
    baseline = next((c for s, c in context.snapshot_refs if s == 0), None)
    if baseline is not None and order and baseline != order[0]:
        findings.append(
            Finding(
                "replay",
                "failed",
                f"the first event names snapshot {baseline[:12]} but the baseline (first "
                f"snapshot) is {order[0][:12]}",
                0,
            )
        )
        return
    for commit in order[1:]:  # the first commit is the baseline taken at session start
        unexplained = sorted(set(stats.get(commit, {})) - explained.get(commit, set()))
        if unexplained:
            findings.append(
                Finding(
                    "replay",
                    "failed",
                    f"snapshot {commit[:12]} changes {unexplained[0]!r} but no file event "
                    "records it (an event was removed?)",
                )
            )
            return
    findings.append(
        Finding(
            "replay",
            "ok",
            f"{len(context.file_events)} file events replay onto {len(order)} snapshots",
        )
    )
