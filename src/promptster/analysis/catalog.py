"""The signal catalog: one typed entry per signal, which everything else reads.

A signal is a query in `sql/signals_<family>.sql` (with its definition in that file's header
comment, see `definitions`) plus one `SignalSpec` below. The order of CATALOG is the order in
which signals are listed everywhere (`SessionSignals`, the report, `score` columns). From it:
`signals` takes the names and the headline, `cohort` the ranked metrics (orientation, default
weights, averages), `score` its columns, the report the labels, meanings, units and the
question each signal answers, the CLI the cohort column headings, and `docs` docs/signals.md.
How to add a signal: docs/adding-a-signal.md.

The entries are Python rather than more header comments so that mypy checks every field (a
unit or an orientation that is not one of the known ones fails the type check, not a report);
the long definitions stay in the SQL, next to the query they describe.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# How a value reads (the report formats numbers by it).
Unit = Literal[
    "count", "ratio", "share", "percent", "ms", "chars", "score2", "usd", "object", "list"
]
# Which of the reviewer's questions the report files a signal under.
Question = Literal["tests", "thinking", "ai", "activity"]
# Which way is better, for a metric a cohort ranks.
Orientation = Literal["higher", "lower"]
# Every signal's orientation: a ranked metric's, or `neutral` (never ranked: a count, an
# object, or a value where more is neither better nor worse, such as aiAttributionPct).
Direction = Literal["higher", "lower", "neutral"]
DIRECTIONS: tuple[Direction, ...] = ("higher", "lower", "neutral")
# What `promptster score` makes of a signal: one BIGINT or DOUBLE column, the test-count
# columns (testResults), one `;`-joined VARCHAR column (a list), or no column (an object).
ScoreColumn = Literal["integer", "number", "tests", "joined", "none"]

# Families in the order they run (and docs/signals.md lists them); a derived family runs last,
# over the values of the others (table `_signal_values`).
FAMILIES: tuple[str, ...] = (
    "headline",
    "activity",
    "errors",
    "exploration",
    "verification",
    "prompts",
    "craft",
    "decisions",
    "cost",
    "authorship",
)
DERIVED_FAMILIES: tuple[str, ...] = ("descriptors",)


@dataclass(frozen=True)
class CohortMetric:
    """How `promptster cohort` ranks a signal. The design decides the orientation where the
    hosted docs disagree: commandFailRate, sessionDurationMs and promptCount rank lower values
    higher, as the hosted product's current cohort guide does ("higher = fewer prompts")."""

    column: int  # its place among the cohort's metrics (table, JSON, docs), from 0
    orientation: Orientation
    weight: float  # default weight in the composite; 0 ranks it without weighting it
    average: str  # the name of the cohort's mean of it (`metrics` in the JSON)
    short: str  # the CLI table's column heading
    aliases: tuple[str, ...] = ()  # other names a weights file may use


@dataclass(frozen=True)
class SignalSpec:
    name: str
    family: str  # the SQL file that computes it: sql/signals_<family>.sql
    unit: Unit
    question: Question
    label: str  # the report's name for it
    meaning: str  # the report's one-line explanation (the definition is in the SQL)
    score: ScoreColumn
    headline: bool = False  # one of the six headline signals
    score_table: bool = False  # shown by `promptster score --format table`
    cohort: CohortMetric | None = None

    @property
    def orientation(self) -> Direction:
        """Which way is better: the cohort entry's, `neutral` for a signal never ranked."""
        return "neutral" if self.cohort is None else self.cohort.orientation

    @property
    def definition(self) -> str:
        """The exact definition, from the `@signal` section of its family's SQL header."""
        from promptster.analysis.definitions import family_text

        return dict(family_text(self.family).signals).get(self.name, "")


