"""From what one change's lines turned out to be to its verdict and confidence."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from promptster.record.attribution.claims import is_trivial
from promptster.record.attribution.model import Verdict

# A rewritten line at least this similar to an AI line counts as a revision of it.
SIMILARITY = 0.6
_MAX_SIMILARITY_PAIRS = 20_000

CONFIDENCE_CLAIM = 0.95
CONFIDENCE_SHELL = 0.75
CONFIDENCE_HUMAN_QUIET = 0.9  # no AI activity on this file nearby
CONFIDENCE_HUMAN_BUSY = 0.75  # the AI was active on this file or in a shell nearby
CONFIDENCE_REVISED = 0.8
CONFIDENCE_MIXED = 0.6


def variants(human_lines: Sequence[str], ai_lines: Sequence[str]) -> int:
    """How many of the candidate's new lines are rewrites of lines the AI wrote."""
    candidates = [line for line in human_lines if not is_trivial(line)]
    reference = list(dict.fromkeys(line for line in ai_lines if not is_trivial(line)))
    if not candidates or not reference:
        return 0
    exact = len(candidates) * len(reference) <= _MAX_SIMILARITY_PAIRS
    count = 0
    for line in candidates:
        matcher = difflib.SequenceMatcher(None, "", line.strip(), autojunk=False)
        for other in reference:
            matcher.set_seq1(other.strip())
            ratio = matcher.ratio() if exact else matcher.quick_ratio()
            if ratio >= SIMILARITY:
                count += 1
                break
    return count


def decide(
    ai_added: int,
    human_added: int,
    ai_removed: int,
    human_removed: int,
    revised: int,
    user_modified: bool,
    ai_active: bool,
) -> tuple[Verdict, float]:
    human_quiet = CONFIDENCE_HUMAN_BUSY if ai_active else CONFIDENCE_HUMAN_QUIET
    if user_modified or (revised and (human_added or human_removed)):
        return "ai_revised_by_human", CONFIDENCE_REVISED
    human = human_added or human_removed
    ai = ai_added or ai_removed
    if ai and human:
        return "mixed", CONFIDENCE_MIXED
    if ai:
        return "likely_ai", CONFIDENCE_CLAIM
    if human:
        return "likely_human", human_quiet
    return "unknown", 0.5  # nothing added or removed (a mode change, an empty file)
