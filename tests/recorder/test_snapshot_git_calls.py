"""Fewer git processes per snapshot, the same snapshots (real git): commits and the ref are
written in process (gitobjects.py) exactly as `commit-tree` and `update-ref` write them, and
`write-tree` is skipped only when the index cannot have changed since the last one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from promptster.bundle.format import SNAPSHOT_REF
from promptster.gitutil import GitResult, run_git
from promptster.record.files import changes, snapshots
from promptster.record.files.blob_pack import PACK_AT_LEAST
from promptster.record.files.snapshots import ShadowRepo


def make_repo(workspace: Path) -> ShadowRepo:
    session = workspace / ".promptster"
    session.mkdir(parents=True, exist_ok=True)
    shadow = ShadowRepo(
        session / "shadow.git", workspace, session / "shadow.index", max_file_bytes=1 << 20
    )
    shadow.create()
    shadow.load()
    return shadow


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The git subcommands the snapshots run (run_git; `diff-tree -p` is a Popen of its own)."""
    seen: list[str] = []
    real = run_git

    def recording(args: list[str], **kwargs: Any) -> GitResult:
        seen.append(args[0])
        return real(args, **kwargs)

    monkeypatch.setattr(snapshots, "run_git", recording)
    monkeypatch.setattr(changes, "run_git", recording)
    yield seen


def git(shadow: ShadowRepo, *args: str, env: dict[str, str] | None = None) -> str:
    return run_git(list(args), git_dir=shadow.git_dir, env=env).text


def assert_as_git_writes_them(shadow: ShadowRepo) -> None:
    """Every snapshot commit is the one `git commit-tree` makes from the same tree, parent,
    message and time; the repository passes `git fsck --strict`."""
    for commit in git(shadow, "rev-list", SNAPSHOT_REF).split():
        raw = git(shadow, "cat-file", "commit", commit)
        head, _, message = raw.partition("\n\n")
        fields = dict(line.split(" ", 1) for line in head.splitlines())
        parent = ["-p", fields["parent"]] if "parent" in fields else []
        stamp = " ".join(fields["committer"].rsplit(" ", 2)[1:])
        env = {"GIT_AUTHOR_DATE": f"@{stamp}", "GIT_COMMITTER_DATE": f"@{stamp}"}
        args = ["commit-tree", fields["tree"], *parent, "-m", message.removesuffix("\n")]
        assert git(shadow, *args, env=env).strip() == commit
    run_git(["fsck", "--strict", "--no-dangling"], git_dir=shadow.git_dir)


def test_a_change_costs_no_commit_tree_update_ref_or_cat_file(
    tmp_path: Path, calls: list[str]
) -> None:
    shadow = make_repo(tmp_path)
    (tmp_path / "app.py").write_text("print('hello')\n")
    shadow.take("baseline")
    for n in range(3):
        calls.clear()
        (tmp_path / "app.py").write_text(f"print({n})\n")
        (tmp_path / f"new{n}.txt").write_text("new\n")
        snapshot = shadow.take("snapshot (watcher)")
        assert snapshot is not None
        assert calls == ["ls-files", "update-index", "write-tree", "diff-tree"]
        sizes = {c.path: c.size for c in snapshot.changes}
        assert sizes == {"app.py": len(f"print({n})\n"), f"new{n}.txt": 4}
        assert (shadow.git_dir / SNAPSHOT_REF).read_text() == snapshot.commit + "\n"
    assert_as_git_writes_them(shadow)


def test_nothing_listed_skips_write_tree_but_only_after_one_in_this_process(
    tmp_path: Path, calls: list[str]
) -> None:
    shadow = make_repo(tmp_path)
    (tmp_path / "app.py").write_text("x = 1\n")
    assert shadow.take("baseline") is not None
    calls.clear()
    assert shadow.take() is None
    assert calls == ["ls-files"]  # the index is as the baseline's write-tree left it
    # another process (the recorder after a restart) knows nothing of the index yet
    restarted = make_repo(tmp_path)
    calls.clear()
    assert restarted.take() is None
    assert calls == ["ls-files", "write-tree"]
    calls.clear()
    assert restarted.take() is None
    assert calls == ["ls-files"]


