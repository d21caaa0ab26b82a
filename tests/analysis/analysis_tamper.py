"""Make broken copies of bundles for the bad-input tests."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path


def rewrite(source: Path, target: Path, change: Callable[[str, bytes], bytes]) -> Path:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            new.writestr(info, change(info.filename, old.read(info.filename)))
    return target


def tampered(source: Path, target: Path) -> Path:
    """A copy whose timeline was edited after signing."""

    def edit(name: str, data: bytes) -> bytes:
        if name != "timeline.jsonl":
            return data
        edited = data.replace(b'"reason":"submit"', b'"reason":"Submit"', 1)
        assert edited != data, "nothing to tamper with"
        return edited

    return rewrite(source, target, edit)


def newer_format(source: Path, target: Path) -> Path:
    """A copy that claims a bundle format version from the future."""

    def edit(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        body = json.loads(data)
        body["formatVersion"] = 99
        return json.dumps(body).encode()

    return rewrite(source, target, edit)
