"""Human scorecards: each reviewer's 1–5 scores of a session on the hosted product's five
rubric dimensions, a decision (advance, hold, reject) and a note, kept in the workspace.

A rating is checked whole before anything is written (the session must be imported, every
dimension known, every score 1–5, the decision one of three), then written in one transaction:
a reviewer who rates a session again updates their own scores, dimension by dimension, as the
hosted API's upsert does; other reviewers' scores stay. A rating file (`promptster rate
--from FILE`, written by the form in the report page) is a small versioned JSON object:

    {"format": "promptster.rating", "version": 1, "sessionId": "...", "reviewer": "...",
     "scores": {"problem_decomposition": 4, ...}, "decision": "advance", "note": "..."}
"""

from __future__ import annotations

import getpass
import json
import os
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from promptster.errors import InputError, NewerFormatError
from promptster.formats.events import format_ts
from promptster.formats.jsonio import JsonValue
from promptster.reviewer.store import Workspace

DIMENSIONS: tuple[str, ...] = (
    "problem_decomposition",
    "ai_orchestration",
    "code_quality",
    "debugging_process",
    "communication",
)
DIMENSION_LABELS: dict[str, str] = {
    "problem_decomposition": "Problem decomposition",
    "ai_orchestration": "AI orchestration",
    "code_quality": "Code quality",
    "debugging_process": "Debugging process",
    "communication": "Communication",
}
DECISIONS: tuple[str, ...] = ("advance", "hold", "reject")
RATING_FORMAT = "promptster.rating"
RATING_VERSION = 1
MAX_NOTE = 4000  # characters; a scorecard note, not an essay
MAX_FILE = 64 * 1024
REVIEWER_ENV = "PROMPTSTER_REVIEWER"


@dataclass(frozen=True)
class Rating:
    """One reviewer's rating of one session, as given (checked by `check_rating`)."""

    session_id: str
    reviewer: str
    scores: dict[str, int]
    decision: str | None = None
    note: str | None = None

    def to_json_obj(self) -> dict[str, JsonValue]:
        return {
            "format": RATING_FORMAT,
            "version": RATING_VERSION,
            "sessionId": self.session_id,
            "reviewer": self.reviewer,
            "scores": dict(self.scores),
            "decision": self.decision,
            "note": self.note,
        }


def default_reviewer() -> str:
    """Who rates when --reviewer is not given: $PROMPTSTER_REVIEWER, else the login name."""
    name = os.environ.get(REVIEWER_ENV, "").strip()
    if name:
        return name
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "reviewer"


