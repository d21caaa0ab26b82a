"""A count of refused events that survives the recorder: the loss ledger.

While the journal cannot be written (a full disk), the recorder refuses events and counts
them in memory; once writing works again it records what never arrived as a `capture_gap`
warning (pipeline.report_losses). If the recorder dies before that, its memory is gone, and
so would be the only trace of the loss. So each refusal also updates this small file in the
session folder, `losses.json`: its bytes are allocated when the recorder starts, while
there is room, and later rewritten in place (pwrite at offset 0, same size), which needs no
new block even on a full disk. The next recorder finds a count nobody settled and records it
as a `capture_gap` ("up to N events": those that reached the spool were ingested since).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections import Counter
from pathlib import Path

SIZE = 1024  # fixed: the record is padded with spaces to this many bytes
LEDGER_FILE = "losses.json"


class LossLedger:
    """Refused events not yet settled (recorded as arrived or lost), persisted in place."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.open = 0
        self.kinds: Counter[str] = Counter()
        self._fd: int | None = None

    def load_and_reserve(self) -> tuple[int, dict[str, int]]:
        """What a previous recorder left unsettled (count, kinds); then keep the file open,
        its bytes allocated, for this recorder's refusals."""
        found: tuple[int, dict[str, int]] = (0, {})
        with contextlib.suppress(OSError, ValueError):
            body = json.loads(self.path.read_bytes() or b"{}")
            count, kinds = body.get("open", 0), body.get("kinds", {})
            if isinstance(count, int) and count > 0 and isinstance(kinds, dict):
                clean = {str(k)[:64]: v for k, v in kinds.items() if isinstance(v, int)}
                found = (count, clean)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            return found  # no ledger this time: the in-memory count still works
        try:
            os.posix_fallocate(fd, 0, SIZE)
        except OSError:
            with contextlib.suppress(OSError):
                os.pwrite(fd, b" " * SIZE, 0)
        self._fd = fd
        self.open, self.kinds = found[0], Counter(found[1])
        return found

    def refused(self, kinds: list[str]) -> None:
        self.open += len(kinds)
        for kind in kinds:
            if len(self.kinds) < 32 or kind in self.kinds:
                self.kinds[kind[:64]] += 1
        self._write()

    def settle(self) -> None:
        """Every refusal so far is accounted for in the journal."""
        self.open = 0
        self.kinds.clear()
        self._write()

    def _write(self) -> None:
        if self._fd is None:
            return
        record = json.dumps({"v": 1, "open": self.open, "kinds": dict(self.kinds)}).encode()
        if len(record) > SIZE:
            record = json.dumps({"v": 1, "open": self.open, "kinds": {}}).encode()
        # In place and the same size: nothing to allocate, so it works on a full disk.
        with contextlib.suppress(OSError):
            os.pwrite(self._fd, record.ljust(SIZE), 0)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
