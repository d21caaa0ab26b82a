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
import fcntl
import json
import os
from collections import Counter
from pathlib import Path

from promptster.protocol import (
    CLIENT_LOSSES_SIZE,
    client_losses_record,
    parse_client_losses,
)

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


class ClientLossLedger:
    """Events the capture sources (hooks, the shell, the CLI) could neither send nor spool.

    They count them themselves (protocol.count_client_loss) in `losses-clients.json`, whose
    bytes this recorder allocates while there is room; the recorder records what it finds as a
    `capture_gap` once its journal can be written, then takes exactly that many off the count
    (under the ledger's flock: a source counting meanwhile is kept for the next look).
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def reserve(self) -> None:
        """Create the ledger and allocate its bytes; what a source already counted is kept."""
        with contextlib.suppress(OSError):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                if os.fstat(fd).st_size < CLIENT_LOSSES_SIZE:
                    count, kinds = parse_client_losses(os.pread(fd, CLIENT_LOSSES_SIZE, 0))
                    os.pwrite(fd, client_losses_record(count, kinds), 0)
                    os.posix_fallocate(fd, 0, CLIENT_LOSSES_SIZE)
            finally:
                os.close(fd)

    def peek(self) -> tuple[int, dict[str, int]]:
        try:
            with self.path.open("rb") as handle:
                return parse_client_losses(handle.read(CLIENT_LOSSES_SIZE))
        except OSError:
            return 0, {}

    def take_off(self, count: int, kinds: dict[str, int]) -> None:
        """Remove what was recorded from the count (sources may have added more since)."""
        with contextlib.suppress(OSError):
            fd = os.open(self.path, os.O_RDWR)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                now, now_kinds = parse_client_losses(os.pread(fd, CLIENT_LOSSES_SIZE, 0))
                left = {k: v - kinds.get(k, 0) for k, v in now_kinds.items()}
                left = {k: v for k, v in left.items() if v > 0}
                os.pwrite(fd, client_losses_record(max(0, now - count), left), 0)
            finally:
                os.close(fd)