def _score(dimension: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        else:
            raise InputError(
                f"the score of {dimension} is {value!r}, not a whole number",
                "scores are whole numbers from 1 to 5",
            )
    assert isinstance(value, int)
    if not 1 <= value <= 5:
        raise InputError(
            f"the score of {dimension} is {value}, outside 1–5", "scores go from 1 to 5"
        )
    return value


def _dimension(name: str) -> str:
    dimension = name.strip().lower().replace("-", "_")
    if dimension not in DIMENSIONS:
        raise InputError(
            f"unknown rubric dimension {name!r}", f"the dimensions are {', '.join(DIMENSIONS)}"
        )
    return dimension


def parse_dimension(item: str) -> tuple[str, int]:
    """`problem_decomposition=4` → ("problem_decomposition", 4)."""
    name, sep, value = item.partition("=")
    if not sep:
        raise InputError(
            f"--dimension {item!r} is not dimension=score",
            "for example --dimension problem_decomposition=4",
        )
    dimension = _dimension(name)
    return dimension, _score(dimension, value)


def check_rating(rating: Rating) -> Rating:
    """The rating with names normalised, or InputError saying what is wrong with it."""
    reviewer = rating.reviewer.strip()
    if not reviewer or len(reviewer) > 200 or any(ord(c) < 32 for c in reviewer):
        raise InputError(
            "the reviewer's name is empty, too long or has control characters",
            "give --reviewer NAME (or set PROMPTSTER_REVIEWER)",
        )
    scores: dict[str, int] = {}
    for name, value in rating.scores.items():
        dimension = _dimension(name)
        if dimension in scores:
            raise InputError(f"{dimension} is scored twice", "give each dimension once")
        scores[dimension] = _score(dimension, value)
    decision = rating.decision.strip().lower() if rating.decision else None
    if decision is not None and decision not in DECISIONS:
        raise InputError(
            f"unknown decision {rating.decision!r}", f"the decisions are {', '.join(DECISIONS)}"
        )
    note = rating.note.strip() if rating.note else None
    if note is not None and len(note) > MAX_NOTE:
        raise InputError(f"the note has {len(note)} characters; at most {MAX_NOTE}")
    if not scores and decision is None and not note:
        raise InputError(
            "nothing to record: no --dimension, no --decision and no --note",
            "for example: promptster rate SESSION --dimension code_quality=4 --decision hold",
        )
    return Rating(rating.session_id.strip(), reviewer, scores, decision, note or None)


def read_rating_file(path: Path) -> Rating:
    """A rating file as the report's form writes it; InputError when it is not one."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the rating file {path}: {exc.strerror}") from exc
    if len(raw) > MAX_FILE:
        raise InputError(f"the rating file {path} is {len(raw)} bytes; a rating is under 64 KiB")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(
            f"the rating file {path} is not JSON: {exc}",
            "use the file the report's rating form downloads",
        ) from exc
    if not isinstance(body, dict) or body.get("format") != RATING_FORMAT:
        raise InputError(
            f'{path} is not a promptster rating file (no "format": "{RATING_FORMAT}")',
            "use the file the report's rating form downloads",
        )
    version = body.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and version > RATING_VERSION:
        raise NewerFormatError(
            f"the rating file {path} is version {version}; this promptster reads up to "
            f"{RATING_VERSION}",
            "upgrade promptster (pip install -U promptster)",
        )
    if version != RATING_VERSION:
        raise InputError(f"the rating file {path} has no valid version (got {version!r})")
    scores, session = body.get("scores", {}), body.get("sessionId")
    if not isinstance(session, str) or not session.strip():
        raise InputError(f"the rating file {path} names no sessionId")
    if not isinstance(scores, dict):
        raise InputError(f"the rating file {path}: `scores` must be an object of dimension: 1–5")
    for key in ("reviewer", "decision", "note"):
        if body.get(key) is not None and not isinstance(body.get(key), str):
            raise InputError(f"the rating file {path}: `{key}` must be a string")
    return Rating(
        session_id=session,
        reviewer=body.get("reviewer") or "",
        scores=scores,
        decision=body.get("decision"),
        note=body.get("note"),
    )


def resolve_session(con: duckdb.DuckDBPyConnection, ref: str) -> str:
    """The id of an imported session, by full id or a unique prefix (at least 4 characters)."""
    ref = ref.strip()
    rows = con.execute(
        "SELECT session_id FROM main.sessions WHERE session_id = ? "
        "OR (length(?) >= 4 AND starts_with(session_id, ?)) ORDER BY session_id",
        [ref, ref, ref],
    ).fetchall()
    ids = [str(r[0]) for r in rows]
    if ref in ids:
        return ref
    if len(ids) == 1:
        return ids[0]
    if len(ids) > 1:
        raise InputError(f"{ref!r} matches {len(ids)} imported sessions; give more of the id")
    raise InputError(
        f"no imported session {ref!r} in the reviewer workspace",
        "import the bundle first (promptster import BUNDLE); `promptster sessions list` "
        "shows the imported sessions",
    )


def save_rating(workspace: Workspace, rating: Rating, now: datetime | None = None) -> Rating:
    """Check `rating` and write it in one transaction; return it with the full session id."""
    rating = check_rating(rating)
    con = workspace.connection
    session = resolve_session(con, rating.session_id)
    moment = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    with workspace.transaction():
        for dimension, score in rating.scores.items():
            con.execute(
                "INSERT INTO main.rubric_scores (session_id, reviewer, dimension, score, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (session_id, reviewer, dimension) DO UPDATE SET "
                "score = excluded.score, updated_at = excluded.updated_at",
                [session, rating.reviewer, dimension, score, moment, moment],
            )
        if rating.decision is not None or rating.note is not None:
            con.execute(
                "INSERT INTO main.reviewer_decisions (session_id, reviewer, decision, note, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (session_id, reviewer) DO UPDATE SET "
                "decision = coalesce(excluded.decision, decision), "
                "note = coalesce(excluded.note, note), updated_at = excluded.updated_at",
                [session, rating.reviewer, rating.decision, rating.note, moment, moment],
            )
    return Rating(session, rating.reviewer, rating.scores, rating.decision, rating.note)


@dataclass(frozen=True)
class Scorecard:
    """One reviewer's scorecard of one session, as stored."""

    reviewer: str
    scores: dict[str, int]
    decision: str | None
    note: str | None
    updated_at: datetime

    def to_json_obj(self) -> dict[str, JsonValue]:
        return {
            "reviewer": self.reviewer,
            "scores": dict(self.scores),
            "decision": self.decision,
            "note": self.note,
            "updatedAt": format_ts(self.updated_at),
        }


@dataclass(frozen=True)
class DimensionSummary:
    mean: float
    low: int
    high: int
    count: int

    @property
    def spread(self) -> int:
        """Highest minus lowest score: 0 when the reviewers agree."""
        return self.high - self.low


@dataclass(frozen=True)
class SessionRatings:
    """Every reviewer's scorecard of one session, and what they add up to."""

    session_id: str
    cards: list[Scorecard] = field(default_factory=list)

    @property
    def reviewers(self) -> int:
        return len(self.cards)

    def dimension(self, name: str) -> DimensionSummary | None:
        scores = [c.scores[name] for c in self.cards if name in c.scores]
        if not scores:
            return None
        return DimensionSummary(statistics.fmean(scores), min(scores), max(scores), len(scores))

    @property
    def mean(self) -> float | None:
        """The mean over every score every reviewer gave."""
        scores = [s for c in self.cards for s in c.scores.values()]
        return statistics.fmean(scores) if scores else None

    @property
    def decisions(self) -> dict[str, int]:
        counts = dict.fromkeys(DECISIONS, 0)
        for card in self.cards:
            if card.decision:
                counts[card.decision] += 1
        return {d: n for d, n in counts.items() if n}

    def decisions_text(self) -> str:
        return ";".join(f"{d}={n}" for d, n in self.decisions.items())

    def to_json_obj(self) -> dict[str, JsonValue]:
        dims: dict[str, JsonValue] = {}
        for name in DIMENSIONS:
            found = self.dimension(name)
            dims[name] = (
                None
                if found is None
                else {
                    "mean": round(found.mean, 6),
                    "min": found.low,
                    "max": found.high,
                    "spread": found.spread,
                    "count": found.count,
                }
            )
        return {
            "reviewerCount": self.reviewers,
            "mean": None if self.mean is None else round(self.mean, 6),
            "dimensions": dims,
            "decisions": dict(self.decisions),
            "scorecards": [c.to_json_obj() for c in self.cards],
        }


def _py(moment: Any) -> datetime:
    return moment.replace(tzinfo=UTC) if isinstance(moment, datetime) else datetime.now(UTC)


def load_ratings(
    con: duckdb.DuckDBPyConnection, session_ids: Iterable[str] | None = None
) -> dict[str, SessionRatings]:
    """The scorecards of `session_ids` (every rated session when None), reviewers by name."""
    wanted = None if session_ids is None else sorted(set(session_ids))
    if wanted is not None and not wanted:
        return {}
    where = "" if wanted is None else "WHERE session_id IN (SELECT unnest(?::VARCHAR[]))"
    params: list[Any] = [] if wanted is None else [wanted]
    scores = con.execute(
        f"SELECT session_id, reviewer, dimension, score, updated_at FROM main.rubric_scores "
        f"{where} ORDER BY session_id, reviewer, dimension",
        params,
    ).fetchall()
    decided = con.execute(
        f"SELECT session_id, reviewer, decision, note, updated_at FROM main.reviewer_decisions "
        f"{where} ORDER BY session_id, reviewer",
        params,
    ).fetchall()
    cards: dict[tuple[str, str], dict[str, Any]] = {}
    for session, reviewer, dimension, score, updated in scores:
        card = cards.setdefault((session, reviewer), {"scores": {}, "at": _py(updated)})
        card["scores"][dimension] = int(score)
        card["at"] = max(card["at"], _py(updated))
    for session, reviewer, decision, note, updated in decided:
        card = cards.setdefault((session, reviewer), {"scores": {}, "at": _py(updated)})
        card.update(decision=decision, note=note, at=max(card["at"], _py(updated)))
    out: dict[str, SessionRatings] = {}
    for (session, reviewer), card in sorted(cards.items()):
        out.setdefault(session, SessionRatings(session)).cards.append(
            Scorecard(reviewer, card["scores"], card.get("decision"), card.get("note"), card["at"])
        )
    return out


def rating_columns(ratings: SessionRatings | None) -> dict[str, Any]:
    """The flat columns `score` and `sessions list` show for a session's scorecards."""
    row: dict[str, Any] = {"reviewerCount": 0 if ratings is None else ratings.reviewers}
    row["ratingMean"] = None if ratings is None or ratings.mean is None else round(ratings.mean, 6)
    for name in DIMENSIONS:
        found = ratings.dimension(name) if ratings is not None else None
        row[RATING_COLUMN[name]] = None if found is None else round(found.mean, 6)
    row["decisions"] = (ratings.decisions_text() or None) if ratings is not None else None
    return row


# `problem_decomposition` -> `ratingProblemDecomposition` (score's REVIEWER_COLUMNS)
RATING_COLUMN: dict[str, str] = {
    d: "rating" + "".join(part.capitalize() for part in d.split("_")) for d in DIMENSIONS
}
