"""The package layout is the architecture (docs/architecture.md): imports only go downwards.

Each top-level package (and root module) of `promptster` may import only the packages listed
for it in `ALLOWED`. An import against the layers, or a new package missing from the table,
fails here with the file and line, so the drawing in docs/architecture.md stays true.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import promptster

ROOT = Path(promptster.__file__).parent

# The leaves every layer may use: one error hierarchy, paths, small helpers (heap: stdlib only).
BASE = {"errors", "paths", "fsutil", "gitutil", "gitblobs", "heap", "__init__"}

# package → what it may import (besides itself and BASE). Lower layers first.
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "paths": set(),
    "fsutil": set(),
    "gitutil": set(),
    "gitblobs": set(),
    "heap": set(),
    "__init__": set(),
    "protocol": set(),  # stdlib only: the hook path imports it
    "formats": {"protocol"},  # the envelope's version, timestamps and defaults are protocol's
    "runs": set(),  # stdlib only: shared by the shell and the AI tools' adapters
    "issue": {"formats"},
    "bundle": {"formats"},
    "integrations": {"protocol", "formats", "runs"},
    "record": {"protocol", "formats", "runs", "integrations", "issue", "bundle"},
    "analysis": {"formats", "bundle"},
    "reviewer": {"formats", "issue", "bundle", "analysis"},
    "report": {"formats", "bundle", "analysis", "reviewer"},
    "demo": {"protocol", "formats", "record"},
    "cli": {
        "protocol",
        "formats",
        "runs",
        "issue",
        "bundle",
        "integrations",
        "record",
        "analysis",
        "reviewer",
        "report",
        "demo",
    },
    "entry": {"cli", "integrations", "record"},  # record: the shell's worker, started first
}


def _package_of(module: str) -> str:
    """`promptster.record.shell.osc` → `record`; `promptster.errors` → `errors`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path) -> Iterator[tuple[str, int]]:
    module = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            if name == "promptster":  # `from promptster import paths`
                for alias in node.names:
                    dunder = alias.name.startswith("__")  # `__version__` lives in __init__
                    yield "promptster" if dunder else f"promptster.{alias.name}", node.lineno
            elif name.startswith("promptster."):
                yield name, node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("promptster."):
                    yield alias.name, node.lineno


def _sources() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_package_is_placed_in_a_layer() -> None:
    packages = {_package_of(".".join(p.relative_to(ROOT.parent).parts)) for p in _sources()}
    packages = {p.removesuffix(".py") for p in packages}
    assert packages - ALLOWED.keys() == set(), "add the new package to ALLOWED and the docs"


def test_imports_only_go_down_the_layers() -> None:
    wrong = []
    for path in _sources():
        relative = path.relative_to(ROOT.parent)
        here = _package_of(".".join(relative.with_suffix("").parts))
        for target, line in _imports(path):
            there = _package_of(target)
            if there in (here, *BASE) or there in ALLOWED[here]:
                continue
            wrong.append(f"{relative}:{line} ({here}) imports {target} ({there})")
    assert wrong == []


def test_the_layer_table_has_no_loop() -> None:
    """The table itself is acyclic, so following it can never make an import loop."""
    seen: dict[str, int] = {}

    def visit(name: str, trail: tuple[str, ...]) -> None:
        if seen.get(name) == 2:
            return
        assert seen.get(name) != 1, " → ".join((*trail, name))
        seen[name] = 1
        for below in ALLOWED[name]:
            visit(below, (*trail, name))
        seen[name] = 2

    for name in ALLOWED:
        visit(name, ())


HEAVY = ["click", "rich", "cryptography", "duckdb", "git", "watchdog", "jinja2", "mcp", "aiohttp"]


@pytest.mark.parametrize(
    "module",
    [
        "promptster.protocol",
        "promptster.integrations.claude.hook",
        "promptster.integrations.gemini.hook",
        "promptster.integrations.cursor.hook",
        "promptster.integrations.copilot.hook",
        "promptster.integrations.catalog",
        "promptster.integrations.codex.hook",
        "promptster.integrations.apiproxy",
        "promptster.integrations.aider.runshell",
        "promptster.entry",
    ],
)
def test_the_hook_path_imports_nothing_heavy(module: str) -> None:
    """AI tools run a hook on every prompt and tool call: its imports are its start-up time."""
    code = f"import sys, {module}; print([m for m in {HEAVY!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# The hook budget (a hook call ≤ 3 × `python -c pass`): these standard-library modules together
