"""The AI-fluency rubric `ai_fluency_v1`, placed by documented heuristics (docs/key-moments.md).

Eight dimensions in four phases, as the hosted product's rubric has them. Each gets a tier
(strong / adequate / developing / insufficient_evidence / not_collectible), a confidence
(high / medium / low) and the evidence it rests on: signal values and cited events. A tier
of `insufficient_evidence` or `not_collectible` is neutral, never a weakness; the second is
used where our capture cannot see the evidence at all (e.g. an AI tool's context window), so
it can never count against a candidate. A model's placement (`fluency_judge`) is shown beside
these, never instead of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from promptster.analysis.moments import Moment
from promptster.analysis.session_events import SessionEvents
from promptster.analysis.signals import SessionSignals
from promptster.formats.jsonio import JsonValue

RUBRIC = "ai_fluency_v1"
Tier = Literal["strong", "adequate", "developing", "insufficient_evidence", "not_collectible"]
Level = Literal["high", "medium", "low"]
TIERS: tuple[Tier, ...] = (
    "strong",
    "adequate",
    "developing",
    "insufficient_evidence",
    "not_collectible",
)
# The hosted rubric's ranks: a split jury is aggregated on these (lower median).
TIER_RANK: dict[Tier, int] = {
    "strong": 4,
    "adequate": 3,
    "developing": 1,
    "insufficient_evidence": 0,
    "not_collectible": 0,
}
TIER_LABELS: dict[Tier, str] = {
    "strong": "strong",
    "adequate": "adequate",
    "developing": "developing",
    "insufficient_evidence": "not enough signal",
    "not_collectible": "not capturable",
}


@dataclass(frozen=True)
class Dimension:
    key: str
    phase: Literal["discovery", "implementation", "verification", "cross_cutting"]
    label: str
    question: str


DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("task_framing", "discovery", "Task framing",
              "Was a clear, scoped goal set before acting (orient, plan, implement, verify)?"),
    Dimension("comprehension_grounding", "discovery", "Comprehension and grounding",
              "Did the candidate read the code and confirm the cause before changing it?"),
    Dimension("direction_quality", "implementation", "Direction quality",
              "Are instructions to the AI specific, constrained, grounded and decomposed?"),
    Dimension("steering_discernment", "implementation", "Steering and discernment",
              "Is drift caught, with corrections that add information and a merge bar held?"),
    Dimension("verification_loop", "verification", "Verification loop",
              "Was a runnable oracle used early, driving a real red-to-green cycle?"),
    Dimension("fix_integrity", "cross_cutting", "Fix integrity",
              "Does the fix address the root cause without skipped tests or special cases?"),
    Dimension("context_management", "cross_cutting", "Context management",
              "Is the AI's context kept lean, reset at boundaries, never hoarded or panicked?"),
    Dimension("ecosystem_leverage", "cross_cutting", "Ecosystem leverage",
              "Are subagents, MCP tools, planning tools used where they visibly pay off?"),
)  # fmt: skip
BY_KEY = {d.key: d for d in DIMENSIONS}

# Thresholds of the heuristics (restated in docs/key-moments.md).
PLANNING_GOOD = 0.5  # planningBeforeActing
EXPLORATION_GOOD = 0.3  # explorationBeforeActionRatio
READ_BEFORE_WRITE_GOOD = 0.5
DEPTH_STRONG, DEPTH_ADEQUATE = 1.3, 0.8  # promptDepth, 0.0-2.0
MIN_PROMPTS = 2
VERIFY_STRONG, VERIFY_ADEQUATE = 0.5, 0.25  # verifyIntensity
RECOVERY_GOOD = 0.6  # errorRecoveryPattern
_RED_FLAGS = (
    "pytest.mark.skip", "@unittest.skip", "it.skip(", "xit(", "t.Skip(", "#[ignore]",
    "except: pass", "except Exception: pass", "assert True", "# type: ignore", "noqa",
)  # fmt: skip
_RESETS = ("/clear", "/compact", "/reset", "/new")
_LEVERAGE_TOOLS = ("Task", "Agent", "TodoWrite", "update_plan", "WebFetch", "WebSearch")


@dataclass(frozen=True)
class Placement:
    dimension: str
    tier: Tier
    confidence: Level
    evidence: tuple[str, ...]  # sentences a reviewer reads
    seqs: tuple[int, ...] = ()
    ids: tuple[str, ...] = ()
    method: str = "heuristic"

    def to_json_obj(self) -> dict[str, JsonValue]:
        return {
            "dimension": self.dimension,
            "phase": BY_KEY[self.dimension].phase,
            "tier": self.tier,
            "confidence": self.confidence,
            "evidence": list(self.evidence),
            "seqs": list(self.seqs),
            "relatedEvents": list(self.ids),
            "method": self.method,
        }


@dataclass
class _Facts:
    s: SessionEvents
    sig: SessionSignals
    moments: list[Moment]
    kinds: dict[str, int] = field(default_factory=dict)

    def num(self, name: str) -> float | None:
        return self.sig.number(name)

    def of(self, *kinds: str) -> list[Moment]:
        return [m for m in self.moments if m.kind in kinds]


def _level(points: int) -> Level:
    return "high" if points >= 6 else ("medium" if points >= 3 else "low")


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _cite(ms: list[Moment]) -> tuple[tuple[int, ...], tuple[str, ...]]:
    seqs = tuple(seq for m in ms for seq in m.seqs)[:12]
    ids = tuple(i for m in ms for i in m.ids)[:12]
    return seqs, ids


def _tier(score: int, strong: int, adequate: int) -> Tier:
    return "strong" if score >= strong else ("adequate" if score >= adequate else "developing")


def task_framing(f: _Facts) -> Placement:
    prompts, changes = f.kinds.get("prompt", 0), len(f.s.files)
    if prompts == 0 and changes == 0:
        return Placement("task_framing", "insufficient_evidence", "low",
                         ("no prompt and no file change to frame",))  # fmt: skip
    first = f.of("first_prompt")
    planned = bool(first and first[0].detail.get("plan"))
    planning, exploring = f.num("planningBeforeActing"), f.num("explorationBeforeActionRatio")
    first_change = _first_change(f)
    early_decision = [m for m in f.of("decision") if changes == 0 or m.t <= first_change]
    score = sum((planned, (planning or 0) >= PLANNING_GOOD, (exploring or 0) >= EXPLORATION_GOOD,
                 bool(early_decision)))  # fmt: skip
    evidence = (
        f"first prompt {'sets out a plan' if planned else 'has no plan'}",
        f"planningBeforeActing {_fmt(planning)} (≥ {PLANNING_GOOD} counts)",
        f"explorationBeforeActionRatio {_fmt(exploring)} (≥ {EXPLORATION_GOOD} counts)",
        f"{len(early_decision)} decision(s) recorded before the first change",
    )
    seqs, ids = _cite(first + early_decision)
    return Placement("task_framing", _tier(score, 3, 2), _level(prompts + changes), evidence,
                     seqs, ids)  # fmt: skip


def _first_change(f: _Facts) -> int:
    return f.s.files[0].t if f.s.files else f.s.end_t


def comprehension_grounding(f: _Facts) -> Placement:
    changes = len(f.s.files)
    if changes == 0:
        return Placement("comprehension_grounding", "insufficient_evidence", "low",
                         ("no file change, so nothing was grounded before a change",))  # fmt: skip
    read, explore = f.num("readBeforeWriteRatio"), f.num("explorationBeforeActionRatio")
    failing = f.of("first_failure")
    score = sum(((read or 0) >= READ_BEFORE_WRITE_GOOD, (explore or 0) >= EXPLORATION_GOOD,
                 bool(failing) and failing[0].t < _first_change(f)))  # fmt: skip
    evidence = (
        f"readBeforeWriteRatio {_fmt(read)} (≥ {READ_BEFORE_WRITE_GOOD} counts)",
        f"explorationBeforeActionRatio {_fmt(explore)} (≥ {EXPLORATION_GOOD} counts)",
        "the failure was reproduced before the first change"
        if failing and failing[0].t < _first_change(f)
        else "no failing run before the first change",
    )
    seqs, ids = _cite([m for m in failing if m.t < _first_change(f)])
    return Placement("comprehension_grounding", _tier(score, 3, 2), _level(changes + 2),
                     evidence, seqs, ids)  # fmt: skip


def direction_quality(f: _Facts) -> Placement:
    prompts = f.kinds.get("prompt", 0)
    if prompts < MIN_PROMPTS:
        return Placement(
            "direction_quality",
            "insufficient_evidence",
            "low",
            (f"{prompts} prompt(s): too few to judge how the AI was directed",),
        )
    depth = f.num("promptDepth")
    tier: Tier = (
        "strong" if (depth or 0) >= DEPTH_STRONG
        else "adequate" if (depth or 0) >= DEPTH_ADEQUATE else "developing"
    )  # fmt: skip
    evidence = (
        f"promptDepth {_fmt(depth)} of 2.0 (≥ {DEPTH_STRONG} strong, ≥ {DEPTH_ADEQUATE} adequate)",
        f"{prompts} prompts, {f.num('avgPromptLength') or 0:.0f} characters on average",
    )
    return Placement("direction_quality", tier, _level(prompts), evidence)


def steering_discernment(f: _Facts) -> Placement:
    ai_changes = sum(1 for e in f.s.files if e.by_ai)
    if not ai_changes:
        return Placement("steering_discernment", "insufficient_evidence", "low",
                         ("the AI changed no file, so there was nothing to steer",))  # fmt: skip
    rewrites, loops = f.of("rewrote_ai"), f.of("stuck_loop")
    recovery, manual = f.num("errorRecoveryPattern"), f.num("manualEditRatio")
    score = sum((bool(rewrites), (recovery or 0) >= RECOVERY_GOOD, (manual or 0) > 0,
                 not loops))  # fmt: skip
    evidence = (
        f"{len(rewrites)} time(s) AI output was rewritten or reverted by hand",
        f"errorRecoveryPattern {_fmt(recovery)} (≥ {RECOVERY_GOOD} counts)",
        f"manualEditRatio {_fmt(manual)}",
        f"{len(loops)} stuck loop(s)",
    )
    seqs, ids = _cite(rewrites + loops)
    return Placement("steering_discernment", _tier(score, 4, 3), _level(ai_changes + 2),
                     evidence, seqs, ids)  # fmt: skip


def verification_loop(f: _Facts) -> Placement:
    changes = len(f.s.files)
    if changes == 0:
        return Placement("verification_loop", "insufficient_evidence", "low",
                         ("no file change to verify",))  # fmt: skip
    runs = f.kinds.get("test_run", 0) + f.kinds.get("build_run", 0)
    intensity = f.num("verifyIntensity")
    arc, untested = f.of("fix"), f.of("untested_ai_edit")
    if runs == 0:
        tier: Tier = "developing"
    elif arc and (intensity or 0) >= VERIFY_STRONG and not untested:
        tier = "strong"
    elif (intensity or 0) >= VERIFY_ADEQUATE and len(untested) <= 1:
        tier = "adequate"
    else:
        tier = "developing"
    evidence = (
        f"{runs} test or build run(s); verifyIntensity {_fmt(intensity)}"
        f" (≥ {VERIFY_STRONG} with a red→green arc is strong, ≥ {VERIFY_ADEQUATE} adequate)",
        "a red→green arc (failing, then passing after a change)" if arc else "no red→green arc",
        f"{len(untested)} large AI edit(s) kept without a test run",
    )
    seqs, ids = _cite(arc + untested)
    return Placement("verification_loop", tier, _level(runs + changes), evidence, seqs, ids)


def fix_integrity(f: _Facts) -> Placement:
    with_diff = 0
    flagged = []
    for e in f.s.files:  # one pass, holding only the flagged changes
        if not e.text("diff"):
            continue
        with_diff += 1
        added = [ln[1:] for ln in e.text("diff").splitlines() if ln.startswith("+")]
        if any(flag in line for line in added for flag in _RED_FLAGS):
            flagged.append(e)
    if not with_diff:
        return Placement("fix_integrity", "not_collectible", "low",
                         ("no diff text in the timeline's file events, so the fix's content "
                          "cannot be read here (see Delivered for the final diff)",))  # fmt: skip
    deleted_tests = [e for e in f.s.of("file_delete") if "test" in e.text("path")]
    bad = flagged + deleted_tests
    tier: Tier = "developing" if bad else "adequate"
    evidence = (
        f"{with_diff} change(s) with diff text read",
        f"{len(flagged)} add a skip marker, a swallowed exception, `assert True` or a lint/type "
        "silencer",
        f"{len(deleted_tests)} test file(s) deleted",
        "the heuristic never places this `strong`: a root cause needs reading (use --judge)",
    )
    return Placement("fix_integrity", tier, "low", evidence, tuple(e.seq for e in bad[:12]),
                     tuple(e.id for e in bad[:12]))  # fmt: skip


def context_management(f: _Facts) -> Placement:
    prompts = f.s.of("prompt")
    resets = [e for e in prompts if e.text("text").strip().lower().startswith(_RESETS)]
    if not resets:
        return Placement("context_management", "not_collectible", "low",
                         ("the capture does not see the AI tool's context window (compaction, "
                          "resets, what is loaded); no reset command was typed",))  # fmt: skip
    return Placement(
        "context_management",
        "adequate",
        "low",
        (f"{len(resets)} context reset(s) or compaction(s) typed; when they happen relative to "
         "task boundaries is for the reviewer (or the judge) to read",),
        tuple(e.seq for e in resets[:12]),
        tuple(e.id for e in resets[:12]),
    )  # fmt: skip


def ecosystem_leverage(f: _Facts) -> Placement:
    usage = f.sig.value("toolUsage")
    tools = usage if isinstance(usage, dict) else {}
    if f.kinds.get("prompt", 0) == 0:
        return Placement("ecosystem_leverage", "insufficient_evidence", "low",
                         ("no AI tool was used",))  # fmt: skip
    planned = f.kinds.get("planning", 0)
    if not tools and f.kinds.get("tool_use", 0) == 0 and not planned:
        return Placement("ecosystem_leverage", "not_collectible", "low",
                         ("this AI tool's capture reports no tool calls",))  # fmt: skip
    leverage = sorted(t for t in tools if t in _LEVERAGE_TOOLS or t.startswith("mcp__"))
    mcp = f.kinds.get("mcp_call", 0)
    score = len(leverage) + (1 if mcp else 0) + (1 if planned and "TodoWrite" not in tools else 0)
    tier: Tier = "strong" if score >= 3 else ("adequate" if score >= 1 else "developing")
    evidence = (
        f"tools used: {', '.join(sorted(tools)) or 'none reported'}",
        f"subagent, planning, web or MCP tools: {', '.join(leverage) or 'none'}; "
        f"{mcp} MCP call(s) to Promptster; {planned} plan update(s)",
        "usage is counted, not whether it paid off: read the timeline",
    )
    return Placement(
        "ecosystem_leverage",
        tier,
        _level(sum(int(v) for v in tools.values() if isinstance(v, int))),
        evidence,
    )


PLACERS: tuple[Callable[[_Facts], Placement], ...] = (
    task_framing,
    comprehension_grounding,
    direction_quality,
    steering_discernment,
    verification_loop,
    fix_integrity,
    context_management,
    ecosystem_leverage,
)


def place_rubric(
    s: SessionEvents, signals: SessionSignals, moments: list[Moment]
) -> list[Placement]:
    """The heuristic placement of every dimension, in the rubric's order."""
    kinds = dict(s.kind_counts)
    facts = _Facts(s, signals, moments, kinds)
    return [place(facts) for place in PLACERS]
