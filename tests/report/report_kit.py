"""Build small, real, signed bundles for the report tests, hostile ones included.

`SessionScript` writes files into a work tree, commits each change to a shadow git repository
and records the matching file event with git's own line counts, so the bundles verify. The
hostile session puts an XSS, `javascript:` link, SVG or ANSI/OSC payload in every field a
candidate controls: prompts, replies, commands and their output, file names and contents,
decisions, kinds, actors, sources, the candidate name and the terminal recording.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
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

START = datetime(2026, 2, 2, 10, 0, tzinfo=UTC)

# Each payload sets window.__pwned (or opens a dialog) if it ever runs.
PAYLOADS = (
    "<script>window.__pwned='script'</script>",
    "<img src=x onerror=\"window.__pwned='img'\">",
    "<svg onload=\"window.__pwned='svg'\"><script>window.__pwned='svg2'</script></svg>",
    "javascript:window.__pwned='link'",
    '"><a href="javascript:window.__pwned=1">click</a>',
    "\x1b]8;;javascript:window.__pwned='osc8'\x07osc-link\x1b]8;;\x07",
    "\x1b]52;c;cHduZWQ=\x07\x1b[31mred\x1b[0m\x1b]0;title\x07",
    "\u202eevil\u202c </style><style>body{display:none}</style>",
    "{{ 7*7 }} {% raw %}",
)
HOSTILE = " ".join(PAYLOADS)


@dataclass
class SessionScript:
    name: str
    candidate: str = "Ada Lovelace"
    assessment_id: str | None = "asmt-report"
    events: list[tuple[float, Event]] = field(default_factory=list)
    changes: list[tuple[float, dict[str, str | None], dict[str, Any]]] = field(default_factory=list)
    baseline: dict[str, str] = field(default_factory=dict)
    casts: list[bytes] = field(default_factory=list)
    start_extra: dict[str, Any] = field(default_factory=dict)  # more session_start fields
    pack: bytes | None = None  # the signed assessment pack to carry (assessment.json)
    authorship: bool = False  # compute authorship.json as submit does

    def add(self, at: float, kind: str, data: dict[str, Any], **env: Any) -> SessionScript:
        actor = env.pop("actor", "human")
        event = make_event(
            kind,
            data,
            channel=env.pop("channel", "cli"),
            integration=env.pop("integration", "claude-code" if actor == "ai" else "shell"),
            emitter=env.pop("emitter", "report-kit"),
            actor=actor,
            attribution=env.pop(
                "attribution", {"ai": "likely_ai", "human": "likely_human"}.get(actor, "unknown")
            ),
            confidence=0.9,
            observability="high",
            ts=format_ts(START + timedelta(seconds=at)),
        )
        event.id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"report-kit/{self.name}/{len(self.events)}"))
        self.events.append((at, event))
        return self

    def write(
        self, at: float, files: dict[str, str | None], attribution: str = "likely_human"
    ) -> SessionScript:
        """Change files at `at` (None deletes); one snapshot, one file event per path."""
        actor = "ai" if attribution in ("likely_ai", "ai_revised_by_human") else "human"
        self.changes.append((at, files, {"attribution": attribution, "actor": actor}))
        return self

    def build(self, out: Path) -> Path:
        session_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"report-kit/{self.name}"))
        key = SigningKey.from_seed(hashlib.sha256(self.name.encode()).digest())
        with tempfile.TemporaryDirectory(prefix="report-kit-") as tmp:
            git_dir, work = Path(tmp) / "shadow.git", Path(tmp) / "work"
            work.mkdir()
            run_git(["init", "--quiet", "--bare", str(git_dir)])
            run_git(["symbolic-ref", "HEAD", "refs/heads/snapshots"], git_dir=git_dir)

            def commit(at: float, files: dict[str, str | None]) -> tuple[str, dict[str, Any]]:
                for path, content in files.items():
                    target = work / path
                    if content is None:
                        target.unlink()
                        continue
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(content)
                stamp = f"{int((START + timedelta(seconds=at)).timestamp())} +0000"
                env = {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
                run_git(["add", "-A"], git_dir=git_dir, work_tree=work, env=env)
                run_git(
                    ["commit", "--quiet", "--allow-empty", "-m", "snapshot"],
                    git_dir=git_dir,
                    work_tree=work,
                    env=env,
                )
                head = run_git(["rev-parse", "HEAD"], git_dir=git_dir).text.strip()
                stats = run_git(
                    ["show", "--numstat", "--format=", "--no-renames", "-z", head], git_dir=git_dir
                ).stdout
                counts: dict[str, Any] = {}
                for chunk in stats.split(b"\0"):
                    parts = chunk.strip(b"\n").split(b"\t", 2)
                    if len(parts) == 3:
                        counts[parts[2].decode()] = (int(parts[0]), int(parts[1]))
                return head, counts

            baseline, _ = commit(0, dict(self.baseline))
            events = list(self.events)
            known = set(self.baseline)
            for at, files, meta in self.changes:
                head, counts = commit(at, files)
                for path, content in files.items():
                    added, removed = counts[path]
                    kind = (
                        "file_delete"
                        if content is None
                        else "file_diff"
                        if path in known
                        else "file_create"
                    )
                    known.add(path)
                    ai = added if meta["attribution"] == "likely_ai" else 0
                    data = {
                        "path": path,
                        "commit": head,
                        "linesAdded": added,
                        "linesRemoved": removed,
                        "aiLines": ai,
                        "humanLines": added - ai,
                    }
                    probe = SessionScript(f"{self.name}/{at}/{path}")
                    probe.add(at, kind, data, **meta, channel="watcher", integration="promptster")
                    events.append((at, probe.events[0][1]))
            events.sort(key=lambda item: item[0])
            # A pack of the synthetic reviewer, issued for a key of this script's own.
            seed = int.from_bytes(hashlib.sha256(self.name.encode()).digest()[:4], "big")
            key_text, pack = None, None
            if self.assessment_id:
                key_text = synthetic_candidate_key(seed)
                pack = synthetic_pack(key_text, seed, self.assessment_id)
            if self.pack is not None:  # the script's own pack (issued for no key of ours)
                key_text, pack = None, self.pack
            binding = {
                k: v
                for k, v in (
                    ("assessmentId", self.assessment_id),
                    ("candidateKeyHash", candidate_key_hash(key_text)),
                    ("packDigest", sha256_digest(pack) if pack else None),
                )
                if v is not None
            }
            start = make_event(
                "session_start",
                {
                    "sessionId": session_id,
                    # What a recorded session_start carries (format 2 binds the manifest to it).
                    **binding,
                    "candidateName": self.candidate,
                    "workspace": "take-home",
                    "tools": ["claude-code", "shell"],
                    "timeLimitMinutes": 60,
                    "snapshot": baseline,
                    **self.start_extra,
                },
                channel="cli",
                integration="promptster",
                emitter="report-kit",
                actor="system",
                attribution="system_generated",
                ts=format_ts(START),
            )
            start.id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"report-kit/{self.name}/start"))
            last = max((at for at, _ in events), default=0) + 1
            end = make_event(
                "session_end",
                {"reason": "submit"},
                channel="cli",
                integration="promptster",
                emitter="report-kit",
                actor="system",
                attribution="system_generated",
                ts=format_ts(START + timedelta(seconds=last)),
            )
            end.id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"report-kit/{self.name}/end"))
            journal_path = Path(tmp) / "timeline.jsonl"
            with JournalWriter(journal_path, session_id) as journal:
                for event in [start, *(e for _, e in events), end]:
                    journal.append(event)
            material = SessionMaterial(
                session_id=session_id,
                started_at=format_ts(START),
                ended_at=format_ts(START + timedelta(seconds=last)),
                timeline=journal_path.read_bytes(),
                shadow_git_dir=git_dir,
                assessment_id=self.assessment_id,
                candidate_key=key_text,
                assessment_pack=pack,
                casts=list(self.casts),
            )
            if self.authorship:
                from promptster.bundle.authorship import encode
                from promptster.record.attribution.authorship import compute_authorship

                head = run_git(["rev-parse", "refs/heads/snapshots"], git_dir=git_dir).text
                timeline = [start, *(e for _, e in events), end]
                material.authorship = encode(
                    compute_authorship(
                        [e.to_dict() for e in timeline], git_dir, head.strip(), "/take-home"
                    )
                )
            write_bundle(material, key, out)
        return out


def decode_block(text: str) -> Any:
    """The JSON of a report's data block (the text of its <script type="application/json">)."""
    return json.loads(gzip.decompress(base64.b64decode(json.loads(text))))


