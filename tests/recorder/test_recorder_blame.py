"""A real recorded session (recorder, watcher, shadow git, the real Claude Code hook command)
submitted with line authorship; `verify` checks it and `promptster blame` shows it."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from promptster.analysis.database import connect
from promptster.analysis.load import load_bundle
from promptster.analysis.signals import compute_signals
from promptster.bundle import format as fmt
from promptster.bundle.verify import verify_bundle
from promptster.bundle.writer import _zip_info
from promptster.formats.crypto import SigningKey, dsse_sign
from promptster.formats.jsonio import canonical_json
from promptster.record.lifecycle import StartedSession
from recorder_helpers import file_events, run_promptster, wait_for

AI_FILE = (
    "def mean(xs):\n    return sum(xs) / len(xs)\n\n\n"
    "def spread(xs):\n    return max(xs) - min(xs)\n"
)


def hook(workspace: Path, payload: dict[str, Any]) -> None:
    body = {
        "session_id": "c46155fa-e9bc-444a-89df-326e4bb5e565",
        "transcript_path": str(workspace / "no-transcript.jsonl"),
        "cwd": str(workspace),
        "permission_mode": "acceptEdits",
        **payload,
    }
    done = subprocess.run(
        [sys.executable, "-c", "from promptster.entry import run; run()", "hook", "claude-code"],
        input=json.dumps(body).encode(),
        cwd=workspace,
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def test_blame_on_a_recorded_session(
    start_recording: Callable[..., StartedSession], tmp_path: Path
) -> None:
    workspace = tmp_path / "work"
    workspace.mkdir()
    (workspace / "README.md").write_text("# Stats\n")
    started = start_recording(workspace, tools=["shell", "claude-code"])
    target = workspace / "stats.py"
    tool_input = {"file_path": str(target), "content": AI_FILE}
    call = {"tool_name": "Write", "tool_input": tool_input, "tool_use_id": "toolu_write_1"}
    hook(workspace, {"hook_event_name": "PreToolUse", **call})
    target.write_text(AI_FILE)
    response: dict[str, Any] = {"type": "create", "filePath": str(target), "content": AI_FILE,
                "structuredPatch": [], "originalFile": None, "userModified": False}  # fmt: skip
    hook(workspace, {"hook_event_name": "PostToolUse", "tool_response": response, **call})
    wait_for(lambda: file_events(started.paths, "stats.py"), what="the AI's file event")
    # the candidate edits one AI line and adds their own, a minute later in real sessions
    target.write_text(
        AI_FILE.replace("max(xs) - min(xs)", "max(xs) - min(xs) if xs else 0")
        + "# checked by hand\n"
    )
    (workspace / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0binary")
    (workspace / "notes.txt").write_bytes(b"windows line\r\nno newline at the end")
    ok(run_promptster("checkpoint", "my edit", cwd=workspace))

    submitted = json.loads(ok(run_promptster("submit", "--yes", "--json", cwd=workspace)).stdout)
    bundle = Path(submitted["path"])
    report = verify_bundle(bundle)
    assert report.ok, [f.message for f in report.failures]
    assert any(f.check == "authorship" and f.status == "ok" for f in report.findings)

    shown = json.loads(ok(run_promptster("blame", str(bundle), "--json", cwd=tmp_path)).stdout)
    assert shown["version"] == 1
    files = {item["path"]: item for item in shown["files"]}
    assert [line["author"] for line in files["README.md"]["lines"]] == ["starter"]
    stats = [line["author"] for line in files["stats.py"]["lines"]]
    assert stats[:5] == ["ai"] * 5
    assert stats[5] in ("ai_then_human", "human") and stats[6] == "human"
    assert files["logo.png"]["binary"] is True and files["logo.png"]["lines"] == []
    notes = files["notes.txt"]["lines"]
    assert [(n["text"], n["author"]) for n in notes] == [
        ("windows line", "human"),
        ("no newline at the end", "human"),
    ]
    first = files["stats.py"]["lines"][0]
    assert first["tool"] == "claude" and first["text"] == "def mean(xs):"
    assert isinstance(first["seq"], int) and first["eventId"]

    # the final-code signals, from the member loaded into DuckDB: 9 lines beyond the starter
    con = connect()
    load_bundle(con, bundle)
    rows = con.execute("SELECT sum(end_line - start_line + 1) FROM authorship").fetchall()
    assert rows == [(10,)]  # README's starter line included
    (signals,) = compute_signals(con).values()
    revised = stats.count("ai_then_human")
    assert signals.signals["aiFinalLinesPct"].value == 500 / 9
    assert signals.signals["aiRevisedLinesPct"].value == 100 * revised / 9
    assert signals.signals["pastedLinesPct"].value == 0
    assert signals.signals["aiFinalLinesPct"].detail["finalLines"] == 9

    scored = run_promptster(
        "score", str(bundle), "--allow-invalid", "--format", "jsonl", cwd=tmp_path
    )
    assert scored.returncode in (0, 1), scored.stderr  # 1: a practice bundle has no pack
    (row,) = [json.loads(line) for line in scored.stdout.splitlines() if line.strip()]
    assert round(row["aiFinalLinesPct"], 4) == round(500 / 9, 4), row

    one = ok(run_promptster("blame", str(bundle), "stats.py", cwd=tmp_path)).stdout
    assert one.splitlines()[0].startswith("AI ") and "def mean(xs):" in one
    missing = run_promptster("blame", str(bundle), "nope.py", cwd=tmp_path)
    assert missing.returncode == 2 and "stats.py" in missing.stderr

    # a changed member fails verification, and blame refuses the bundle
    broken = tmp_path / "broken.pst"
    _rewrite_authorship(bundle, broken, started.paths.key)
    refused = run_promptster("blame", str(broken), cwd=tmp_path)
    assert refused.returncode == 1 and "failed verification" in refused.stderr
    findings = verify_bundle(broken).failures
    assert [f.check for f in findings] == ["authorship"], findings


def _rewrite_authorship(bundle: Path, out: Path, key_path: Path) -> None:
    """The bundle with one file's line count changed in authorship.json, re-signed with the
    session key (so only the authorship check can notice)."""
    with zipfile.ZipFile(bundle) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    body = json.loads(members[fmt.AUTHORSHIP])
    item = next(f for f in body["files"] if f["path"] == "README.md")
    item["lines"] = 2
    item["ranges"][0]["end"] = 2
    members[fmt.AUTHORSHIP] = canonical_json(body) + b"\n"
    manifest = fmt.Manifest.from_json_obj(json.loads(members[fmt.MANIFEST]))
    from promptster.formats.crypto import sha256_digest

    entries = dict(manifest.members)
    data = members[fmt.AUTHORSHIP]
    entries[fmt.AUTHORSHIP] = fmt.MemberEntry(sha256_digest(data), len(data))
    manifest = fmt.Manifest(**{**manifest.__dict__, "members": entries})
    key = SigningKey.load(key_path)
    members[fmt.MANIFEST] = canonical_json(manifest.to_json_obj())
    members[fmt.SIGNATURE] = canonical_json(
        dsse_sign(fmt.MANIFEST_PAYLOAD_TYPE, members[fmt.MANIFEST], key).to_json_obj()
    )
    with zipfile.ZipFile(out, "w") as archive:
        for name in fmt.member_order(list(members)):
            archive.writestr(_zip_info(name), members[name])
