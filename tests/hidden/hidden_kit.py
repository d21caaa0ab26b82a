"""Real, signed bundles whose final snapshot holds the code a test gives, for hidden tests.

The snapshots are a real git history (a starter commit, then one commit per change), and every
file event is made from `git diff --numstat` of its commit, so the bundles verify.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from promptster.bundle.format import candidate_key_hash
from promptster.bundle.writer import SessionMaterial, write_bundle
from promptster.formats.crypto import SigningKey, sha256_digest
from promptster.formats.events import Event, format_ts, make_event
from promptster.gitutil import run_git
from promptster.record.journal import JournalWriter
from promptster.reviewer.hidden_tests.suite import HiddenSuite, pack_folder
from support import require_executable

CLI = "from promptster.cli import run; run()"


@dataclass
class Reviewer:
    home: Path
    env: dict[str, str]

    def run(self, *args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
        env = dict(self.env)
        if path is not None:
            env["PATH"] = path
        return subprocess.run(
            [sys.executable, "-c", CLI, *args],
            env=env,
            cwd=self.home,
            capture_output=True,
            text=True,
            check=False,
        )

    def json(self, *args: str) -> Any:
        done = self.run(*args)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def issue(self, assessment_id: str) -> tuple[str, bytes]:
        """A new candidate key of the assessment and the pack signed for it (keys create)."""
        made = self.json("keys", "create", assessment_id, "--count", "1", "--json")
        pack = self.home / "promptster-home" / "packs" / f"{assessment_id}.json"
        return str(made["keys"][0]["key"]), pack.read_bytes()


START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
STARTER = {"calc.py": "def is_even(n):\n    raise NotImplementedError\n"}
CORRECT = {"calc.py": "def is_even(n):\n    return n % 2 == 0\n"}
HIDDEN_TESTS = {
    "hidden_tests/test_calc.py": (
        "from calc import is_even\n\n\n"
        "def test_even():\n    assert is_even(4)\n\n\n"
        "def test_odd():\n    assert not is_even(3)\n\n\n"
        "def test_zero():\n    assert is_even(0)\n"
    )
}


def require_bwrap() -> str:
    found: str = require_executable("bwrap", "apt-get install bubblewrap")
    return found


def suite_of(folder: Path, command: str = "pytest -q", timeout: int = 60) -> HiddenSuite:
    archive, count = pack_folder(folder)
    return HiddenSuite(
        assessment_id="asmt-hidden",
        archive=archive,
        digest="sha256:" + hashlib.sha256(archive).hexdigest(),
        file_count=count,
        command=command,
        timeout_seconds=timeout,
        updated_at=datetime.now(UTC),
    )


def write_folder(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return folder


def _event(name: str, index: int, at: float, kind: str, data: dict[str, object]) -> Event:
    event = make_event(
        kind,
        data,
        channel="watcher" if kind.startswith("file_") else "cli",
        integration="shell",
        emitter="hidden-kit",
        actor="system" if kind.startswith("session") else "human",
        attribution="system_generated" if kind.startswith("session") else "likely_human",
        confidence=0.9,
        observability="high",
        ts=format_ts(START + timedelta(seconds=at)),
    )
    event.id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"hidden-kit/{name}/{index}"))
    return event


# A step of a session besides a change of files: ("checkpoint", label) takes a checkpoint at the
# current snapshot; ("test_run", "passed" | "failed") records a run of the candidate's tests.
Step = tuple[str, str]


def _step_event(name: str, index: int, at: float, step: Step, head: str) -> Event:
    what, value = step
    if what == "checkpoint":
        data: dict[str, object] = {"label": value, "trigger": "manual", "snapshot": head}
        return _event(name, index, at, "checkpoint", data)
    failed = 0 if value == "passed" else 1
    data = {"tool": "pytest", "passed": 2 - failed, "failed": failed, "skipped": 0,
            "errors": 0, "durationMs": 120, "command": "pytest -q", "exitCode": failed,
            "outcome": value}  # fmt: skip
    return _event(name, index, at, "test_run", data)


def make_bundle(
    out: Path,
    name: str,
    changes: list[dict[str, str] | Step],
    *,
    assessment_id: str = "asmt-hidden",
    starter: dict[str, str] | None = None,
    reviewer: Reviewer | None = None,
) -> Path:
    """A bundle for candidate `name`: the starter, then each change (files written over).
    With `reviewer`, the session is issued a key of `assessment_id` and carries its pack."""
    key_text, pack = reviewer.issue(assessment_id) if reviewer is not None else (None, None)
    session_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"hidden-kit/{name}"))
    key = SigningKey.from_seed(hashlib.sha256(name.encode()).digest())
    with tempfile.TemporaryDirectory(prefix="hidden-kit-") as tmp:
        git_dir, work = Path(tmp) / "shadow.git", Path(tmp) / "work"
        work.mkdir()
        run_git(["init", "--quiet", "--bare", str(git_dir)])
        run_git(["symbolic-ref", "HEAD", "refs/heads/snapshots"], git_dir=git_dir)

        def commit(at: float, message: str) -> str:
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

        write_folder(work, STARTER if starter is None else starter)
        baseline = commit(0, "baseline")
        events = [
            _event(name, 0, 0, "session_start",
                   {"sessionId": session_id, "candidateName": name, "workspace": "take-home",
                    "tools": ["shell"], "snapshot": baseline, "assessmentId": assessment_id,
                    **({"candidateKeyHash": candidate_key_hash(key_text),
                        "packDigest": sha256_digest(pack)} if key_text and pack else {})})
        ]  # fmt: skip
        at = 0.0
        for files in changes:
            at += 60
            if isinstance(files, tuple):
                head = run_git(["rev-parse", "HEAD"], git_dir=git_dir).text.strip()
                events.append(_step_event(name, len(events), at, files, head))
                continue
            before = run_git(["rev-parse", "HEAD"], git_dir=git_dir).text.strip()
            existed = {p for p in files if (work / p).exists()}
            write_folder(work, files)
            sha = commit(at, f"snapshot {len(events)}")
            numstat = run_git(["diff", "--numstat", before, sha], git_dir=git_dir).text
            for line in numstat.splitlines():
                added, removed, path = line.split("\t")
                kind = "file_diff" if path in existed else "file_create"
                data = {"path": path, "linesAdded": int(added), "linesRemoved": int(removed),
                        "commit": sha}  # fmt: skip
                events.append(_event(name, len(events), at, kind, data))
        events.append(_event(name, len(events), at + 5, "session_end", {"reason": "submit"}))
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
            assessment_id=assessment_id,
            candidate_key=key_text,
            assessment_pack=pack,
        )
        return write_bundle(material, key, Path(out)).path