CATALOG: tuple[SignalSpec, ...] = (
    # -- the headline signals
    SignalSpec(
        "promptCount", "headline", "count", "ai",
        label="Prompts",
        meaning="Prompts the candidate sent to the AI.",
        score="integer", headline=True, score_table=True,
        cohort=CohortMetric(1, "lower", 0.15, "avgPromptCount", "prompts"),
    ),
    SignalSpec(
        "verifyIntensity", "headline", "ratio", "tests",
        label="Verify intensity",
        meaning=(
            "Check runs (tests, lint, type checks, builds) per file change "
            "(higher: checked more often)."
        ),
        score="number", headline=True, score_table=True,
        cohort=CohortMetric(3, "higher", 0.25, "avgVerifyIntensity", "verify"),
    ),
    SignalSpec(
        "commandFailRate", "headline", "share", "tests",
        label="Command fail rate",
        meaning="Share of commands that exited non-zero.",
        score="number", headline=True, score_table=True,
        cohort=CohortMetric(2, "lower", 0.30, "avgCommandFailRate", "fails"),
    ),
    SignalSpec(
        "manualEditRatio", "headline", "share", "ai",
        label="Manual edit ratio",
        meaning="Share of file changes made or reworked by hand.",
        score="number", headline=True, score_table=True,
        cohort=CohortMetric(4, "higher", 0, "avgManualEditRatio", "manual"),
    ),
    SignalSpec(
        "firstChangeLatencyMs", "headline", "ms", "thinking",
        label="Time to first change",
        meaning="From the session start to the first file change: time spent orienting.",
        score="integer", headline=True, score_table=True,
        cohort=CohortMetric(5, "higher", 0.10, "avgFirstChangeLatencyMs", "latency"),
    ),
    SignalSpec(
        "aiAttributionPct", "headline", "percent", "ai",
        label="AI-written lines",
        meaning="Share of added lines attributed to the AI.",
        score="number", headline=True, score_table=True,
    ),
    # -- the deterministic counts, sizes and ratios
    SignalSpec(
        "sessionDurationMs", "activity", "ms", "activity",
        label="Session duration",
        meaning="From the first to the last event.",
        score="integer", score_table=True,
        cohort=CohortMetric(
            0, "lower", 0.20, "avgDurationMs", "time", aliases=("durationMs",)
        ),
    ),
    SignalSpec(
        "commandCount", "activity", "count", "activity",
        label="Commands",
        meaning="Shell commands run, by the candidate or the AI.",
        score="integer",
    ),
    SignalSpec(
        "fileDiffCount", "activity", "count", "activity",
        label="File changes",
        meaning="File creations, edits and deletions observed.",
        score="integer",
    ),
    SignalSpec(
        "uniqueFilesTouched", "activity", "count", "activity",
        label="Files touched",
        meaning="Distinct files that changed.",
        score="integer",
    ),
    SignalSpec(
        "testRunCount", "activity", "count", "tests",
        label="Test runs",
        meaning="Test-suite runs, by anyone.",
        score="integer",
    ),
    SignalSpec(
        "testResults", "activity", "object", "tests",
        label="Last test results",
        meaning="The test counts of the last test run.",
        score="tests",
    ),
    SignalSpec(
        "errorEpisodeCount", "errors", "count", "tests",
        label="Error episodes",
        meaning="Runs of consecutive failing commands.",
        score="integer",
    ),
    SignalSpec(
        "recoveryCount", "errors", "count", "tests",
        label="Recoveries",
        meaning="Error episodes later followed by the same kind of command succeeding.",
        score="integer",
    ),
    SignalSpec(
        "avgPromptLength", "activity", "chars", "thinking",
        label="Average prompt length",
        meaning="Mean characters per prompt.",
        score="number",
    ),
    SignalSpec(
        "maxPromptLength", "activity", "chars", "thinking",
        label="Longest prompt",
        meaning="Characters in the longest prompt.",
        score="integer",
    ),
    SignalSpec(
        "humanTerminalCommands", "activity", "count", "activity",
        label="Commands typed",
        meaning="Commands the candidate typed (not run by the AI).",
        score="integer",
    ),
    SignalSpec(
        "toolUsage", "activity", "object", "ai",
        label="AI tool calls",
        meaning="Calls per AI tool.",
        score="none",
    ),
    SignalSpec(
        "eventCounts", "activity", "object", "activity",
        label="Events",
        meaning="Events per kind.",
        score="none",
    ),
    SignalSpec(
        "distinctToolsUsed", "activity", "list", "ai",
        label="AI tools used",
        meaning="AI tools called.",
        score="joined",
    ),
    SignalSpec(
        "readBeforeWriteRatio", "exploration", "share", "thinking",
        label="Read before write",
        meaning="Share of modified files that were read before their first change.",
        score="number",
    ),
    SignalSpec(
        "explorationBeforeActionRatio", "exploration", "share", "thinking",
        label="Exploration before action",
        meaning="Share of actions before the first change that explored (reads, questions).",
        score="number",
    ),
    SignalSpec(
        "processDescriptors", "descriptors", "list", "activity",
        label="Process shape",
        meaning="Coarse labels for how the session went; none is a judgement.",
        score="joined",
    ),
    # -- the hosted product's category signals (heuristics; two of them can be judged)
    SignalSpec(
        "promptDepth", "prompts", "score2", "thinking",
        label="Prompt depth",
        meaning="How specific prompts are: length, named files, constraints (0–2).",
        score="number",
    ),
    SignalSpec(
        "decisionVisibility", "decisions", "share", "thinking",
        label="Decision visibility",
        meaning="Share of significant decisions that were written down.",
        score="number",
    ),
    SignalSpec(
        "errorRecoveryPattern", "errors", "share", "tests",
        label="Error recovery",
        meaning="After a failure: share of next steps that tried a hypothesis or a new approach.",
        score="number",
    ),
    SignalSpec(
        "planningBeforeActing", "exploration", "share", "thinking",
        label="Planning before acting",
        meaning="Share of strategic or tactical prompts and plans before the first change.",
        score="number",
    ),
    SignalSpec(
        "commandsPerChange", "verification", "ratio", "tests",
        label="Commands per change",
        meaning="All commands per file change, checks or not, with a breakdown by kind.",
        score="number",
    ),
    SignalSpec(
        "codeCraft", "craft", "score2", "ai",
        label="Code craft",
        meaning="Tests touched, simplification, defensive code, no debug residue (0–2).",
        score="number",
    ),
    # -- model tokens, their cost, and the tools the assessment allowed
    SignalSpec(
        "totalTokens", "cost", "count", "ai",
        label="Model tokens",
        meaning="Input and output tokens of the AI's replies, every model and tool together.",
        score="integer",
    ),
    SignalSpec(
        "totalCostUsd", "cost", "usd", "ai",
        label="Token cost",
        meaning="What those tokens cost at the price table's list prices (USD).",
        score="number",
    ),
    SignalSpec(
        "unpricedModelCalls", "cost", "count", "ai",
        label="Unpriced model calls",
        meaning="Replies with token usage whose model the price table does not know.",
        score="integer",
    ),
    SignalSpec(
        "toolsNotAllowed", "cost", "list", "ai",
        label="Tools not allowed",
        meaning="AI tools used that the assessment's allowed tools do not list.",
        score="joined",
    ),
    # -- who wrote the final code, line by line (authorship.json)
    SignalSpec(
        "aiFinalLinesPct", "authorship", "percent", "ai",
        label="AI lines in the final code",
        meaning="Share of the submitted code's lines (beyond the starter) the AI wrote and kept.",
        score="number",
    ),
    SignalSpec(
        "aiRevisedLinesPct", "authorship", "percent", "ai",
        label="AI lines revised by hand",
        meaning="Share of the submitted code's lines the AI wrote and the candidate then edited.",
        score="number",
    ),
    SignalSpec(
        "pastedLinesPct", "authorship", "percent", "ai",
        label="Likely pasted lines",
        meaning="Share of the submitted code's lines from large blocks nothing recorded explains.",
        score="number",
    ),
)  # fmt: skip

