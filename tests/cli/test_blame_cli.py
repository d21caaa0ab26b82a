"""`promptster blame` on bundles without line authorship, and on input that is not a bundle."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def promptster(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from promptster.cli import run; run()", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_bundle_without_authorship_says_so(tmp_path: Path) -> None:
    bundle = tmp_path / "synth.pst"
    made = promptster("synth", "-o", str(bundle), "--events", "60", "--seed", "3", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    shown = promptster("blame", str(bundle), "--json", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == {"version": 1, "files": [], "available": False}
    assert "no line authorship" in shown.stderr
    text = promptster("blame", str(bundle), "anything.py", cwd=tmp_path)
    assert (text.returncode, text.stdout) == (0, "")


def test_not_a_bundle(tmp_path: Path) -> None:
    missing = promptster("blame", str(tmp_path / "nope.pst"), cwd=tmp_path)
    assert missing.returncode == 2 and "no such file" in missing.stderr
    junk = tmp_path / "junk.pst"
    junk.write_bytes(b"not a zip")
    refused = promptster("blame", str(junk), cwd=tmp_path)
    assert refused.returncode == 2 and "not a readable bundle" in refused.stderr
    assert "Traceback" not in refused.stderr
