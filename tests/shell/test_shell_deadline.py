"""The shell prompt's countdown takes the deadline from the signed pack and the session's
first event, as the recorder does (issue 16, finding 2): the deadline in session.json is the
candidate's to edit, and editing it gives the prompt no more time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from shellkit import RecordedShell

from promptster.formats.events import format_ts, parse_ts
from promptster.record.lifecycle import StartedSession
from promptster.record.session import read_state, update_state


def test_editing_session_json_does_not_move_the_prompt_countdown(
    tmp_path: Path, start_recording: Callable[..., StartedSession]
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".bashrc").write_text("PS1='cand$ '\n")
    folder = tmp_path / "work"
    session = start_recording(folder, time_limit_minutes=60)
    signed = parse_ts(str(session.state.deadline))

    def more_time(state: object) -> None:
        state.deadline = format_ts(signed + timedelta(hours=2))  # type: ignore[attr-defined]

    update_state(session.paths, more_time)
    assert read_state(session.paths).deadline != session.state.deadline  # the edit is there
    term = RecordedShell(folder, home)
    term.run('echo "deadline=[$__pst_deadline]"')
    assert term.exit() == 0
    shown = term.output.decode(errors="replace")
    assert f"deadline=[{int(signed.timestamp())}]" in shown
