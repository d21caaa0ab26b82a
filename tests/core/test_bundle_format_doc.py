"""docs/bundle-format.md's worked example is what `promptster synth` really writes."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from pathlib import Path

from promptster.record.synth import generate_bundle

DOC = Path(__file__).resolve().parents[2] / "docs" / "bundle-format.md"


def _section() -> str:
    text = DOC.read_text("utf-8")
    return text[text.index("## 12. A worked example") :]


def test_the_worked_example_matches_synth_output(tmp_path: Path) -> None:
    section = _section()
    command = re.search(r"`promptster synth -o sample.pst --events (\d+) --seed (\d+)`", section)
    assert command, "the worked example no longer names its synth command"
    bundle = tmp_path / "sample.pst"
    generate_bundle(bundle, events=int(command.group(1)), seed=int(command.group(2)))
    with zipfile.ZipFile(bundle) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        timeline = archive.read("timeline.jsonl")
    quoted = re.search(r"```json\n(\{\"assessmentId\".*?)\n```", section, re.S)
    assert quoted
    compared = set()
    for key, value in re.findall(r'"(\w+)":("[^"]*"|\d+|null)', quoted.group(1)):
        if key in manifest:  # member digests are shown shortened: checked below
            assert json.dumps(manifest[key]) == value, key
            compared.add(key)
    assert {"chainHead", "eventCount", "publicKey", "sessionId", "snapshotHead"} <= compared
    for member, (digest, size) in {
        m: (s["sha256"], s["size"]) for m, s in manifest["members"].items()
    }.items():
        shown = re.search(rf'"{re.escape(member)}":\{{"sha256":"([^"…]+)…","size":(\d+)', section)
        assert shown, member
        assert digest.startswith(shown.group(1)) and size == int(shown.group(2)), member
    first, second = timeline.split(b"\n")[:2]
    assert first.decode() in section
    assert f"`sha256:{hashlib.sha256(first).hexdigest()}`" in section
    session_hash = "sha256:" + hashlib.sha256(manifest["sessionId"].encode()).hexdigest()
    assert json.loads(first)["prev"] == session_hash and f"`{session_hash}`" in section
    assert json.loads(second)["prev"] == "sha256:" + hashlib.sha256(first).hexdigest()