# cost more than the interpreter's own start, so the hook path does without them (plain
# classes, os.path, os.urandom ids, `time`, `_socket`, CPython's own SHA code).
HOOK_PATH_STDLIB_FORBIDDEN = [
    "dataclasses",
    "inspect",
    "typing",
    "pathlib",
    "uuid",
    "platform",
    "socket",
    "datetime",
    "hashlib",
    "contextlib",
]
LEAN_HOOKS = ["claude-code", "gemini-cli", "cursor", "copilot-cli"]

_RUN_HOOK = """
import io, json, sys
forbidden = {forbidden!r}
sys.argv = ["promptster", "hook", {tool!r}]
sys.stdin = io.TextIOWrapper(io.BytesIO(json.dumps({payload!r}).encode()))
from promptster.entry import run
try:
    run()
except SystemExit:
    pass
print(json.dumps([m for m in forbidden if m in sys.modules]))
"""


@pytest.mark.parametrize("tool", [*LEAN_HOOKS, "claude-code prompt", "claude-code shell"])
@pytest.mark.parametrize("where", ["no session", "recorder down"])
def test_the_hook_path_imports_no_costly_stdlib(tool: str, where: str, tmp_path: Path) -> None:
    """A whole hook call (the console script's dispatch, the payload, the session lookup, the
    events and, with the recorder down, the spool) imports none of the costly modules; a
    Claude Code prompt (noting the transcript, counting the prompt) and a shell command's
    result (the test-output parsers) neither."""
    if where == "recorder down":
        session = tmp_path / ".promptster"
        session.mkdir()
        state = {"sessionId": "s", "workspace": str(tmp_path), "status": "active"}
        state["socket"] = str(tmp_path / "none.sock")
        (session / "session.json").write_text(json.dumps(state))
    payload = {
        "hook_event_name": "PreToolUse",
        "hookEventName": "preToolUse",
        "cwd": str(tmp_path),
        "session_id": "lane",
        "tool_name": "Read",
        "toolName": "view",
        "tool_input": {"file_path": str(tmp_path / "a.py")},
    }
    if tool == "claude-code prompt":
        tool = "claude-code"
        payload |= {"hook_event_name": "UserPromptSubmit", "prompt": "hello"}
        payload["transcript_path"] = str(tmp_path / "t.jsonl")
    if tool == "claude-code shell":
        tool = "claude-code"
        payload |= {"hook_event_name": "PostToolUse", "tool_name": "Bash", "tool_use_id": "t"}
        payload["tool_input"] = {"command": "python -m pytest -q"}
        payload["tool_response"] = {"stdout": "3 passed in 0.01s", "stderr": ""}
    forbidden = HOOK_PATH_STDLIB_FORBIDDEN
    code = _RUN_HOOK.format(forbidden=forbidden, tool=tool, payload=payload)
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env={**os.environ, "PROMPTSTER_SESSION_DIR": ""},
    )
    assert json.loads(done.stdout.splitlines()[-1]) == []
    if where == "recorder down":
        assert (tmp_path / ".promptster" / "spool.jsonl").stat().st_size > 0


_RUN_AIDER_SHELL = """
import json, os, sys
from promptster.integrations.aider.runshell import main
forbidden = {forbidden!r}
os.environ["PROMPTSTER_AIDER_SHELL"] = "/bin/sh"
code = main(["-c", "exit 0 || python -m pytest -q"])
print(json.dumps([code, [m for m in forbidden if m in sys.modules]]))
"""


def test_the_aider_shell_wrapper_imports_no_costly_stdlib(tmp_path: Path) -> None:
    """The shell Aider runs each command with (recorder down: the spool, the test-run
    parsers) imports none of the costly modules either."""
    session = tmp_path / ".promptster"
    session.mkdir()
    state = {"sessionId": "s", "workspace": str(tmp_path), "status": "active"}
    state["socket"] = str(tmp_path / "none.sock")
    (session / "session.json").write_text(json.dumps(state))
    code = _RUN_AIDER_SHELL.format(forbidden=[*HOOK_PATH_STDLIB_FORBIDDEN, *HEAVY])
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PROMPTSTER_SESSION_DIR": ""},
    )
    assert json.loads(done.stdout.splitlines()[-1]) == [0, []]
    spooled = (session / "spool.jsonl").read_text()
    assert '"kind":"test_run"' in spooled
