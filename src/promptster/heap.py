"""The process's heap, kept small while big bundles are read (glibc only; elsewhere these do
nothing).

glibc serves a request of 128 KiB or more with pages of its own (given back when freed), but
after the first such block is freed it raises that threshold to the block's size, up to
32 MiB. From then on, the columns a review grows by reallocation (seq, time and code arrays of
a million events) are moved around inside the heap, and every move leaves a hole that the heap
keeps: ~40 MB of a million-event review's 300 MB budget (docs/security.md). `bound()`, called
when a bundle is opened (`BundleReader`), fixes the threshold at 2 MiB instead: big buffers keep
pages of their own (grown without a copy), while DuckDB's 256 KiB blocks and everything smaller
stay in the heap, as fast as before.
"""

from __future__ import annotations

import functools
import gc
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ctypes

# mallopt's parameter number for the threshold (malloc.h), and the threshold itself
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 2 << 20


@functools.cache
def _libc() -> ctypes.CDLL | None:
    """glibc, or None (musl and macOS have no mallopt or malloc_trim)."""
    import ctypes  # only here: the AI tools' hook path never needs it

    try:
        libc = ctypes.CDLL(None)
        libc.mallopt  # noqa: B018
        libc.malloc_trim  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


@functools.cache  # once a process: a batch opens thousands of bundles
def bound() -> None:
    """Fix glibc's mmap threshold at 2 MiB, unless MALLOC_MMAP_THRESHOLD_ already sets it."""
    if "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return  # the user's own tuning, read by glibc at start
    libc = _libc()
    if libc is not None:
        libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)


def release_freed_memory() -> None:
    """Collect garbage and give the heap's free pages back to the system (glibc's
    `malloc_trim`), so that a step's peak is not stacked on the last one's leftovers."""
    gc.collect()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