def report_block(html: str, block_id: str) -> Any:
    match = re.search(rf'id="{block_id}" data-bytes="\d+">("[A-Za-z0-9+/=]*")', html)
    assert match is not None, block_id
    return decode_block(match.group(1))


def cast(frames: list[tuple[float, str]], width: int = 80, height: int = 24) -> bytes:
    header = {"version": 2, "width": width, "height": height, "timestamp": 1767225600}
    lines = [json.dumps(header)] + [json.dumps([t, "o", text]) for t, text in frames]
    return ("\n".join(lines) + "\n").encode()


def ordinary(name: str = "ordinary") -> SessionScript:
    """A short, plausible session: explore, prompt, AI edit, failing then passing tests."""
    s = SessionScript(
        name, baseline={"app.py": "def add(a, b):\n    return a - b\n"}, authorship=True
    )
    s.add(5, "command", {"command": "cat app.py", "exitCode": 0, "durationMs": 12, "cwd": "."})
    s.add(20, "prompt", {"text": "Fix add() in app.py; keep the signature.", "length": 40})
    s.write(30, {"app.py": "def add(a, b):\n    return a + b\n"}, "likely_ai")
    s.add(
        31,
        "ai_response",
        {"text": "Fixed the sign.\nRun the tests next.", "model": "m"},
        actor="ai",
    )
    s.write(
        60, {"test_app.py": "from app import add\n\n\ndef test_add():\n    assert add(2, 2) == 5\n"}
    )
    s.add(
        70,
        "command",
        {
            "command": "pytest -q",
            "exitCode": 1,
            "durationMs": 800,
            "cwd": ".",
            "outputTail": "1 failed in 0.01s",
        },
    )
    s.add(
        70,
        "test_run",
        {
            "tool": "pytest",
            "passed": 0,
            "failed": 1,
            "skipped": 0,
            "errors": 0,
            "command": "pytest -q",
            "exitCode": 1,
        },
    )
    s.write(
        90, {"test_app.py": "from app import add\n\n\ndef test_add():\n    assert add(2, 2) == 4\n"}
    )
    s.add(
        100,
        "command",
        {
            "command": "pytest -q",
            "exitCode": 0,
            "durationMs": 700,
            "cwd": ".",
            "outputTail": "1 passed in 0.01s",
        },
    )
    s.add(
        100,
        "test_run",
        {
            "tool": "pytest",
            "passed": 1,
            "failed": 0,
            "skipped": 0,
            "errors": 0,
            "command": "pytest -q",
            "exitCode": 0,
        },
    )
    s.add(
        110,
        "decision_event",
        {
            "title": "Keep add() pure",
            "chosenOption": "no logging",
            "rationale": "simplest",
            "impactScore": 2,
            "capturedVia": "cli",
        },
    )
    s.add(
        400,
        "warning",
        {"code": "time_warning", "message": "30 minutes left", "minutesLeft": 30},
        actor="system",
    )
    s.casts.append(
        cast([(0.1, "$ "), (0.5, "pytest -q\r\n"), (1.2, "\x1b[32m1 passed\x1b[0m\r\n$ ")])
    )
    return s


