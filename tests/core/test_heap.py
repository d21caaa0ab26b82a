"""The heap bound of the bundle-reading commands (promptster/heap.py)."""

from __future__ import annotations

import ctypes
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from promptster import heap
from promptster.bundle.reader import BundleReader
from promptster.cli import main
from promptster.record.synth import generate_bundle


@pytest.fixture(autouse=True)
def _bound_again() -> None:
    heap.bound.cache_clear()  # once a process: each test starts unbound


class FakeLibc:
    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[int, ...]]] = []

    def mallopt(self, *args: int) -> int:
        self.calls.append(("mallopt", args))
        return 1

    def malloc_trim(self, *args: int) -> int:
        self.calls.append(("malloc_trim", args))
        return 1


def test_bound_fixes_the_mmap_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    libc = FakeLibc()
    monkeypatch.setattr(heap, "_libc", lambda: libc)
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    heap.bound()
    assert libc.calls == [("mallopt", (-3, 2 << 20))]


def test_bound_leaves_the_users_own_tuning(monkeypatch: pytest.MonkeyPatch) -> None:
    libc = FakeLibc()
    monkeypatch.setattr(heap, "_libc", lambda: libc)
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "65536")
    heap.bound()
    assert libc.calls == []


def test_without_glibc_nothing_is_done(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heap, "_libc", lambda: None)
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    heap.bound()
    heap.release_freed_memory()


def _has_mallinfo2() -> bool:
    try:
        ctypes.CDLL(None).mallinfo2  # noqa: B018
    except (OSError, AttributeError):
        return False
    return True


# After a big block is freed, glibc raises its threshold to that block's size: the next block
# of that size is carved from the heap, where freeing it leaves a hole. Bound, it gets pages of
# its own again. mallinfo2's hblkhd is the bytes held in such pages.
PROBE = textwrap.dedent(
    """
    import ctypes, sys
    from promptster import heap
    class Info(ctypes.Structure):
        names = "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost"
        _fields_ = [(n, ctypes.c_size_t) for n in names.split()]
    mallinfo2 = ctypes.CDLL(None).mallinfo2
    mallinfo2.restype = Info
    if sys.argv[1] == "bound":
        heap.bound()
    first = bytearray(8 << 20)
    del first  # the threshold climbs to 8 MiB here, unless bound
    before = mallinfo2().hblkhd
    second = bytearray(4 << 20)
    print(mallinfo2().hblkhd - before)
    """
)


@pytest.mark.skipif(not _has_mallinfo2(), reason="needs glibc 2.33 or later (mallinfo2)")
@pytest.mark.parametrize("mode", ["bound", "default"])
def test_a_bound_heap_keeps_big_blocks_out_of_it(mode: str, tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, env=env, check=True
    )
    mapped = int(done.stdout)
    if mode == "bound":
        assert mapped >= 4 << 20
    else:
        assert mapped == 0


def test_opening_a_bundle_bounds_the_heap(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    called: list[bool] = []
    monkeypatch.setattr(heap, "bound", lambda: called.append(True))
    monkeypatch.setenv("PROMPTSTER_HOME", str(tmp_path / "home"))
    assert main(["version"]) == 0
    assert called == []
    bundle = generate_bundle(tmp_path / "s.pst", events=20, seed=1).path
    called.clear()  # writing checks the bundle too
    with BundleReader(bundle):
        assert called == [True]
    assert main(["verify", str(bundle)]) == 0
    assert called == [True, True]


def test_bound_is_done_once_a_process(monkeypatch: pytest.MonkeyPatch) -> None:
    libc = FakeLibc()
    monkeypatch.setattr(heap, "_libc", lambda: libc)
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    heap.bound()
    heap.bound()
    assert libc.calls == [("mallopt", (-3, 2 << 20))]
