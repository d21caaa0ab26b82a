"""The authorship checkpoint on a real recorded session (recorder, watcher, shadow git, the
real Claude Code hook command): the recorder's job writes it in a child process, and submit
resumes from it with the same authorship.json as a replay from the start."""

from __future__ import annotations

import json
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from test_recorder_blame import AI_FILE, hook, ok

from promptster.bundle import format as fmt
from promptster.bundle.authorship import encode
from promptster.record.attribution import checkpoint
from promptster.record.attribution.authorship import compute_authorship
from promptster.record.attribution.events import (
    human_command_windows,
    time_order,
    tool_results,
)
from promptster.record.attribution.resume import tools_of
from promptster.record.lifecycle import StartedSession
from promptster.record.session import read_state
from recorder_helpers import file_events, journal, run_promptster, wait_for


def ai_write(workspace: Path, name: str, content: str, tool_use_id: str) -> None:
    target = workspace / name
    call = {"tool_name": "Write", "tool_input": {"file_path": str(target), "content": content},
            "tool_use_id": tool_use_id}  # fmt: skip
    hook(workspace, {"hook_event_name": "PreToolUse", **call})
    target.write_text(content)
    response: dict[str, Any] = {"type": "create", "filePath": str(target), "content": content,
                "structuredPatch": [], "originalFile": None, "userModified": False}  # fmt: skip
    hook(workspace, {"hook_event_name": "PostToolUse", "tool_response": response, **call})


def test_submit_resumes_from_the_recorders_checkpoint(
    start_recording: Callable[..., StartedSession], tmp_path: Path
) -> None:
    workspace = tmp_path / "work"
    workspace.mkdir()
    (workspace / "README.md").write_text("# Stats\n")
    started = start_recording(workspace, tools=["shell", "claude-code"])
    root = started.paths.root
    ai_write(workspace, "stats.py", AI_FILE, "toolu_write_1")
    wait_for(lambda: file_events(started.paths, "stats.py"), what="the AI's file event")
    (workspace / "mine.py").write_text("typed = 1\n")
    wait_for(lambda: file_events(started.paths, "mine.py"), what="the hand-written file")
    (workspace / "stats.py").write_text(AI_FILE.replace("max(xs)", "max(xs, default=0)"))
    wait_for(lambda: len(file_events(started.paths, "stats.py")) == 2, what="the hand edit")
    ai_write(workspace, "more.py", "def more():\n    return 2\n", "toolu_write_2")
    wait_for(lambda: file_events(started.paths, "more.py"), what="the second AI file")

    # the job as the recorder runs it (interval and growth thresholds down to nothing), once
    # these events are older than its settling time (attribution reads events in time order:
    # one still to come could otherwise be read before the last of them)
    time.sleep(checkpoint.SETTLE.total_seconds() + 1)
    runner = checkpoint.Checkpoints(root, interval=0, min_growth=0)
    runner.tick()
    assert runner.wait() == 0
    secret = started.paths.key.read_bytes()
    first = checkpoint.load(root / checkpoint.FILE_NAME, secret)
    assert first is not None and first.count > 0

    submitted = json.loads(ok(run_promptster("submit", "--yes", "--json", cwd=workspace)).stdout)
    with zipfile.ZipFile(submitted["path"]) as archive:
        member = archive.read(fmt.AUTHORSHIP)
    events = journal(started.paths)
    head = json.loads(member)["snapshot"]
    state = read_state(started.paths)
    cold = encode(compute_authorship(events, started.paths.shadow_git, head, state.workspace))
    assert member == cold
    resumable = checkpoint.load(root / checkpoint.FILE_NAME, secret)
    assert resumable is not None  # ... and it fitted: submit resumed from it
    first_snapshot = resumable.starter
    ran, windows = tool_results(events), human_command_windows(events)
    assert time_order(events)[: len(resumable.order)] == resumable.order
    assert resumable.fits(events, first_snapshot, ran, windows, tools_of(events)) is not None
    authors = {f["path"]: {r["author"] for r in f["ranges"]} for f in json.loads(member)["files"]}
    assert authors["more.py"] == {"ai"} and authors["mine.py"] == {"human"}
    assert "ai_then_human" in authors["stats.py"] or "human" in authors["stats.py"]
