"""The time limit, checked by the reviewer: the signed pack's limit against the session.

The limit comes from the assessment pack (signed by the reviewer), not from anything the
candidate's machine wrote about it. The check compares the signed session window (startedAt to
endedAt), the last event and the deadline the session recorded at its start with that limit,
and counts the clock anomalies the recorder noticed (`clock_jump`, `deadline_mismatch`
warnings). Overruns and anomalies are warnings: a late submission is the reviewer's call, not
a broken bundle.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from promptster.bundle.verify import Finding, VerifyContext
from promptster.errors import CheckFailed, FormatError
from promptster.formats.events import parse_ts
from promptster.issue.assessment import open_pack

TIME_CHECK = "time-limit"
# The recorder submits at the deadline; ending that long after it is still on time.
GRACE = timedelta(seconds=60)
ANOMALY_CODES = ("clock_jump", "deadline_mismatch")


def _minutes(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 60:.1f} min"


class TimeLimitCheck:
    """An ExtraCheck (picklable: no state)."""

    def __call__(self, context: VerifyContext, findings: list[Finding]) -> None:
        manifest = context.manifest
        if manifest is None or context.assessment_pack is None:
            return
        try:
            limit_minutes = open_pack(context.assessment_pack).pack.time_limit_minutes
            started, ended = parse_ts(manifest.started_at), parse_ts(manifest.ended_at)
            last = parse_ts(context.last_ts) if context.last_ts else ended
        except (FormatError, CheckFailed):
            return  # the pack and timestamp checks report these
        anomalies = self._anomalies(context.warning_codes)
        if limit_minutes is None:
            if anomalies:
                findings.append(Finding(TIME_CHECK, "warning", anomalies))
            return
        limit = timedelta(minutes=limit_minutes)
        deadline = started + limit
        problems: list[str] = []
        if ended - started > limit + GRACE:
            problems.append(
                f"the session lasted {_minutes(ended - started)} (signed start to signed end); "
                f"the pack's limit is {limit_minutes} min"
            )
        if last > deadline + GRACE:
            problems.append(f"its last event is {_minutes(last - deadline)} after the time limit")
        recorded = self._recorded_deadline(context)
        if recorded is not None and abs(recorded - deadline) > timedelta(seconds=1):
            problems.append(
                "the deadline the session recorded at its start is not the signed start plus "
                "the pack's limit"
            )
        if anomalies:
            problems.append(anomalies)
        if problems:
            for problem in problems:
                findings.append(Finding(TIME_CHECK, "warning", problem))
            return
        findings.append(
            Finding(
                TIME_CHECK,
                "ok",
                f"{_minutes(ended - started)} of the pack's {limit_minutes}-minute limit",
            )
        )

    @staticmethod
    def _recorded_deadline(context: VerifyContext) -> datetime | None:
        first = context.first_event or {}
        data = first.get("data")
        value = data.get("deadline") if isinstance(data, dict) else None
        if not isinstance(value, str):
            return None
        try:
            return parse_ts(value)
        except FormatError:
            return None

    @staticmethod
    def _anomalies(codes: dict[str, int]) -> str:
        found = [f"{codes[c]} {c.replace('_', ' ')}(s)" for c in ANOMALY_CODES if codes.get(c)]
        if not found:
            return ""
        return (
            f"the recorder noticed clock anomalies: {', '.join(found)} (see the warning events; "
            "timestamps around them are the candidate clock's word)"
        )