BY_NAME: dict[str, SignalSpec] = {spec.name: spec for spec in CATALOG}
# Every signal, in the order reports and outputs list them.
SIGNAL_NAMES: tuple[str, ...] = tuple(BY_NAME)
HEADLINE: tuple[str, ...] = tuple(s.name for s in CATALOG if s.headline)
# The metrics a cohort ranks, in their column order, and which way is better for each.
_RANKED = sorted((s.cohort.column, s.name, s.cohort) for s in CATALOG if s.cohort is not None)
COHORT: dict[str, CohortMetric] = {name: metric for _, name, metric in _RANKED}
ORIENTATION: dict[str, Orientation] = {name: m.orientation for name, m in COHORT.items()}
# Every signal's orientation in one table (the ranked ones from their cohort entry), as the
# cohort page prints it and a reviewer may override it per assessment.
ALL_ORIENTATIONS: dict[str, Direction] = {s.name: s.orientation for s in CATALOG}
# Signals a reviewer's override may rank (one number per session).
RANKABLE: tuple[str, ...] = tuple(s.name for s in CATALOG if s.score in ("integer", "number"))
# The default composite weights: the weighted metrics, heaviest first.
DEFAULT_WEIGHTS: dict[str, float] = {
    name: c.weight for name, c in sorted(COHORT.items(), key=lambda kv: -kv[1].weight) if c.weight
}


# Which units each kind of score column can hold.
_UNITS_FOR: dict[ScoreColumn, tuple[Unit, ...]] = {
    "integer": ("count", "ms", "chars"),
    "number": ("count", "ratio", "share", "percent", "ms", "chars", "score2", "usd"),
    "tests": ("object",),
    "joined": ("list",),
    "none": ("object", "list"),
}


def spec_for(name: str) -> SignalSpec:
    """The catalog entry of `name`; for a name it does not know, a plain stand-in."""
    return BY_NAME.get(name) or SignalSpec(name, "", "object", "activity", name, "", "none")


def problems() -> list[str]:
    """Where the catalog and the SQL disagree (a test asserts there is nothing to report)."""
    from promptster.analysis.definitions import family_text, sql_families

    found = [f"{s.name} has two entries" for s in CATALOG if BY_NAME[s.name] is not s]
    families = FAMILIES + DERIVED_FAMILIES
    if sorted(families) != list(sql_families()):
        found.append(f"families {sorted(families)} but SQL files for {list(sql_families())}")
    sections = [(n, family) for family in families for n, _ in family_text(family).signals]
    documented = dict(sections)
    if len(documented) != len(sections):
        found.append("a signal has two @signal sections in the SQL headers")
    for spec in CATALOG:
        if spec.name not in documented:
            found.append(f"{spec.name} has no @signal section in signals_{spec.family}.sql")
        elif documented[spec.name] != spec.family:
            found.append(
                f"{spec.name} is in family {spec.family} but signals_{documented[spec.name]}.sql"
                " documents it"
            )
    found += [
        f"{n} is documented in SQL but not in the catalog" for n in documented if n not in BY_NAME
    ]
    for spec in CATALOG:
        if spec.unit not in _UNITS_FOR[spec.score]:
            found.append(
                f"{spec.name}: a {spec.unit} value cannot be a score {spec.score!r} column"
            )
    columns = sorted(c.column for c in COHORT.values())
    if columns != list(range(len(columns))):
        found.append(f"the cohort columns are {columns}, not 0 to {len(columns) - 1}")
    return found
