"""What happens in a synthetic session: prompts and the AI's tool calls, the candidate's edits
and commands, test runs, decisions, notes and checkpoints, in seeded proportions."""

from __future__ import annotations

import random
import uuid
from typing import Any

from promptster import __version__
from promptster.formats.events import Kind
from promptster.formats.payloads import Payload, PlanItem
from promptster.record.synth.timeline import Timeline
from promptster.record.synth.vocabulary import (
    COMMANDS,
    FILES,
    PROMPTS,
    SYNTH_ASSESSMENT,
    SYNTH_TIME_LIMIT_MINUTES,
    SYSTEM,
)


class Simulator(Timeline):
    """A session of `target` events by `candidate`, bound to its assessment by `binding`."""

    def __init__(
        self,
        rng: random.Random,
        session_id: str,
        target: int,
        candidate: str,
        binding: tuple[str, str | None, str] = (SYNTH_ASSESSMENT, None, ""),
    ) -> None:
        super().__init__(rng)  # first: the clock's start is the stream's first draw here
        # (assessment id, candidate key hash, pack digest): what the manifest must repeat
        self.binding = binding
        self.candidate = candidate
        self.session_id = session_id
        self.target = target
        self.lane = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        self.failing_tests = rng.randint(1, 4)

    def run(self) -> None:
        baseline = {}
        for path in FILES[:4]:
            self.files[path] = self.fresh_lines(self.rng.randint(5, 30), path)
            baseline[path] = list(self.files[path])
        snapshot = self.commit(dict(baseline))
        self.emit(
            Kind.SESSION_START,
            {
                "sessionId": self.session_id,
                "assessmentId": self.binding[0],
                "candidateKeyHash": self.binding[1] or "",
                "packDigest": self.binding[2],
                "candidateName": self.candidate,
                "workspace": "take-home",
                "tools": ["claude-code", "shell"],
                "timeLimitMinutes": SYNTH_TIME_LIMIT_MINUTES,
                "snapshot": snapshot,
                "promptsterVersion": __version__,
                "platform": "linux",
            },
            **SYSTEM,
        )
        while len(self.plan.events) < self.target - 1:
            roll = self.rng.random()
            if roll < 0.55:
                self.ai_turn()
            elif roll < 0.8:
                self.human_command()
            elif roll < 0.92:
                self.human_edit()
            else:
                self.reflect()
        self.tick(1, 5)
        self.emit(
            Kind.SESSION_END,
            {"reason": "submit"},
            **SYSTEM,
        )

    def ai(self, kind: Kind, data: Payload, **extra: Any) -> None:
        fields = {
            "channel": "hook",
            "integration": "claude-code",
            "emitter": "promptster-hook",
            "actor": "ai",
            "attribution": "likely_ai",
            "confidence": 0.9,
            "observability": "high",
        }
        fields.update(extra)
        self.emit(kind, data, **fields)

    def ai_turn(self) -> None:
        target = self.rng.choice(FILES)
        text = self.rng.choice(PROMPTS).format(f=target)
        self.tick(5, 90)
        self.emit(
            Kind.PROMPT,
            {"text": text, "length": len(text), "lane": self.lane},
            channel="hook",
            integration="claude-code",
            emitter="promptster-hook",
            actor="human",
            attribution="likely_human",
            confidence=1.0,
            observability="high",
        )
        if self.rng.random() < 0.3:
            self.tick(1, 4)
            items: list[PlanItem] = [{"text": f"step {i}", "status": "pending"} for i in range(3)]
            self.ai(Kind.PLANNING, {"toolName": "TodoWrite", "items": items, "lane": self.lane})
        for _ in range(self.rng.randint(1, 3)):
            tool_id = f"toolu_{self.rng.getrandbits(64):016x}"
            tool = self.rng.choice(("Read", "Edit", "Write", "Bash", "Edit"))
            self.tick(1, 20)
            self.ai(
                Kind.TOOL_USE,
                {
                    "toolName": tool,
                    "toolUseId": tool_id,
                    "input": {"file_path": target},
                    "lane": self.lane,
                },
            )
            if tool in ("Edit", "Write"):
                self.change_file(target, ai=True)
            elif tool == "Bash":
                self.command("python -m pytest -q", actor="ai")
            self.ai(
                Kind.TOOL_RESULT,
                {"toolName": tool, "toolUseId": tool_id, "ok": True, "lane": self.lane},
            )
        if self.rng.random() < 0.05:
            self.ai(
                Kind.MCP_CALL,
                {
                    "server": "promptster",
                    "tool": "capture_decision",
                    "arguments": {"title": "storage"},
                    "ok": True,
                },
                channel="mcp",
            )
            self.decision(via="mcp")
        self.tick(2, 30)
        reply = "I updated the code and ran the tests. " * self.rng.randint(1, 6)
        self.ai(
            Kind.AI_RESPONSE,
            {
                "text": reply.strip(),
                "lane": self.lane,
                "model": "claude-sonnet-4-5",
                "outputTokens": len(reply) // 4,
            },
        )

    def change_file(self, path: str, *, ai: bool) -> None:
        existing = self.files.get(path)
        if existing is None or not existing:
            new = self.fresh_lines(self.rng.randint(3, 25), path)
            self.files[path] = new
            kind, added, removed = Kind.FILE_CREATE, len(new), 0
        elif self.rng.random() < 0.04 and len(self.files) > 3:
            kind, added, removed = Kind.FILE_DELETE, 0, len(existing)
            del self.files[path]
        else:
            start = self.rng.randrange(0, len(existing))
            removed = min(self.rng.randint(0, 6), len(existing) - start)
            added = self.rng.randint(0 if removed else 1, 12)
            if len(existing) > 150:
                removed, added = max(removed, 10), min(added, 3)
                removed = min(removed, len(existing) - start)
            existing[start : start + removed] = self.fresh_lines(added, path)
            kind = Kind.FILE_DIFF
        self.tick(0.5, 3)
        commit = self.commit({path: list(self.files[path]) if path in self.files else None})
        attribution = "likely_ai" if ai else "likely_human"
        if ai and self.rng.random() < 0.1:
            attribution = "ai_revised_by_human"
        ai_lines = added if attribution != "likely_human" else 0
        self.emit(
            kind,
            {
                "path": path,
                "commit": commit,
                "linesAdded": added,
                "linesRemoved": removed,
                "aiLines": ai_lines,
                "humanLines": added - ai_lines,
            },
            channel="watcher",
            integration="promptster",
            emitter="promptster-recorder",
            actor="ai" if ai else "human",
            attribution=attribution,
            confidence=round(self.rng.uniform(0.6, 0.99), 2),
            observability="high",
        )

    def human_edit(self) -> None:
        self.tick(10, 120)
        self.change_file(self.rng.choice(FILES), ai=False)

    def command(self, line: str, *, actor: str = "human") -> None:
        self.tick(1, 40)
        is_test = "pytest" in line
        failing = is_test and self.failing_tests > 0 and self.rng.random() < 0.6
        exit_code = 1 if failing else (0 if is_test or self.rng.random() < 0.85 else 2)
        duration = self.rng.randint(20, 8000)
        channel = "terminal" if actor == "human" else "hook"
        envelope = {
            "channel": channel,
            "integration": "shell" if actor == "human" else "claude-code",
            "emitter": "promptster-shell" if actor == "human" else "promptster-hook",
            "actor": actor,
            "attribution": "likely_human" if actor == "human" else "likely_ai",
            "confidence": 0.95,
            "observability": "high",
        }
        self.emit(
            Kind.COMMAND,
            {
                "command": line,
                "exitCode": exit_code,
                "durationMs": duration,
                "cwd": ".",
                "outputTail": "collected 12 items" if is_test else "",
            },
            **envelope,
        )
        if is_test:
            failed = self.rng.randint(1, 3) if failing else 0
            self.failing_tests -= 0 if failing else 1
            self.emit(
                Kind.TEST_RUN,
                {
                    "tool": "pytest",
                    "suite": "tests",
                    "passed": 12 - failed,
                    "failed": failed,
                    "skipped": self.rng.randint(0, 1),
                    "errors": 0,
                    "durationMs": duration,
                    "command": line,
                    "exitCode": exit_code,
                },
                **envelope,
            )
        elif line.split()[0] in ("ruff", "mypy"):
            category = "lint" if line.startswith("ruff") else "typecheck"
            self.emit(
                Kind.BUILD_RUN,
                {
                    "tool": line.split()[0],
                    "category": category,
                    "command": line,
                    "exitCode": exit_code,
                    "durationMs": duration,
                },
                **envelope,
            )

    def human_command(self) -> None:
        self.command(self.rng.choice(COMMANDS).format(f=self.rng.choice(FILES)))
        if self.rng.random() < 0.08:
            self.tick(1, 10)
            self.emit(
                Kind.GIT_ACTION,
                {
                    "action": "commit",
                    "ref": "main",
                    "message": "work in progress",
                    "commit": f"{self.rng.getrandbits(160):040x}",
                },
                channel="terminal",
                integration="git",
                emitter="promptster-shell",
                actor="human",
                attribution="likely_human",
                confidence=1.0,
            )

    def decision(self, via: str) -> None:
        self.tick(5, 60)
        self.emit(
            Kind.DECISION_EVENT,
            {
                "title": "Store sessions in a dict keyed by id",
                "chosenOption": "dict",
                "rationale": "O(1) lookups; the list scan was the bottleneck",
                "context": "lookups dominate",
                "tradeoffs": "more memory; ordering is lost",
                "impactScore": self.rng.randint(1, 5),
                "capturedVia": via,
            },
            channel="mcp" if via == "mcp" else "cli",
            integration="promptster",
            emitter=f"promptster-{via}",
            actor="ai" if via == "mcp" else "human",
            attribution="likely_ai" if via == "mcp" else "likely_human",
            confidence=0.9,
        )

    def reflect(self) -> None:
        roll = self.rng.random()
        cli = {
            "channel": "cli",
            "integration": "promptster",
            "emitter": "promptster-cli",
            "actor": "human",
            "attribution": "likely_human",
            "confidence": 1.0,
        }
        if roll < 0.35:
            self.decision(via="cli")
        elif roll < 0.6:
            self.tick(5, 60)
            self.emit(Kind.NOTE, {"text": "Tests are flaky on CI; pinning the seed."}, **cli)
        elif roll < 0.85:
            self.tick(5, 60)
            self.emit(Kind.CHECKPOINT, {"label": "tests green", "trigger": "manual"}, **cli)
        else:
            self.tick(5, 60)
            minutes = self.rng.choice((30, 15, 10, 5))
            self.emit(
                Kind.WARNING,
                {
                    "code": "time_warning",
                    "message": f"{minutes} minutes left",
                    "minutesLeft": minutes,
                },
                channel="cli",
                integration="promptster",
                emitter="promptster-recorder",
                actor="system",
                attribution="system_generated",
                confidence=1.0,
            )
