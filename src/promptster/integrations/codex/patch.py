"""Codex's file edits as AI edit claims: from `apply_patch` text and from `FileChange` items.

An edit claim has the shape of `tool_result.edit` (docs/event-kinds.md): `path` (relative to
the workspace), then `content` for a new file or `edits` (old/new text pairs, one per hunk).
The patch text is what the model sent (`*** Begin Patch` … `*** End Patch`, with `*** Add
File:`, `*** Update File:` + `*** Move to:`, `*** Delete File:` and `@@` hunks); the
`FileChange` item is what Codex applied (`add` + `content`, `update` + `unified_diff`,
`delete`). Standard library only.
"""

from __future__ import annotations

import os
from typing import Any

from promptster.integrations.claude import values as cv

Json = dict[str, Any]
MAX_FILES = 200
MAX_HUNKS = 500
_BEGIN = "*** Begin Patch"
_END = "*** End Patch"
_FILE_HEADERS = ("*** Add File: ", "*** Update File: ", "*** Delete File: ")


def _claim(workspace: str, path: str) -> Json:
    claim: Json = {"tool": "apply_patch", "userModified": False}
    where = cv.relative(path, workspace)
    if where is None:
        claim["outsideWorkspace"] = True  # nothing outside the workspace is captured
    else:
        claim["path"] = where
    return claim


def _pair(old: list[str], new: list[str]) -> Json:
    return {
        "oldString": cv.bound("\n".join(old))[0],
        "newString": cv.bound("\n".join(new))[0],
        "replaceAll": False,
    }


def hunks(lines: list[str]) -> list[Json]:
    """Hunk lines (`@@` separators, ` `/`-`/`+` lines) as old/new text pairs."""
    pairs: list[Json] = []
    old: list[str] = []
    new: list[str] = []
    for line in lines:
        if line.startswith("@@") or line == "*** End of File":
            if old or new:
                pairs.append(_pair(old, new))
            old, new = [], []
        elif line.startswith(("---", "+++")) and not (old or new):
            continue
        elif line.startswith("+"):
            new.append(line[1:])
        elif line.startswith("-"):
            old.append(line[1:])
        elif line.startswith(" ") or line == "":
            old.append(line[1:])
            new.append(line[1:])
    if old or new:
        pairs.append(_pair(old, new))
    return pairs[:MAX_HUNKS]


def patch_claims(text: str, workspace: str, cwd: str | None = None) -> list[Json]:
    """The edit claims of an apply_patch text (also inside a shell heredoc); [] if none."""
    start = text.find(_BEGIN)
    if start < 0:
        return []
    end = text.find(_END, start)
    body = text[start + len(_BEGIN) : end if end >= 0 else len(text)].splitlines()
    base = cwd or workspace
    claims: list[Json] = []
    current: Json | None = None
    lines: list[str] = []

    def close() -> None:
        if current is None:
            return
        if "content" in current:
            current["content"] = cv.bound("\n".join(lines) + ("\n" if lines else ""))[0]
        elif not current.get("deleted"):
            current["edits"] = hunks(lines)
        claims.append(current)

    for line in body:
        header = next((h for h in _FILE_HEADERS if line.startswith(h)), None)
        if header is not None:
            close()
            lines = []
            path = line[len(header) :].strip()
            current = _claim(workspace, os.path.join(base, path))
            if header.startswith("*** Add"):
                current.update(content="", created=True)
            elif header.startswith("*** Delete"):
                current["deleted"] = True
        elif line.startswith("*** Move to: ") and current is not None:
            moved = _claim(workspace, os.path.join(base, line[len("*** Move to: ") :].strip()))
            current.update({k: v for k, v in moved.items() if k in ("path", "outsideWorkspace")})
        elif current is not None:
            lines.append(line[1:] if "content" in current and line.startswith("+") else line)
    close()
    return claims[:MAX_FILES]


def change_claim(workspace: str, path: str, change: Any) -> Json | None:
    """One file of a `FileChange` item (what Codex applied) as an edit claim."""
    if not isinstance(change, dict):
        return None
    kind = change.get("type")
    moved = change.get("move_path")
    claim = _claim(workspace, moved if isinstance(moved, str) and moved else path)
    if "path" not in claim:
        return claim
    if kind == "add":
        content = change.get("content")
        claim.update(content=cv.bound(content if isinstance(content, str) else "")[0])
        claim["created"] = True
    elif kind == "delete":
        claim["deleted"] = True
    else:
        diff = change.get("unified_diff")
        claim["edits"] = hunks((diff if isinstance(diff, str) else "").splitlines())
    return claim
