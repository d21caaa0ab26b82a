"""A synthetic session written as a bundle: its git history in one `git fast-import`, its
journal, and the signed bundle, reproducible by seed."""

from __future__ import annotations

import random
import tempfile
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from promptster.bundle import format as fmt
from promptster.bundle.writer import SessionMaterial, WrittenBundle, write_bundle
from promptster.formats.crypto import SigningKey, sha256_digest
from promptster.formats.events import format_ts
from promptster.gitutil import SNAPSHOT_AUTHOR, run_git
from promptster.issue.keys import parse_key
from promptster.record.journal import JournalWriter
from promptster.record.synth.issuer import synthetic_candidate_key, synthetic_pack
from promptster.record.synth.simulator import Simulator
from promptster.record.synth.vocabulary import CANDIDATES, SYNTH_ASSESSMENT


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
    simulator = Simulator(rng, session_id, events, candidate, binding)
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
