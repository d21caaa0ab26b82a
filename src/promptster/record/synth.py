"""Synthetic sessions: realistic, valid, signed bundles of any size, reproducible by seed.

Used by the tests, the benchmarks and the signals and report work. A synthetic session goes
through the same journal and bundle writer as a recorded one; its snapshots are a real git
history, built in one `git fast-import` run so that a 100,000-event session takes seconds.
Changes replace a block of lines with lines that never occurred before, so any diff algorithm
(git's included) counts exactly the lines the events claim.
"""

from __future__ import annotations

import hashlib
import random
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from promptster import __version__
from promptster.bundle import format as fmt
from promptster.bundle.writer import SessionMaterial, WrittenBundle, write_bundle
from promptster.formats.crypto import SigningKey, sha256_digest
from promptster.formats.events import Event, Kind, format_ts, make_event
from promptster.formats.payloads import Payload, PlanItem
from promptster.gitutil import SNAPSHOT_AUTHOR, run_git
from promptster.issue.assessment import AssessmentPack, KdfParams, PackKey, hash_key, sign_pack
from promptster.issue.keys import ALPHABET as KEY_ALPHABET
from promptster.issue.keys import CandidateKey, check_symbol, parse_key
from promptster.record.journal import JournalWriter

BASE_TIME = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SYNTH_ASSESSMENT = "synthetic"
SYNTH_TIME_LIMIT_MINUTES = 120
# The synthetic reviewer: its packs verify, and `--reviewer-key` with its fingerprint checks
# the issuer of synthetic bundles. Cheap scrypt parameters: these keys protect nothing.
SYNTH_REVIEWER = SigningKey.from_seed(hashlib.sha256(b"promptster-synthetic-reviewer").digest())
SYNTH_KDF = KdfParams(n=2**10)
CANDIDATES = ("Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra", "Barbara Liskov")
FILES = (
    "src/app/service.py",
    "src/app/models.py",
    "src/app/api.py",
    "tests/test_service.py",
    "tests/test_api.py",
    "README.md",
    "src/app/util.py",
    "docs/design.md",
)
PROMPTS = (
    "Add input validation to {f} so that negative quantities are rejected with a 400.",
    "Why does the test in {f} fail with a KeyError? Don't change the public API.",
    "Refactor {f} to remove the global state; keep behaviour identical and keep it under 200 "
    "lines.",
    "Write tests for the edge cases in {f}: empty input, unicode, and very large values.",
    "Explain what {f} does.",
    "fix it",
    "Use a dict instead of a list in {f}, we must stay O(1) for lookups. Must not break the "
    "existing tests.",
)
COMMANDS = (
    "ls -la",
    "git status",
    "cat {f}",
    "python -m pytest -q",
    "ruff check .",
    "mypy src",
    "git diff",
    "python -m app",
    "grep -rn TODO src",
)


# The envelope of what the CLI writes on its own behalf (as record.pipeline.system_event).
SYSTEM: dict[str, Any] = {
    "channel": "cli",
    "integration": "promptster",
    "emitter": "promptster-cli",
    "actor": "system",
    "attribution": "system_generated",
    "confidence": 1.0,
    "observability": "high",
}


@dataclass
class _Plan:
    """Events with snapshot placeholders, and the commits they need, before git runs."""

    events: list[tuple[datetime, Event]] = field(default_factory=list)
    commits: list[tuple[datetime, dict[str, list[str] | None]]] = field(default_factory=list)


class _Simulator:
    def __init__(
        self,
        rng: random.Random,
        session_id: str,
        target: int,
        candidate: str,
        binding: tuple[str, str | None, str] = (SYNTH_ASSESSMENT, None, ""),
    ) -> None:
        self.rng = rng
        # (assessment id, candidate key hash, pack digest): what the manifest must repeat
        self.binding = binding
        self.candidate = candidate
        self.session_id = session_id
        self.target = target
        self.clock = BASE_TIME + timedelta(minutes=rng.randrange(0, 60 * 24 * 20))
        self.started = self.clock
        self.files: dict[str, list[str]] = {}
        self.counter = 0
        self.plan = _Plan()
        self.lane = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        self.failing_tests = rng.randint(1, 4)

    def tick(self, low: float, high: float) -> datetime:
        self.clock += timedelta(milliseconds=int(self.rng.uniform(low, high) * 1000))
        return self.clock

    def emit(self, kind: Kind | str, data: Payload, **envelope: Any) -> None:
        event = make_event(kind, data, **envelope)
        event.id = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        self.plan.events.append((self.clock, event))

    def fresh_lines(self, count: int, path: str) -> list[str]:
        lines = []
        for _ in range(count):
            self.counter += 1
            lines.append(f"# {path} line {self.counter} {self.rng.getrandbits(32):08x}")
        return lines

    def commit(self, changes: dict[str, list[str] | None]) -> str:
        self.plan.commits.append((self.clock, changes))
        return f"@commit:{len(self.plan.commits) - 1}"

    # -- behaviour -------------------------------------------------------------------------

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


