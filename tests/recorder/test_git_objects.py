"""Git objects and the snapshot ref written in process (record/files/gitobjects.py) are git's,
byte for byte: the same ids, the same compressed files, the same ref files (real git)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promptster.gitutil import SNAPSHOT_AUTHOR, run_git
from promptster.record.files import gitobjects

SLOW = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def bare(path: Path) -> Path:
    run_git(["init", "--quiet", "--bare", str(path)])
    return path


def stored(git_dir: Path, oid: str) -> bytes:
    return (git_dir / "objects" / oid[:2] / oid[2:]).read_bytes()


@SLOW
@given(data=st.binary(max_size=70_000) | st.text().map(str.encode))
def test_a_blob_is_stored_as_git_stores_it(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    ours, theirs = bare(tmp_path_factory.mktemp("ours")), bare(tmp_path_factory.mktemp("git"))
    oid = gitobjects.write_loose(ours, "blob", data)
    expected = run_git(["hash-object", "-w", "--stdin"], git_dir=theirs, stdin=data).text.strip()
    assert oid == expected
    assert stored(ours, oid) == stored(theirs, oid)
    assert run_git(["cat-file", "blob", oid], git_dir=ours).stdout == data
    assert gitobjects.loose_size(ours, oid) == len(data)
    assert gitobjects.write_loose(ours, "blob", data) == oid  # there already: left as it is


names = st.text(
    st.characters(exclude_characters="/\0", exclude_categories=["Cs"]), min_size=1, max_size=12
).filter(lambda n: n not in (".", ".."))


@SLOW
@given(
    entries=st.dictionaries(names, st.sampled_from(["100644", "100755", "120000"]), max_size=6),
    seconds=st.integers(0, 2**33),
    offset=st.integers(-14 * 60, 14 * 60),
    message=st.text(min_size=1, max_size=80).filter(gitobjects.plain_message),
    parents=st.integers(0, 2),
)
def test_a_commit_is_the_one_commit_tree_writes(
    tmp_path_factory: pytest.TempPathFactory,
    entries: dict[str, str],
    seconds: int,
    offset: int,
    message: str,
    parents: int,
) -> None:
    ours, theirs = bare(tmp_path_factory.mktemp("ours")), bare(tmp_path_factory.mktemp("git"))
    blob = run_git(["hash-object", "-w", "--stdin"], git_dir=theirs, stdin=b"x\n").text.strip()
    listing = "".join(f"{mode} blob {blob}\t{name}\0" for name, mode in sorted(entries.items()))
    tree = run_git(["mktree", "-z"], git_dir=theirs, stdin=listing.encode()).text.strip()
    # a tree in process too: the object format is the same for every kind
    body = run_git(["cat-file", "tree", tree], git_dir=theirs).stdout
    assert gitobjects.write_loose(ours, "tree", body) == tree
    assert stored(ours, tree) == stored(theirs, tree)
    parent_ids = []
    for n in range(parents):
        made = run_git(["commit-tree", tree, "-m", f"p{n}"], git_dir=theirs).text.strip()
        parent_ids.append(made)
    sign = "-" if offset < 0 else "+"
    zone = f"{sign}{abs(offset) // 60:02d}{abs(offset) % 60:02d}"
    env = {"GIT_AUTHOR_DATE": f"@{seconds} {zone}", "GIT_COMMITTER_DATE": f"@{seconds} {zone}"}
    args = ["commit-tree", tree, *(a for p in parent_ids for a in ("-p", p)), "-m", message]
    expected = run_git(args, git_dir=theirs, env=env).text.strip()
    commit = gitobjects.commit_body(tree, parent_ids, SNAPSHOT_AUTHOR, seconds, zone, message)
    oid = gitobjects.write_loose(ours, "commit", commit)
    assert oid == expected
    assert stored(ours, oid) == stored(theirs, oid)


def test_messages_git_would_treat_specially_are_left_to_it() -> None:
    assert gitobjects.plain_message("snapshot (watcher)")
    assert gitobjects.plain_message("snapshot (prüfung ✓)")
    for message in ("", "two\nlines", "ends\n", "tab\there", "nul\0", "lone \udc80", "\x1b[0m"):
        assert not gitobjects.plain_message(message)


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "Asia/Kolkata", "America/St_Johns"])
def test_the_time_zone_is_written_as_git_writes_it(zone: str) -> None:
    if not Path("/usr/share/zoneinfo", zone).exists() and zone != "UTC":
        if os.environ.get("CI") == "true":
            pytest.fail(f"the time zone {zone} (tzdata) is required in CI")
        pytest.skip(f"no tzdata for {zone}")
    env = {**os.environ, "TZ": zone}
    ident = subprocess.run(
        ["git", "var", "GIT_COMMITTER_IDENT"], env=env, capture_output=True, check=True
    ).stdout.decode()
    seconds, git_zone = ident.split()[-2:]
    code = "from promptster.record.files.gitobjects import git_timezone as t; import sys; "
    code += "print(t(int(sys.argv[1])))"
    ours = subprocess.run(
        [sys.executable, "-c", code, seconds], env=env, capture_output=True, check=True
    ).stdout.decode()
    assert ours.strip() == git_zone


def commits(git_dir: Path, count: int) -> list[str]:
    tree = run_git(["mktree"], git_dir=git_dir, stdin=b"").text.strip()
    return [
        run_git(["commit-tree", tree, "-m", f"c{n}"], git_dir=git_dir).text.strip()
        for n in range(count)
    ]


def test_the_ref_is_written_as_update_ref_writes_it(tmp_path: Path) -> None:
    ours, theirs = bare(tmp_path / "ours"), bare(tmp_path / "git")
    ref = "refs/heads/snapshots"
    one, two = commits(ours, 2)
    assert commits(theirs, 2) == [one, two]
    for git_dir in (ours, theirs):
        run_git(["update-ref", ref, one], git_dir=git_dir)
    assert gitobjects.update_ref(ours, ref, two, one)
    run_git(["update-ref", ref, two, one], git_dir=theirs)
    assert (ours / ref).read_bytes() == (theirs / ref).read_bytes() == two.encode() + b"\n"
    assert not (ours / (ref + ".lock")).exists()
    assert run_git(["rev-parse", ref], git_dir=ours).text.strip() == two


def test_the_ref_is_left_to_git_outside_the_plain_case(tmp_path: Path) -> None:
    git_dir = bare(tmp_path / "repo")
    ref = "refs/heads/snapshots"
    one, two = "1" * 40, "2" * 40
    assert not gitobjects.update_ref(git_dir, ref, two, one)  # no loose ref (packed, new)
    (git_dir / ref).write_text(one + "\n")
    assert not gitobjects.update_ref(git_dir, ref, two, "3" * 40)  # holds another value
    lock = git_dir / (ref + ".lock")
    lock.write_text("")
    assert not gitobjects.update_ref(git_dir, ref, two, one)  # another writer holds the lock
    lock.unlink()
    (git_dir / "logs" / "refs" / "heads").mkdir(parents=True)
    (git_dir / "logs" / ref).write_text("")
    assert not gitobjects.update_ref(git_dir, ref, two, one)  # it has a reflog
    assert (git_dir / ref).read_text() == one + "\n"  # untouched every time
    assert not lock.exists()
    assert gitobjects.refs_in_process(git_dir)
    run_git(["config", "core.logAllRefUpdates", "true"], git_dir=git_dir)
    assert not gitobjects.refs_in_process(git_dir)


def test_a_packed_or_missing_object_has_no_loose_size(tmp_path: Path) -> None:
    git_dir = bare(tmp_path / "repo")
    assert gitobjects.loose_size(git_dir, "0" * 40) is None
    oid = gitobjects.write_loose(git_dir, "blob", b"packed soon\n")
    run_git(["update-ref", "refs/tags/kept", oid], git_dir=git_dir)
    run_git(["repack", "-a", "-d", "-q"], git_dir=git_dir)
    run_git(["prune-packed"], git_dir=git_dir)
    assert gitobjects.loose_size(git_dir, oid) is None
    broken = git_dir / "objects" / "ab" / ("c" * 38)
    broken.parent.mkdir()
    broken.write_bytes(b"not zlib at all")
    assert gitobjects.loose_size(git_dir, "ab" + "c" * 38) is None


def test_a_loose_blob_is_read_back_as_git_reads_it(tmp_path: Path) -> None:
    from promptster.gitblobs import BlobReader
    from promptster.record.attribution.writes import _blobs

    git_dir = bare(tmp_path / "repo")
    packed = gitobjects.write_loose(git_dir, "blob", b"packed\n")
    run_git(["update-ref", "refs/tags/kept", packed], git_dir=git_dir)
    run_git(["repack", "-a", "-d", "-q"], git_dir=git_dir)
    run_git(["prune-packed"], git_dir=git_dir)
    loose = gitobjects.write_loose(git_dir, "blob", b"loose\x00\xff bytes\n")
    tree = run_git(["mktree"], git_dir=git_dir, stdin=f"100644 blob {loose}\tf\n".encode())
    tree_id = tree.text.strip()
    assert gitobjects.read_loose_blob(git_dir, loose) == b"loose\x00\xff bytes\n"
    assert gitobjects.read_loose_blob(git_dir, packed) is None  # packed: git reads it
    assert gitobjects.read_loose_blob(git_dir, tree_id) is None  # not a blob
    assert gitobjects.read_loose_blob(git_dir, "0" * 40) is None  # missing
    forged = git_dir / "objects" / "ab" / ("c" * 38)  # content that is not its name
    forged.parent.mkdir()
    forged.write_bytes(gitobjects.loose_bytes("blob", b"other\n"))
    assert gitobjects.read_loose_blob(git_dir, "ab" + "c" * 38) is None
    names = [packed, loose, tree_id, "0" * 40, loose]
    with BlobReader(git_dir) as reader:
        assert _blobs(git_dir, names) == list(reader.read_many(names))
