"""The shadow repository: what a snapshot contains and what its changes say (real git)."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promptster.gitutil import numstat_by_commit, run_git
from promptster.record.files.gitparse import MAX_DIFF_CHARS
from promptster.record.files.ignores import maybe_secret
from promptster.record.files.snapshots import ShadowRepo, Snapshot
from promptster.record.files.watcher import plan_watches
from promptster.record.redact.redactor import is_secret_path
from recorder_helpers import git


def make_repo(workspace: Path, max_file_bytes: int = 1024 * 1024) -> ShadowRepo:
    session = workspace / ".promptster"
    session.mkdir(parents=True, exist_ok=True)
    shadow = ShadowRepo(
        session / "shadow.git", workspace, session / "shadow.index", max_file_bytes=max_file_bytes
    )
    shadow.create()
    shadow.load()
    return shadow


def take(shadow: ShadowRepo) -> Snapshot:
    snapshot = shadow.take()
    assert snapshot is not None
    return snapshot


def tree_files(shadow: ShadowRepo) -> dict[str, bytes]:
    assert shadow.head is not None
    listed = run_git(["ls-tree", "-r", "-z", "--name-only", shadow.head], git_dir=shadow.git_dir)
    names = [n for n in listed.text.split("\0") if n]
    return {
        name: run_git(["show", f"{shadow.head}:{name}"], git_dir=shadow.git_dir).stdout
        for name in names
    }


def assert_matches_verify(shadow: ShadowRepo, snapshot: Snapshot) -> None:
    """Each change carries exactly the numstat that `verify` replays for its commit."""
    assert shadow.head is not None
    stats = numstat_by_commit(shadow.git_dir, shadow.head)[snapshot.commit]
    assert {c.path for c in snapshot.changes} == set(stats)
    for change in snapshot.changes:
        stat = stats[change.path]
        assert (change.added, change.removed, change.binary) == (
            stat.added,
            stat.removed,
            stat.binary,
        )


def test_baseline_then_create_modify_delete(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("a\nb\nc\n")
    (tmp_path / "gone.txt").write_text("x\ny\n")
    shadow = make_repo(tmp_path)
    baseline = take(shadow)
    assert baseline.parent is None and baseline.changes == []
    assert shadow.take() is None  # nothing changed: no commit

    (tmp_path / "keep.txt").write_text("a\nB\nc\nd\n")
    (tmp_path / "new.txt").write_text("1\n2\n3\n")
    (tmp_path / "gone.txt").unlink()
    snapshot = take(shadow)
    by_path = {c.path: c for c in snapshot.changes}
    assert by_path["keep.txt"].status == "M"
    assert (by_path["keep.txt"].added, by_path["keep.txt"].removed) == (2, 1)
    assert by_path["new.txt"].status == "A" and by_path["new.txt"].added == 3
    assert by_path["gone.txt"].status == "D" and by_path["gone.txt"].removed == 2
    assert "+B" in (by_path["keep.txt"].diff or "")
    assert snapshot.parent == baseline.commit
    assert_matches_verify(shadow, snapshot)


def test_rename_is_detected_but_numstat_stays_rename_free(tmp_path: Path) -> None:
    (tmp_path / "old_name.py").write_text("".join(f"line {i}\n" for i in range(20)))
    shadow = make_repo(tmp_path)
    take(shadow)
    os.rename(tmp_path / "old_name.py", tmp_path / "new_name.py")
    snapshot = take(shadow)
    by_path = {c.path: c for c in snapshot.changes}
    assert by_path["new_name.py"].renamed_from == "old_name.py"
    assert by_path["new_name.py"].added == 20 and by_path["old_name.py"].removed == 20
    assert_matches_verify(shadow, snapshot)


def test_binary_files_are_recorded_by_hash_and_size(tmp_path: Path) -> None:
    shadow = make_repo(tmp_path)
    take(shadow)
    blob = bytes(range(256)) * 4
    (tmp_path / "image.png").write_bytes(blob)
    snapshot = take(shadow)
    (change,) = snapshot.changes
    assert change.binary and change.diff is None
    assert change.size == len(blob)
    assert change.sha256 == "sha256:" + hashlib.sha256(blob).hexdigest()
    assert (change.added, change.removed) == (0, 0)


def test_ignores_size_cap_and_secret_files(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("generated/\n*.log\n")
    shadow = make_repo(tmp_path, max_file_bytes=1000)
    take(shadow)
    for rel, content in {
        "node_modules/pkg/index.js": b"x",
        ".venv/lib/site.py": b"x",
        "src/__pycache__/m.cpython-311.pyc": b"x",
        "generated/out.txt": b"x",
        "debug.log": b"x",
        ".env": b"API_KEY=abc",
        "config/.env.local": b"X=1",
        "deploy/id_ed25519": b"key",
        "big.bin": b"x" * 5000,
        "src/app.py": b"print('kept')\n",
        ".env.example": b"API_KEY=\n",
    }.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    snapshot = take(shadow)
    assert {c.path for c in snapshot.changes} == {"src/app.py", ".env.example"}
    skipped = {s.path: s.reason for s in snapshot.skipped}
    assert skipped.get("big.bin") == "too_large"
    assert set(tree_files(shadow)) == {".gitignore", ".env.example", "src/app.py"}
    # A tracked file that grows over the cap leaves the snapshots (and says so once).
    (tmp_path / "src/app.py").write_bytes(b"y" * 5000)
    grown = take(shadow)
    assert [(c.path, c.status) for c in grown.changes] == [("src/app.py", "D")]
    assert [s.path for s in grown.skipped] == ["src/app.py"]
    # Skipped files survive a restart of the repository object.
    again = make_repo(tmp_path, max_file_bytes=1000)
    assert again.skipped["src/app.py"] == "too_large"


def _digest_tree(folder: Path) -> dict[str, str]:
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            found[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def test_candidate_git_is_read_but_never_changed(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "a.txt").write_text("one\n")
    git(tmp_path, "add", "a.txt")
    git(tmp_path, "commit", "-qm", "first")
    (tmp_path / "b.txt").write_text("staged\n")
    git(tmp_path, "add", "b.txt")
    before = _digest_tree(tmp_path / ".git")
    shadow = make_repo(tmp_path)
    take(shadow)
    (tmp_path / "a.txt").write_text("two\n")
    take(shadow)
    assert _digest_tree(tmp_path / ".git") == before
    assert git(tmp_path, "status", "--porcelain") == " M a.txt\nA  b.txt\n?? .promptster/\n"
    assert ".git/HEAD" not in tree_files(shadow)


@pytest.mark.parametrize(
    "name", ["with space.txt", "ünïcødé – 日本.md", 'quote"d.txt', "back\\slash.txt", "tab\there"]
)
def test_awkward_file_names(tmp_path: Path, name: str) -> None:
    workspace = tmp_path / "a folder with spaces" / "ünï"
    workspace.mkdir(parents=True)
    shadow = make_repo(workspace)
    take(shadow)
    (workspace / name).write_text("hello\nworld\n")
    snapshot = take(shadow)
    (change,) = snapshot.changes
    assert change.path == name
    assert change.diff is not None and "+hello" in change.diff
    assert_matches_verify(shadow, snapshot)


def test_diffs_are_bounded(tmp_path: Path) -> None:
    shadow = make_repo(tmp_path)
    take(shadow)
    (tmp_path / "huge.txt").write_text("".join(f"line number {i}\n" for i in range(50_000)))
    (change,) = take(shadow).changes
    assert change.added == 50_000
    assert change.diff is not None and len(change.diff) <= MAX_DIFF_CHARS
    assert change.diff_truncated


def test_files_changed_while_snapshots_run(tmp_path: Path) -> None:
    shadow = make_repo(tmp_path)
    take(shadow)
    stop = threading.Event()

    def churn() -> None:
        counter = 0
        while not stop.is_set():
            counter += 1
            (tmp_path / f"f{counter % 7}.txt").write_text(f"{counter}\n" * (counter % 5 + 1))
            if counter % 11 == 0:
                (tmp_path / f"f{counter % 7}.txt").unlink()

    writer = threading.Thread(target=churn)
    writer.start()
    snapshots = []
    try:
        for _ in range(15):
            snapshot = shadow.take()
            if snapshot is not None:
                snapshots.append(snapshot)
    finally:
        stop.set()
        writer.join()
    final = shadow.take()
    if final is not None:
        snapshots.append(final)
    for snapshot in snapshots:
        assert_matches_verify(shadow, snapshot)
    on_disk = {p.name: p.read_bytes() for p in tmp_path.glob("f*.txt")}
    assert {k: v for k, v in tree_files(shadow).items() if k.startswith("f")} == on_disk


def test_watch_plan_skips_ignored_trees(tmp_path: Path) -> None:
    for rel in ["src/app", "node_modules/a/b", "web/node_modules/x", "web/src", "docs", "gen/x"]:
        (tmp_path / rel).mkdir(parents=True)
    plan = plan_watches(tmp_path, ["gen"])
    assert plan.shallow == ["", "web"]
    assert plan.recursive == ["docs", "src", "web/src"]


def test_secrets_in_file_contents_never_reach_the_snapshots(tmp_path: Path) -> None:
    key = "sk-ant-api03-" + "Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0Lz" * 2
    shadow = make_repo(tmp_path)
    take(shadow)
    source = f"import os\nCLIENT_KEY = '{key}'\nprint('hi')\n"
    (tmp_path / "settings.py").write_text(source)
    blob = b"\x00\x01" + key.encode()
    (tmp_path / "data.bin").write_bytes(blob)
    snapshot = take(shadow)
    stored = tree_files(shadow)
    assert key.encode() not in stored["settings.py"]
    assert b"[REDACTED:" in stored["settings.py"]
    # binary content is scanned byte for byte: the key goes, every other byte stays
    assert stored["data.bin"] == b"\x00\x01[REDACTED:anthropic_api_key]"
    assert sorted(path for path, _ in snapshot.redacted) == ["data.bin", "settings.py"]
    (change,) = [c for c in snapshot.changes if c.path == "settings.py"]
    assert change.added == 3 and change.diff is not None and key not in change.diff
    assert_matches_verify(shadow, snapshot)
    (tmp_path / "settings.py").write_text(source + "print('more')\n")
    again = take(shadow)
    assert again.redacted == []  # the same file and kinds are reported once
    assert key.encode() not in tree_files(shadow)["settings.py"]


def test_an_unreadable_file_does_not_stop_the_others(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    shadow = make_repo(tmp_path)
    take(shadow)
    (tmp_path / "locked.txt").write_text("secret\n")
    (tmp_path / "locked.txt").chmod(0)
    (tmp_path / "open.txt").write_text("fine\n")
    snapshot = take(shadow)
    assert [c.path for c in snapshot.changes] == ["open.txt"]
    assert [(s.path, s.reason) for s in snapshot.skipped] == [("locked.txt", "unreadable")]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [".env", ".ENV.local", "id_rsa", "key.PEM", ".ssh", ".aws", "credentials", "src",
             "app.py", "secrets.yml", "x.env", ".env.example", "id_ed25519.pub", "a b", "ü"]
        ),
        min_size=1,
        max_size=4,
    )
)  # fmt: skip
def test_the_secret_prefilter_never_misses(parts: list[str]) -> None:
    path = "/".join(parts)
    assert maybe_secret(path) or not is_secret_path(path)


def _loose_objects(shadow: ShadowRepo) -> int:
    objects = shadow.git_dir / "objects"
    return sum(1 for p in objects.glob("[0-9a-f][0-9a-f]/*") if p.is_file())


def test_a_big_first_snapshot_is_written_as_one_pack(tmp_path: Path) -> None:
    from promptster.record.files.blob_pack import PACK_AT_LEAST

    workspace = tmp_path / "ws"
    files = {f"pkg{i % 7}/m{i}.py": f"value = {i}\n" * (i % 5 + 1) for i in range(PACK_AT_LEAST)}
    files["pkg0/secret.env.py"] = "API_KEY = 'sk-ant-api03-" + "a" * 90 + "'\n"
    for name, text in files.items():
        (workspace / name).parent.mkdir(parents=True, exist_ok=True)
        (workspace / name).write_text(text)
    (workspace / "link").symlink_to("pkg0/m0.py")
    shadow = make_repo(workspace)
    take(shadow)
    stored = tree_files(shadow)
    for name, text in files.items():
        if name != "pkg0/secret.env.py":
            assert stored[name] == text.encode()
    assert stored["link"] == b"pkg0/m0.py"
    assert b"sk-ant-api03-" not in stored["pkg0/secret.env.py"]  # redacted as before
    # blobs are in the pack: the loose objects are the trees, the commit, the redacted copy
    # and the symlink target, not one per file
    assert _loose_objects(shadow) < 20
    (workspace / "pkg1" / "m1.py").write_text("value = 'changed'\n")
    assert [c.path for c in take(shadow).changes] == ["pkg1/m1.py"]


def test_a_failed_pack_falls_back_to_loose_objects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from promptster.record.files import blob_pack

    monkeypatch.setattr(blob_pack, "SAFE_CONFIG", ("-c", "fastimport.unpackLimit=x"))
    workspace = tmp_path / "ws"
    files = {f"m{i}.txt": f"{i}\n" for i in range(blob_pack.PACK_AT_LEAST)}
    workspace.mkdir()
    for name, text in files.items():
        (workspace / name).write_text(text)
    shadow = make_repo(workspace)
    take(shadow)
    assert tree_files(shadow) == {name: text.encode() for name, text in files.items()}
    assert _loose_objects(shadow) > blob_pack.PACK_AT_LEAST  # update-index wrote them


def test_binary_and_non_utf8_files_keep_every_byte_but_the_secret(tmp_path: Path) -> None:
    from promptster.record.files.ignores import redact_content

    key = b"ghp_" + b"A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    for around in (b"\x00\xff\xfe", b"\xc3\x28 latin \xe9 ", bytes(range(256))):
        data = around + key + b"\n" + around
        stored, kinds = redact_content(data)
        assert key not in stored and kinds == {"github_token": 1}
        assert stored == around + b"[REDACTED:github_token]\n" + around
    plain = bytes(range(256)) * 64
    assert redact_content(plain) == (plain, {})
