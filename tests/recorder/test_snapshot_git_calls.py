"""Fewer git processes per snapshot, the same snapshots (real git): commits and the ref are
written in process (gitobjects.py) exactly as `commit-tree` and `update-ref` write them,
`write-tree` is skipped only when the index cannot have changed since the last one, and one
`diff-tree` gives both the numstat records and the patch that two gave before."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promptster.bundle.format import SNAPSHOT_REF
from promptster.errors import EnvironmentProblem
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

    real_diff = changes.numstat_and_patch

    def diff(git_dir: Path, parent: str, commit: str) -> tuple[bytes, bytes]:
        seen.append("diff-tree")
        return real_diff(git_dir, parent, commit)

    monkeypatch.setattr(snapshots, "run_git", recording)
    monkeypatch.setattr(changes, "run_git", recording)
    monkeypatch.setattr(changes, "numstat_and_patch", diff)
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


def tree_of(git_dir: Path, files: dict[str, tuple[str, bytes]]) -> str:
    lines = []
    for name, (mode, content) in sorted(files.items()):
        oid = run_git(["hash-object", "-w", "--stdin"], git_dir=git_dir, stdin=content).text
        lines.append(f"{mode} blob {oid.strip()}\t{name}\0")
    return run_git(["mktree", "-z"], git_dir=git_dir, stdin="".join(lines).encode()).text.strip()


awkward = st.text(
    st.characters(exclude_characters="/\0", exclude_categories=["Cs"]), min_size=1, max_size=10
).filter(lambda n: n not in (".", ".."))
content = st.binary(max_size=300) | st.lists(
    st.sampled_from(["a", "b = 1", "", "  x", "\tz", "é", "\r"]), max_size=12
).map(lambda lines: "\n".join(lines).encode())
state = st.dictionaries(
    st.sampled_from(["a.txt", "b c", 'q"uote', "tab\tname", "új", "new\nline"]) | awkward,
    st.tuples(st.sampled_from(["100644", "100755", "120000"]), content),
    max_size=6,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(before=state, after=state, budget=st.sampled_from([None, 1, 37, 200]))
def test_one_diff_tree_prints_what_the_two_printed(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    before: dict[str, tuple[str, bytes]],
    after: dict[str, tuple[str, bytes]],
    budget: int | None,
) -> None:
    git_dir = tmp_path_factory.mktemp("repo")
    run_git(["init", "--quiet", "--bare", str(git_dir)])
    parent = run_git(["commit-tree", tree_of(git_dir, before), "-m", "1"], git_dir=git_dir)
    args = ["commit-tree", tree_of(git_dir, after), "-p", parent.text.strip(), "-m", "2"]
    commit = run_git(args, git_dir=git_dir).text.strip()
    parent_id = parent.text.strip()
    records = ["diff-tree", "-r", "-z", "--no-renames", "--raw", "--numstat", parent_id, commit]
    patch = ["diff-tree", "-r", "-p", "--no-renames", "--no-color", "--no-ext-diff"]
    patch += ["--no-textconv", parent_id, commit]
    full = run_git(patch, git_dir=git_dir).stdout
    if budget is not None:
        monkeypatch.setattr(changes, "MAX_DIFF_BYTES_PER_SNAPSHOT", budget)
    limit = budget if budget is not None else changes.MAX_DIFF_BYTES_PER_SNAPSHOT
    assert changes.numstat_and_patch(git_dir, parent_id, commit) == (
        run_git(records, git_dir=git_dir).stdout,
        full[:limit],
    )
    monkeypatch.undo()


def test_records_longer_than_a_read_and_a_failing_diff_tree(tmp_path: Path) -> None:
    git_dir = tmp_path / "repo"
    run_git(["init", "--quiet", "--bare", str(git_dir)])
    blob = run_git(["hash-object", "-w", "--stdin"], git_dir=git_dir, stdin=b"one\n").text
    other = run_git(["hash-object", "-w", "--stdin"], git_dir=git_dir, stdin=b"two\n").text
    names = [f"{'long-name-' * 5}{n:05d}.txt" for n in range(1500)]  # ~250 KB of records

    def commit(oid: str, *parents: str) -> str:
        listing = "".join(f"100644 blob {oid.strip()}\t{name}\0" for name in names)
        tree = run_git(["mktree", "-z"], git_dir=git_dir, stdin=listing.encode()).text.strip()
        args = ["commit-tree", tree, *(a for p in parents for a in ("-p", p)), "-m", "m"]
        return run_git(args, git_dir=git_dir).text.strip()

    first = commit(blob)
    second = commit(other, first)
    records, patch = changes.numstat_and_patch(git_dir, first, second)
    expected = ["diff-tree", "-r", "-z", "--no-renames", "--raw", "--numstat", first, second]
    assert len(records) > 4 * 65536
    assert records == run_git(expected, git_dir=git_dir).stdout
    assert patch.count(b"\ndiff --git ") == len(names) - 1
    with pytest.raises(EnvironmentProblem, match="git diff-tree failed"):
        changes.numstat_and_patch(git_dir, first, "f" * 40)
