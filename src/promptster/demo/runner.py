"""`promptster demo`: a whole round trip through the real commands, in one throwaway folder.

Reviewer: identity, assessment, key, pack. Candidate: `start` with the key, a recorded shell
(`promptster shell`, driven with pexpect like a person typing), Claude Code hook calls from a
scripted AI, hand edits, `explain`, `submit`. Reviewer again: `review`. Every command runs as
its own process with PROMPTSTER_HOME, HOME and the XDG folders inside the output folder, so
nothing is written outside it; the recorder's socket folder (Unix socket paths are short) is
a temporary folder removed at the end.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promptster.demo import scenario as sc
from promptster.errors import EnvironmentProblem, InputError

MARKER = ".promptster-demo"
CLI = "from promptster.entry import run; run()"  # the console script's entry, hook path too


@dataclass
class DemoResult:
    folder: Path
    report: Path
    bundle: Path
    verified: bool
    seconds: float
    steps: list[tuple[str, float]] = field(default_factory=list)


def prepare_folder(folder: Path) -> Path:
    """An empty output folder; an earlier demo's folder is replaced, anything else refused."""
    folder = Path(folder).absolute()
    if folder.exists():
        if not folder.is_dir():
            raise InputError(f"{folder} exists and is not a folder")
        if (folder / MARKER).exists():
            shutil.rmtree(folder)
        elif any(folder.iterdir()):
            raise InputError(
                f"{folder} is not empty", "name a new folder with -o, or an earlier demo's folder"
            )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise InputError(
            f"cannot create {folder}: a part of its path is a file", "name another folder with -o"
        ) from exc
    except PermissionError as exc:
        raise InputError(f"cannot create {folder}: permission denied") from exc
    (folder / MARKER).write_text("made by `promptster demo`; safe to delete\n")
    return folder


