"""The suite: scenarios grouped into sessions, run and scored (used by the tests and by
benchmarks/bench_attribution.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from clients import EXECUTABLES
from driver import Group, GroupRun, recording_env
from engines import blame_authors, blame_available, event_authors
from scenarios import SCENARIOS
from scoring import Score, score
from steps import Scenario

# Four sessions of about the same length; the AI steps of one round of a group are one
# Claude Code run.
GROUPS: dict[str, tuple[str, ...]] = {
    "a": (
        "ai_writes_human_edits",
        "human_writes_ai_edits",
        "interleaved",
        "ai_file_rewritten_by_hand",
        "hand_rewrite_keeps_blank_lines",
        "pasted_block",
    ),
    "b": (
        "ai_shell_writes_files",
        "big_ai_file",
        "denied_edit_then_hand",
        "renamed_by_hand",
        "moved_by_ai_shell",
        "hand_save_during_ai_command",
        "ai_command_big_write_in_window",
    ),
    "c": (
        "deleted_and_recreated_by_hand",
        "deleted_and_recreated_by_ai",
        "starter_untouched",
        "ai_then_human_revisions",
        "reindented_by_hand",
        "crlf_file",
    ),
    "d": (
        "ai_edit_with_context",
        "human_only_file",
        "human_deletes_ai_lines",
        "no_final_newline",
        "config_block_by_ai_then_hand",
        "half_of_small_file_revised",
    ),
    "codex": (
        "codex_patch_then_hand",
        "codex_edits_hand_file",
        "codex_shell_writes",
        "codex_interleaved",
    ),
    "gemini": (
        "gemini_writes_human_edits",
        "gemini_replaces_in_hand_file",
        "gemini_shell_writes",
    ),
    "copilot": (
        "copilot_creates_human_edits",
        "copilot_edits_hand_file",
        "copilot_shell_writes",
    ),
}
BY_NAME = {s.name: s for s in SCENARIOS}


@dataclass
class GroupResult:
    name: str
    run: GroupRun
    events: dict[str, Score] = field(default_factory=dict)  # per scenario, per-event engine
    blame: dict[str, Score] | None = None  # per scenario, `promptster blame`, when it exists
    blame_error: str | None = None


def scenarios_of(group: str) -> list[Scenario]:
    return [BY_NAME[name] for name in GROUPS[group]]


def executable_for(group: str) -> str:
    """The AI client's command name for a group's scenarios."""
    return EXECUTABLES[scenarios_of(group)[0].tool]


def run_group(group: str, root: Path, executable: str) -> GroupResult:
    scenarios = scenarios_of(group)
    with recording_env(root):
        run = Group(group, scenarios, root, executable).run()
    paths = [f"{s.name}/{rel}" for s in scenarios for rel in run.truths[s.name].files]
    by_event = event_authors(run.bundle, paths)
    result = GroupResult(group, run)
    result.events = {s.name: score(s, run.truths[s.name], by_event) for s in scenarios}
    if blame_available():
        try:
            by_line = blame_authors(run.bundle)
        except AssertionError as error:
            result.blame_error = str(error)
        else:
            result.blame = {s.name: score(s, run.truths[s.name], by_line) for s in scenarios}
    return result
