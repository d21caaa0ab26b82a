"""The optional LLM judge (`--judge MODEL`): rates prompts for `promptDepth` and file changes
for `codeCraft` on the hosted product's 0.0–2.0 scales, with Simon Willison's `llm` library.

`llm` is an optional extra (`pip install 'promptster[judge]'`); any model an llm plugin
registers works (`llm models` lists them). The rubric text lives in `rubrics/*.md`. A rating
that cannot be parsed is skipped, never guessed; with no usable rating the heuristic value
stays, with confidence `low`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any, Protocol

import duckdb

from promptster.analysis.signals import Confidence, Signal
from promptster.errors import EnvironmentProblem, InputError

# At most this many items are judged per signal and session, spread evenly over the session.
MAX_ITEMS = 40
MAX_ITEM_CHARS = 12_000
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def rubric(name: str) -> str:
    return resources.files("promptster.analysis").joinpath("rubrics", f"{name}.md").read_text()


@dataclass(frozen=True)
class Rating:
    score: float
    reason: str


class Judge(Protocol):
    model_id: str

    def rate(self, rubric_name: str, item: str) -> Rating | None: ...


def parse_rating(text: str) -> Rating | None:
    """A rating from a model's answer: a JSON object with `score`, else the first number."""
    match = re.search(r"\{.*\}", text, re.DOTALL)
    if match:
        try:
            body = json.loads(match.group(0))
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("score"), int | float):
            score = float(body["score"])
            if 0.0 <= score <= 2.0:
                return Rating(score, str(body.get("reason", ""))[:500])
            return None
    number = _NUMBER.search(text)
    if number:
        score = float(number.group(0))
        if 0.0 <= score <= 2.0:
            return Rating(score, "")
    return None


class LlmJudge:
    """A judge backed by an `llm` model."""

    def __init__(self, model_id: str) -> None:
        try:
            import llm
        except ImportError as exc:
            raise EnvironmentProblem(
                "--judge needs the optional `llm` library",
                "install it with: pip install 'promptster[judge]'",
            ) from exc
        try:
            self._model: Any = llm.get_model(model_id)
        except llm.UnknownModelError as exc:
            raise InputError(
                f"unknown judge model {model_id!r}",
                "`llm models` lists the models your llm plugins provide",
            ) from exc
        self.model_id = model_id

    def ask(self, prompt: str, system: str) -> str:
        """The model's answer as text; raises whatever the model or its plugin raises (the
        callers count a raised call as a failed pass)."""
        return str(self._model.prompt(prompt, system=system).text())

    def rate(self, rubric_name: str, item: str) -> Rating | None:
        prompt = (
            f"{item[:MAX_ITEM_CHARS]}\n\n"
            'Answer with one JSON object only: {"score": <0.0 to 2.0>, "reason": "<one sentence>"}'
        )
        try:
            answer = self._model.prompt(prompt, system=rubric(rubric_name)).text()
        except Exception:  # a model or network failure skips the item; the heuristic stays
            return None
        return parse_rating(str(answer))

    def judge_session(
        self, con: duckdb.DuckDBPyConnection, session_id: str, signals: dict[str, Signal]
    ) -> dict[str, Signal]:
        """`analysis.signals.SignalJudge`: the judged `promptDepth` and `codeCraft`."""
        return apply_judge(con, session_id, signals, self)


def _spread(rows: list[tuple[Any, ...]], limit: int) -> list[tuple[Any, ...]]:
    if len(rows) <= limit:
        return rows
    step = len(rows) / limit
    return [rows[int(i * step)] for i in range(limit)]


def _judged(
    heuristic: Signal, judge: Judge, rubric_name: str, items: list[tuple[Any, ...]]
) -> Signal:
    ratings = []
    for event_id, text in _spread(items, MAX_ITEMS):
        rating = judge.rate(rubric_name, text)
        if rating is not None:
            ratings.append((event_id, rating))
    if not ratings:
        return replace(
            heuristic,
            detail={**heuristic.detail, "judge": judge.model_id, "judgeRated": 0},
        )
    mean = sum(r.score for _, r in ratings) / len(ratings)
    confidence: Confidence = "high" if len(ratings) >= 3 else "moderate"
    return Signal(
        name=heuristic.name,
        family=heuristic.family,
        value=mean,
        confidence=confidence,
        evidence=tuple(event_id for event_id, _ in ratings),
        evidence_count=len(ratings),
        detail={
            "method": "llm",
            "judge": judge.model_id,
            "judgeRated": len(ratings),
            "candidates": len(items),
            "heuristicValue": heuristic.value,
            "items": [
                {"eventId": event_id, "score": r.score, "reason": r.reason}
                for event_id, r in ratings
            ],
        },
    )


def apply_judge(
    con: duckdb.DuckDBPyConnection, session_id: str, signals: dict[str, Signal], judge: Judge
) -> dict[str, Signal]:
    """Judged replacements for `promptDepth` and `codeCraft` of one session."""
    out: dict[str, Signal] = {}
    prompts = con.execute(
        "SELECT event_id, text FROM prompts WHERE session_id = ? AND length(trim(text)) > 0 "
        "ORDER BY seq",
        [session_id],
    ).fetchall()
    if "promptDepth" in signals and prompts:
        out["promptDepth"] = _judged(signals["promptDepth"], judge, "promptDepth", prompts)
    changes = con.execute(
        "SELECT event_id, 'file: ' || coalesce(path, '?') || chr(10) || diff FROM file_changes "
        "WHERE session_id = ? AND diff IS NOT NULL AND length(diff) > 0 ORDER BY seq",
        [session_id],
    ).fetchall()
    if "codeCraft" in signals and changes:
        out["codeCraft"] = _judged(signals["codeCraft"], judge, "codeCraft", changes)
    return out
