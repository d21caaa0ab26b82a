"""Git objects and a ref written and read in process, byte for byte as git does it.

A snapshot that changed something used to start `git commit-tree`, `git update-ref` and
`git cat-file --batch-check` one after the other: three processes (3–4 ms each) for a few
hundred bytes. The formats are simple and stable, so the shadow repository does them here:

- a loose object is `<kind> <size>\\0<body>`, named by its SHA-1 and stored zlib-compressed
  (git's default loose level, `Z_BEST_SPEED`) at `objects/<2 hex>/<38 hex>`, read-only (and
  read back here: a size from its header, a blob's content for the write evidence);
- a commit is `tree`, `parent`s, `author` and `committer` lines (`Name <email> <seconds>
  <±hhmm>`), a blank line and the message, which `commit-tree -m` ends with a newline;
- a loose ref is its 40-hex value and a newline, replaced through `<ref>.lock` (created
  exclusively, so a concurrent writer fails as it would in git) and a rename.

Whatever is outside that plain case is left to git, which the caller then runs instead: a
message git would treat specially, a ref that is packed or has a reflog, another ref storage,
an object that is packed rather than loose. tests/recorder/test_git_objects.py checks the
bytes against git's own.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
import zlib
from collections.abc import Sequence
from pathlib import Path

LOOSE_LEVEL = 1  # git's core.looseCompression default (Z_BEST_SPEED)
_HEADER_MAX = 32  # "commit 18446744073709551615\0" fits


def object_id(kind: str, body: bytes) -> str:
    return hashlib.sha1(b"%s %d\0" % (kind.encode(), len(body)) + body).hexdigest()


def loose_bytes(kind: str, body: bytes) -> bytes:
    """The object as git stores it loose (compressed header and body)."""
    packer = zlib.compressobj(LOOSE_LEVEL)
    head = packer.compress(b"%s %d\0" % (kind.encode(), len(body)))
    return head + packer.compress(body) + packer.flush()


def _object_path(git_dir: Path, oid: str) -> Path:
    return git_dir / "objects" / oid[:2] / oid[2:]


def write_loose(git_dir: Path, kind: str, body: bytes) -> str:
    """Store the object unless it is there already; its id."""
    oid = object_id(kind, body)
    target = _object_path(git_dir, oid)
    if target.exists():
        return oid
    target.parent.mkdir(mode=0o777, exist_ok=True)
    temp = target.parent / f"tmp_obj_{os.getpid()}_{time.monotonic_ns()}"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(loose_bytes(kind, body))
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    return oid


def loose_size(git_dir: Path, oid: str) -> int | None:
    """The size of a loose object from its header; None when it is not loose (packed) or its
    header cannot be read (git decides then)."""
    reader = zlib.decompressobj()
    head = b""
    try:
        with open(_object_path(git_dir, oid), "rb") as source:
            while b"\0" not in head:
                chunk = source.read(512)
                if not chunk or len(head) >= _HEADER_MAX:
                    return None
                head += reader.decompress(chunk, _HEADER_MAX - len(head))
    except (OSError, zlib.error):
        return None
    kind, _, size = head.partition(b"\0")[0].partition(b" ")
    return int(size) if kind and size.isdigit() else None


def read_loose_blob(git_dir: Path, oid: str) -> bytes | None:
    """A loose blob's content, checked against its id; None when it is not loose (packed,
    missing), not a blob, or does not check out (git decides then)."""
    try:
        raw = zlib.decompress(_object_path(git_dir, oid).read_bytes())
    except (OSError, ValueError, zlib.error):
        return None
    head, _, body = raw.partition(b"\0")
    if head != b"blob %d" % len(body) or object_id("blob", body) != oid:
        return None
    return body


def git_timezone(seconds: int) -> str:
    """The local UTC offset at `seconds` as git writes it (`+0100`, `-0530`)."""
    minutes = (time.localtime(seconds).tm_gmtoff or 0) // 60
    sign = "-" if minutes < 0 else "+"
    minutes = abs(minutes)
    return f"{sign}{minutes // 60:02d}{minutes % 60:02d}"


def plain_message(message: str) -> bool:
    """A message `commit-tree -m` stores as it is plus a newline: one line of printable
    characters (no control characters, no lone surrogates), not empty."""
    return bool(message) and message.isprintable()


def commit_body(
    tree: str,
    parents: Sequence[str],
    ident: tuple[str, str],
    seconds: int,
    timezone: str,
    message: str,
) -> bytes:
    """What `git commit-tree TREE -p … -m MESSAGE` writes, for a `plain_message`, with the
    author and committer `ident` at `seconds` in `timezone`."""
    stamp = f"{ident[0]} <{ident[1]}> {seconds} {timezone}"
    lines = [f"tree {tree}", *(f"parent {p}" for p in parents)]
    lines += [f"author {stamp}", f"committer {stamp}", "", message]
    return ("\n".join(lines) + "\n").encode()


def refs_in_process(git_dir: Path) -> bool:
    """Whether this repository's refs are plain files without reflogs (the shadow's own
    configuration): otherwise refs are left to git."""
    try:
        config = (git_dir / "config").read_text("utf-8", "replace").lower()
    except OSError:
        return False
    return "logallrefupdates" not in config and "refstorage" not in config


def update_ref(git_dir: Path, ref: str, new: str, old: str) -> bool:
    """Point the loose `ref` at `new` if it holds `old`, as `git update-ref REF NEW OLD`;
    False (nothing changed) when that is not the plain case: git must do it."""
    target = git_dir / ref
    if (git_dir / "logs" / ref).exists():
        return False
    lock = target.with_name(target.name + ".lock")
    try:
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError:
        return False  # locked by another writer, or no folder: git reports it
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                current = target.read_bytes()
            except OSError:
                current = b""  # packed, or not there yet
            if current != old.encode() + b"\n":
                out.close()
                lock.unlink()
                return False  # git decides (and gives the error if it is one)
            out.write(new.encode() + b"\n")
        os.replace(lock, target)
    except BaseException:
        with contextlib.suppress(OSError):
            lock.unlink()
        raise
    return True
