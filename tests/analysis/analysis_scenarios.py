"""Hand-written sessions whose signals are computed by hand in the tests.

Each scenario is a short list of events at fixed offsets from the session start; the builder
turns it into a real, signed, verifiable bundle (journal + git snapshots + manifest), byte for
byte the same every time. `examples/bundles/` holds the four `asmt-demo` scenarios, made by:

    python tests/analysis/analysis_scenarios.py examples/bundles
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from promptster.bundle.format import candidate_key_hash
from promptster.bundle.writer import SessionMaterial, write_bundle
from promptster.formats.crypto import SigningKey, sha256_digest
from promptster.formats.events import Event, format_ts, make_event
from promptster.gitutil import run_git
from promptster.record.journal import JournalWriter
from promptster.record.synth import synthetic_candidate_key, synthetic_pack

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BASELINE = {
    "src/app/service.py": 12,
    "src/app/models.py": 8,
    "src/app/api.py": 10,
    "tests/test_service.py": 6,
    "pyproject.toml": 5,
    "README.md": 4,
}
ASSESSMENT = "asmt-demo"


@dataclass
class Scenario:
    name: str
    candidate: str
    assessment: str | None = ASSESSMENT
    candidate_key: str | None = None
    events: list[tuple[float, str, dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    start: dict[str, Any] = field(default_factory=dict)  # more session_start fields

    def add(self, at: float, kind: str, data: dict[str, Any], **envelope: Any) -> Scenario:
        self.events.append((at, kind, data, envelope))
        return self

    def prompt(self, at: float, text: str) -> Scenario:
        return self.add(at, "prompt", {"text": text, "length": len(text), "lane": "lane-1"})

    def command(
        self, at: float, command: str, exit_code: int = 0, actor: str = "human"
    ) -> Scenario:
        data = {"command": command, "exitCode": exit_code, "durationMs": 1000, "cwd": "."}
        return self.add(at, "command", data, actor=actor)

    def test_run(
        self, at: float, command: str, passed: int, failed: int, actor: str = "human"
    ) -> Scenario:
        """A test command and, right after it, the `test_run` event that reports it."""
        self.command(at, command, 1 if failed else 0, actor)
        data = {
            "tool": command.split()[0],
            "passed": passed,
            "failed": failed,
            "skipped": 0,
            "errors": 0,
            "command": command,
            "exitCode": 1 if failed else 0,
        }
        return self.add(at, "test_run", data, actor=actor)

    def build_run(
        self, at: float, command: str, category: str, exit_code: int = 0, actor: str = "human"
    ) -> Scenario:
        self.command(at, command, exit_code, actor)
        data = {
            "tool": command.split()[0],
            "category": category,
            "command": command,
            "exitCode": exit_code,
        }
        return self.add(at, "build_run", data, actor=actor)

    def change(
        self,
        at: float,
        kind: str,
        path: str,
        added: int,
        removed: int,
        attribution: str,
        ai_lines: int | None = None,
    ) -> Scenario:
        data: dict[str, Any] = {"path": path, "linesAdded": added, "linesRemoved": removed}
        if ai_lines is not None:
            data.update(aiLines=ai_lines, humanLines=added - ai_lines)
        actor = "human" if attribution == "likely_human" else "ai"
        return self.add(at, kind, data, actor=actor, attribution=attribution)


def _event(name: str, index: int, at: float, kind: str, data: dict[str, Any], **env: Any) -> Event:
    actor = env.get("actor", "human")
    attribution = env.get(
        "attribution", {"ai": "likely_ai", "human": "likely_human"}.get(actor, "system_generated")
    )
    event = make_event(
        kind,
        data,
        channel="cli",
        integration=env.get("integration", "claude-code" if actor == "ai" else "shell"),
        emitter="scenario",
        actor=actor,
        attribution=attribution,
        confidence=0.9,
        observability="high",
        ts=format_ts(START + timedelta(seconds=at)),
    )
    event.id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"promptster-scenario/{name}/{index}"))
    return event


def _fresh(path: str, count: int, counter: list[int]) -> list[str]:
    lines = []
    for _ in range(count):
        counter[0] += 1
        lines.append(f"# {path} line {counter[0]}")
    return lines


def build(scenario: Scenario, out: Path, pack: bytes | None = None) -> Path:
    """Write the scenario as a signed bundle at `out` (carrying the assessment `pack`; by
    default one of the synthetic reviewer's, issued for the scenario's key)."""
    session_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"promptster-scenario/{scenario.name}"))
    seed = int.from_bytes(hashlib.sha256(scenario.name.encode()).digest()[:4], "big")
    key_text = scenario.candidate_key or synthetic_candidate_key(seed)
    if pack is None and scenario.assessment is not None:
        pack = synthetic_pack(key_text, seed, scenario.assessment)
    binding = {
        "assessmentId": scenario.assessment,
        "candidateKeyHash": candidate_key_hash(key_text) if pack is not None else None,
        "packDigest": sha256_digest(pack) if pack is not None else None,
    }
    key = SigningKey.from_seed(hashlib.sha256(scenario.name.encode()).digest())
    with tempfile.TemporaryDirectory(prefix="promptster-scenario-") as tmp:
        git_dir, work = Path(tmp) / "shadow.git", Path(tmp) / "work"
        work.mkdir()
        run_git(["init", "--quiet", "--bare", str(git_dir)])
        run_git(["symbolic-ref", "HEAD", "refs/heads/snapshots"], git_dir=git_dir)
        counter = [0]
        files: dict[str, list[str]] = {}

        def commit(at: float, message: str) -> str:
            for path, lines in files.items():
                target = work / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text("".join(line + "\n" for line in lines))
            stamp = f"{int((START + timedelta(seconds=at)).timestamp())} +0000"
            env = {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
            run_git(["add", "-A"], git_dir=git_dir, work_tree=work, env=env)
            run_git(
                ["commit", "--quiet", "--allow-empty", "-m", message],
                git_dir=git_dir,
                work_tree=work,
                env=env,
            )
            return run_git(["rev-parse", "HEAD"], git_dir=git_dir).text.strip()

        for path, count in BASELINE.items():
            files[path] = _fresh(path, count, counter)
        baseline = commit(0, "baseline")
        events = [
            _event(
                scenario.name,
                0,
                0,
                "session_start",
                {"sessionId": session_id, "candidateName": scenario.candidate,
                 "workspace": "take-home", "tools": ["claude-code", "shell"],
                 "snapshot": baseline,
                 **{k: v for k, v in binding.items() if v is not None}, **scenario.start},
                actor="system",
            )
        ]  # fmt: skip
        for index, (at, kind, data, env) in enumerate(scenario.events, start=1):
            data = dict(data)
            if kind.startswith("file_"):
                path = data["path"]
                if kind == "file_delete":
                    (work / path).unlink()
                    del files[path]
                else:
                    lines = files.setdefault(path, [])
                    lines[: data["linesRemoved"]] = _fresh(path, data["linesAdded"], counter)
                data["commit"] = commit(at, f"snapshot {index}")
            events.append(_event(scenario.name, index, at, kind, data, **env))
        end_at = max((e[0] for e in scenario.events), default=0) + 5
        events.append(
            _event(scenario.name, len(events), end_at, "session_end", {"reason": "submit"},
                   actor="system")
        )  # fmt: skip
        journal_path = Path(tmp) / "timeline.jsonl"
        with JournalWriter(journal_path, session_id) as journal:
            for event in events:
                journal.append(event)
        material = SessionMaterial(
            session_id=session_id,
            started_at=events[0].ts,
            ended_at=events[-1].ts,
            timeline=journal_path.read_bytes(),
            shadow_git_dir=git_dir,
            assessment_id=scenario.assessment,
            candidate_key=key_text if pack is not None else scenario.candidate_key,
            assessment_pack=pack,
        )
        return write_bundle(material, key, Path(out)).path


def ada() -> Scenario:
    """Careful and test-driven: reads first, reproduces the failure, fixes, verifies."""
    s = Scenario("ada", "Ada Lovelace")
    s.prompt(10, "Explain how src/app/service.py handles quantities before we change anything?")
    s.add(20, "tool_use", {"toolName": "Read", "toolUseId": "t1",
                           "input": {"file_path": "/home/ada/take-home/src/app/service.py"}},
          actor="ai")  # fmt: skip
    s.test_run(30, "pytest -q", passed=3, failed=1)
    s.prompt(40, "The test fails with a KeyError in src/app/service.py; must keep the public API.")
    s.change(60, "file_diff", "src/app/service.py", 4, 2, "likely_ai", ai_lines=4)
    s.test_run(70, "pytest -q", passed=4, failed=0)
    s.build_run(80, "ruff check .", "lint")
    s.change(90, "file_diff", "tests/test_service.py", 6, 0, "likely_human", ai_lines=0)
    s.test_run(100, "pytest -q", passed=5, failed=0)
    s.add(110, "decision_event", {"title": "Validate quantities in the service layer",
                                  "chosenOption": "service", "rationale": "one place",
                                  "impactScore": 4, "capturedVia": "cli"})  # fmt: skip
    return s


def ben() -> Scenario:
    """Delegates everything to the AI, repeats itself, never runs tests."""
    s = Scenario("ben", "Ben Bitdiddle")
    s.prompt(5, "fix it")
    s.change(15, "file_create", "src/app/new.py", 20, 0, "likely_ai", ai_lines=20)
    s.change(25, "file_diff", "src/app/service.py", 10, 5, "likely_ai", ai_lines=10)
    s.prompt(35, "fix it")
    s.prompt(45, "fix it please")
    s.prompt(55, "fix it")
    s.command(65, "python -m app", 2, actor="ai")
    s.command(75, "python -m app", 2, actor="ai")
    s.change(85, "file_diff", "src/app/service.py", 3, 3, "likely_ai", ai_lines=3)
    s.command(95, "python -m app", 0, actor="ai")
    return s


def cy() -> Scenario:
    """No AI at all: explores by hand for five minutes, then edits and type-checks."""
    s = Scenario("cy", "Cy D. Fect")
    for at, line in ((30, "ls"), (40, "cat src/app/service.py"), (50, "grep -rn quantity src"),
                     (60, "git log --oneline"), (70, "less README.md")):  # fmt: skip
        s.command(at, line)
    s.change(300, "file_diff", "src/app/service.py", 5, 5, "likely_human", ai_lines=0)
    s.test_run(310, "make test", passed=6, failed=0)
    s.change(320, "file_diff", "src/app/models.py", 2, 1, "likely_human", ai_lines=0)
    s.change(330, "file_create", "docs/notes.md", 3, 0, "likely_human", ai_lines=0)
    s.build_run(340, "mypy src", "typecheck", exit_code=1)
    s.change(350, "file_diff", "src/app/models.py", 1, 1, "likely_human", ai_lines=0)
    s.build_run(360, "mypy src", "typecheck")
    s.add(395, "note", {"text": "done"})
    return s


def dee() -> Scenario:
    """Plans with the AI, changes a dependency without writing the decision down."""
    s = Scenario("dee", "Dee Bugger")
    s.prompt(
        10,
        "Add the requests dependency to pyproject.toml and use it in src/app/api.py; "
        "do not change the tests.",
    )
    s.add(20, "planning", {"toolName": "TodoWrite", "items": [{"text": "add dep",
                                                                "status": "pending"}]},
          actor="ai")  # fmt: skip
    s.change(30, "file_diff", "pyproject.toml", 1, 0, "likely_ai", ai_lines=1)
    s.change(40, "file_diff", "src/app/api.py", 8, 2, "mixed")
    s.test_run(50, "npm test", passed=2, failed=2, actor="ai")
    s.prompt(60, "Why does npm test fail after the change?")
    s.change(70, "file_diff", "src/app/api.py", 2, 2, "ai_revised_by_human")
    s.test_run(80, "npm test", passed=4, failed=0, actor="ai")
    s.add(90, "decision_event", {"title": "Use requests for HTTP", "chosenOption": "requests",
                                 "rationale": "familiar", "impactScore": 2,
                                 "capturedVia": "mcp"})  # fmt: skip
    return s


def empty() -> Scenario:
    """Started and submitted, nothing in between."""
    return Scenario("empty", "Eve Empty")


def prompts_only() -> Scenario:
    s = Scenario("prompts-only", "Pat Prompt")
    s.prompt(10, "What does this project do?")
    s.prompt(20, "How is src/app/api.py structured? Keep it short.")
    return s


def no_changes() -> Scenario:
    """Runs commands but never changes a file."""
    s = Scenario("no-changes", "Nick Nochange")
    s.command(10, "ls")
    s.test_run(20, "pytest", passed=1, failed=1)
    return s


DEMO = (ada, ben, cy, dee)
EDGE = (empty, prompts_only, no_changes)


def main(folder: str) -> None:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for make in DEMO:
        scenario = make()
        print(build(scenario, out / f"{scenario.name}.pst"))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "examples/bundles")