def hostile(name: str = "hostile") -> SessionScript:
    """Every candidate-controlled field carries the payloads."""
    bad_name = "<img src=x onerror=\"window.__pwned='name'\">.py"
    s = SessionScript(
        name,
        candidate=HOSTILE,
        baseline={"README.md": HOSTILE + "\n", bad_name: "x = 1\n"},
    )
    s.add(1, "prompt", {"text": HOSTILE, "length": len(HOSTILE)})
    s.add(2, "ai_response", {"text": HOSTILE + "\n" + HOSTILE, "model": HOSTILE}, actor="ai")
    s.add(
        3,
        "tool_use",
        {"toolName": HOSTILE, "toolUseId": "t1", "input": {HOSTILE: HOSTILE}},
        actor="ai",
    )
    s.add(
        4,
        "tool_result",
        {"toolName": HOSTILE, "toolUseId": "t1", "ok": False, "output": HOSTILE},
        actor="ai",
    )
    s.write(5, {bad_name: HOSTILE + "\n", "javascript:alert(1).md": HOSTILE + "\n"}, "likely_ai")
    s.add(
        6,
        "command",
        {
            "command": HOSTILE,
            "exitCode": 3,
            "durationMs": 5,
            "cwd": HOSTILE,
            "outputHead": HOSTILE,
            "outputTail": HOSTILE,
        },
    )
    s.add(
        7,
        "test_run",
        {
            "tool": HOSTILE,
            "suite": HOSTILE,
            "passed": 1,
            "failed": 1,
            "skipped": 0,
            "errors": 0,
            "command": HOSTILE,
            "exitCode": 1,
        },
    )
    s.add(8, "build_run", {"tool": HOSTILE, "category": HOSTILE, "command": HOSTILE, "exitCode": 1})
    s.add(
        9,
        "decision_event",
        dict.fromkeys(
            ("title", "chosenOption", "context", "tradeoffs", "rationale", "capturedVia"), HOSTILE
        ),
    )
    s.add(
        10,
        "planning",
        {"toolName": HOSTILE, "items": [{"text": HOSTILE, "status": HOSTILE}]},
        actor="ai",
    )
    s.add(11, "mcp_call", {"server": HOSTILE, "tool": HOSTILE, "arguments": {"a": HOSTILE}})
    s.add(12, "git_action", {"action": HOSTILE, "ref": HOSTILE, "message": HOSTILE})
    s.add(13, "checkpoint", {"label": HOSTILE, "trigger": HOSTILE})
    s.add(14, "note", {"text": HOSTILE})
    s.add(15, "warning", {"code": HOSTILE, "message": HOSTILE, "gapMs": 5000}, actor="system")
    s.add(
        16,
        "<script>window.__pwned='kind'</script>",
        {"x": HOSTILE},
        actor="<b onmouseover=alert(1)>",
        integration=HOSTILE,
    )
    s.casts.append(
        cast(
            [
                (0.1, HOSTILE),
                (0.2, "\x1b]8;;javascript:window.__pwned='osc'\x07link\x1b]8;;\x07\r\n"),
                (0.3, "\x1bP<script>window.__pwned='dcs'</script>\x1b\\\r\n"),
                (0.4, "\x1b[38;2;255;0;0m</pre><script>window.__pwned='pre'</script>\x1b[0m"),
            ]
        )
    )
    return s


