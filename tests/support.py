"""Shared helpers for tests: skip locally when a real component is missing, fail in CI."""

from __future__ import annotations

import os
import shutil

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def require(condition: bool, reason: str) -> None:
    """Skip the calling test with `reason` unless `condition`; in CI a missing component fails."""
    if condition:
        return
    if in_ci():
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def require_executable(name: str, hint: str = "") -> str:
    """Return the path of executable `name`, or skip (fail in CI) when it is not installed."""
    path = shutil.which(name)
    require(path is not None, f"{name} is not installed{': ' + hint if hint else ''}")
    assert path is not None
    return path


def practice_bundle_verified(stdout: str | bytes) -> bool:
    """`promptster verify --json` on a practice session's bundle (started without a key, so
    without an assessment pack): every check passes except the reviewer's "no pack, no
    verification" (docs/security.md)."""
    import json

    (report,) = json.loads(stdout)["bundles"]
    failed = [f for f in report["findings"] if f["status"] == "failed"]
    return (
        len(failed) == 1
        and failed[0]["check"] == "assessment"
        and ("carries no assessment pack" in failed[0]["message"])
    )
