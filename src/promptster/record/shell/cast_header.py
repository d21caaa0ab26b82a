"""A cast's header and its file name: all the pty loop's side needs of the cast.

`promptster shell` numbers the cast and builds its header before the worker starts; the rest
of the cast (encoder, redactor, writer: cast.py) is the worker's, and the loop does not import
it, so that its own start (before the shell's first prompt) stays small."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CAST_VERSION = 2
CASTS_DIR = "casts"
CAST_NAME = re.compile(r"([0-9]{1,4})\.cast")


@dataclass(frozen=True)
class CastHeader:
    width: int
    height: int
    timestamp: float  # seconds since the epoch when the recording started
    env: dict[str, str] = field(default_factory=dict)
    title: str | None = None
    session_id: str | None = None
    shell: str | None = None

    def to_json_obj(self) -> dict[str, Any]:
        header: dict[str, Any] = {
            "version": CAST_VERSION,
            "width": self.width,
            "height": self.height,
            "timestamp": int(self.timestamp),
            "env": self.env,
        }
        if self.title:
            header["title"] = self.title
        extra: dict[str, Any] = {"startedAt": round(self.timestamp, 6)}
        if self.session_id:
            extra["sessionId"] = self.session_id
        if self.shell:
            extra["shell"] = self.shell
        header["promptster"] = extra
        return header

    def line(self) -> bytes:
        return json_line(self.to_json_obj())


def json_line(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": ")).encode() + b"\n"


def new_cast_path(session_dir: Path) -> tuple[int, Path]:
    """The next free `casts/<n>.cast` (created empty, mode 0600, so two shells never share)."""
    folder = session_dir / CASTS_DIR
    folder.mkdir(mode=0o700, exist_ok=True)
    taken = [int(m.group(1)) for p in folder.iterdir() if (m := CAST_NAME.fullmatch(p.name))]
    number = max(taken, default=-1) + 1
    while True:
        path = folder / f"{number}.cast"
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            number += 1
            continue
        return number, path
