"""Synthetic sessions: realistic, valid, signed bundles of any size, reproducible by seed.

Used by the tests, the benchmarks and the signals and report work. A synthetic session goes
through the same journal and bundle writer as a recorded one; its snapshots are a real git
history, built in one `git fast-import` run so that a 100,000-event session takes seconds.
Changes replace a block of lines with lines that never occurred before, so any diff algorithm
(git's included) counts exactly the lines the events claim.

The parts: `vocabulary` (the made-up names, files, prompts and commands), `issuer` (the
synthetic reviewer, its candidate keys and assessment packs), `timeline` (the clock, seeded
ids and placeholder commits), `simulator` (what the candidate and the AI do), `bundle` (git
history, journal and the signed bundle).
"""

from promptster.record.synth.bundle import generate_bundle, session_key_for_seed
from promptster.record.synth.issuer import (
    SYNTH_KDF,
    SYNTH_REVIEWER,
    synthetic_candidate_key,
    synthetic_pack,
)
from promptster.record.synth.vocabulary import (
    BASE_TIME,
    CANDIDATES,
    COMMANDS,
    FILES,
    PROMPTS,
    SYNTH_ASSESSMENT,
    SYNTH_TIME_LIMIT_MINUTES,
    SYSTEM,
)

__all__ = [
    "BASE_TIME",
    "CANDIDATES",
    "COMMANDS",
    "FILES",
    "PROMPTS",
    "SYNTH_ASSESSMENT",
    "SYNTH_KDF",
    "SYNTH_REVIEWER",
    "SYNTH_TIME_LIMIT_MINUTES",
    "SYSTEM",
    "generate_bundle",
    "session_key_for_seed",
    "synthetic_candidate_key",
    "synthetic_pack",
]