def _fast_import(
    git_dir: Path, commits: list[tuple[datetime, dict[str, list[str] | None]]]
) -> list[str]:
    """Build the snapshot history in one `git fast-import`; return the commit ids in order."""
    name, email = SNAPSHOT_AUTHOR
    stream: list[bytes] = []
    for index, (moment, changes) in enumerate(commits):
        message = b"baseline" if index == 0 else f"snapshot {index}".encode()
        stamp = int(moment.timestamp())
        stream.append(f"commit {fmt.SNAPSHOT_REF}\nmark :{index + 1}\n".encode())
        stream.append(f"committer {name} <{email}> {stamp} +0000\n".encode())
        stream.append(b"data %d\n%s\n" % (len(message), message))
        if index:
            stream.append(f"from :{index}\n".encode())
        for path, lines in sorted(changes.items()):
            if lines is None:
                stream.append(f"D {path}\n".encode())
                continue
            content = ("\n".join(lines) + "\n").encode() if lines else b""
            stream.append(f"M 100644 inline {path}\ndata {len(content)}\n".encode())
            stream.append(content + b"\n")
        stream.append(b"\n")
    marks = git_dir / "marks"
    run_git(
        ["fast-import", "--quiet", f"--export-marks={marks}"],
        git_dir=git_dir,
        stdin=b"".join(stream),
    )
    by_mark = dict(line.split() for line in marks.read_text().splitlines())
    return [by_mark[f":{i + 1}"] for i in range(len(commits))]


def _resolve(value: Any, commits: list[str]) -> Any:
    if isinstance(value, str) and value.startswith("@commit:"):
        return commits[int(value.split(":")[1])]
    return value


def _seeded(seed: int) -> tuple[random.Random, str, SigningKey]:
    """The generator's random stream, session id and session key for `seed`, in that order."""
    rng = random.Random(seed)
    session_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    key = SigningKey.from_seed(rng.randbytes(32))
    return rng, session_id, key


def synthetic_candidate_key(seed: int) -> str:
    """The candidate key of `generate_bundle(seed=seed)` when none is given (valid, stable)."""
    digest = hashlib.sha256(f"promptster-synth-key-{seed}".encode()).digest()
    data = "".join(KEY_ALPHABET[b % len(KEY_ALPHABET)] for b in digest[:7])
    return CandidateKey(data + check_symbol(data)).text


def synthetic_pack(key_text: str, seed: int, assessment_id: str = SYNTH_ASSESSMENT) -> bytes:
    """A pack of `assessment_id` (default: the synthetic assessment) signed by the synthetic
    reviewer and issued for `key_text`; deterministic."""
    salt = hashlib.sha256(f"promptster-synth-salt-{seed}".encode()).digest()[:16]
    pack = AssessmentPack(
        assessment_id=assessment_id,
        org="Synthetic reviewer",
        role="Backend engineer",
        brief="Build a small service with tests (synthetic session).",
        time_limit_minutes=SYNTH_TIME_LIMIT_MINUTES,
        repo=None,
        reviewer_public_key=SYNTH_REVIEWER.public,
        keys=(
            PackKey(
                "key-1",
                salt,
                hash_key(parse_key(key_text), salt, SYNTH_KDF),
                datetime(2030, 1, 1, tzinfo=UTC),
                False,
            ),
        ),
        issued_at=BASE_TIME - timedelta(days=1),
        kdf=SYNTH_KDF,
    )
    return sign_pack(pack, SYNTH_REVIEWER)


def session_key_for_seed(seed: int) -> SigningKey:
    """The session key `generate_bundle(seed=seed)` signs with (tests re-sign tampered copies)."""
    return _seeded(seed)[2]


def generate_bundle(
    out_path: Path,
    *,
    events: int = 500,
    seed: int = 0,
    candidate: str | None = None,
    candidate_key: str | None = None,
    progress: Callable[[str], None] | None = None,
    issued: tuple[str, bytes] | None = None,
) -> WrittenBundle:
    """Write a synthetic, signed, verifiable bundle with about `events` events.

    The bundle carries an assessment pack for assessment "synthetic", signed by the synthetic
    reviewer key (`SYNTH_REVIEWER`), holding the hash of `candidate_key` (a valid key; by
    default one derived from the seed), exactly as a recorded session from a redeemed key.
    `progress` hears of each stage (a large bundle takes seconds).
    `issued` = (assessment id, pack) replaces the synthetic assessment with a real one.
    """
    if events < 2:
        raise ValueError("a session needs at least 2 events (start and end)")
    say = progress or (lambda stage: None)
    rng, session_id, key = _seeded(seed)
    candidate = candidate or rng.choice(CANDIDATES)
    key_text = parse_key(candidate_key).text if candidate_key else synthetic_candidate_key(seed)
    assessment_id, pack = issued or (SYNTH_ASSESSMENT, synthetic_pack(key_text, seed))
    binding = (assessment_id, fmt.candidate_key_hash(key_text), sha256_digest(pack))
    simulator = _Simulator(rng, session_id, events, candidate, binding)
    simulator.run()
    with tempfile.TemporaryDirectory(prefix="promptster-synth-") as tmp:
        git_dir = Path(tmp) / "shadow.git"
        run_git(["init", "--quiet", "--bare", str(git_dir)])
        say(f"writing {len(simulator.plan.commits):,} git snapshots")
        commit_ids = _fast_import(git_dir, simulator.plan.commits)
        say("writing the timeline")
        journal_path = Path(tmp) / "timeline.jsonl"
        with JournalWriter(journal_path, session_id) as journal:
            for moment, event in simulator.plan.events:
                event.ts = format_ts(moment)
                for name in ("commit", "snapshot"):
                    if name in event.data:
                        event.data[name] = _resolve(event.data[name], commit_ids)
                journal.append(event)
        first, last = simulator.plan.events[0][0], simulator.plan.events[-1][0]
        material = SessionMaterial(
            session_id=session_id,
            started_at=format_ts(first),
            ended_at=format_ts(last),
            timeline=journal_path.read_bytes(),
            shadow_git_dir=git_dir,
            assessment_id=assessment_id,  # one assessment: synthetic bundles form a cohort
            candidate_key=key_text,
            assessment_pack=pack,
        )
        say("signing and writing the bundle")
        return write_bundle(material, key, out_path)
