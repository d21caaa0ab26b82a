"""Parsing what git prints for the snapshots: raw+numstat records, patches, quoted paths."""

from __future__ import annotations

from dataclasses import dataclass

MAX_DIFF_CHARS = 64 * 1024  # per file, in the event line


@dataclass(frozen=True)
class RawEntry:
    path: str
    status: str
    old_oid: str | None
    new_oid: str | None
    added: int = 0
    removed: int = 0
    binary: bool = False


def parse_raw_numstat(raw: bytes) -> list[RawEntry]:
    """Parse `diff-tree -z --raw --numstat` output: raw records first, then numstat records."""
    tokens = raw.decode("utf-8", "surrogateescape").split("\0")
    metas: list[tuple[str, str, str | None, str | None]] = []
    stats: dict[str, tuple[int, int, bool]] = {}
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.startswith(":"):
            meta = token[1:].split()
            zero = "0" * len(meta[2])
            old_oid = None if meta[2] == zero else meta[2]
            new_oid = None if meta[3] == zero else meta[3]
            metas.append((tokens[index + 1], meta[4][:1], old_oid, new_oid))
            index += 2
            continue
        if token.count("\t") >= 2:
            plus, minus, path = token.split("\t", 2)
            binary = plus == "-"
            stats[path] = (0 if binary else int(plus), 0 if binary else int(minus), binary)
        index += 1
    entries = []
    for path, status, old_oid, new_oid in metas:
        added, removed, binary = stats.get(path, (0, 0, False))
        entries.append(RawEntry(path, status, old_oid, new_oid, added, removed, binary))
    return entries


@dataclass(frozen=True)
class Patch:
    text: str  # bounded to MAX_DIFF_CHARS
    truncated: bool
    added: tuple[str, ...]  # every added line's text (for attribution), however long the diff
    removed: tuple[str, ...]


def split_patch(patch: bytes, wanted: set[str]) -> dict[str, Patch]:
    """Split `diff-tree -p` output into per-path diffs, each bounded to MAX_DIFF_CHARS."""
    result: dict[str, Patch] = {}
    text = patch.decode("utf-8", "replace")
    sections = text.split("\ndiff --git ")
    if sections and sections[0].startswith("diff --git "):
        sections[0] = sections[0][len("diff --git ") :]
    for section in sections:
        header, _, rest = section.partition("\n")
        path = path_from_header(header)
        if path is None or path not in wanted or path in result:
            continue
        added, removed = changed_lines(rest)
        body = "diff --git " + section
        if not body.endswith("\n"):
            body += "\n"
        truncated = len(body) > MAX_DIFF_CHARS
        if truncated:
            cut = body.rfind("\n", 0, MAX_DIFF_CHARS) + 1
            body = body[: cut or MAX_DIFF_CHARS]
        result[path] = Patch(body, truncated, added, removed)
    return result


def changed_lines(body: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The added and removed line texts of one file's patch (after its header lines)."""
    added: list[str] = []
    removed: list[str] = []
    in_hunk = False
    for line in body.split("\n"):
        if line.startswith("@@"):
            in_hunk = True
        elif not in_hunk:
            continue
        elif line.startswith("+"):
            added.append(line[1:])
        elif line.startswith("-"):
            removed.append(line[1:])
    return tuple(added), tuple(removed)


def path_from_header(header: str) -> str | None:
    """The path in `a/<p> b/<p>` (renames are off, so both sides are the same path)."""
    if header.startswith('"'):
        parts = header.split('" "', 1)
        if len(parts) != 2 or not parts[0].startswith('"a/'):
            return None
        return c_unquote(parts[0][3:])
    if not header.startswith("a/") or (len(header) - 5) % 2:
        return None
    half = (len(header) - 5) // 2
    left, right = header[2 : 2 + half], header[half + 5 :]
    return left if left == right else None


def c_unquote(text: str) -> str:
    """Undo git's C-style quoting of a path (octal escapes are UTF-8 bytes)."""
    out = bytearray()
    index = 0
    simple = {"n": b"\n", "t": b"\t", '"': b'"', "\\": b"\\", "a": b"\a", "b": b"\b"}
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            nxt = text[index + 1]
            if nxt in simple:
                out += simple[nxt]
                index += 2
                continue
            if nxt.isdigit():
                out.append(int(text[index + 1 : index + 4], 8))
                index += 4
                continue
        out += char.encode("utf-8")
        index += 1
    return out.decode("utf-8", "surrogateescape")


def nul_join(paths: list[str]) -> bytes:
    return b"".join(p.encode("utf-8", "surrogateescape") + b"\0" for p in paths)