class Demo:
    def __init__(self, folder: Path, progress: Callable[[str], None]) -> None:
        self.folder = folder
        self.progress = progress
        self.runtime = _runtime_dir()
        self.bin = folder / "bin"
        self.reviewer = folder / "reviewer"
        self.candidate = folder / "candidate"
        self.workspace = self.candidate / "cart"
        self.steps: list[tuple[str, float]] = []
        self.tests = "python -m pytest -q" if _has_pytest() else "python -m unittest -v"

    # -- processes ---------------------------------------------------------------------------

    def env(self, who: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PROMPTSTER_", "XDG_"))}
        home = who / "home"
        home.mkdir(parents=True, exist_ok=True)
        env.update(
            PROMPTSTER_HOME=str(who / "promptster-home"),
            HOME=str(home),
            XDG_CONFIG_HOME=str(home / ".config"),
            XDG_DATA_HOME=str(home / ".local" / "share"),
            XDG_CACHE_HOME=str(home / ".cache"),
            XDG_RUNTIME_DIR=str(self.runtime),
            PATH=f"{self.bin}{os.pathsep}{os.environ.get('PATH', '')}",
            PYTHONDONTWRITEBYTECODE="1",
            SHELL=shutil.which("bash") or "/bin/bash",
            TERM="xterm-256color",
        )
        env.pop("CLAUDE_PROJECT_DIR", None)
        return env

    def cli(self, who: Path, *args: str, cwd: Path | None = None, stdin: bytes = b"") -> str:
        done = subprocess.run(
            [sys.executable, "-c", CLI, *args],
            cwd=cwd or who,
            env=self.env(who),
            input=stdin,
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise EnvironmentProblem(
                f"the demo's `promptster {' '.join(args[:2])}` failed: "
                f"{detail[-1] if detail else 'exit ' + str(done.returncode)}",
                f"the demo folder {self.folder} keeps everything made so far",
            )
        return done.stdout.decode("utf-8", "replace")

    @contextlib.contextmanager
    def timed(self, label: str) -> Iterator[None]:
        started = time.perf_counter()
        self.progress(label)
        yield
        self.steps.append((label, time.perf_counter() - started))

    # -- the story ---------------------------------------------------------------------------

    def tools(self) -> None:
        """`python` and `promptster` on the PATH, the interpreter running this demo."""
        self.bin.mkdir(parents=True, exist_ok=True)
        (self.bin / "python").symlink_to(sys.executable)
        wrapper = self.bin / "promptster"
        wrapper.write_text(f"#!/bin/sh\nexec '{sys.executable}' -c '{CLI}' \"$@\"\n")
        wrapper.chmod(0o755)

    def reviewer_setup(self) -> str:
        self.reviewer.mkdir(parents=True, exist_ok=True)
        self.cli(self.reviewer, "identity", "init", "--org", sc.ORG)
        brief = self.reviewer / "brief.md"
        brief.write_text(sc.BRIEF)
        created = json.loads(
            self.cli(
                self.reviewer,
                "assessment",
                "create",
                "--title",
                sc.TITLE,
                "--role",
                sc.ROLE,
                "--brief",
                str(brief),
                "--time-limit",
                str(sc.TIME_LIMIT_MINUTES),
                "--json",
            )
        )
        assessment = str(created["assessment"]["id"])
        keys = json.loads(
            self.cli(
                self.reviewer,
                "keys",
                "create",
                assessment,
                "--email",
                "candidate@example.com",
                "--name",
                sc.CANDIDATE,
                "--outbox",
                str(self.reviewer / "outbox"),
                "--json",
            )
        )
        self.candidate.mkdir(parents=True, exist_ok=True)
        self.cli(self.reviewer, "assessment", "export", assessment, "-o", str(self.pack))
        return str(keys["keys"][0]["key"])

    @property
    def pack(self) -> Path:
        return self.candidate / "assessment-pack.json"

    def start(self, key: str) -> None:
        self.workspace.mkdir(parents=True, exist_ok=True)
        for name, text in sc.STARTER.items():
            (self.workspace / name).write_text(text)
        self.cli(
            self.candidate,
            "start",
            key,
            "--assessment",
            str(self.pack),
            "--accept",
            "--no-shell",
            "--workspace",
            str(self.workspace),
        )

    def hook(self, event: str, **fields: Any) -> None:
        payload = sc.hook_payload(event, str(self.workspace), **fields)
        self.cli(self.candidate, "hook", "claude-code", cwd=self.workspace, stdin=payload)

    def scripted_ai(self) -> None:
        """What Claude Code would report, hook by hook, while the scripted AI does the work."""
        cart = self.workspace / "cart.py"
        self.hook("SessionStart", source="startup")
        self.hook("UserPromptSubmit", prompt=sc.PROMPT)
        read = {"file_path": str(cart)}
        self.hook("PreToolUse", tool_name="Read", tool_input=read, tool_use_id="toolu_demo_read")
        self.hook(
            "PostToolUse",
            tool_name="Read",
            tool_input=read,
            tool_use_id="toolu_demo_read",
            tool_response={"type": "text", "file": {"filePath": str(cart)}},
        )
        edit = {"file_path": str(cart), "old_string": sc.AI_OLD, "new_string": sc.AI_NEW}
        self.hook("PreToolUse", tool_name="Edit", tool_input=edit, tool_use_id="toolu_demo_edit")
        original = cart.read_text()
        cart.write_text(original.replace(sc.AI_OLD, sc.AI_NEW))
        response = {
            "filePath": str(cart),
            "oldString": sc.AI_OLD,
            "newString": sc.AI_NEW,
            "originalFile": original,
            "structuredPatch": [],
            "userModified": False,
            "replaceAll": False,
        }
        self.hook(
            "PostToolUse",
            tool_name="Edit",
            tool_input=edit,
            tool_response=response,
            tool_use_id="toolu_demo_edit",
            duration_ms=12,
        )
        bash = {"command": self.tests, "description": "Run the tests"}
        self.hook("PreToolUse", tool_name="Bash", tool_input=bash, tool_use_id="toolu_demo_bash")
        started = time.perf_counter()
        run = subprocess.run(
            self.tests.split(),
            cwd=self.workspace,
            env=self.env(self.candidate),
            capture_output=True,
            text=True,
            check=False,
        )
        result = {
            "stdout": run.stdout,
            "stderr": run.stderr,
            "interrupted": False,
            "isImage": False,
            "noOutputExpected": False,
        }
        self.hook(
            "PostToolUse",
            tool_name="Bash",
            tool_input=bash,
            tool_response=result,
            tool_use_id="toolu_demo_bash",
            duration_ms=int((time.perf_counter() - started) * 1000),
        )
        self.hook("Stop", stop_hook_active=False, last_assistant_message=sc.AI_REPLY)

    def hand_edits(self) -> None:
        """The candidate edits two files in their editor (the recorder's watcher sees it)."""
        cart, tests = self.workspace / "cart.py", self.workspace / "test_cart.py"
        cart.write_text(cart.read_text().replace(sc.HUMAN_CART_OLD, sc.HUMAN_CART_NEW))
        tests.write_text(tests.read_text().replace(sc.HUMAN_TEST_OLD, sc.HUMAN_TEST_NEW))
        self.snapshot("editor-save")

    def snapshot(self, reason: str) -> None:
        from promptster import protocol as client

        handle = client.find_session(self.workspace)
        if handle is not None:
            client.request(handle, {"op": "snapshot", "reason": reason}, 10.0)

    def submit(self) -> Path:
        bundle = self.folder / "submission.pst"
        self.cli(self.candidate, "submit", "--yes", "-o", str(bundle), cwd=self.workspace)
        return bundle

    def review(self, bundle: Path) -> tuple[Path, bool]:
        report = self.folder / "report.html"
        done = subprocess.run(
            [sys.executable, "-c", CLI, "review", str(bundle), "-o", str(report)],
            cwd=self.reviewer,
            env=self.env(self.reviewer),
            capture_output=True,
            check=False,
        )
        if done.returncode not in (0, 1) or not report.exists():
            raise EnvironmentProblem(
                "the demo's `promptster review` failed: "
                + done.stderr.decode("utf-8", "replace").strip()[-300:]
            )
        return report, done.returncode == 0

    def close(self) -> None:
        shutil.rmtree(self.runtime, ignore_errors=True)


def _runtime_dir() -> Path:
    """A private temporary folder for the recorder's socket, with a short path (a Unix socket
    path must fit in about 100 bytes): in $TMPDIR when that is short, else in /tmp."""
    base = tempfile.gettempdir()
    if len(base) > 40 and os.path.isdir("/tmp"):
        base = "/tmp"
    return Path(tempfile.mkdtemp(prefix="pst-demo-", dir=base))


def _has_pytest() -> bool:
    return importlib.util.find_spec("pytest") is not None


def run_demo(folder: Path, progress: Callable[[str], None]) -> DemoResult:
    """Run the whole demo into `folder` (see the module docstring)."""
    from promptster.demo.shell_driver import RecordedShell

    started = time.perf_counter()
    folder = prepare_folder(folder)
    demo = Demo(folder, progress)
    try:
        with demo.timed("reviewer: identity, assessment, candidate key, signed pack"):
            demo.tools()
            key = demo.reviewer_setup()
        with demo.timed(f"candidate: promptster start {key}"):
            demo.start(key)
        with RecordedShell(demo.workspace, demo.env(demo.candidate), CLI) as shell:
            with demo.timed("candidate, in the recorded shell: look around, run the tests (red)"):
                shell.run("ls", "cat cart.py", demo.tests)
            with demo.timed("AI (scripted Claude Code hooks): prompt, read, edit, tests (green)"):
                demo.scripted_ai()
            with demo.timed("candidate: a hand edit and a new test, the tests again, a decision"):
                demo.hand_edits()
                shell.run(demo.tests, shell.explain())
        with demo.timed("candidate: promptster submit"):
            bundle = demo.submit()
        with demo.timed("reviewer: promptster review"):
            report, verified = demo.review(bundle)
    finally:
        demo.close()
    return DemoResult(folder, report, bundle, verified, time.perf_counter() - started, demo.steps)