class Watched:
    """A page with everything that must not happen recorded: requests, errors, dialogs."""

    def __init__(self, page: Any, url: str) -> None:
        self.page = page
        self.url = url
        self.requests: list[str] = []
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on(
            "console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None
        )
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        # Injected by the DevTools protocol, so the page's CSP does not apply to it.
        page.add_init_script(
            "window.__csp = []; document.addEventListener('securitypolicyviolation', "
            "e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
        )

    def open(self) -> Watched:
        self.page.goto(self.url)
        self.page.wait_for_selector("html[data-ready]")
        return self

    def until(self, expression: str, timeout_s: float = 30.0) -> None:
        """Wait until a JavaScript expression is true. Polled with `evaluate` (DevTools, not
        eval in the page), because the report's CSP rightly forbids eval and so breaks
        Playwright's wait_for_function."""
        for _ in range(int(timeout_s * 20)):
            if self.page.evaluate(expression):
                return
            self.page.wait_for_timeout(50)
        raise AssertionError(f"never became true: {expression}")

    def csp_violations(self) -> list[str]:
        return list(self.page.evaluate("window.__csp || []"))

    def assert_clean(self) -> None:
        """Nothing left the page, nothing failed, nothing ran that should not have."""
        assert [u for u in self.requests if u != self.url] == []
        assert self.console_errors == []
        assert self.page_errors == []
        assert self.dialogs == []
        assert self.csp_violations() == []
        assert self.page.evaluate("window.__pwned") is None