def test_a_snapshot_that_failed_after_staging_is_committed_by_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, calls: list[str]
) -> None:
    shadow = make_repo(tmp_path)
    (tmp_path / "app.py").write_text("x = 1\n")
    shadow.take("baseline")
    (tmp_path / "app.py").write_text("x = 2\n")
    real = ShadowRepo._commit

    def failing(self: ShadowRepo, tree: str, message: str) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ShadowRepo, "_commit", failing)
    with pytest.raises(OSError):
        shadow.take()
    monkeypatch.setattr(ShadowRepo, "_commit", real)
    calls.clear()
    snapshot = shadow.take()  # nothing listed now: the index holds x = 2 already
    assert snapshot is not None and [c.path for c in snapshot.changes] == ["app.py"]
    assert calls[:1] == ["ls-files"] and "write-tree" not in calls
    assert git(shadow, "show", f"{SNAPSHOT_REF}:app.py") == "x = 2\n"
    # and when the failure is in write-tree itself, the next snapshot writes the tree again
    (tmp_path / "app.py").write_text("x = 3\n")
    real_git = ShadowRepo._git

    def no_write_tree(self: ShadowRepo, args: list[str], **kwargs: Any) -> bytes:
        if args[0] == "write-tree":
            raise OSError(5, "I/O error")
        return real_git(self, args, **kwargs)

    monkeypatch.setattr(ShadowRepo, "_git", no_write_tree)
    with pytest.raises(OSError):
        shadow.take()
    monkeypatch.setattr(ShadowRepo, "_git", real_git)
    calls.clear()
    assert shadow.take() is not None
    assert "write-tree" in calls
    assert git(shadow, "show", f"{SNAPSHOT_REF}:app.py") == "x = 3\n"
    assert_as_git_writes_them(shadow)


def test_an_unusual_message_or_a_reflog_is_left_to_git(tmp_path: Path, calls: list[str]) -> None:
    shadow = make_repo(tmp_path)
    (tmp_path / "a.txt").write_text("1\n")
    shadow.take("baseline")
    (tmp_path / "a.txt").write_text("2\n")
    calls.clear()
    snapshot = shadow.take("snapshot (two\nlines)")
    assert snapshot is not None
    assert "commit-tree" in calls and "update-ref" not in calls
    assert git(shadow, "log", "-1", "--format=%B", SNAPSHOT_REF) == "snapshot (two\nlines)\n\n"
    logs = shadow.git_dir / "logs" / SNAPSHOT_REF
    logs.parent.mkdir(parents=True)
    logs.write_text("")  # a reflog: git appends to it, so git moves the ref
    (tmp_path / "a.txt").write_text("3\n")
    calls.clear()
    snapshot = shadow.take("snapshot (watcher)")
    assert snapshot is not None
    assert "commit-tree" not in calls and "update-ref" in calls
    assert snapshot.commit in logs.read_text()
    assert_as_git_writes_them(shadow)


def test_sizes_of_packed_blobs_come_from_git(tmp_path: Path, calls: list[str]) -> None:
    shadow = make_repo(tmp_path)
    (tmp_path / "a.txt").write_text("1\n")
    shadow.take("baseline")
    for n in range(PACK_AT_LEAST + 5):  # one batch this big is packed
        (tmp_path / f"f{n:03d}.txt").write_text("x" * n)
    calls.clear()
    snapshot = shadow.take()
    assert snapshot is not None
    assert "cat-file" in calls
    assert {c.path: c.size for c in snapshot.changes} == {
        f"f{n:03d}.txt": n for n in range(PACK_AT_LEAST + 5)
    }
    assert_as_git_writes_them(shadow)
