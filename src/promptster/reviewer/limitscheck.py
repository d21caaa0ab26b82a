"""The assessment's token budget and allowed tools, checked by the reviewer: the session must
have recorded the signed pack's values.

The cost signals read `tokenBudgetUsd` and `allowedTools` from the session's `session_start`
event (analysis/sql/signals_cost.sql); this check compares them with the pack the reviewer
signed, so a session that recorded other limits (edited, or made by a Promptster that predates
them) is flagged rather than believed. A difference is a warning: the signals still run, and
the pack's values are the ones to trust.
"""

from __future__ import annotations

from typing import Any

from promptster.bundle.verify import Finding, VerifyContext
from promptster.errors import CheckFailed, FormatError
from promptster.issue.assessment import open_pack

LIMITS_CHECK = "assessment-limits"


class AssessmentLimitsCheck:
    """An ExtraCheck (picklable: no state)."""

    def __call__(self, context: VerifyContext, findings: list[Finding]) -> None:
        if context.manifest is None or context.assessment_pack is None:
            return
        try:
            pack = open_pack(context.assessment_pack).pack
        except (FormatError, CheckFailed):
            return  # the pack check reports it
        signed: dict[str, Any] = {
            "tokenBudgetUsd": pack.token_budget_usd,
            "allowedTools": None if pack.allowed_tools is None else list(pack.allowed_tools),
        }
        first = context.first_event or {}
        data = first.get("data") if first.get("kind") == "session_start" else None
        recorded = {name: (data or {}).get(name) for name in signed}
        if recorded == signed:
            if any(value is not None for value in signed.values()):
                findings.append(
                    Finding(LIMITS_CHECK, "ok", "the session recorded the pack's budget and tools")
                )
            return
        differ = [name for name in signed if recorded[name] != signed[name]]
        findings.append(
            Finding(
                LIMITS_CHECK,
                "warning",
                f"the session recorded {', '.join(differ)} other than the signed pack's "
                f"({', '.join(f'{n}={signed[n]!r}' for n in differ)}): the cost signals' budget "
                "and toolsNotAllowed rest on what the session recorded",
            )
        )
