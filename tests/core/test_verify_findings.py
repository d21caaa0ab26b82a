"""`verify_bundle`: the typed report, its context, replay rules and extension points.

Tampered bundles are in tests/tamper; this file covers what valid bundles report.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from corekit import ShadowRepo, event, record_session

from promptster.bundle import verify_history
from promptster.bundle.verify import Finding, VerifyContext, verify_bundle
from promptster.bundle.writer import write_bundle
from promptster.errors import EnvironmentProblem, ExitCode
from promptster.formats.crypto import SigningKey
from promptster.formats.events import Event, Kind
from support import require_executable

KEY = SigningKey.from_seed(b"\x24" * 32)


@pytest.fixture(autouse=True)
def _git() -> None:
    require_executable("git")


def file_data(path: str, commit: str, added: int, removed: int) -> dict[str, object]:
    return {"path": path, "commit": commit, "linesAdded": added, "linesRemoved": removed}


def every_file_kind(repo: ShadowRepo) -> list[Event]:
    """Create, diff (two paths in one snapshot), a binary file, a delete, a checkpoint."""
    c1 = repo.commit({"notes.md": "a\nb\n"})
    c2 = repo.commit({"notes.md": "a\nc\nd\n", "logo.png": "\x00\x01binary\x00"})
    c3 = repo.commit({"app.py": None})
    return [
        event(Kind.FILE_CREATE, file_data("notes.md", c1, 2, 0)),
        event(Kind.FILE_DIFF, file_data("notes.md", c2, 2, 1)),
        event(Kind.FILE_CREATE, file_data("logo.png", c2, 0, 0) | {"binary": True}),
        event(Kind.FILE_DELETE, file_data("app.py", c3, 0, 1)),
        event(Kind.CHECKPOINT, {"label": "done", "trigger": "manual", "snapshot": c3}),
    ]


def bundle(root: Path, events: object = every_file_kind) -> Path:
    session = record_session(root, events)  # type: ignore[arg-type]
    return write_bundle(session.material(), KEY, root / "b.pst").path


def test_valid_bundle_passes_every_check(tmp_path: Path) -> None:
    report = verify_bundle(bundle(tmp_path))
    assert report.ok, report.failures
    assert report.exit_code == ExitCode.OK
    assert [(f.check, f.status) for f in report.findings] == [
        ("zip", "ok"),
        ("manifest", "ok"),
        ("signature", "ok"),
        ("hashes", "ok"),
        ("timeline", "ok"),
        ("binding", "ok"),
        ("replay", "ok"),
    ]
    assert report.findings[-1].message == "4 file events replay onto 4 snapshots"
    assert report.findings[2].message.startswith(
        f"signed by session key {KEY.public.fingerprint[:19]}"
    )


def test_context_carries_what_later_stages_need(tmp_path: Path) -> None:
    report = verify_bundle(bundle(tmp_path), keep_timeline=True)
    context = report.context
    assert context.manifest is not None and context.manifest.event_count == 7
    # the verified timeline is spooled to a temporary file, not held in memory
    assert context.timeline is not None and context.timeline.read_bytes().count(b"\n") == 7
    spool = context.timeline.path
    assert spool.is_file()
    context.timeline.close()
    assert not spool.exists()
    assert [(r.seq, r.kind, r.path) for r in context.file_events] == [
        (1, "file_create", "notes.md"),
        (2, "file_diff", "notes.md"),
        (3, "file_create", "logo.png"),
        (4, "file_delete", "app.py"),
    ]
    assert context.file_events[2].binary
    assert [seq for seq, _ in context.snapshot_refs] == [0, 5]
    assert context.first_ts is not None and context.last_ts is not None
    assert context.first_ts <= context.last_ts
    assert verify_bundle(report.path).context.timeline is None  # dropped unless asked for


def test_json_report(tmp_path: Path) -> None:
    report = verify_bundle(bundle(tmp_path))
    obj = report.to_json_obj()
    assert obj["ok"] is True
    assert obj["eventCount"] == 7
    assert obj["findings"][0] == {
        "check": "zip",
        "status": "ok",
        "message": "4 members, names and sizes ok",
        "seq": None,
    }


def test_unknown_kinds_and_newer_envelopes_are_warnings_not_failures(tmp_path: Path) -> None:
    def future(repo: ShadowRepo) -> list[Event]:
        newer = event(Kind.NOTE, {"text": "from a newer promptster"})
        newer.v = 2
        return [event("hologram_call", {"x": 1}), event("hologram_call", {}), newer]

    report = verify_bundle(bundle(tmp_path, future))
    assert report.ok and report.exit_code == ExitCode.OK
    assert [f.message for f in report.warnings] == [
        "2 event(s) of kind 'hologram_call' unknown to this version",
        "1 event(s) use a newer envelope version; upgrade promptster",
    ]


def test_extra_checks_run_last_with_the_context(tmp_path: Path) -> None:
    seen: list[VerifyContext] = []

    def pack_check(context: VerifyContext, findings: list[Finding]) -> None:
        seen.append(context)
        findings.append(Finding("assessment", "failed", "the key is not in the pack"))

    report = verify_bundle(bundle(tmp_path), extra_checks=[pack_check])
    assert seen and seen[0].manifest is not None
    assert report.findings[-1] == Finding("assessment", "failed", "the key is not in the pack")
    assert not report.ok and report.exit_code == ExitCode.CHECK_FAILED


def test_replay_is_skipped_when_the_timeline_is_broken(tmp_path: Path) -> None:
    def bad(repo: ShadowRepo) -> list[Event]:
        return [event(Kind.FILE_DIFF, {"path": "app.py"})]  # no commit

    report = verify_bundle(bundle(tmp_path, bad))
    assert [(f.check, f.status) for f in report.findings][-2:] == [
        ("timeline", "failed"),
        ("snapshots", "ok"),
    ]
    assert report.failures[0].message == "file_diff event 1 lacks a path or a snapshot commit"
    assert report.findings[-1].message == "1 snapshots (replay skipped: timeline broken)"


def test_git_trouble_becomes_a_finding_and_the_temp_dir_is_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = bundle(tmp_path)
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))

    def broken(git_dir: Path, head: str) -> object:
        assert any(temp.iterdir())  # the repository is unpacked in the temp dir ...
        raise EnvironmentProblem("git log failed: out of memory")

    monkeypatch.setattr(verify_history, "commit_log", broken)
    report = verify_bundle(path)
    message = "cannot read the snapshot history: git log failed: out of memory"
    assert report.failures == [Finding("snapshots", "failed", message)]
    assert list(temp.iterdir()) == []  # ... and removed even so


def test_unreadable_bundle_report(tmp_path: Path) -> None:
    (tmp_path / "x.pst").write_bytes(b"not a zip")
    report = verify_bundle(tmp_path / "x.pst")
    assert report.exit_code == ExitCode.USAGE
    assert report.to_json_obj()["sessionId"] is None
    assert report.failures[0].check == "zip"


def test_warning_codes_are_counted_for_later_checks(tmp_path: Path) -> None:
    # The reviewer's time-limit check reads them without keeping the timeline.
    jump = {"code": "clock_jump", "message": "set back", "jumpMs": -3_600_000}
    events = [event(Kind.WARNING, jump, ts="2026-03-02T10:01:00.000Z")]
    events.append(event(Kind.WARNING, dict(jump), ts="2026-03-02T10:02:00.000Z"))
    report = verify_bundle(bundle(tmp_path, events))
    assert report.ok, report.failures
    assert report.context.warning_codes == {"clock_jump": 2}
    assert report.context.timeline is None
