"""Drives a group of scenarios through one real recorded session with the real Claude Code CLI.

Each scenario lives in its own folder of the workspace (`<name>/...`), so several share one
session: round k of every scenario runs together — the AI steps as one `claude -p` run against
the stand-in Messages API (one tool call per turn), then the hand steps, written by the driver
and followed by a snapshot request. The driver keeps the ground truth as it goes (truth.py) and
checks, after every round, that the workspace holds exactly what the truth says, so a
Claude Code behaviour the scenario did not foresee stops the run instead of skewing the figures.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clients import CLIENTS, Client, promptster
from steps import AIShell, AIWrite, HandDelete, HandRename, HandStep, Scenario
from truth import STARTER, Truth

from promptster.protocol import find_session, request

Block = dict[str, Any]


class ScenarioError(AssertionError):
    """The workspace does not match the ground truth: the scenario, not the engine, is wrong."""


@dataclass
class GroupRun:
    workspace: Path
    bundle: Path
    truths: dict[str, Truth] = field(default_factory=dict)
    seconds: float = 0.0


@contextmanager
def recording_env(root: Path) -> Iterator[None]:
    """PROMPTSTER_HOME and a short XDG_RUNTIME_DIR (socket paths) for this process."""
    runtime = Path("/tmp") / f"pst-acc-{os.getpid()}-{time.monotonic_ns() % 10**8}"
    runtime.mkdir(mode=0o700)
    saved = {k: os.environ.get(k) for k in ("PROMPTSTER_HOME", "XDG_RUNTIME_DIR")}
    saved["PROMPTSTER_SESSION_DIR"] = os.environ.pop("PROMPTSTER_SESSION_DIR", None)
    os.environ["PROMPTSTER_HOME"] = str(root / "promptster-home")
    os.environ["XDG_RUNTIME_DIR"] = str(runtime)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        for leftover in sorted(runtime.glob("**/*"), reverse=True):
            if leftover.is_dir():
                leftover.rmdir()
            else:
                leftover.unlink(missing_ok=True)
        runtime.rmdir()


def git(ws: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(ws), *args], capture_output=True, check=True)


def _write(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode())


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


class Group:
    """The scenarios of one session, their truths and the workspace."""

    def __init__(self, name: str, scenarios: list[Scenario], root: Path, executable: str) -> None:
        self.name, self.scenarios, self.root = name, scenarios, root
        self.ws = root / "work"
        self.home = root / "home"
        tools = {s.tool for s in scenarios}
        if len(tools) != 1:
            raise ValueError(f"group {name}: one AI tool per session, not {sorted(tools)}")
        self.client: Client = CLIENTS[tools.pop()](executable, self.home)
        self.truths = {s.name: Truth() for s in scenarios}
        self._markers = 0

    def run(self) -> GroupRun:
        began = time.monotonic()
        self._prepare()
        from promptster.record.lifecycle import StartOptions, start_session

        start_session(StartOptions(workspace=self.ws, tools=["shell", self.client.tool]))
        session = find_session(self.ws)
        assert session is not None and session.active
        rounds = max(len(s.rounds) for s in self.scenarios)
        try:
            for index in range(rounds):
                self._ai_round(index)
                self._hand_round(index, session)
            self._check()
        except BaseException:
            promptster("abort", "--yes", cwd=self.ws)  # no recorder left behind
            raise
        submitted = promptster("submit", "--yes", "--json", cwd=self.ws)
        if submitted.returncode != 0:
            raise AssertionError(f"submit failed: {submitted.stderr}")
        bundle = Path(json.loads(submitted.stdout)["path"])
        return GroupRun(self.ws, bundle, self.truths, time.monotonic() - began)

    def _prepare(self) -> None:
        self.ws.mkdir(parents=True)
        self.home.mkdir(exist_ok=True)
        for scenario in self.scenarios:
            (self.ws / scenario.name).mkdir()  # some clients create files, not folders
            for rel, content in scenario.starter.items():
                _write(self.ws / scenario.name / rel, content)
                self.truths[scenario.name].starter(rel, content, _newline(content))
        (self.ws / ".gitignore").write_text("__pycache__/\n")
        git(self.ws, "init", "-q")
        git(self.ws, "config", "user.name", "Candidate")
        git(self.ws, "config", "user.email", "candidate@example.com")
        git(self.ws, "add", ".")
        git(self.ws, "commit", "-qm", "starter", "--allow-empty")
        if self.client.tool != "claude-code":
            return
        # Like `start --tools claude-code`: wired before the baseline snapshot.
        done = promptster("setup", "claude-code", cwd=self.ws)
        if done.returncode != 0:
            raise AssertionError(f"setup claude-code failed: {done.stderr}")
        deny = [f"Edit(./{s.name}/{p})" for s in self.scenarios for p in s.denied()]
        if deny:
            # The candidate's own rule, in the settings file setup just wrote (before the
            # baseline snapshot, so it is part of the starting point).
            settings = self.ws / ".claude" / "settings.local.json"
            data = json.loads(settings.read_text())
            data.setdefault("permissions", {}).setdefault("deny", []).extend(deny)
            settings.write_text(json.dumps(data, indent=2) + "\n")

    # -- AI rounds ------------------------------------------------------------------------

    def _ai_round(self, index: int) -> None:
        turns: list[list[Block]] = []
        during: list[tuple[Path, tuple[HandStep, ...], str]] = []
        for scenario in self.scenarios:
            if index >= len(scenario.rounds) or not scenario.rounds[index].ai:
                continue
            truth, base, seen = self.truths[scenario.name], self.ws / scenario.name, set()
            for step in scenario.rounds[index].ai:
                if isinstance(step, AIShell):
                    marker = None
                    if step.during:
                        self._markers += 1
                        marker = self.root / f"command-started-{self._markers}"
                        during.append((marker, step.during, scenario.name))
                        for hand_step in step.during:
                            hand_step.apply(truth)
                    # Claude Code's shell keeps its working directory between calls.
                    folder = shlex.quote(str(base))
                    turns.append(self.client.shell(f"mkdir -p {folder} && cd {folder}\n"
                                                   + step.command(marker)))  # fmt: skip
                    step.apply(truth)
                    continue
                target, rel = base / step.path, f"{scenario.name}/{step.path}"
                exists = step.path in truth.files
                if exists and step.path not in seen:
                    turns.append(self.client.read(target))  # Claude Code edits only what it read
                    seen.add(step.path)
                if isinstance(step, AIWrite):
                    turns.append(self.client.write(target, rel, step.text, exists))
                else:
                    turns.append(self.client.edit(target, rel, *step.strings(truth)))
                step.apply(truth)
        turns = [turn for turn in turns if turn]
        if not turns:
            return
        phrase = f"accuracy group {self.name} round {index}"
        helpers = [threading.Thread(target=self._hand_during, args=d) for d in during]
        with self.client.run(phrase, turns, self.ws) as go:
            for helper in helpers:
                helper.start()
            go()
            for helper in helpers:
                helper.join()

    def _hand_during(self, marker: Path, steps: tuple[HandStep, ...], name: str) -> None:
        deadline = time.monotonic() + 120
        while not marker.exists():
            if time.monotonic() > deadline:
                return
            time.sleep(0.05)
        time.sleep(0.3)
        for step in steps:
            self._do_hand(step, name)

    # -- hand rounds ----------------------------------------------------------------------

    def _hand_round(self, index: int, session: Any) -> None:
        acted = False
        for scenario in self.scenarios:
            if index < len(scenario.rounds):
                for step in scenario.rounds[index].hand:
                    self._check_file(scenario.name, step)
                    step.apply(self.truths[scenario.name])
                    self._do_hand(step, scenario.name)
                    acted = True
        if acted:
            # The watcher would snapshot within a second; asking keeps the suite short.
            assert request(session, {"op": "snapshot", "reason": "accuracy"}, 60.0)["ok"]

    def _do_hand(self, step: HandStep, name: str) -> None:
        base, truth = self.ws / name, self.truths[name]
        if isinstance(step, HandRename):
            (base / step.new).parent.mkdir(parents=True, exist_ok=True)
            (base / step.old).rename(base / step.new)
        elif isinstance(step, HandDelete):
            (base / step.path).unlink()
        else:
            _write(base / step.path, truth.files[step.path].content())

    # -- checks ---------------------------------------------------------------------------

    def _check_file(self, name: str, step: HandStep) -> None:
        path = getattr(step, "path", None) or getattr(step, "old", None)
        truth = self.truths[name]
        if path in truth.files:
            self._same(name, path, truth)

    def _same(self, name: str, path: str, truth: Truth) -> None:
        file = self.ws / name / path
        disk = file.read_bytes().decode() if file.exists() else "(no such file)"
        expected = truth.files[path].content()
        if disk != expected:
            raise ScenarioError(
                f"{name}/{path}: the workspace differs from the ground truth\n"
                f"--- expected\n{expected!r}\n--- on disk\n{disk!r}"
            )

    def _check(self) -> None:
        for scenario in self.scenarios:
            truth = self.truths[scenario.name]
            base = self.ws / scenario.name
            on_disk = {
                str(p.relative_to(base)) for p in base.rglob("*") if p.is_file()
            } if base.exists() else set()  # fmt: skip
            if on_disk != set(truth.files):
                raise ScenarioError(f"{scenario.name}: files {sorted(on_disk)} != truth")
            for path in truth.files:
                self._same(scenario.name, path, truth)


def starter_lines(truth: Truth) -> int:
    return sum(1 for f in truth.files.values() for line in f.lines if line.author == STARTER)
