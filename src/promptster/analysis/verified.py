"""Which bundle files to load, and the verification every one passes before it is loaded."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

from promptster.bundle import format as fmt
from promptster.bundle.reader import BundleReader
from promptster.bundle.spool import SpooledTimeline
from promptster.bundle.verify import ExtraCheck, VerifyReport, verify_bundle
from promptster.errors import (
    CheckFailed,
    FormatError,
    InputError,
    NewerFormatError,
    PromptsterError,
)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return "sha256:" + digest.hexdigest()


def _unverified_timeline(report: VerifyReport) -> SpooledTimeline | None:
    """The timeline of a bundle that failed verification (for --allow-invalid), copied to a
    spool file in pieces: never held whole, and never inflated past its declared size."""
    if report.context.timeline is not None:
        return report.context.timeline
    try:
        with BundleReader(report.path) as reader:
            if fmt.TIMELINE not in reader.infos:
                return None
            with reader.open_member(fmt.TIMELINE) as stream:
                return SpooledTimeline.from_stream(stream)
    except PromptsterError:
        return None


def naming(path: Path, message: str) -> str:
    """`message` about the bundle at `path`, naming the path once (at the start)."""
    return message if message.startswith(str(path)) else f"{path}: {message}"


def without_path(path: Path, exc: PromptsterError) -> str:
    """An error's message and hint for a line or row that names `path` already."""
    text = exc.message
    if text.startswith(f"{path}: "):
        text = text[len(f"{path}: ") :]
    elif text.startswith(f"{path} "):
        text = "the file " + text[len(f"{path} ") :]
    return text + (f" ({exc.hint})" if exc.hint else "")


def verify_for_loading(
    path: Path, *, allow_invalid: bool, checks: Sequence[ExtraCheck] = ()
) -> tuple[VerifyReport, SpooledTimeline]:
    """Verify `path`; return the report and its timeline spooled to a temporary file (the
    caller closes it), or raise a typed error.

    `checks` are the extra checks to run: the reviewer's (the assessment pack and candidate key,
    `promptster.reviewer.checks.default_checks()`) are passed in by the layers above, which
    know the reviewer workspace; analysis itself never opens it."""
    report = verify_bundle(path, extra_checks=checks, keep_timeline=True)
    manifest = report.context.manifest
    usable = not report.unreadable and manifest is not None and (report.ok or allow_invalid)
    if not usable and report.context.timeline is not None:
        report.context.timeline.close()  # not handed out below
        report.context.timeline = None
    problems = [f.message for f in report.failures]
    first = problems[0] if problems else f"{path} is not a readable bundle"
    if "reads up to" in first:  # written by a newer promptster
        raise NewerFormatError(
            naming(path, first.split("; upgrade")[0]),
            "upgrade promptster (pip install -U promptster) to read it",
        )
    if report.unreadable or manifest is None:
        # No usable manifest: nothing can be attributed to a session.
        raise FormatError(naming(path, first))
    if not report.ok and not allow_invalid:
        raise CheckFailed(
            f"{path} failed verification: {problems[0]}",
            "run `promptster verify` for every finding; --allow-invalid loads it anyway, flagged",
        )
    timeline = report.context.timeline if report.ok else _unverified_timeline(report)
    report.context.timeline = None  # the caller owns it now
    if timeline is None:
        raise FormatError(f"{path} has no readable timeline.jsonl")
    return report, timeline


def find_bundles(paths: list[Path] | tuple[Path, ...]) -> list[Path]:
    """Bundle files named directly, plus every *.pst under the named folders, sorted.

    Paths come back as given but normalised (`a/../b.pst` is `b.pst`), as they are printed."""
    found: list[Path] = []
    for path in paths:
        path = Path(os.path.normpath(path))
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*.pst") if p.is_file()))
        elif path.exists():
            found.append(path)
        else:
            raise InputError(f"{path}: no such file or folder")
    seen: set[Path] = set()
    unique = []
    for path in found:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique
