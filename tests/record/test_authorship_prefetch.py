"""The reading thread of the submit-time authorship: it hands blobs over in order, passes its
errors on, and stops when the replay stops early (an error must not leave it blocked)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from promptster.record.attribution.authorship import PREFETCH_CHUNK, _prefetch


def blobs(count: int, fail_at: int | None = None) -> Iterator[bytes | None]:
    for n in range(count):
        if n == fail_at:
            raise OSError("git cat-file failed")
        yield None if n % 7 == 0 else str(n).encode()


def test_prefetch_gives_every_item_in_order() -> None:
    count = PREFETCH_CHUNK * 20 + 3  # more than the bounded queue holds
    with ThreadPoolExecutor(1) as worker:
        assert list(_prefetch(worker, blobs(count))) == list(blobs(count))


def test_prefetch_passes_the_readers_error_on() -> None:
    with ThreadPoolExecutor(1) as worker:
        got = _prefetch(worker, blobs(1000, fail_at=PREFETCH_CHUNK * 3 + 1))
        with pytest.raises(OSError, match="cat-file failed"):
            list(got)


def test_closing_early_stops_the_reading_thread() -> None:
    produced: list[int] = []

    def endless() -> Iterator[bytes | None]:
        n = 0
        while True:
            produced.append(n)
            n += 1
            yield b"x"

    worker = ThreadPoolExecutor(1)
    got = _prefetch(worker, endless())
    assert next(got) == b"x"
    got.close()  # the replay failed: the producer, blocked on a full queue, must give up
    worker.shutdown(wait=True)  # returns only once the producer has stopped
    assert len(produced) < PREFETCH_CHUNK * 20  # it stopped, not ran on
