"""An AI tool's atomic write: the temporary file is never recorded, the file it becomes is."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from promptster.record.lifecycle import StartedSession
from recorder_helpers import file_events, stop_recorder, wait_for


def test_a_claude_code_style_temporary_is_not_a_file_of_the_session(
    start_recording: Callable[..., StartedSession], tmp_path: Path
) -> None:
    workspace = tmp_path / "work"
    workspace.mkdir()
    session = start_recording(workspace)
    paths = session.paths
    # Claude Code writes `<file>.tmp.<pid>.<hex>` and renames it over the file; here the
    # temporary stays long enough for a snapshot to see it (a loaded machine).
    temporary = workspace / "mathx.py.tmp.5372.239d42264077"
    temporary.write_text("def add(a, b):\n    return a + b\n")
    (workspace / "seen.txt").write_text("a later save: its snapshot also sees the temporary\n")
    wait_for(lambda: file_events(paths, "seen.txt"), what="the later save")
    os.replace(temporary, workspace / "mathx.py")
    wait_for(lambda: file_events(paths, "mathx.py"), what="the renamed file")
    paths_seen = {str(event["data"]["path"]) for event in file_events(paths)}
    assert not any(".tmp." in path for path in paths_seen), paths_seen
    stop_recorder(paths)
