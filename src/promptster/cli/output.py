"""Console helpers shared by command modules: rich on stderr for people, stdout for machines."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console

_stderr: Console | None = None


def err_console() -> Console:
    """Human-facing output. Created lazily so commands that never print stay fast."""
    global _stderr
    if _stderr is None:
        _stderr = Console(stderr=True, highlight=False, soft_wrap=True)
    return _stderr


def print_json(value: Any) -> None:
    """Machine output: one JSON document on stdout."""
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
    sys.stdout.flush()
